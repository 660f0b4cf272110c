"""HTML forms: bounded body reading, CSRF tokens, and the cookies that carry them.

Two independent defences stand against cross-site request forgery on every form:

* a token in a hidden field, checked on POST in constant time. A curator's session has its
  own token, stored with the session (the synchronizer-token pattern); anonymous forms
  (submission, sign-in) use a random token also kept in a cookie (double submit). The cookie
  is HttpOnly, SameSite=Strict and ``__Host-`` prefixed: another site can neither read it,
  make the browser send it, nor plant one from a sibling subdomain, which is what breaks a
  plain double-submit cookie; so signing it would add nothing.
* the browser's own word on where the post comes from: ``Sec-Fetch-Site`` (sent by every
  current browser) must be ``same-origin`` or ``none``; without it, an ``Origin`` header must
  name this host. Programs that send neither are not browsers and cannot be forged into
  posting.

Requests authenticated with ``Authorization: Bearer`` need no CSRF token: a browser never
adds that header to a cross-site form post.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import Response

# ``__Host-``: the browser keeps these only when set over HTTPS (loopback counts) for path /
# with no Domain, so no other host, even a subdomain, can set or shadow them.
CSRF_COOKIE = "__Host-eurodex_csrf"
SESSION_COOKIE = "__Host-eurodex_session"
SAME_ORIGIN_SITES = ("same-origin", "none")  # "none": typed or bookmarked, not another site
CROSS_SITE = ("the form was posted from another site; open it on this register and send it "
              "again")
MAX_FORM_BYTES = 16 * 1024


def refuse_cross_site(request: Request) -> None:
    """403 when the browser says this post comes from another site (see the module's doc)."""
    fetch_site = request.headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site:
        if fetch_site not in SAME_ORIGIN_SITES:
            raise HTTPException(403, CROSS_SITE)
        return
    origin = request.headers.get("origin", "").strip()
    if not origin:
        return
    # "null" is what a sandboxed or privacy-sensitive context sends: not this register.
    origin_host = urlsplit(origin).netloc.lower() if origin != "null" else ""
    if origin_host != request.headers.get("host", "").strip().lower():
        raise HTTPException(403, CROSS_SITE)


async def read_form(request: Request) -> dict[str, str]:
    """An url-encoded form body as {name: first value}, from this site only.

    403 for a post from another site, 413 past MAX_FORM_BYTES, 415 for other content types.
    """
    refuse_cross_site(request)
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
