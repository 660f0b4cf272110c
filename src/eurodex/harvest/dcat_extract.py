"""DCAT-AP (and schema.org) datasets read out of one RDF graph as DatasetFacts.

Only what the register stores is read: titles and descriptions in the configured language,
landing page, documentation, licence, contact point, themes and keywords, temporal and
spatial coverage, frequency, modification date, publisher and the distributions.

An RDF graph is a set: the order rdflib yields a node's values in depends on string hashing
and on random blank-node ids, so "the first value" differs between two runs. Wherever a
record gives several values and one is kept (a title, a licence, a publisher, a contact
point, a date, a format...), the choice is made by one stated order, :meth:`DcatReader.order`:
named values (URIs, literals) before blank nodes; among literals, the configured language
preference (see ``rdf.Languages``); then the text of the value; a blank node by what it says
(its sorted properties), never by its random id. Lists (distributions, themes, places,
datasets of a graph) are sorted by the same order, so the same document always gives the
same record, whatever the process.
"""

from __future__ import annotations

import hashlib
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


# How deep a blank node's description is followed to order it (a distribution's checksum or
# a contact's address is a blank node inside a blank node).
FINGERPRINT_DEPTH = 3


def fingerprint(graph: Graph, node, depth: int = FINGERPRINT_DEPTH) -> tuple:
    """What a blank node says, as a sortable tuple of its sorted (property, value) pairs.

    Two blank nodes that describe the same thing have the same fingerprint, so ordering by
    it never depends on their random ids.
    """
    pairs = []
    for predicate, value in graph.predicate_objects(node):
        if isinstance(value, BNode):
            inner = fingerprint(graph, value, depth - 1) if depth > 0 else ()
            pairs.append((str(predicate), 2, "", "", inner))
        else:
            pairs.append((str(predicate), 0 if isinstance(value, URIRef) else 1, str(value),
                          getattr(value, "language", None) or "", ()))
    return tuple(sorted(pairs))


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

    def order(self, graph: Graph):
        """The sort key that makes every choice among a node's values stable (module doc)."""
        rank = self.languages.rank

        def key(value) -> tuple:
            if isinstance(value, BNode):
                return (1, fingerprint(graph, value))
            return (0, rank(getattr(value, "language", None)), str(value))

        return key

    def in_order(self, graph: Graph, values) -> list:
        """``values`` in the stated order (a set has none of its own)."""
        values = list(values)
        return sorted(values, key=self.order(graph)) if len(values) > 1 else values

    def first(self, graph: Graph, node, *predicates) -> object | None:
        """The value of the first predicate that has one; several are chosen among by
        :meth:`order`, never by the order rdflib happens to yield them in."""
        for predicate in predicates:
            values = list(graph.objects(node, predicate))
            if len(values) == 1:
                return values[0]
            if values:
                return min(values, key=self.order(graph))
        return None

    def text(self, graph: Graph, node, *predicates) -> str | None:
        for predicate in predicates:
            found = self.languages.pick(graph.objects(node, predicate))
            if found:
                return found
        return None

    def dataset_nodes(self, graph: Graph) -> list:
        nodes = dict.fromkeys(graph.subjects(RDF.type, DCAT.Dataset))
        for schema in SCHEMA_NAMESPACES:
            nodes.update(dict.fromkeys(graph.subjects(RDF.type, schema.Dataset)))
        return self.in_order(graph, nodes)

    def datasets(self, graph: Graph, nodes=None) -> Iterator[DatasetFacts]:
        """Every dataset of ``graph`` (or only ``nodes`` of it), in the stated order."""
        nodes = self.dataset_nodes(graph) if nodes is None else self.in_order(graph, nodes)
        for node in nodes:
            if any((node, RDF.type, s.Dataset) in graph for s in SCHEMA_NAMESPACES) and \
                    (node, RDF.type, DCAT.Dataset) not in graph:
                yield self.schema_dataset(graph, node)
            else:
                yield self.dcat_dataset(graph, node)

    # -- DCAT ------------------------------------------------------------------------------

    def _record_id(self, graph: Graph, node) -> str:
        if isinstance(node, URIRef):
            return str(node)
        identifier = self.first(graph, node, DCTERMS.identifier)
        if identifier is not None:
            return str(identifier)
        # A blank node's id is random: name the record by what it says instead, so the
        # same record is the same entry on the next harvest.
        digest = hashlib.sha1(repr(fingerprint(graph, node)).encode()).hexdigest()
        return f"_:{digest[:20]}"

    def dcat_dataset(self, graph: Graph, node) -> DatasetFacts:
        distributions = [self.distribution(graph, d)
                         for d in self.in_order(graph, graph.objects(node, DCAT.distribution))]
        distributions = [d for d in distributions if d is not None]
        licence = self.first(graph, node, DCTERMS.license, DCTERMS.rights)
        if licence is None:
            licence = next((d.licence for d in distributions if d.licence), None)
        temporal = self.first(graph, node, DCTERMS.temporal)
        publisher = self.first(graph, node, DCTERMS.publisher)
        landing = self.first(graph, node, DCAT.landingPage)
        return DatasetFacts(
            record_id=self._record_id(graph, node),
            record_url=str(node) if isinstance(node, URIRef) else None,
            title=self.text(graph, node, DCTERMS.title),
            description=self.text(graph, node, DCTERMS.description),
            landing_page=str(landing) if landing is not None else None,
            docs_url=_str(self.first(graph, node, FOAF.page)),
            licence=self._licence(graph, licence),
            contact=self._contact(graph, self.first(graph, node, DCAT.contactPoint)),
            themes=sorted(str(t) for t in graph.objects(node, DCAT.theme)),
            keywords=self.languages.pick_all(graph.objects(node, DCAT.keyword)),
            temporal_start=self._date(graph, temporal, DCAT.startDate, SCHEMA_HTTP.startDate,
                                      TIME.hasBeginning),
            temporal_end=self._date(graph, temporal, DCAT.endDate, SCHEMA_HTTP.endDate,
                                    TIME.hasEnd),
            spatial=self._spatial(graph, node),
            frequency=_str(self.first(graph, node, DCTERMS.accrualPeriodicity)),
            last_modified=iso_date(self.first(graph, node, DCTERMS.modified)),
            publisher=self._agent_name(graph, publisher),
            publisher_type=_str(self.first(graph, publisher, DCTERMS.type))
            if publisher is not None else None,
            publisher_url=self._agent_url(graph, publisher),
            distributions=distributions,
            replaced_by=_str(self.first(graph, node, DCTERMS.isReplacedBy)),
        )

    def distribution(self, graph: Graph, node) -> DistributionRecord | None:
        url = self.first(graph, node, DCAT.downloadURL, DCAT.accessURL)
        if url is None:
            return None
        fmt = self.first(graph, node, DCTERMS.format)
        if fmt is not None and not isinstance(fmt, Literal | URIRef):
            fmt = self.first(graph, fmt, RDF.value, RDFS.label)
        media = self.first(graph, node, DCAT.mediaType)
        return DistributionRecord(
            url=str(url).strip(),
            format=_tail(fmt),
            media_type=_media(media),
            byte_size=byte_size(self.first(graph, node, DCAT.byteSize)),
            title=self.text(graph, node, DCTERMS.title),
            licence=self._licence(graph, self.first(graph, node, DCTERMS.license)),
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
        email = self.first(graph, node, VCARD.hasEmail, VCARD.email)
        if email is not None:
            return str(email).removeprefix("mailto:").strip() or None
        return self.text(graph, node, VCARD.fn, VCARD["organization-name"]) or _str(
            self.first(graph, node, VCARD.hasURL))

    def _date(self, graph: Graph, node, *predicates) -> str | None:
        if node is None:
            return None
        for predicate in predicates:
            value = self.first(graph, node, predicate)
            if isinstance(value, BNode | URIRef):  # time:Instant
                value = self.first(graph, value, TIME.inXSDDate, TIME.inXSDDateTimeStamp,
                               TIME.inXSDDateTime)
            if found := iso_date(value):
                return found
        return None

    def _spatial(self, graph: Graph, node) -> str | None:
        names = []
        for place in self.in_order(graph, graph.objects(node, DCTERMS.spatial)):
            if isinstance(place, URIRef):
                names.append(_tail(place))
                continue
            label = self.text(graph, place, SKOS.prefLabel, RDFS.label, LOCN.geographicName)
            if label:
                names.append(label)
            elif self.first(graph, place, LOCN.geometry, DCAT.bbox) is not None:
                names.append("bounding geometry")
        names += sorted(_tail(u) or "" for u in
                        graph.objects(node, DCATDE.politicalGeocodingURI))
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
        home = self.first(graph, node, FOAF.homepage, SCHEMA_HTTP.url)
        return str(home) if home is not None else None

    # -- schema.org ------------------------------------------------------------------------

    def schema_dataset(self, graph: Graph, node) -> DatasetFacts:
        def s(name: str):
            return [ns[name] for ns in SCHEMA_NAMESPACES]

        distributions = []
        for dist in self.in_order(graph, (d for p in s("distribution")
                                          for d in graph.objects(node, p))):
            url = self.first(graph, dist, *s("contentUrl"), *s("url"))
            if url is None:
                continue
            distributions.append(DistributionRecord(
                url=str(url).strip(),
                format=_str(self.first(graph, dist, *s("encodingFormat"))),
                byte_size=byte_size(self.first(graph, dist, *s("contentSize"))),
                title=self.text(graph, dist, *s("name"), *s("description")),
                licence=_str(self.first(graph, dist, *s("license")))))
        temporal = _str(self.first(graph, node, *s("temporalCoverage"))) or ""
        start, _, end = temporal.partition("/")
        publisher = self.first(graph, node, *s("publisher"))
        return DatasetFacts(
            record_id=self._record_id(graph, node),
            record_url=str(node) if isinstance(node, URIRef) else None,
            title=self.text(graph, node, *s("name")),
            description=self.text(graph, node, *s("description")),
            landing_page=_str(self.first(graph, node, *s("url"))),
            licence=_str(self.first(graph, node, *s("license"))),
            keywords=self.languages.pick_all(
                v for p in s("keywords") for v in graph.objects(node, p)),
            themes=sorted(n for a in (a for p in s("about") for a in graph.objects(node, p))
                          if (n := self.text(graph, a, *s("name")))),
            temporal_start=iso_date(start), temporal_end=iso_date(end),
            last_modified=iso_date(self.first(graph, node, *s("dateModified"))),
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
