# The two commands of the README. Everything they need is installed from this project's files.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint clean

# ARGS passes options to `eurodex run`: make run ARGS="--port 8123"
run: $(VENV)/.installed
	$(BIN)/eurodex run $(ARGS)

test: $(VENV)/.installed-test
	scripts/test-services
	$(BIN)/ruff check .
	$(BIN)/pytest
	EURODEX_TEST_DATABASE=postgresql $(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) eurodex.db eurodex.db-wal eurodex.db-shm
