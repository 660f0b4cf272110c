# eurodex: one image for every role. Without arguments it runs the whole register on SQLite
# in /data (`eurodex run`); compose.yaml runs it in cluster mode (PostgreSQL, web replicas
# and `eurodex worker` processes).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Every dependency is pinned in pyproject.toml; psycopg comes with its own libpq (binary).
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install . && rm -rf /src

# Never run as root; the SQLite database of the one-machine mode lives in /data.
RUN useradd --create-home --uid 10001 eurodex && mkdir /data && chown eurodex /data
USER eurodex
WORKDIR /data
VOLUME /data

EXPOSE 8000
CMD ["eurodex", "run", "--host", "0.0.0.0", "--port", "8000"]
