"""Reading RDF safely: formats, JSON-LD without remote contexts, languages, Hydra paging.

rdflib resolves a JSON-LD ``@context`` given as a URL by fetching it. Harvested documents are
untrusted, so every context is made local before rdflib sees the document: a known DCAT-AP
context URL is replaced by the copy shipped in ``eurodex.harvest.contexts``, and any other
remote context (or ``@import``) makes the document unreadable, with that reason. Nothing in
this module opens a network connection.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Iterable, Sequence
from importlib import resources

from rdflib import Graph, Literal, URIRef

from eurodex.harvest.limits import check_xml, load_json

FORMATS = {
    ".ttl": "turtle", ".turtle": "turtle", ".rdf": "xml", ".xml": "xml", ".owl": "xml",
    ".jsonld": "json-ld", ".json": "json-ld", ".nt": "nt", ".n3": "n3",
}
MEDIA_TYPES = {
    "text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld",
    "application/n-triples": "nt", "text/n3": "n3", "application/xml": "xml",
    "text/xml": "xml",
}
HYDRA_NAMESPACES = ("http://www.w3.org/ns/hydra/core#", "https://www.w3.org/ns/hydra/core#")
# The newer Hydra vocabulary pages with hydra:next on a PartialCollectionView; the older
# one (still served by ckanext-dcat) with hydra:nextPage on a PagedCollection.
HYDRA_NEXT = ("next", "nextPage")


class RemoteContextRefused(ValueError):
    """A JSON-LD document names a context that would have to be fetched."""


@functools.cache
def dcat_ap_context() -> dict:
    """The shipped DCAT-AP 3.0.1 JSON-LD context (its ``@context`` object)."""
    text = (resources.files("eurodex.harvest.contexts") / "dcat-ap-3.0.1.jsonld").read_text(
        "utf-8")
    return json.loads(text)["@context"]


def _is_dcat_ap_context(url: str) -> bool:
    lowered = url.lower()
    return "dcat-ap" in lowered and lowered.rstrip("/").endswith(".jsonld")


def _local_context(context: object) -> object:
    if isinstance(context, str):
        if _is_dcat_ap_context(context):
            return dcat_ap_context()
        raise RemoteContextRefused(
            f"JSON-LD context {context} would have to be fetched; eurodex never fetches "
            "contexts (only the DCAT-AP context is known locally)")
    if isinstance(context, list):
        return [_local_context(item) for item in context]
    if isinstance(context, dict):
        if "@import" in context:
            raise RemoteContextRefused(
                f"JSON-LD @import of {context['@import']} would have to be fetched")
        return {k: _localise(v) for k, v in context.items()}
    return context


def _localise(node: object) -> object:
    """``node`` with every ``@context`` (at any depth, scoped ones too) made local."""
    if isinstance(node, list):
        return [_localise(item) for item in node]
    if isinstance(node, dict):
        return {k: (_local_context(v) if k == "@context" else _localise(v))
                for k, v in node.items()}
    return node


def local_jsonld(data: str | bytes) -> str:
    """A JSON-LD document rdflib can read without any fetch; RemoteContextRefused if none."""
    document = load_json(data)  # ValueError: not JSON, too large or too deep
    try:
        return json.dumps(_localise(document))
    except RecursionError as exc:
        raise ValueError("not read: JSON-LD nested too deeply") from exc


def parse_graph(data: str | bytes, rdf_format: str, base: str | None = None,
                store: str = "default") -> Graph:
    """Parse one RDF document; ValueError (with the parser's words) when it cannot be read.

    ``store``: rdflib's store; "SimpleMemory" (no named graphs) is faster for one Turtle
    document read and thrown away.
    """
    graph = Graph(store=store)
    if rdf_format == "json-ld":
        data = local_jsonld(data)
    elif rdf_format == "xml":
        check_xml(data)  # see harvest.limits: rdflib must not see what would hang it
    try:
        with warnings.catch_warnings():
            # rdflib's JSON-LD parser warns about its own internal use of ConjunctiveGraph.
            warnings.simplefilter("ignore", DeprecationWarning)
            graph.parse(data=data, format=rdf_format, publicID=base)
    except RemoteContextRefused:
        raise
    except Exception as exc:  # rdflib raises many types (BadSyntax, SAXParseException, ...)
        message = " ".join(str(exc).split())[:300]
        raise ValueError(f"{rdf_format} does not parse: {message}") from exc
    return graph


def format_for(name: str, content_type: str | None = None) -> str | None:
    if content_type:
        media = content_type.split(";")[0].strip().lower()
        if media in MEDIA_TYPES:
            return MEDIA_TYPES[media]
    lowered = name.lower().split("?")[0]
    return next((fmt for ext, fmt in FORMATS.items() if lowered.endswith(ext)), None)


def next_page(graph: Graph) -> str | None:
    """The next page of a Hydra-paged catalogue, in either Hydra vocabulary, or None.

    A page naming several (it should not) gives the lowest URL, so paging never depends on
    the order rdflib yields a set in.
    """
    for namespace in HYDRA_NAMESPACES:
        for name in HYDRA_NEXT:
            found = sorted(str(v) for v in graph.objects(None, URIRef(namespace + name)))
            if found:
                return found[0]
    return None


class Languages:
    """Picks one literal among translations by a stated preference, never at random.

    Order: the preferred languages in the order given (``de-AT`` matches ``de``), then a
    literal with no language, then the remaining languages alphabetically, so the same
    document always gives the same value.
    """

    def __init__(self, preference: Sequence[str] = ("en",)) -> None:
        self.preference = [p.lower() for p in preference]

    def rank(self, language: str | None) -> tuple[int, int, str]:
        """Lower is preferred (see the class docstring)."""
        lang = (language or "").lower()
        primary = lang.split("-")[0]
        if lang in self.preference:
            return (0, self.preference.index(lang) * 2, lang)
        if primary and primary in self.preference:
            return (0, self.preference.index(primary) * 2 + 1, lang)
        if not lang:
            return (1, 0, "")
        return (2, 0, lang)

    def pick(self, values: Iterable[object]) -> str | None:
        literals = [v for v in values if isinstance(v, Literal | URIRef) and str(v).strip()]
        if not literals:
            return None
        best = min(literals, key=lambda v: (self.rank(getattr(v, "language", None)),
                                            str(v)))
        return str(best).strip()

    def pick_all(self, values: Iterable[object]) -> list[str]:
        """Every value in the best language present (keywords come as a set per language)."""
        literals = [v for v in values if isinstance(v, Literal) and str(v).strip()]
        if not literals:
            return []
        best = min(self.rank(v.language) for v in literals)
        chosen = sorted(str(v).strip() for v in literals if self.rank(v.language) == best)
        return list(dict.fromkeys(chosen))
