"""The dataset's VoID and DCAT description (``/void``): its named graphs, sources, dumps and
endpoint, from the store's counts and the build's dump index."""

from __future__ import annotations

import pyoxigraph as ox

from santecyber.namespaces import BASE, DCTERMS, PROV, RDF, SC, SCHEMA, XSD
from santecyber.server.describe import Reference

VOID = "http://rdfs.org/ns/void#"
#: the dataset that VoID describes
DATASET = BASE + "void#santecyber"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = str(DCTERMS)
SD = "http://www.w3.org/ns/sparql-service-description#"
SPDX = "http://spdx.org/rdf/terms#"
XSD_NS = str(XSD)
RDF_TYPE_IRI = str(RDF.type)
LICENCE = "https://creativecommons.org/licenses/by/4.0/"


def void_quads(
    counts: dict[str, int], ref: Reference, dumps: dict, base_url: str, triples: int | None = None
) -> list[ox.Quad]:
    """The VoID/DCAT description: the dataset (``triples``: distinct statements), one subset
    per named graph, one distribution per dump file (URLs on ``base_url``, the host
    answering), sources, licence, endpoint."""
    dataset = ox.NamedNode(DATASET)
    quads: list[ox.Quad] = []

    def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        quads.append(ox.Quad(s, ox.NamedNode(p), o, ox.DefaultGraph()))

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD_NS + "integer"))

    add(dataset, RDF_TYPE_IRI, ox.NamedNode(VOID + "Dataset"))
    add(dataset, RDF_TYPE_IRI, ox.NamedNode(DCAT + "Dataset"))
    add(dataset, DCT + "title", ox.Literal("santecyber", language="en"))
    add(
        dataset,
        DCT + "description",
        ox.Literal("Open knowledge graph of cyberattacks on French healthcare.", language="en"),
    )
    add(
        dataset,
        DCT + "description",
        ox.Literal(
            "Graphe de connaissances ouvert des cyberattaques contre la santé en France.",
            language="fr",
        ),
    )
    add(dataset, DCT + "license", ox.NamedNode(LICENCE))
    add(dataset, VOID + "sparqlEndpoint", ox.NamedNode(base_url + "/sparql"))
    add(dataset, VOID + "uriSpace", ox.Literal(BASE + "id/"))
    add(dataset, VOID + "rootResource", ox.NamedNode(BASE + "id/"))
    total = triples if triples is not None else sum(counts.values())
    add(dataset, VOID + "triples", integer(total))
    for vocabulary in (
        str(SC),
        str(SCHEMA),
        "http://www.w3.org/ns/org#",
        str(PROV),
    ):
        add(dataset, VOID + "vocabulary", ox.NamedNode(vocabulary))
    for info in sorted(ref.sources.values(), key=lambda i: i.source):
        add(dataset, DCT + "source", ox.NamedNode(info.source))
    for graph, count in sorted(counts.items()):
        subset = ox.NamedNode(BASE + "void#graph-" + graph[len(BASE) :].replace("/", "-"))
        add(dataset, VOID + "subset", subset)
        add(subset, RDF_TYPE_IRI, ox.NamedNode(VOID + "Dataset"))
        add(subset, SD + "name", ox.NamedNode(graph))
        add(subset, VOID + "triples", integer(count))
        if graph in ref.sources:
            add(subset, DCT + "source", ox.NamedNode(ref.sources[graph].source))
    for entry in dumps.get("files", []):
        url = ox.NamedNode(f"{base_url}/dumps/{entry['file']}")
        distribution = ox.NamedNode(BASE + "void#dump-" + entry["file"])
        add(dataset, VOID + "dataDump", url)
        add(dataset, DCAT + "distribution", distribution)
        add(distribution, RDF_TYPE_IRI, ox.NamedNode(DCAT + "Distribution"))
        add(distribution, DCAT + "downloadURL", url)
        add(distribution, DCAT + "mediaType", ox.Literal(entry["media_type"]))
        add(distribution, DCAT + "byteSize", integer(entry["size"]))
        add(distribution, DCT + "license", ox.NamedNode(LICENCE))
        checksum = ox.NamedNode(BASE + "void#sha256-" + entry["file"])
        add(distribution, SPDX + "checksum", checksum)
        add(checksum, SPDX + "algorithm", ox.NamedNode(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", ox.Literal(entry["sha256"]))
        if "graph" in entry:
            add(distribution, DCT + "subject", ox.NamedNode(entry["graph"]))
    return sorted(quads, key=str)
