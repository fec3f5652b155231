"""What the graph says about one IRI: its statements, the statements pointing at it, its hash-IRI
parts (``…#impact-1``, ``…#address``), the labels of everything on both sides, each statement
with the named graph that states it.

Everything here runs through :class:`QueryService` (one SELECT per description), so the store is
only read by the query workers, under their time limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import pyoxigraph as ox
from rdflib import Graph

from santecyber.namespaces import BASE, PREFIXES, PROV, RDFS, SCHEMA
from santecyber.server.query_service import QueryService

#: prefixes for Turtle/TriG/RDF/XML: our id/vocab/graph IRIs stay whole (no ``id:attack\/…``)
OUTPUT_PREFIXES = {p: iri for p, iri in PREFIXES.items() if p not in ("id", "vocab", "graph")}

RDFS_LABEL = str(RDFS.label)
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
SCHEMA_NAME = f"{SCHEMA}name"
LABEL_PROPERTIES = (RDFS_LABEL, SKOS_PREF_LABEL, SCHEMA_NAME)
PROV_DERIVED = str(PROV.wasDerivedFrom)
JSON_RESULTS = "application/sparql-results+json"

#: one path segment of a dereferenceable IRI: lowercase slugs, digits, dots (``ontology/0.1.0``)
_PATH = re.compile(r"^(?:id|vocab|graph)(?:/[a-z0-9][a-z0-9.\-]*)+$|^ontology(?:/[a-z0-9.\-]+)?$")

#: the JSON-LD context published at /context.jsonld: compact JSON-LD reads like plain JSON
JSONLD_CONTEXT: dict[str, object] = {
    **{prefix: iri for prefix, iri in PREFIXES.items() if prefix not in ("id", "graph", "vocab")},
    "id": "@id",
    "type": "@type",
    "label": {"@id": "rdfs:label", "@container": "@language"},
    "prefLabel": {"@id": "skos:prefLabel", "@container": "@language"},
    "name": {"@id": "schema:name", "@container": "@language"},
    "description": {"@id": "schema:description", "@container": "@language"},
    "comment": {"@id": "rdfs:comment", "@container": "@language"},
    "headline": {"@id": "schema:headline", "@container": "@language"},
    "address": {"@id": "schema:address", "@type": "@id"},
    "locality": "schema:addressLocality",
    "country": "schema:addressCountry",
    "publisher": {"@id": "schema:publisher", "@type": "@id"},
    "about": {"@id": "schema:about", "@type": "@id"},
    "mentions": {"@id": "schema:mentions", "@type": "@id"},
    "url": {"@id": "schema:url", "@type": "xsd:anyURI"},
    "author": "schema:author",
    "inLanguage": "schema:inLanguage",
    "value": {"@id": "schema:value", "@type": "xsd:decimal"},
    "currency": "schema:currency",
    "inScheme": {"@id": "skos:inScheme", "@type": "@id"},
    "sameAs": {"@id": "owl:sameAs", "@type": "@id"},
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    **{
        name: {"@id": f"sc:{name}", "@type": "@id"}
        for name in [
            "facilityKind",
            "authorityKind",
            "operatedBy",
            "attackKind",
            "target",
            "affectedOrganisation",
            "dateQualification",
            "qualifiedProperty",
            "datePrecision",
            "dateStatus",
            "impact",
            "dataExposure",
            "ransomDemand",
            "involvedVendor",
            "involvedSoftware",
            "threatActor",
            "relatedIncident",
            "authorityAction",
            "investigation",
            "service",
            "effect",
            "atFacility",
            "acrossOperator",
            "transferredTo",
            "redirectedTo",
            "accordingTo",
            "dataCategory",
            "partialDataCategory",
            "authority",
            "actionKind",
            "openedBy",
            "directedBy",
            "investigationKind",
            "offence",
            "investigatedBy",
            "complaintFiledBy",
            "concerns",
            "relays",
        ]
    },
    **{
        name: {"@id": f"sc:{name}", "@type": "xsd:integer"}
        for name in [
            "establishmentCount",
            "incidentCount",
            "affectedFacilityCount",
            "patientsTransferred",
            "recordCount",
            "sourceCount",
        ]
    },
    **{
        name: {"@id": f"sc:{name}", "@type": "xsd:boolean"}
        for name in ("exfiltrated", "publishedOnline", "crisisCellActivated", "hedged")
    },
    **{name: f"sc:{name}" for name in ("departement", "departementCode", "region", "finess")},
    # dates are typed at their precision (xsd:date, gYearMonth…): the value says which
    **{
        name: f"sc:{name}"
        for name in (
            "detectionDate",
            "disclosureDate",
            "dataReleaseDate",
            "dataPeriodStart",
            "dataPeriodEnd",
            "dateValue",
        )
    },
}


def canonical_iri(path: str) -> str | None:
    """The canonical IRI for a request path (``id/facility/chu-rennes``), None if not one of ours.

    >>> canonical_iri("id/facility/chu-rennes")
    'https://w3id.org/santecyber/id/facility/chu-rennes'
    >>> canonical_iri("id/facility/../../etc") is None
    True

    Nothing is stripped: a trailing slash or newline makes another IRI, not one of ours.

    >>> canonical_iri("id/facility/chu-rennes/"), canonical_iri("id/facility/chu-rennes\\n")
    (None, None)
    """
    if not _PATH.fullmatch(path) or ".." in path:
        return None
    return BASE + path


def document_iri(iri: str) -> str:
    """The IRI of the document a (possibly hash) IRI belongs to."""
    return iri.split("#", 1)[0]


def local_path(iri: str) -> str | None:
    """The path this server serves ``iri`` at (``/id/…#part``), None for other IRIs."""
    return "/" + iri[len(BASE) :] if iri.startswith(BASE) else None


def describe_query(iri: str) -> str:
    """One SELECT for the description of ``iri`` (already checked by :func:`canonical_iri`)."""
    part = json.dumps(iri + "#")
    return f"""
SELECT DISTINCT ?s ?p ?o ?g WHERE {{
  {{ GRAPH ?g {{ <{iri}> ?p ?o }} BIND(<{iri}> AS ?s) }}
  UNION {{ GRAPH ?g {{ ?s ?p <{iri}> }} BIND(<{iri}> AS ?o) }}
  UNION {{ <{iri}> ?p0 ?s . FILTER(isIRI(?s) && STRSTARTS(STR(?s), {part}))
           GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ <{iri}> ?p0 ?x . FILTER(isIRI(?x) && STRSTARTS(STR(?x), {part}))
           ?x ?p1 ?s . FILTER(isIRI(?s) && STRSTARTS(STR(?s), {part}))
           GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ ?s <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> <{iri}> .
           FILTER(STRSTARTS(STR(?s), {part})) GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{
    {{ SELECT DISTINCT ?s WHERE {{
      {{ <{iri}> ?p0 ?s }} UNION {{ ?s ?p0 <{iri}> }}
      UNION {{ <{iri}> ?p0 ?x . FILTER(isIRI(?x) && STRSTARTS(STR(?x), {part})) ?x ?p1 ?s }}
      FILTER(isIRI(?s) && ?s != <{iri}> && !STRSTARTS(STR(?s), {part}))
    }} }}
    GRAPH ?g {{ ?s ?p ?o }}
    FILTER(?p IN (<{RDFS_LABEL}>, <{SKOS_PREF_LABEL}>, <{SCHEMA_NAME}>))
  }}
}}"""


def term_from_json(binding: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A pyoxigraph term from one SPARQL JSON results binding."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    if "datatype" in binding:
        return ox.Literal(value, datatype=ox.NamedNode(binding["datatype"]))
    return ox.Literal(value)


async def run_select(
    service: QueryService, query: str, whole: bool = False
) -> tuple[list[dict[str, object]], bool]:
    """Run a SELECT: its rows as dicts of pyoxigraph terms, and whether the service cut them
    at its result limit (never, when ``whole``)."""
    answer = await service.execute(query, accepted=[JSON_RESULTS], whole=whole)
    rows = json.loads(answer.body)["results"]["bindings"]
    terms = [{name: term_from_json(value) for name, value in row.items()} for row in rows]
    return terms, bool(getattr(answer, "truncated", False))


async def select(service: QueryService, query: str) -> list[dict[str, object]]:
    """All the rows of a SELECT of our own (listings, labels, VoID counts), as dicts of
    pyoxigraph terms: a page lists everything it says it lists, whatever the result cap.
    A resource's description, which the cap may cut, says so (``describe``)."""
    return (await run_select(service, query, whole=True))[0]


OWL_VERSION_IRI = "http://www.w3.org/2002/07/owl#versionIRI"


async def is_version_iri(service: QueryService, iri: str) -> bool:
    """Whether ``iri`` is the ``owl:versionIRI`` of an ontology in the graph (its current
    version: the graph holds no other)."""
    query = f"SELECT ?ontology WHERE {{ ?ontology <{OWL_VERSION_IRI}> <{iri}> }} LIMIT 1"
    return bool(await select(service, query))


@dataclass
class Description:
    """The quads describing ``iri``, sorted; empty when the graph does not know ``iri``."""

    iri: str
    quads: list[ox.Quad] = field(default_factory=list)
    truncated: bool = False  # the service's result limit cut the statements

    @property
    def exists(self) -> bool:
        return bool(self.quads)

    def triples(self) -> list[ox.Triple]:
        """The statements without their graphs, each once."""
        return sorted({q.triple for q in self.quads}, key=str)

    def serialize(self, media_type: str, context_url: str | None = None) -> bytes:
        """The description in an RDF media type (TriG and N-Quads keep the graphs).

        JSON-LD is compacted with :data:`JSONLD_CONTEXT` and refers to it by ``context_url``.
        """
        if media_type == "application/ld+json":
            return to_jsonld(self.triples(), context_url)
        quads_format = {
            "application/trig": ox.RdfFormat.TRIG,
            "application/n-quads": ox.RdfFormat.N_QUADS,
        }
        if media_type in quads_format:
            return ox.serialize(
                self.quads, format=quads_format[media_type], prefixes=OUTPUT_PREFIXES
            )
        triple_format = {
            "text/turtle": ox.RdfFormat.TURTLE,
            "application/n-triples": ox.RdfFormat.N_TRIPLES,
            "application/rdf+xml": ox.RdfFormat.RDF_XML,
        }[media_type]
        prefixes = {} if triple_format == ox.RdfFormat.N_TRIPLES else OUTPUT_PREFIXES
        return ox.serialize(self.triples(), format=triple_format, prefixes=prefixes)


def to_jsonld(triples: Iterable[ox.Triple], context_url: str | None = None) -> bytes:
    """Compact JSON-LD: the context is embedded, or referred to by ``context_url``."""
    ntriples = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    graph = Graph().parse(data=ntriples.decode(), format="nt")
    text = graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
    document = json.loads(text)
    if context_url:
        document["@context"] = context_url
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


async def describe(service: QueryService, iri: str) -> Description:
    """The description of ``iri``, from one query."""
    rows, truncated = await run_select(service, describe_query(iri))
    quads = {
        ox.Quad(row["s"], row["p"], row["o"], row["g"])  # type: ignore[arg-type]
        for row in rows
        if "g" in row
    }
    return Description(iri, sorted(quads, key=str), truncated)


def graph_query(iri: str) -> str:
    """Every statement of the named graph ``iri`` (its contents, for /graph/… documents)."""
    return f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} VALUES ?g {{ <{iri}> }} }}"


async def describe_graph(service: QueryService, iri: str) -> Description:
    """A named graph's own description plus its contents."""
    description = await describe(service, iri)
    rows, truncated = await run_select(service, graph_query(iri))
    description.truncated = description.truncated or truncated
    contents = {ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows}  # type: ignore[arg-type]
    description.quads = sorted(set(description.quads) | contents, key=str)
    return description


SOURCES_QUERY = f"""
SELECT ?g ?source ?headline ?date ?url ?publisher ?publisherName WHERE {{
  GRAPH ?g {{ ?g <{PROV_DERIVED}> ?source }}
  ?source <{SCHEMA}headline> ?headline .
  OPTIONAL {{ ?source <{SCHEMA}datePublished> ?date }}
  OPTIONAL {{ ?source <{SCHEMA}url> ?url }}
  OPTIONAL {{ ?source <{SCHEMA}publisher> ?publisher . ?publisher <{SCHEMA_NAME}> ?publisherName }}
}}"""

TERM_LABELS_QUERY = f"""
SELECT ?s ?label WHERE {{
  GRAPH <{BASE}graph/reference/ontology> {{
    ?s ?p ?label VALUES ?p {{ <{RDFS_LABEL}> <{SKOS_PREF_LABEL}> }}
  }}
}}"""


@dataclass(frozen=True)
class SourceInfo:
    """What a page shows about the source behind a named graph."""

    graph: str
    source: str
    headline: str
    date: str
    url: str
    publisher: str
    publisher_name: str


@dataclass
class Reference:
    """Per store version: the sources behind the graphs and the labels of ontology terms."""

    version: str
    sources: dict[str, SourceInfo]
    labels: dict[str, dict[str, str]]  # iri → language → label

    def label(self, iri: str, lang: str) -> str | None:
        return best_label(self.labels.get(iri, {}), lang)


def best_label(labels: Mapping[str, str], lang: str) -> str | None:
    """The label in ``lang``, else one without a language tag (a proper name), else the
    English one, else any: every page names a thing the same way.

    >>> best_label({"en": "Brest University Hospital", "": "CHU de Brest"}, "fr")
    'CHU de Brest'
    >>> best_label({"fr": "CHU de Brest", "en": "Brest University Hospital"}, "en")
    'Brest University Hospital'
    >>> best_label({}, "fr") is None
    True
    """
    for language in (lang, "", "en"):
        if labels.get(language):
            return labels[language]
    return next(iter(labels.values()), None)


#: per service, dropped with it (an id() key could be reused by the next service)
_reference_cache: WeakKeyDictionary[QueryService, Reference] = WeakKeyDictionary()


async def reference(service: QueryService) -> Reference:
    """The :class:`Reference` of the version in service, computed once per version."""
    cached = _reference_cache.get(service)
    if cached is not None and cached.version == service.version:
        return cached
    sources: dict[str, SourceInfo] = {}
    for row in await select(service, SOURCES_QUERY):
        graph = row["g"].value  # type: ignore[union-attr]
        sources[graph] = SourceInfo(
            graph=graph,
            source=row["source"].value,  # type: ignore[union-attr]
            headline=row["headline"].value,  # type: ignore[union-attr]
            date=row["date"].value if "date" in row else "",  # type: ignore[union-attr]
            url=row["url"].value if "url" in row else "",  # type: ignore[union-attr]
            publisher=row["publisher"].value if "publisher" in row else "",  # type: ignore[union-attr]
            publisher_name=row["publisherName"].value if "publisherName" in row else "",  # type: ignore[union-attr]
        )
    labels: dict[str, dict[str, str]] = {}
    for row in await select(service, TERM_LABELS_QUERY):
        label = row["label"]
        lang = label.language if isinstance(label, ox.Literal) and label.language else ""
        labels.setdefault(row["s"].value, {}).setdefault(lang, label.value)  # type: ignore[union-attr]
    built = Reference(service.version, sources, labels)
    _reference_cache[service] = built
    return built
