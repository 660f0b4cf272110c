"""Turning one public submission (name, URL, country) into a proven, admitted candidate.

Runs inside the request, bounded by :data:`TIME_LIMIT_S`, so the submitter reads the outcome
at once. The page is fetched through the verification Checker, whose address guard refuses
loopback, private, link-local and metadata addresses on the resolved address of every hop,
redirects included: such a submission is refused with a message and nothing is fetched from
the refused address. The page's links give the spec and the docs; its host gives the
institution. The candidate comes from the untrusted "submissions" source and goes through
the same proofs and admission as any harvested one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from yarl import URL

from eurodex import pipeline
from eurodex.harvest.records import Candidate, FieldValue
from eurodex.model import CapturedSchema, Kind, ProvenanceMethod
from eurodex.proof import decide
from eurodex.proof.curation import SUBMISSIONS_SOURCE, Curation
from eurodex.proof.domains import DomainRegistry, host_of, parents
from eurodex.proof.fetched import PAGE_MAX_BYTES, prove_fetched, read_page
from eurodex.proof.institutions import apply_curation, ensure_reference_institution
from eurodex.proof.reference import eu_institutions
from eurodex.schema.openapi import SchemaCaptureError, capture_openapi
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry, Institution, Score
from eurodex.submissions.page import find_in_page
from eurodex.verify.check import Checker, Fetched
from eurodex.verify.netguard import AddressGuard, parse_ip
from eurodex.verify.settings import CheckSettings

log = logging.getLogger("eurodex.submissions")

TIME_LIMIT_S = 45.0
SPEC_MAX_BYTES = 4 * 1024 * 1024
SOURCE_NAME = "public submissions"
# ASCII letters, matched before upper-casing: "ß".upper() is "SS", "ﬁ".upper() is "FI".
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
# One DNS label once IDNA-encoded (underscores are tolerated: some real hosts carry them).
_LABEL_RE = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_PORT_RE = re.compile(r"[0-9]{1,5}")
# Bidirectional overrides and isolates (format characters, not Cc) reorder what a reviewer
# reads, so a name could display as something else than it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
GUARD_WORDS = ("eurodex never fetches loopback, private, link-local or cloud-metadata "
               "addresses")


class SubmissionRefused(Exception):
    """The submission was not accepted; the message says why, for the submitter."""


@dataclass(frozen=True)
class SubmissionForm:
    name: str
    url: str
    country: str


@dataclass(frozen=True)
class SubmissionResult:
    slug: str
    status: str
    status_reason: str
    officialness: int | None
    spec_url: str | None
    docs_url: str | None
    institution: str | None


def _has_control(text: str) -> bool:
    """Control characters (C0, DEL, C1), lone surrogates and bidi overrides.

    NUL is refused by PostgreSQL and a lone surrogate cannot be encoded at all, so either
    would fail only when stored; the others make a name read differently than it is.
    """
    return any(unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS for c in text)


def _clean_text(field: str, value: str | None, low: int, high: int) -> str:
    """A text field with its whitespace runs made single spaces, its length checked after.

    Whitespace (tabs and newlines included) is normalised rather than refused, as before;
    any other control character is refused, so a value of NULs is not two characters long.
    """
    text = " ".join((value or "").split())
    if _has_control(text):
        raise SubmissionRefused(f"the {field} must not contain control characters")
    if not low <= len(text) <= high:
        raise SubmissionRefused(f"the {field} must have {low} to {high} characters")
    return text


def _port_text(netloc: str) -> str:
    """The port as written in ``netloc`` ("" when none), before any parser coerces it.

    Parsers are lenient here (``int()`` takes "+1" and non-ASCII digits), so the submitter's
    own text is what is checked.
    """
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        hostport = hostport.partition("]")[2]
    _, colon, port = hostport.rpartition(":")
    return port if colon else ""


def _valid_host(host: str) -> bool:
    """An IP address, or a DNS name of letters, digits, hyphens (and underscores)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_LABEL_RE.fullmatch(label)
                                        for label in name.split("."))


def _clean_url(value: str | None) -> str:
    """The URL, refused unless the checker can fetch it as the submitter wrote it.

    Checked here, before any fetch, so a malformed URL gets a sentence naming the problem
    rather than the HTTP client's own error. The host is judged as yarl (the checker's
    parser) encodes it, so an internationalised name passes once IDNA-encoded.
    """
    url = (value or "").strip()
    if len(url) > 2000:
        raise SubmissionRefused("the URL is longer than 2000 characters")
    if _has_control(url) or any(c.isspace() for c in url):
        raise SubmissionRefused("the URL must not contain spaces or control characters "
                                "(write a space as %20)")
    invalid = SubmissionRefused(f"the URL {url!r} is not a valid URL")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise invalid from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise SubmissionRefused("the URL must start with http:// or https:// and name a host")
    if "@" in parts.netloc:
        raise SubmissionRefused("the URL must not carry a user name or password")
    port = _port_text(parts.netloc)
    if port and not (_PORT_RE.fullmatch(port) and 1 <= int(port) <= 65535):
        raise SubmissionRefused(f"the URL's port must be a number from 1 to 65535, not {port!r}")
    try:
        host = URL(url).raw_host or ""
    except ValueError:
        raise invalid from None
    if not _valid_host(host):
        raise SubmissionRefused(f"the URL's host {parts.netloc.rpartition('@')[2]!r} is not a "
                                "valid host name or IP address")
    return url


def validate(name: str | None, url: str | None, country: str | None) -> SubmissionForm:
    """The form's values, cleaned; SubmissionRefused naming the field of the first problem.

    Everything refused here is refused before any fetch (and, in the web layer, before the
    submission counts against the client's hourly quota).
    """
    name = _clean_text("name", name, 2, 200)
    url = _clean_url(url)
    country = (country or "").strip()
    if not _COUNTRY_RE.fullmatch(country):
        raise SubmissionRefused("the country must be a two-letter code (FR, DE, NL, ...) or EU")
    return SubmissionForm(name, url, country.upper())


def refuse_literal_address(url: str, settings: Settings) -> None:
    """Refuse a URL whose host is itself a refused address (an IP literal, or ``localhost``),
    before the submission counts against the client's quota: no lookup is needed to know the
    guard would refuse it, and a typo'd local URL should not cost an hour's allowance."""
    host = urlsplit(url).hostname or ""
    local = host == "localhost" or host.endswith(".localhost")
    address = "127.0.0.1" if local else host
    if parse_ip(address) is None:
        return  # a name: the guard decides on what it resolves to, at fetch time
    category = AddressGuard(settings.allowed_networks).refusal(address)
    if category is not None:
        raise SubmissionRefused(f"{url} was refused: {host} is not a public address "
                                f"({category} address). {GUARD_WORDS}.")


def check_settings(settings: Settings) -> CheckSettings:
    """The verification client's settings, with tighter time limits for a waiting submitter."""
    return CheckSettings(host_overrides=dict(settings.host_overrides),
                         extra_ca_file=settings.extra_ca_file,
                         allowed_networks=list(settings.allowed_networks),
                         connect_timeout=5.0, total_timeout=15.0)


# The checker's reasons whose stored error is the HTTP library's text (class names and
# all), in words a submitter can act on; ``{host}`` is the host of the failing request.
_PLAIN_FAILURES = {
    "dns": "the host {host} could not be found (DNS)",
    "refused": "the host {host} refused the connection",
    "connect_timeout": "the host {host} did not accept a connection in time",
    "timeout": "the host {host} did not answer in time",
    "tls_certificate": "the TLS certificate of {host} is not trusted",
    "tls_expired": "the TLS certificate of {host} has expired",
    "tls_hostname": "the TLS certificate of {host} is made out to another host",
    "tls_other": "no secure (TLS) connection to {host} could be made",
    "invalid_url": "it leads to an address that is not a valid http(s) URL",
    "connection_error": "the connection to {host} failed",
}


def _normalised(url: str) -> str:
    """``url`` as the checker writes it (yarl), so a rewritten literal is not a redirect."""
    try:
        return str(URL(url.strip()).with_fragment(None))
    except ValueError:
        return url


def _redirect_note(url: str, final_url: str | None) -> str:
    """" (it redirects to X)" when the failing request was not the submitted URL itself.

    The checker reports the URL it requested in normalised form (``[::ffff:127.0.0.1]``
    becomes ``[::ffff:7f00:1]``), which is the same URL, not a redirect.
    """
    if final_url is None or final_url in (url, _normalised(url)):
        return ""
    return f" (it redirects to {final_url})"


def _refusal(url: str, page: Fetched) -> str:
    result = page.result
    hop = _redirect_note(url, result.final_url)
    if result.reason == "blocked_address":
        return f"{url} was refused{hop}: {result.error}. {GUARD_WORDS}."
    if result.reason in _PLAIN_FAILURES:
        host = urlsplit(result.final_url or url).hostname or url
        detail = _PLAIN_FAILURES[result.reason].format(host=host)
    elif result.http_status is not None and (result.reason in (None, "challenge")
                                             or result.reason.startswith("http_")):
        # The status says it; the stored error may add the body's library error.
        challenge = " (a bot-protection challenge)" if result.reason == "challenge" else ""
        detail = f"it answered HTTP {result.http_status}{challenge}"
    else:
        detail = result.error or result.reason or result.outcome.value.lower()
    return f"{url} could not be read{hop}: {detail}"


def record_id_for(url: str) -> str:
    """``https://API.example.fr/v1/`` -> ``api.example.fr/v1``: one entry per page."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{(parts.hostname or '').lower()}{port}{path}{query}"


def find_institution(session: Session, host: str | None) -> Institution | None:
    """The institution whose official domain (or homepage host) is closest above ``host``.

    When two institutions claim the same closest domain, neither is chosen. Failing the
    register's institutions, a body of eurodex's EU list is added when its domain matches.
    """
    if not host:
        return None
    best: dict[int, list[Institution]] = {}
    for inst in session.scalars(select(Institution)):
        domains = {d.lower() for d in inst.official_domains or []}
        home = host_of(inst.homepage_url)
        depth = max((len(p) for p in parents(host) if p in domains and "." in p), default=0)
        if home == host:
            depth = max(depth, len(host))
        if depth:
            best.setdefault(depth, []).append(inst)
    if best:
        closest = best[max(best)]
        return closest[0] if len(closest) == 1 else None
    for ref in eu_institutions():
        if any(p in ref.domains for p in parents(host)):
            return ensure_reference_institution(session, ref)
    return None


def _looks_like_spec(url: str, page: Fetched) -> bool:
    kind = page.content_type.lower()
    return (urlsplit(url).path.lower().endswith((".json", ".yaml", ".yml"))
            or "json" in kind or "yaml" in kind)


def _capture(body: bytes, url: str) -> CapturedSchema | None:
    try:
        return capture_openapi(body, source=url)
    except SchemaCaptureError as exc:
        log.info("submitted spec %s not captured: %s", url, exc)
        return None


async def _find_spec(
    checker: Checker, url: str, page: Fetched, linked: str | None
) -> tuple[str | None, CapturedSchema | None]:
    """The spec: the submitted URL itself when it is one, else the page's spec link."""
    if _looks_like_spec(url, page) and (captured := _capture(page.body, url)):
        return url, captured
    if linked is None:
        return None, None
    spec = await checker.fetch(linked, max_bytes=SPEC_MAX_BYTES)
    if not spec.ok or spec.truncated:
        return linked, None
    return linked, _capture(spec.body, linked)


def _store_candidate(
    store: Store, form: SubmissionForm, spec_url: str | None, docs_url: str | None,
    captured: CapturedSchema | None, registry: DomainRegistry, curation: Curation,
) -> int:
    extracted = ProvenanceMethod.EXTRACTED
    fields = {"name": FieldValue(form.name), "country": FieldValue(form.country),
              "homepage_url": FieldValue(form.url)}
    if spec_url:
        fields["spec_url"] = FieldValue(spec_url, extracted)
    if docs_url:
        fields["docs_url"] = FieldValue(docs_url, extracted)
    servers = [s for s in (captured.servers if captured else []) if s.startswith("https://")
               or s.startswith("http://")]
    if servers:
        fields["base_url"] = FieldValue(servers[0], extracted)
    candidate = Candidate(record_id=record_id_for(form.url), record_url=None, kind=Kind.API,
                          fields=fields)
    with store.session() as session:
        apply_curation(session, curation)
        source = repo.ensure_source(session, slug=SUBMISSIONS_SOURCE, name=SOURCE_NAME,
                                    format="submission", url=None, trusted=False)
        inst = find_institution(session, host_of(form.url))
        entry, outcome = repo.upsert_entry(session, source, candidate, inst)
        if captured is not None and spec_url:
            repo.save_schema(session, entry, captured=captured, captured_from=spec_url)
        decide.prove_and_admit(session, entry, registry, curation)
        log.info("submission %s: %s entry %s", form.url, outcome, entry.slug)
        return entry.id


def _result(store: Store, entry_id: int) -> SubmissionResult:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        score = session.scalar(select(Score).where(Score.entry_id == entry_id))
        return SubmissionResult(
            slug=entry.slug, status=entry.status, status_reason=entry.status_reason,
            officialness=score.officialness if score else None, spec_url=entry.spec_url,
            docs_url=entry.docs_url,
            institution=entry.institution.name if entry.institution else None,
        )


async def _process(
    store: Store, settings: Settings, form: SubmissionForm, curation: Curation
) -> SubmissionResult:
    registry = decide.registry_for(curation)
    async with Checker(check_settings(settings)) as checker:
        page = await checker.fetch(form.url, max_bytes=PAGE_MAX_BYTES)
        if not page.ok:
            raise SubmissionRefused(_refusal(form.url, page))
        read = read_page(form.url, page)
        found = find_in_page(read.links, page.result.final_url or form.url)
        spec_url, captured = await _find_spec(checker, form.url, page, found.spec_url)
        entry_id = await asyncio.to_thread(_store_candidate, store, form, spec_url,
                                           found.docs_url, captured, registry, curation)
        await prove_fetched(entry_id, store, checker, repo.now_utc(), registry=registry,
                            curation=curation, prefetched={form.url: page})
    await asyncio.to_thread(pipeline.score, store, [entry_id])
    return await asyncio.to_thread(_result, store, entry_id)


async def submit(
    store: Store, settings: Settings, form: SubmissionForm, curation: Curation | None = None
) -> SubmissionResult:
    """Process one validated submission; SubmissionRefused when it cannot be accepted."""
    curation = curation if curation is not None else pipeline.current_curation()
    try:
        async with asyncio.timeout(TIME_LIMIT_S):
            return await _process(store, settings, form, curation)
    except TimeoutError:
        raise SubmissionRefused(
            f"{form.url} took longer than {TIME_LIMIT_S:.0f} s to read; try again later"
        ) from None
