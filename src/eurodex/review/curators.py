"""Curators and how they prove who they are: a token, shown once, or a browser session.

A token reads ``edx_<id>_<secret>``. The id finds the curator's row; the secret is checked
against a salted scrypt hash with a constant-time comparison, so the database never holds a
usable token and a guess costs a scrypt per try. A browser session (opened with the login
form) is a random secret in a cookie; its SHA-256 is stored, which is enough for 256 random
bits, together with the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from eurodex.store import repository as repo
from eurodex.store.tables import Curator, CuratorSession

log = logging.getLogger("eurodex.review")

TOKEN_PREFIX = "edx"
SESSION_LIFETIME = timedelta(hours=12)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}_([0-9a-f]{{16}})_([A-Za-z0-9_-]{{20,100}})$")


class CuratorError(ValueError):
    """A curator cannot be created as asked (bad or taken name)."""


@dataclass(frozen=True)
class Authenticated:
    """Who made a request, and how: by token (no CSRF needed) or by session (CSRF needed)."""

    curator_id: int
    name: str
    via: str  # "token" or "session"
    csrf_token: str | None = None


def _hash_secret(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT).hex()


def add_curator(session: Session, name: str) -> str:
    """Create curator ``name``; returns the token, which is never stored nor shown again."""
    if not _NAME_RE.match(name):
        raise CuratorError(f"curator name {name!r} must be 1-100 letters, digits or ._@- "
                           "and start with a letter or digit")
    if session.scalar(select(Curator.id).where(Curator.name == name)) is not None:
        raise CuratorError(f"a curator named {name!r} already exists")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    session.add(Curator(name=name, token_id=token_id, token_salt=salt.hex(),
                        token_hash=_hash_secret(secret, salt), created_at=repo.now_utc()))
    session.flush()
    log.info("curator %s added", name)
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def authenticate_token(session: Session, token: str) -> Authenticated | None:
    """The curator a token belongs to, or None (malformed, unknown, revoked or wrong)."""
    found = _TOKEN_RE.match(token.strip())
    if not found:
        return None
    token_id, secret = found.groups()
    curator = session.scalar(select(Curator).where(Curator.token_id == token_id))
    if curator is None or curator.revoked_at is not None:
        return None
    expected = curator.token_hash
    given = _hash_secret(secret, bytes.fromhex(curator.token_salt))
    if not hmac.compare_digest(given, expected):
        return None
    return Authenticated(curator.id, curator.name, "token")


def _session_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def open_session(session: Session, who: Authenticated, now: datetime) -> str:
    """A new browser session for ``who``; returns the cookie secret."""
    session.execute(delete(CuratorSession).where(CuratorSession.expires_at < now))
    secret = secrets.token_urlsafe(32)
    session.add(CuratorSession(curator_id=who.curator_id, secret_hash=_session_hash(secret),
                               csrf_token=secrets.token_urlsafe(32), created_at=now,
                               expires_at=now + SESSION_LIFETIME))
    return secret


def authenticate_session(session: Session, secret: str, now: datetime) -> Authenticated | None:
    row = session.scalar(select(CuratorSession).where(
        CuratorSession.secret_hash == _session_hash(secret)))
    if row is None or row.expires_at <= now:
        return None
    curator = session.get(Curator, row.curator_id)
    if curator is None or curator.revoked_at is not None:
        return None
    return Authenticated(curator.id, curator.name, "session", row.csrf_token)


def close_session(session: Session, secret: str) -> None:
    session.execute(delete(CuratorSession).where(
        CuratorSession.secret_hash == _session_hash(secret)))
