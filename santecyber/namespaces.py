"""The IRIs of the graph: one place that mints them all."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/santecyber/"
SC = Namespace(BASE + "ontology#")
ID = Namespace(BASE + "id/")
VOCAB = Namespace(BASE + "vocab/")
GRAPH = Namespace(BASE + "graph/")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("http://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")
SCS = Namespace(BASE + "shapes#")  # the project's shapes (shapes/*.ttl)

PREFIXES: dict[str, str] = {
    "sc": str(SC),
    "id": str(ID),
    "vocab": str(VOCAB),
    "graph": str(GRAPH),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "prov": str(PROV),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}
#: and those of the shapes, for what shows them: reports, the published shapes
REPORT_PREFIXES: dict[str, str] = {**PREFIXES, "scs": str(SCS), "sh": str(SH)}


def sparql_prefixes() -> str:
    """The PREFIX lines every named query and the query page start from.

    >>> "PREFIX sc: <https://w3id.org/santecyber/ontology#>" in sparql_prefixes()
    True
    """
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def resource(kind: str, slug: str) -> str:
    """IRI of a resource: ``id/{kind}/{slug}``.

    >>> resource("facility", "chu-rennes")
    'https://w3id.org/santecyber/id/facility/chu-rennes'
    """
    return f"{ID}{kind}/{slug}"


def concept(scheme: str, name: str) -> str:
    """IRI of a SKOS concept.

    >>> concept("attack-kind", "ransomware")
    'https://w3id.org/santecyber/vocab/attack-kind/ransomware'
    """
    return f"{VOCAB}{scheme}/{name}"


def source_graph(slug: str) -> str:
    """IRI of the named graph holding what one source states."""
    return f"{GRAPH}source/{slug}"


def reference_graph(name: str) -> str:
    """IRI of a reference graph (ontology, organisations, sources)."""
    return f"{GRAPH}reference/{name}"
