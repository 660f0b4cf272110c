"""HEAD on every GET route: the GET's status and headers, without its body.

Uptime monitors and link checkers ask with HEAD, and FastAPI's routes answer only the
methods they declare, so HEAD met a 405. Rather than declare HEAD on every route, this pure
ASGI middleware runs the request as a GET and drops the body, so a HEAD can never disagree
with the GET it stands for (Content-Length included, as the GET would send it).
"""

from __future__ import annotations

_BODY_MESSAGES = {"http.response.body", "http.response.pathsend", "http.response.zerocopysend"}


class HeadAsGet:
    """Answers HEAD by running the GET and sending its response start with an empty body.

    Installed outermost, so the security headers, the rate limit and its 429 are the GET's.
    The body ends with the GET's first body message: the client has its whole answer then,
    and the server reports the request finished, so a streamed GET (an export) stops early.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        body_sent = False

        async def send_without_body(message) -> None:
            nonlocal body_sent
            if message["type"] not in _BODY_MESSAGES:
                await send(message)
            elif not body_sent:
                body_sent = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
