"""The SPARQL 1.1 Service Description returned by GET /sparql without a query.

It tells clients (and people) what the endpoint is: its URL, that it answers queries but no
updates, in which formats, over which dataset (union default graph, one named graph per
source), and its limits, so nothing needs guessing.
"""

from __future__ import annotations

import pyoxigraph as ox

from santecyber.config import ServerConfig
from santecyber.namespaces import RDF, RDFS
from santecyber.namespaces import XSD as XSD_NAMESPACE
from santecyber.sparql import GRAPH_FORMATS, RESULT_FORMATS

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode(str(RDF.type))
RDFS_COMMENT = ox.NamedNode(str(RDFS.comment))
XSD = str(XSD_NAMESPACE)
PREFIXES = {
    "sd": SD,
    "void": VOID,
    "formats": FORMATS,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}

#: the W3C format IRIs of what the endpoint serves
FORMAT_IRIS: dict[str, str] = {
    "application/sparql-results+json": "SPARQL_Results_JSON",
    "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV",
    "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/n-quads": "N-Quads",
    "application/trig": "TriG",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
}
#: media types the description itself is served in
DESCRIPTION_FORMATS = ["text/turtle", "application/ld+json", "application/n-triples"]
DESCRIPTION_FORMATS += [t for t in GRAPH_FORMATS if t not in DESCRIPTION_FORMATS]


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def describe_service(
    endpoint: str, version: str, graph_sizes: dict[str, int], config: ServerConfig
) -> list[ox.Triple]:
    """The description's triples; ``graph_sizes`` maps each named graph to its triple count.

    >>> triples = describe_service("http://h/sparql", "v1", {"http://g/1": 3}, ServerConfig())
    >>> any(t.object == ox.NamedNode(SD + "UnionDefaultGraph") for t in triples)
    True
    """
    service = ox.NamedNode(endpoint)
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery"))
        if config.service_allowlist
        else None,
        ox.Triple(
            service,
            RDFS_COMMENT,
            ox.Literal(
                "Read-only SPARQL 1.1 endpoint of santecyber (cyberattacks on French"
                f" healthcare), data version {version}. Time limit {config.query_timeout:g} s"
                f" per query; at most {config.max_results} rows or triples per answer (more"
                " are cut, with the header X-Santecyber-Truncated: true). The default graph is"
                " the union of all named graphs unless default-graph-uri is given.",
                language="en",
            ),
        ),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
    ]
    for media_type in [*RESULT_FORMATS, *GRAPH_FORMATS]:
        format_iri = ox.NamedNode(FORMATS + FORMAT_IRIS[media_type])
        triples.append(ox.Triple(service, _sd("resultFormat"), format_iri))
    for number, (name, size) in enumerate(sorted(graph_sizes.items())):
        named = ox.BlankNode(f"namedGraph{number}")
        graph = ox.BlankNode(f"graph{number}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(name)),
            ox.Triple(named, _sd("graph"), graph),
            ox.Triple(graph, RDF_TYPE, _sd("Graph")),
            ox.Triple(graph, ox.NamedNode(VOID + "triples"), _integer(size)),
        ]
    # grouped by subject (service first) so that Turtle reads as one block per node
    return sorted((t for t in triples if t is not None), key=lambda t: str(t.subject))


def serialize_description(triples: list[ox.Triple], media_type: str) -> bytes:
    return ox.serialize(triples, format=GRAPH_FORMATS[media_type], prefixes=PREFIXES)


GRAPH_SIZES_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def graph_sizes(store: ox.Store) -> dict[str, int]:
    """Triples per named graph (one pass over the store: computed once per data version)."""
    sizes: dict[str, int] = {}
    for row in store.query(GRAPH_SIZES_QUERY):
        graph, count = row["g"], row["n"]
        if isinstance(graph, ox.NamedNode) and isinstance(count, ox.Literal):
            sizes[graph.value] = int(count.value)
    return sizes
