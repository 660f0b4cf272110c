"""Reading the links of a fetched page: ``<a href>`` targets, absolute, with their text.

Parsed with selectolax's Lexbor parser (the Modest parser, ``selectolax.parser``, is
deprecated). Only http(s) targets are kept: ``mailto:``, ``javascript:`` and fragments point
nowhere a proof could judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser
from unidecode import unidecode

from eurodex.proof.domains import host_of

MAX_LINKS = 5_000  # a page with more links than this is read only this far

# Words that name a privacy policy, legal notice, terms of use or contact page, in the
# languages of the register's first countries (FR, EN, DE, NL, ES, IT), written without
# accents: link text and URL are compared after the same folding.
POLICY_WORDS: tuple[str, ...] = (
    # French
    "mentions legales", "confidentialite", "donnees personnelles", "politique de protection",
    "conditions generales", "conditions d utilisation", "cgu", "nous contacter", "contact",
    # English
    "privacy", "legal notice", "legal", "terms", "terms of use", "data protection",
    "cookie policy", "imprint", "contact us",
    # German
    "impressum", "datenschutz", "nutzungsbedingungen", "kontakt",
    # Dutch
    "privacyverklaring", "privacybeleid", "disclaimer", "proclaimer", "colofon",
    "gebruiksvoorwaarden",
    # Spanish
    "aviso legal", "privacidad", "proteccion de datos", "terminos", "contacto",
    # Italian
    "note legali", "informativa", "protezione dei dati", "termini", "contatti",
)
_POLICY_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in POLICY_WORDS) + r")\b")


@dataclass(frozen=True)
class Link:
    url: str
    text: str

    @property
    def host(self) -> str | None:
        return host_of(self.url)


def page_links(html: str, base_url: str) -> list[Link]:
    """Every http(s) ``<a href>`` of ``html``, resolved against ``base_url`` (and ``<base>``)."""
    tree = LexborHTMLParser(html)
    base = tree.css_first("base[href]")
    if base is not None:
        base_url = urljoin(base_url, base.attributes.get("href") or "")
    links: list[Link] = []
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            url = urljoin(base_url, href)
            scheme = urlsplit(url).scheme
        except ValueError:
            continue
        if scheme not in ("http", "https"):
            continue
        links.append(Link(url, " ".join(node.text(separator=" ").split())))
        if len(links) >= MAX_LINKS:
            break
    return links


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: ``Mentions_Légales`` ->
    ``mentions legales``."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", unidecode(text).lower()).split())


def policy_word(link: Link) -> str | None:
    """The policy word the link's text or URL path contains, or None."""
    parts = urlsplit(link.url)
    for text in (link.text, parts.path, parts.query):
        found = _POLICY_RE.search(fold(text))
        if found:
            return found.group(1)
    return None
