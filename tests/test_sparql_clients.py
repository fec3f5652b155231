"""The endpoint with the clients analysts use: SPARQLWrapper, rdflib's SPARQLStore, curl.

Each answer is compared with what the built store gives to run_query directly.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import shutil
import subprocess
from xml.dom.minidom import Document

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, N3, POST, RDFXML, TURTLE, XML, SPARQLWrapper

from santecyber.namespaces import SC
from santecyber.paths import ROOT
from santecyber.sparql import run_query

ATTACKS = "SELECT ?a ?label WHERE { ?a a sc:Attack ; rdfs:label ?label } ORDER BY ?a ?label"
ATTACKS_EXPLICIT = (
    "PREFIX sc: <https://w3id.org/santecyber/ontology#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + ATTACKS
)
CONSTRUCT_LABELS = (
    "CONSTRUCT { ?a <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE "
    "{ ?a a <https://w3id.org/santecyber/ontology#Attack> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?l }"
)


@pytest.fixture(scope="module")
def endpoint(live_server) -> str:
    return live_server.url + "/sparql"


def expected_pairs(store: ox.Store) -> list[tuple[str, str]]:
    return [(row["a"].value, row["label"].value) for row in run_query(store, ATTACKS).value]


def expected_graph(store: ox.Store) -> rdflib.Graph:
    graph = rdflib.Graph()
    data = ox.serialize(
        list(run_query(store, CONSTRUCT_LABELS).value), format=ox.RdfFormat.N_TRIPLES
    )
    return graph.parse(data=data, format="nt")


def attack_count(store: ox.Store) -> int:
    """Distinct attacks: the union default graph repeats a triple once per graph stating it."""
    result = run_query(store, "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a sc:Attack }")
    return int(next(iter(result.value))["n"].value)


# SPARQLWrapper


def wrapper(endpoint: str, query: str, return_format: str) -> SPARQLWrapper:
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    return client


def test_sparqlwrapper_json(endpoint, store):
    result = wrapper(endpoint, ATTACKS_EXPLICIT, JSON).queryAndConvert()
    pairs = [(b["a"]["value"], b["label"]["value"]) for b in result["results"]["bindings"]]
    assert pairs == expected_pairs(store)
    assert len({a for a, _ in pairs}) == attack_count(store)


def test_sparqlwrapper_json_by_post(endpoint, store):
    client = wrapper(endpoint, ATTACKS, JSON)
    client.setMethod(POST)
    result = client.queryAndConvert()
    assert len(result["results"]["bindings"]) == len(expected_pairs(store))


def test_sparqlwrapper_xml(endpoint, store):
    document = wrapper(endpoint, ATTACKS, XML).queryAndConvert()
    assert isinstance(document, Document)
    uris = [node.firstChild.data for node in document.getElementsByTagName("uri")]
    assert uris == [a for a, _ in expected_pairs(store)]


def test_sparqlwrapper_csv(endpoint, store):
    body = wrapper(endpoint, ATTACKS, CSV).queryAndConvert()
    table = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert table[0] == ["a", "label"]
    assert [tuple(row) for row in table[1:]] == expected_pairs(store)


@pytest.mark.parametrize("return_format", [TURTLE, N3])
def test_sparqlwrapper_construct_turtle(endpoint, store, return_format):
    """N3 is asked for with format=n3 (and Accept: text/n3…): Turtle is N3."""
    body = wrapper(endpoint, CONSTRUCT_LABELS, return_format).queryAndConvert()
    graph = rdflib.Graph().parse(data=body, format="turtle")
    expected = expected_graph(store)
    assert len(expected) >= attack_count(store)
    assert set(graph) == set(expected)


def test_sparqlwrapper_construct_rdfxml(endpoint, store):
    """SPARQLWrapper asks for RDF/XML with format=rdf+xml (and Accept): both are honoured."""
    graph = wrapper(endpoint, CONSTRUCT_LABELS, RDFXML).queryAndConvert()
    assert isinstance(graph, rdflib.Graph)
    assert set(graph) == set(expected_graph(store))


def test_sparqlwrapper_ask(endpoint):
    client = wrapper(endpoint, "ASK { ?a a sc:Attack }", JSON)
    assert client.queryAndConvert()["boolean"] is True


# rdflib's SPARQLStore


@pytest.fixture(params=["GET", "POST"])
def remote(endpoint, request) -> rdflib.Graph:
    return rdflib.Graph(store=SPARQLStore(query_endpoint=endpoint, method=request.param))


def test_sparqlstore_select(remote, store):
    result = remote.query(ATTACKS_EXPLICIT)
    assert [(str(row.a), str(row.label)) for row in result] == expected_pairs(store)


def test_sparqlstore_ask(remote):
    assert remote.query("ASK { ?a a <https://w3id.org/santecyber/ontology#Attack> }").askAnswer
    assert not remote.query("ASK { ?a a <https://w3id.org/santecyber/ontology#Nothing> }").askAnswer


def test_sparqlstore_construct(remote, store):
    result = remote.query(CONSTRUCT_LABELS)
    assert set(result.graph) == set(expected_graph(store))


def test_sparqlstore_triples(remote, store):
    attacks = set(remote.subjects(rdflib.RDF.type, rdflib.URIRef(str(SC.Attack))))
    expected = {rdflib.URIRef(a) for a, _ in expected_pairs(store)}
    assert attacks == expected and len(attacks) == attack_count(store)


# curl


@pytest.fixture(scope="module")
def curl() -> str:
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed")
    return path


def test_curl_csv(curl, endpoint, store):
    completed = subprocess.run(
        [
            curl,
            "-sS",
            "--fail-with-body",
            "-H",
            "Accept: text/csv",
            "--data-urlencode",
            f"query={ATTACKS}",
            endpoint,
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    table = list(csv.reader(io.StringIO(completed.stdout.decode("utf-8"))))
    assert table[0] == ["a", "label"]
    assert [tuple(row) for row in table[1:]] == expected_pairs(store)


def test_curl_get_compressed_tsv(curl, endpoint, store):
    completed = subprocess.run(
        [
            curl,
            "-sS",
            "--compressed",
            "-G",
            "--data-urlencode",
            f"query={ATTACKS}",
            "--data-urlencode",
            "format=tsv",
            endpoint,
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = completed.stdout.decode("utf-8").splitlines()
    assert lines[0] == "?a\t?label"
    assert [line.split("\t")[0] for line in lines[1:]] == [
        f"<{a}>" for a, _ in expected_pairs(store)
    ]


def test_curl_sees_status_codes(curl, endpoint):
    def status(*arguments: str) -> str:
        completed = subprocess.run(
            [curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", *arguments, endpoint],
            capture_output=True,
            timeout=60,
        )
        return completed.stdout.decode()

    assert status("-X", "DELETE") == "405"
    assert status("--data-urlencode", "query=SELECT * WHERE {") == "400"
    assert (
        status("-H", "Content-Type: application/sparql-update", "--data-binary", "CLEAR ALL")
        == "403"
    )


# the examples of docs/endpoint.md, run as written

DOC = ROOT / "docs" / "endpoint.md"
DOC_URL = "http://localhost:8000/sparql"


def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_doc_curl_examples_run(curl, endpoint, store):
    commands = [
        line
        for block in doc_blocks("console")
        for line in block.splitlines()
        if line.startswith("curl ")
    ]
    assert len(commands) >= 3
    outputs = []
    for command in commands:
        arguments = [endpoint if a == DOC_URL else a for a in shlex.split(command)]
        completed = subprocess.run(arguments, capture_output=True, timeout=60)
        assert completed.returncode == 0, (command, completed.stdout, completed.stderr)
        outputs.append(completed.stdout.decode("utf-8"))
    assert outputs[0].splitlines() == ["attacks", str(attack_count(store))]


def test_doc_python_examples_run(endpoint, store):
    blocks = doc_blocks("python")
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(block.replace(DOC_URL, endpoint), namespace)
    assert len(namespace["rows"]) == len(expected_pairs(store))
    assert {str(a) for a in namespace["attacks"]} == {a for a, _ in expected_pairs(store)}
