"""The two proofs that read pages: reciprocal link (10) and policy presence (5).

Both fetch through the verification :class:`~eurodex.verify.check.Checker` (the guarded,
polite client: address guard on every hop, per-host politeness), never another client, and
are proven again at each full verification (``verify.full.FULL_VERIFICATION_STEPS``). Every
run stores its verdict with the time it was made, so a proof that stops holding is recorded
so; the entry is then re-admitted (a curator's decision stands) and re-scored.

* **reciprocal link**: the entry's homepage or docs page has an ``<a href>`` to the
  institution's official site: its homepage host, or a host under one of its official domains
  other than the page's own host (a page linking to itself proves nothing).
* **policy presence**: the homepage (else the docs page) links to a privacy policy, legal
  notice, terms or contact page (see ``proof.links.POLICY_WORDS``) hosted under an official
  domain (the institution's, or one of a public-sector list).

A page that answered INCONCLUSIVE (429, a bot challenge, back-off) leaves the stored proof as
it was: it says nothing about the page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from eurodex.model import Outcome, ProofName, ProofResult
from eurodex.proof import decide
from eurodex.proof.curation import Curation
from eurodex.proof.domains import DomainRegistry, host_of, is_shared_hosting, parents
from eurodex.proof.links import Link, page_links, policy_word
from eurodex.proof.prove import ProofSubject
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry
from eurodex.verify.check import Checker, Fetched

log = logging.getLogger("eurodex.proof")

PAGE_MAX_BYTES = 1024 * 1024  # a homepage past 1 MiB is read that far: links come early


@dataclass
class PageRead:
    """One page as the proofs see it: did it answer, where did it end, which links it has."""

    url: str
    outcome: Outcome
    final_url: str | None = None
    reason: str | None = None
    links: list[Link] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.UP

    @property
    def host(self) -> str | None:
        return host_of(self.final_url or self.url)


def read_page(url: str, fetched: Fetched) -> PageRead:
    result = fetched.result
    page = PageRead(url, result.outcome, result.final_url, result.reason)
    if page.ok and fetched.body:
        page.links = page_links(fetched.text(), result.final_url or url)
    return page


async def fetch_page(checker: Checker, url: str) -> PageRead:
    return read_page(url, await checker.fetch(url, max_bytes=PAGE_MAX_BYTES))


def _unread(page: PageRead) -> str:
    return f"{page.url} could not be read ({page.reason or page.outcome.value.lower()})"


def _site_of(subject: ProofSubject, link: Link, page: PageRead) -> str | None:
    """Why ``link`` points at the institution's official site, or None."""
    host = link.host
    if host is None or is_shared_hosting(host):
        return None
    home = host_of(subject.institution_homepage)
    if home and host == home:
        return "the homepage of"
    if host == page.host:
        return None
    domains = {d.lower() for d in subject.institution_domains}
    domain = next((p for p in parents(host) if p in domains and "." in p), None)
    return f"under {domain}, an official domain of" if domain else None


def prove_reciprocal(
    subject: ProofSubject, pages: list[PageRead], now: datetime
) -> ProofResult | None:
    """The reciprocal-link proof from the pages read; None when no page gave an answer."""
    name, checked = ProofName.RECIPROCAL_LINK, "links of the homepage and docs page"
    owner = subject.institution_name
    first = pages[0].url if pages else None
    if owner is None:
        return ProofResult(name, False, checked, first,
                           "no public-sector institution to link to", now)
    if not subject.institution_homepage and not subject.institution_domains:
        return ProofResult(name, False, checked, first,
                           f"{owner} has no known official site to link to", now)
    if not pages:
        return ProofResult(name, False, checked, None,
                           "the entry declares no homepage or docs page", now)
    for page in pages:
        for link in page.links if page.ok else ():
            why = _site_of(subject, link, page)
            if why:
                return ProofResult(name, True, checked, page.url,
                                   f"{page.url} links to {link.url}, {why} {owner}", now)
    if all(p.outcome is Outcome.INCONCLUSIVE for p in pages):
        return None
    unread = [p for p in pages if not p.ok]
    read = [p for p in pages if p.ok]
    sentence = (f"{' and '.join(p.url for p in read)} "
                f"{'links' if len(read) == 1 else 'link'} to no page of {owner}'s official "
                "site") if read else ""
    if unread:
        sentence = "; ".join(filter(None, [sentence, *(_unread(p) for p in unread)]))
    return ProofResult(name, False, checked, pages[0].url, sentence, now)


def prove_policy(
    subject: ProofSubject, page: PageRead | None, registry: DomainRegistry, now: datetime
) -> ProofResult | None:
    """The policy-presence proof from the homepage read; None when it gave no answer."""
    name, checked = ProofName.POLICY_PAGE, "policy and contact links of the homepage"
    if page is None:
        return ProofResult(name, False, checked, None, "the entry declares no homepage", now)
    if page.outcome is Outcome.INCONCLUSIVE:
        return None
    if not page.ok:
        return ProofResult(name, False, checked, page.url, _unread(page), now)
    elsewhere: list[Link] = []
    for link in page.links:
        word = policy_word(link)
        if word is None:
            continue
        found = registry.match(link.host, subject.institution_domains)
        if found is None:
            elsewhere.append(link)
            continue
        where = found.sentence(subject.institution_name).removeprefix(f"host {found.host} ")
        return ProofResult(name, True, checked, page.url,
                           f"{page.url} links to a {word} page, {link.url}; its host {where}",
                           now)
    if elsewhere:
        return ProofResult(name, False, checked, page.url,
                           f"{page.url} links to {len(elsewhere)} policy or contact pages, "
                           f"none under an official domain (first: {elsewhere[0].url})", now)
    return ProofResult(name, False, checked, page.url,
                       f"{page.url} links to no privacy, legal notice, terms or contact page",
                       now)


def pages_of(subject: ProofSubject) -> list[str]:
    """The pages to read: homepage, then docs page, each once, http(s) only."""
    found: list[str] = []
    for url in (subject.homepage_url, subject.docs_url):
        if url and host_of(url) and url.startswith(("http://", "https://")) and url not in found:
            found.append(url)
    return found


def _load_subject(
    store: Store, entry_id: int, registry: DomainRegistry, curation: Curation
) -> ProofSubject | None:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        return None if entry is None else decide.subject_for(session, entry, registry, curation)


def _store_verdicts(
    store: Store, entry_id: int, proofs: list[ProofResult], registry: DomainRegistry,
    curation: Curation,
) -> None:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        if entry is None:
            return
        repo.save_proofs(session, entry, proofs, touch=True)
        before = (entry.status, entry.status_reason)
        decide.prove_and_admit(session, entry, registry, curation)
        if (entry.status, entry.status_reason) != before:
            log.info("%s: re-admitted %s (%s)", entry.slug, entry.status, entry.status_reason)


async def prove_fetched(
    entry_id: int,
    store: Store,
    checker: Checker,
    now: datetime,
    *,
    registry: DomainRegistry | None = None,
    curation: Curation | None = None,
    prefetched: Mapping[str, Fetched] | None = None,
) -> list[ProofResult]:
    """Read the entry's pages, store both proofs, re-admit and re-score; returns the verdicts.

    ``prefetched`` maps URLs already fetched through ``checker`` (a submission's page) to
    their result, so the same page is not fetched twice.
    """
    from eurodex import pipeline  # the pipeline imports the proofs; scoring lives there

    curation = curation if curation is not None else pipeline.current_curation()
    registry = registry or decide.registry_for(curation)
    subject = await asyncio.to_thread(_load_subject, store, entry_id, registry, curation)
    if subject is None:
        return []
    pages: list[PageRead] = []
    for url in pages_of(subject):
        if prefetched and url in prefetched:
            pages.append(read_page(url, prefetched[url]))
        else:
            pages.append(await fetch_page(checker, url))
    verdicts = [
        prove_reciprocal(subject, pages, now),
        prove_policy(subject, pages[0] if pages else None, registry, now),
    ]
    proofs = [p for p in verdicts if p is not None]
    if proofs:
        await asyncio.to_thread(_store_verdicts, store, entry_id, proofs, registry, curation)
        await asyncio.to_thread(pipeline.score, store, [entry_id])
    return proofs


async def reprove_pages(store: Store, entry_id: int, checker: Checker) -> None:
    """The full-verification step: prove both page proofs again, now."""
    await prove_fetched(entry_id, store, checker, repo.now_utc())
