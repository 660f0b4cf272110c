"""The register as DCAT-AP 3.0.1: APIs as data services, datasets with their distributions.

Each entry's quality score and availability are W3C DQV quality measurements on it: the five
axes, the composite and tier (methodology 5), and the 30-day uptime, the verification state
and the time of the last check (methodology 4). The metrics are defined once, in the
catalogue's own chunk, and link to the methodology that computes them.

The export is written one entry at a time (one small graph each, serialised and dropped), so
a register of any size streams in constant memory. Turtle chunks drop the prefix lines the
opening chunk already declared; JSON-LD carries its context inline, so no reader ever has to
fetch one.

An API's endpoint URL is its base URL. An API that declares none is still catalogued, with
the first address known for it (homepage, documentation, specification, catalogue record) as
its endpoint and a comment saying so: a consumer can find it, and is not misled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote, urlsplit

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD

from eurodex.harvest.themes import EU_THEMES, THEME_URI
from eurodex.model import Kind
from eurodex.publish import vocabularies as vocab
from eurodex.publish.links import Links
from eurodex.publish.register import Published
from eurodex.score.licences import KNOWN_LICENCES

log = logging.getLogger("eurodex.publish")

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DQV = Namespace("http://www.w3.org/ns/dqv#")

PREFIXES = {
    "dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "vcard": VCARD, "dqv": DQV, "skos": SKOS,
    "xsd": XSD, "rdfs": RDFS, "prov": PROV,
}
# The JSON-LD context, shipped inline in every document: prefixes only, so the compacted
# keys stay readable ("dcat:endpointURL") and nothing needs resolving.
JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}

# The metrics an entry is measured on: (id, label, dimension, datatype, definition).
METRICS = (
    ("officialness", "Officialness", "quality", XSD.integer,
     "Sum of the five officialness proofs, 0-100 (methodology 2)."),
    ("availability", "Availability", "availability", XSD.integer,
     "Availability axis of the quality score, 0-100 (methodology 5)."),
    ("metadata_completeness", "Metadata completeness", "quality", XSD.integer,
     "Share of the recommended metadata fields populated, 0-100 (methodology 5)."),
    ("licence_clarity", "Licence clarity", "quality", XSD.integer,
     "How clearly the licence is declared and whether it is open, 0-100 (methodology 5)."),
    ("agent_readiness", "Agent readiness", "quality", XSD.integer,
     "How well a program can use the entry unaided, 0-100 (methodology 5)."),
    ("quality_score", "Quality score", "quality", XSD.integer,
     "Weighted composite of the five axes, 0-100 (methodology 5)."),
    ("quality_tier", "Quality tier", "quality", XSD.string,
     "excellent (80 or more), good (60), fair (40) or poor (methodology 5)."),
    ("uptime_30d", "Uptime over 30 days", "availability", XSD.decimal,
     "Successful checks among decisive checks over the last 30 days, percent "
     "(methodology 4)."),
    ("verification_state", "Verification state", "availability", XSD.string,
     "UNVERIFIED, VERIFIED, STALE or FAILING (methodology 4)."),
    ("last_check", "Last check", "availability", XSD.dateTime,
     "When the entry's URL was last checked (methodology 4)."),
)
DIMENSIONS = {"quality": "Metadata quality and trust", "availability": "Availability"}
AXES = ("officialness", "availability", "metadata_completeness", "licence_clarity",
        "agent_readiness")

_IRI_SAFE = ":/?#[]@!$&'()*+,;=%~"


def iri(url: str | None) -> URIRef | None:
    """An http(s) URL as an IRI that Turtle can write, or None when it is not one."""
    text = (url or "").strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return URIRef(quote(text, safe=_IRI_SAFE))


def _new_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    return graph


@dataclass(frozen=True)
class DcatExport:
    """Builds the catalogue's graph and one graph per entry, against one base URL."""

    links: Links
    generated_at: datetime

    @property
    def catalog(self) -> URIRef:
        return URIRef(self.links.home + "#catalog")

    def metric(self, name: str) -> URIRef:
        return URIRef(f"{self.links.methodology}#metric-{name.replace('_', '-')}")

    # -- the catalogue, its publisher, the vocabularies and the metrics --------------------

    def catalog_graph(self) -> Graph:
        g = _new_graph()
        catalog, operator = self.catalog, URIRef(self.links.home + "#operator")
        home = URIRef(self.links.home)
        g.add((catalog, RDF.type, DCAT.Catalog))
        g.add((catalog, DCTERMS.title, Literal("eurodex", lang="en")))
        g.add((catalog, DCTERMS.description, Literal(
            "A continuously verified register of official European public-sector APIs and "
            "datasets: each entry admitted by its proofs or a trusted catalogue, checked around "
            "the clock and scored.",
            lang="en")))
        g.add((catalog, DCTERMS.publisher, operator))
        g.add((catalog, DCTERMS.modified, Literal(self.generated_at, datatype=XSD.dateTime)))
        g.add((catalog, FOAF.homepage, home))
        g.add((home, RDF.type, FOAF.Document))
        g.add((operator, RDF.type, FOAF.Agent))
        g.add((operator, FOAF.name, Literal("eurodex")))
        themes = URIRef(THEME_URI.rstrip("/"))
        g.add((catalog, DCAT.themeTaxonomy, themes))
        g.add((themes, RDF.type, SKOS.ConceptScheme))
        g.add((themes, DCTERMS.title, Literal("Data theme", lang="en")))
        for code, label in EU_THEMES.items():
            concept = URIRef(THEME_URI + code)
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
            g.add((concept, SKOS.inScheme, themes))
        for key, label in DIMENSIONS.items():
            dimension = URIRef(f"{self.links.methodology}#dimension-{key}")
            g.add((dimension, RDF.type, DQV.Dimension))
            g.add((dimension, SKOS.prefLabel, Literal(label, lang="en")))
        for name, label, dimension, datatype, definition in METRICS:
            metric = self.metric(name)
            g.add((metric, RDF.type, DQV.Metric))
            g.add((metric, SKOS.prefLabel, Literal(label, lang="en")))
            g.add((metric, SKOS.definition, Literal(definition, lang="en")))
            g.add((metric, DQV.expectedDataType, datatype))
            g.add((metric, DQV.inDimension,
                   URIRef(f"{self.links.methodology}#dimension-{dimension}")))
        return g

    # -- one entry --------------------------------------------------------------------------

    def entry_graph(self, item: Published) -> Graph | None:
        """The entry's triples, or None for an API with no address at all (logged)."""
        entry = item.entry
        g = _new_graph()
        node = URIRef(self.links.entry(entry.slug))
        if entry.kind == Kind.API.value:
            if not self._data_service(g, node, item):
                log.warning("%s: no URL of any kind, left out of the DCAT-AP export",
                            entry.slug)
                return None
            g.add((self.catalog, DCAT.service, node))
        else:
            self._dataset(g, node, item)
            g.add((self.catalog, DCAT.dataset, node))
        self._common(g, node, item)
        self._measurements(g, node, item)
        return g

    def _common(self, g: Graph, node: URIRef, item: Published) -> None:
        entry = item.entry
        g.add((node, DCTERMS.title, Literal(entry.name)))
        description = entry.description or entry.summary
        if description:
            g.add((node, DCTERMS.description, Literal(description)))
        g.add((node, DCTERMS.identifier, Literal(entry.slug)))
        for tag in entry.tags or []:
            if str(tag).strip():
                g.add((node, DCAT.keyword, Literal(str(tag).strip())))
        for code in entry.topics or []:
            if code in EU_THEMES:
                g.add((node, DCAT.theme, URIRef(THEME_URI + code)))
        if country := vocab.country_iri(entry.country):
            place = URIRef(country)
            g.add((node, DCTERMS.spatial, place))
            g.add((place, RDF.type, DCTERMS.Location))
        self._publisher(g, node, item)
        self._contact(g, node, item)
        for prop, url in ((DCAT.landingPage, entry.landing_page or entry.homepage_url),
                          (FOAF.page, entry.docs_url)):
            if page := iri(url):
                g.add((node, prop, page))
                g.add((page, RDF.type, FOAF.Document))

    def _publisher(self, g: Graph, node: URIRef, item: Published) -> None:
        inst = item.institution
        if inst is None:
            return
        agent = URIRef(self.links.institution(inst.slug))
        g.add((node, DCTERMS.publisher, agent))
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal(inst.name)))
        if homepage := iri(inst.homepage_url):
            g.add((agent, FOAF.homepage, homepage))
        if publisher_type := vocab.PUBLISHER_TYPE_CODES.get(inst.type):
            code, label = publisher_type
            concept = URIRef(vocab.PUBLISHER_TYPES + code)
            g.add((agent, DCTERMS.type, concept))
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.prefLabel, Literal(label, lang="en")))

    def _contact(self, g: Graph, node: URIRef, item: Published) -> None:
        text = (item.entry.contact or "").strip()
        if not text:
            return
        card = BNode(f"contact{item.entry.id}")
        g.add((node, DCAT.contactPoint, card))
        g.add((card, RDF.type, VCARD.Kind))
        name = item.institution.name if item.institution else text
        g.add((card, VCARD.fn, Literal(name)))
        if email := vocab.email_of(text):
            g.add((card, VCARD.hasEmail, URIRef("mailto:" + quote(email, safe="@.+-_"))))
        elif url := iri(text):
            g.add((card, VCARD.hasURL, url))
        else:
            g.add((card, VCARD.note, Literal(text)))

    def _licence(self, g: Graph, item: Published, key: str) -> URIRef | BNode | None:
        entry = item.entry
        if not (entry.licence or "").strip():
            return None
        if licence := iri(entry.licence):
            g.add((licence, RDF.type, DCTERMS.LicenseDocument))
            return licence
        licence = BNode(f"licence{entry.id}{key}")
        g.add((licence, RDF.type, DCTERMS.LicenseDocument))
        known = KNOWN_LICENCES.get(entry.licence_id or "")
        g.add((licence, RDFS.label, Literal(known.title if known else entry.licence.strip())))
        if known:
            g.add((licence, DCTERMS.identifier, Literal(known.id)))
        return licence

    # -- APIs -------------------------------------------------------------------------------

    def _data_service(self, g: Graph, node: URIRef, item: Published) -> bool:
        entry = item.entry
        endpoint = iri(entry.base_url)
        if endpoint is None:
            fallbacks = (("homepage", entry.homepage_url), ("documentation", entry.docs_url),
                         ("specification", entry.spec_url),
                         ("catalogue record", entry.record_url))
            found = next(((what, iri(url)) for what, url in fallbacks if iri(url)), None)
            if found is None:
                return False
            what, endpoint = found
            g.add((node, RDFS.comment, Literal(
                f"No base URL is declared for this API: the endpoint given is its {what}.",
                lang="en")))
        g.add((node, RDF.type, DCAT.DataService))
        g.add((node, DCAT.endpointURL, endpoint))
        if spec := iri(entry.spec_url):
            g.add((node, DCAT.endpointDescription, spec))
        if licence := self._licence(g, item, "s"):
            g.add((node, DCTERMS.license, licence))
        if entry.auth_type:
            rights = BNode(f"access{entry.id}")
            g.add((node, DCTERMS.accessRights, rights))
            g.add((rights, RDF.type, DCTERMS.RightsStatement))
            g.add((rights, RDFS.label, Literal(f"Authentication: {entry.auth_type}")))
        return True

    # -- datasets ---------------------------------------------------------------------------

    def _dataset(self, g: Graph, node: URIRef, item: Published) -> None:
        entry = item.entry
        g.add((node, RDF.type, DCAT.Dataset))
        if not (entry.description or entry.summary):
            # dct:description is mandatory for datasets; say plainly that none was given.
            g.add((node, DCTERMS.description, Literal(
                "No description was published for this dataset.", lang="en")))
        if modified := _date_literal(entry.last_modified):
            g.add((node, DCTERMS.modified, modified))
        start, end = _date_literal(entry.temporal_start), _date_literal(entry.temporal_end)
        if start is not None or end is not None:
            period = BNode(f"period{entry.id}")
            g.add((node, DCTERMS.temporal, period))
            g.add((period, RDF.type, DCTERMS.PeriodOfTime))
            if start is not None:
                g.add((period, DCAT.startDate, start))
            if end is not None:
                g.add((period, DCAT.endDate, end))
        if frequency := vocab.frequency_iri(entry.frequency):
            g.add((node, DCTERMS.accrualPeriodicity, URIRef(frequency)))
            g.add((URIRef(frequency), RDF.type, DCTERMS.Frequency))
        for position, distribution in enumerate(item.distributions, start=1):
            self._distribution(g, node, item, distribution, position)

    def _distribution(self, g: Graph, dataset: URIRef, item: Published, row,
                      position: int) -> None:
        access = iri(row.url)
        if access is None:
            return
        node = URIRef(f"{dataset}#distribution-{position}")
        g.add((dataset, DCAT.distribution, node))
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCAT.accessURL, access))
        if row.title:
            g.add((node, DCTERMS.title, Literal(row.title)))
        if file_type := vocab.file_type_iri(row.format):
            g.add((node, DCTERMS.format, URIRef(file_type)))
            g.add((URIRef(file_type), RDF.type, DCTERMS.MediaTypeOrExtent))
        media = vocab.media_type_iri(row.media_type) or vocab.media_type_iri(row.format)
        if media:
            g.add((node, DCAT.mediaType, URIRef(media)))
            g.add((URIRef(media), RDF.type, DCTERMS.MediaType))
        if row.byte_size is not None and row.byte_size >= 0:
            g.add((node, DCAT.byteSize, Literal(row.byte_size,
                                                datatype=XSD.nonNegativeInteger)))
        if licence := self._licence(g, item, f"d{position}"):
            g.add((node, DCTERMS.license, licence))

    # -- quality measurements (W3C DQV) -----------------------------------------------------

    def _measurements(self, g: Graph, node: URIRef, item: Published) -> None:
        values: list[tuple[str, Literal]] = []
        score = item.score
        if score is not None:
            values += [(axis, Literal(getattr(score, axis), datatype=XSD.integer))
                       for axis in AXES]
            values += [("quality_score", Literal(score.composite, datatype=XSD.integer)),
                       ("quality_tier", Literal(score.tier))]
        if item.uptime_30d is not None:
            values.append(("uptime_30d", Literal(f"{item.uptime_30d:.2f}",
                                                 datatype=XSD.decimal)))
        values.append(("verification_state", Literal(item.state)))
        if item.entry.last_check_at is not None:
            values.append(("last_check", Literal(item.entry.last_check_at,
                                                 datatype=XSD.dateTime)))
        measured_at = score.computed_at if score is not None else self.generated_at
        for name, value in values:
            measurement = URIRef(f"{node}#{name.replace('_', '-')}")
            g.add((node, DQV.hasQualityMeasurement, measurement))
            g.add((measurement, RDF.type, DQV.QualityMeasurement))
            g.add((measurement, DQV.computedOn, node))
            g.add((measurement, DQV.isMeasurementOf, self.metric(name)))
            g.add((measurement, DQV.value, value))
            when = self.generated_at if name in ("uptime_30d", "verification_state") else (
                measured_at)
            g.add((measurement, PROV.generatedAtTime, Literal(when, datatype=XSD.dateTime)))


def _date_literal(text: str | None) -> Literal | None:
    value = vocab.parse_date(text)
    if isinstance(value, datetime):
        return Literal(value, datatype=XSD.dateTime)
    if isinstance(value, date):
        return Literal(value, datatype=XSD.date)
    return None


# -- streaming serialisations ---------------------------------------------------------------


def turtle_chunks(export: DcatExport, items: Iterable[Published]) -> Iterator[str]:
    """The catalogue in Turtle: its own chunk first, then one chunk per entry."""
    declared = [f"@prefix {prefix}: <{namespace}> ." for prefix, namespace in PREFIXES.items()]
    yield (f"# eurodex DCAT-AP 3.0.1 export, generated {export.generated_at.isoformat()}\n"
           + "\n".join(declared) + "\n\n")
    head = export.catalog_graph().serialize(format="turtle")
    yield "\n".join(line for line in head.splitlines() if line not in declared) + "\n"
    for item in items:
        graph = export.entry_graph(item)
        if graph is None:
            continue
        text = graph.serialize(format="turtle")
        # Prefixes the opening chunk declared are dropped; one rdflib had to invent stays, since
        # Turtle allows a prefix to be declared (again) anywhere between statements.
        yield "\n".join(line for line in text.splitlines() if line not in declared) + "\n"


_COMPACT = sorted(((str(ns), prefix) for prefix, ns in PREFIXES.items()), reverse=True)


def _compact(iri: str) -> str:
    """``dcat:Dataset`` for a term of a context prefix; any other IRI stays whole."""
    for namespace, prefix in _COMPACT:
        if iri.startswith(namespace) and iri[len(namespace):].replace("_", "").isalnum():
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _jsonld_term(term) -> dict | str:
    if isinstance(term, URIRef):
        return {"@id": str(term)}
    if isinstance(term, BNode):
        return {"@id": f"_:{term}"}
    if term.language:
        return {"@value": str(term), "@language": term.language}
    if term.datatype is None or term.datatype == XSD.string:
        return str(term)
    return {"@value": str(term), "@type": _compact(str(term.datatype))}


def _nodes(graph: Graph) -> list[dict]:
    """The graph's node objects, compacted against ``JSONLD_CONTEXT``.

    Written directly from the triples (rdflib's JSON-LD serialiser is several times slower
    and adds nothing for a context of prefixes): every literal keeps its datatype or
    language, so the document reads back as exactly the same triples.
    """
    nodes: dict = {}
    for subject, predicate, obj in sorted(graph):
        key = f"_:{subject}" if isinstance(subject, BNode) else str(subject)
        node = nodes.setdefault(key, {"@id": key})
        if predicate == RDF.type and isinstance(obj, URIRef):
            node.setdefault("@type", []).append(_compact(str(obj)))
        else:
            node.setdefault(_compact(str(predicate)), []).append(_jsonld_term(obj))
    return [{k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in n.items()}
            for n in nodes.values()]


def jsonld_chunks(export: DcatExport, items: Iterable[Published]) -> Iterator[str]:
    """The catalogue in JSON-LD, one ``@graph`` whose nodes are written entry by entry."""
    yield '{"@context": ' + json.dumps(JSONLD_CONTEXT) + ', "@graph": [\n'
    first = True
    for graph in _graphs(export, items):
        for node in _nodes(graph):
            yield ("" if first else ",\n") + json.dumps(node, ensure_ascii=False)
            first = False
    yield "\n]}\n"


def _graphs(export: DcatExport, items: Iterable[Published]) -> Iterator[Graph]:
    yield export.catalog_graph()
    for item in items:
        graph = export.entry_graph(item)
        if graph is not None:
            yield graph
