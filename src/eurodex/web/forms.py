"""HTML forms: bounded body reading, CSRF tokens, and the cookies that carry them.

Every form carries a CSRF token in a hidden field, checked on POST in constant time:

* a curator's session has its own token, stored with the session;
* anonymous forms (submission, login) use a random token kept in an HttpOnly, SameSite=Strict
  cookie: another site can neither read it nor make the browser send it.

Requests authenticated with ``Authorization: Bearer`` need no CSRF token: a browser never
adds that header to a cross-site form post.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import Response

CSRF_COOKIE = "eurodex_csrf"
SESSION_COOKIE = "eurodex_session"
MAX_FORM_BYTES = 16 * 1024


async def read_form(request: Request) -> dict[str, str]:
    """An url-encoded form body as {name: first value}; 413 past MAX_FORM_BYTES, 415 for others."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise HTTPException(413, f"a form may not exceed {MAX_FORM_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, f"a form may not exceed {MAX_FORM_BYTES} bytes")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, "the form could not be read") from exc
    return {name: values[0] for name, values in parsed.items()}


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """Cookies of this app are never readable by script nor sent cross-site."""
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True,
                        samesite="strict")


def anonymous_csrf(request: Request) -> tuple[str, bool]:
    """The visitor's CSRF token, and whether it is new (then the cookie must be set)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) >= 32:
        return token, False
    return secrets.token_urlsafe(32), True


def check_csrf(expected: str | None, form: dict[str, str]) -> None:
    """403 unless the form's token equals ``expected``."""
    given = form.get("csrf_token", "")
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "the form's security token is missing or stale: reload the "
                                 "page and send it again")
