"""What a submitted page tells about the API it presents: its spec, its docs.

Only links are read (with selectolax, see ``proof.links``): an OpenAPI or Swagger document is
recognised by its file name or its link text, the documentation by its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from eurodex.proof.links import Link, fold

_SPEC_FILE = re.compile(r"(openapi|swagger|api-docs)[^/]*\.(json|ya?ml)$")
_SPEC_PATH = re.compile(r"/(openapi|swagger)(\.json|\.ya?ml)?/?$|/v[23]/api-docs/?$")
_SPEC_TEXT = ("openapi", "swagger", "oas")
_DOCS_WORDS = ("documentation", "docs", "api reference", "developer", "developers",
               "developpeurs", "dokumentation", "documentatie", "documentacion",
               "documentazione", "guide")


@dataclass(frozen=True)
class PageFindings:
    spec_url: str | None = None
    docs_url: str | None = None


def is_spec_link(link: Link) -> bool:
    path = urlsplit(link.url).path.lower()
    if _SPEC_FILE.search(path) or _SPEC_PATH.search(path):
        return True
    words = fold(link.text).split()
    return any(w in words for w in _SPEC_TEXT) and path.endswith((".json", ".yaml", ".yml"))


def is_docs_link(link: Link) -> bool:
    text = fold(link.text)
    path = fold(urlsplit(link.url).path)
    return any(re.search(rf"\b{w}\b", text) or re.search(rf"\b{w}\b", path)
               for w in _DOCS_WORDS)


def find_in_page(links: list[Link], page_url: str) -> PageFindings:
    """The first spec link and the first docs link (not the page itself) of a page."""
    spec = next((link.url for link in links if is_spec_link(link)), None)
    docs = next((link.url for link in links
                 if link.url != page_url and link.url != spec and is_docs_link(link)), None)
    return PageFindings(spec, docs)
