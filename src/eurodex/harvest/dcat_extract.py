"""DCAT-AP (and schema.org) datasets read out of one RDF graph as DatasetFacts.

Only what the register stores is read: titles and descriptions in the configured language,
landing page, documentation, licence, contact point, themes and keywords, temporal and
spatial coverage, frequency, modification date, publisher and the distributions.
"""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS

from eurodex.harvest.datasets import DatasetFacts
from eurodex.harvest.rdf import Languages
from eurodex.harvest.records import DistributionRecord
from eurodex.harvest.values import byte_size, iso_date

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
TIME = Namespace("http://www.w3.org/2006/time#")
SCHEMA_NAMESPACES = (Namespace("http://schema.org/"), Namespace("https://schema.org/"))
SCHEMA_HTTP = SCHEMA_NAMESPACES[0]


def _first(graph: Graph, node, *predicates) -> object | None:
    for predicate in predicates:
        for value in graph.objects(node, predicate):
            return value
    return None


def _tail(value: object) -> str | None:
    """The last segment of a vocabulary URI (``.../file-type/CSV`` is ``CSV``), or the text."""
    if value is None:
        return None
    text = str(value).strip().rstrip("/")
    if isinstance(value, URIRef):
        text = text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return text or None


class DcatReader:
    """Reads datasets out of graphs, with one language preference for every literal."""

    def __init__(self, languages: Languages, source: str) -> None:
        self.languages = languages
        self.source = source

    def text(self, graph: Graph, node, *predicates) -> str | None:
        for predicate in predicates:
            found = self.languages.pick(graph.objects(node, predicate))
            if found:
                return found
        return None

    def dataset_nodes(self, graph: Graph) -> list:
        nodes = list(graph.subjects(RDF.type, DCAT.Dataset))
        for schema in SCHEMA_NAMESPACES:
            nodes += [n for n in graph.subjects(RDF.type, schema.Dataset) if n not in nodes]
        return sorted(nodes, key=str)

    def datasets(self, graph: Graph) -> Iterator[DatasetFacts]:
        for node in self.dataset_nodes(graph):
            if any((node, RDF.type, s.Dataset) in graph for s in SCHEMA_NAMESPACES) and \
                    (node, RDF.type, DCAT.Dataset) not in graph:
                yield self.schema_dataset(graph, node)
            else:
                yield self.dcat_dataset(graph, node)

    # -- DCAT ------------------------------------------------------------------------------

    def _record_id(self, graph: Graph, node) -> str:
        if isinstance(node, URIRef):
            return str(node)
        identifier = _first(graph, node, DCTERMS.identifier)
        return str(identifier) if identifier is not None else f"_:{node}"

    def dcat_dataset(self, graph: Graph, node) -> DatasetFacts:
        distributions = [self.distribution(graph, d)
                         for d in sorted(graph.objects(node, DCAT.distribution), key=str)]
        distributions = [d for d in distributions if d is not None]
        licence = _first(graph, node, DCTERMS.license, DCTERMS.rights)
        if licence is None:
            licence = next((d.licence for d in distributions if d.licence), None)
        temporal = _first(graph, node, DCTERMS.temporal)
        publisher = _first(graph, node, DCTERMS.publisher)
        landing = _first(graph, node, DCAT.landingPage)
        return DatasetFacts(
            record_id=self._record_id(graph, node),
            record_url=str(node) if isinstance(node, URIRef) else None,
            title=self.text(graph, node, DCTERMS.title),
            description=self.text(graph, node, DCTERMS.description),
            landing_page=str(landing) if landing is not None else None,
            docs_url=_str(_first(graph, node, FOAF.page)),
            licence=self._licence(graph, licence),
            contact=self._contact(graph, _first(graph, node, DCAT.contactPoint)),
            themes=[str(t) for t in graph.objects(node, DCAT.theme)],
            keywords=self.languages.pick_all(graph.objects(node, DCAT.keyword)),
            temporal_start=self._date(graph, temporal, DCAT.startDate, SCHEMA_HTTP.startDate,
                                      TIME.hasBeginning),
            temporal_end=self._date(graph, temporal, DCAT.endDate, SCHEMA_HTTP.endDate,
                                    TIME.hasEnd),
            spatial=self._spatial(graph, node),
            frequency=_str(_first(graph, node, DCTERMS.accrualPeriodicity)),
            last_modified=iso_date(_first(graph, node, DCTERMS.modified)),
            publisher=self._agent_name(graph, publisher),
            publisher_type=_str(_first(graph, publisher, DCTERMS.type)) if publisher else None,
            publisher_url=self._agent_url(graph, publisher),
            distributions=distributions,
            replaced_by=_str(_first(graph, node, DCTERMS.isReplacedBy)),
        )

    def distribution(self, graph: Graph, node) -> DistributionRecord | None:
        url = _first(graph, node, DCAT.downloadURL, DCAT.accessURL)
        if url is None:
            return None
        fmt = _first(graph, node, DCTERMS.format)
        if fmt is not None and not isinstance(fmt, Literal | URIRef):
            fmt = _first(graph, fmt, RDF.value, RDFS.label)
        media = _first(graph, node, DCAT.mediaType)
        return DistributionRecord(
            url=str(url).strip(),
            format=_tail(fmt),
            media_type=_media(media),
            byte_size=byte_size(_first(graph, node, DCAT.byteSize)),
            title=self.text(graph, node, DCTERMS.title),
            licence=self._licence(graph, _first(graph, node, DCTERMS.license)),
        )

    def _licence(self, graph: Graph, value) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):  # URIRef and Literal are str too
            return str(value).strip() or None
        return self.text(graph, value, DCTERMS.identifier, RDFS.label, SKOS.prefLabel,
                         DCTERMS.title)

    def _contact(self, graph: Graph, node) -> str | None:
        if node is None:
            return None
        email = _first(graph, node, VCARD.hasEmail, VCARD.email)
        if email is not None:
            return str(email).removeprefix("mailto:").strip() or None
        return self.text(graph, node, VCARD.fn, VCARD["organization-name"]) or _str(
            _first(graph, node, VCARD.hasURL))

    def _date(self, graph: Graph, node, *predicates) -> str | None:
        if node is None:
            return None
        for predicate in predicates:
            value = _first(graph, node, predicate)
            if isinstance(value, BNode | URIRef):  # time:Instant
                value = _first(graph, value, TIME.inXSDDate, TIME.inXSDDateTimeStamp,
                               TIME.inXSDDateTime)
            if found := iso_date(value):
                return found
        return None

    def _spatial(self, graph: Graph, node) -> str | None:
        names = []
        for place in graph.objects(node, DCTERMS.spatial):
            if isinstance(place, URIRef):
                names.append(_tail(place))
                continue
            label = self.text(graph, place, SKOS.prefLabel, RDFS.label, LOCN.geographicName)
            if label:
                names.append(label)
            elif _first(graph, place, LOCN.geometry, DCAT.bbox) is not None:
                names.append("bounding geometry")
        names += [_tail(u) for u in graph.objects(node, DCATDE.politicalGeocodingURI)]
        names = [n for n in dict.fromkeys(names) if n]
        return ", ".join(names) if names else None

    def _agent_name(self, graph: Graph, node) -> str | None:
        if node is None:
            return None
        if isinstance(node, Literal):
            return str(node).strip() or None
        return self.text(graph, node, FOAF.name, SKOS.prefLabel, VCARD.fn, RDFS.label,
                         SCHEMA_HTTP.name)

    def _agent_url(self, graph: Graph, node) -> str | None:
        if node is None or isinstance(node, Literal):
            return None
        home = _first(graph, node, FOAF.homepage, SCHEMA_HTTP.url)
        return str(home) if home is not None else None

    # -- schema.org ------------------------------------------------------------------------

    def schema_dataset(self, graph: Graph, node) -> DatasetFacts:
        def s(name: str):
            return [ns[name] for ns in SCHEMA_NAMESPACES]

        distributions = []
        for dist in sorted((d for p in s("distribution") for d in graph.objects(node, p)),
                           key=str):
            url = _first(graph, dist, *s("contentUrl"), *s("url"))
            if url is None:
                continue
            distributions.append(DistributionRecord(
                url=str(url).strip(), format=_str(_first(graph, dist, *s("encodingFormat"))),
                byte_size=byte_size(_first(graph, dist, *s("contentSize"))),
                title=self.text(graph, dist, *s("name"), *s("description")),
                licence=_str(_first(graph, dist, *s("license")))))
        temporal = _str(_first(graph, node, *s("temporalCoverage"))) or ""
        start, _, end = temporal.partition("/")
        publisher = _first(graph, node, *s("publisher"))
        return DatasetFacts(
            record_id=self._record_id(graph, node),
            record_url=str(node) if isinstance(node, URIRef) else None,
            title=self.text(graph, node, *s("name")),
            description=self.text(graph, node, *s("description")),
            landing_page=_str(_first(graph, node, *s("url"))),
            licence=_str(_first(graph, node, *s("license"))),
            keywords=self.languages.pick_all(
                v for p in s("keywords") for v in graph.objects(node, p)),
            themes=[n for a in (a for p in s("about") for a in graph.objects(node, p))
                    if (n := self.text(graph, a, *s("name")))],
            temporal_start=iso_date(start), temporal_end=iso_date(end),
            last_modified=iso_date(_first(graph, node, *s("dateModified"))),
            publisher=self.text(graph, publisher, *s("name")) if publisher else None,
            distributions=distributions,
        )


def _str(value: object) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _media(value: object) -> str | None:
    text = _str(value)
    if text and "/media-types/" in text:
        return text.split("/media-types/", 1)[1]
    return text
