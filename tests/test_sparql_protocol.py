"""The SPARQL 1.1 Protocol at /sparql, against the real app under uvicorn.

Every expected answer is computed from the built store with run_query, never written down.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import xml.etree.ElementTree as ET
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import start_server, stop_server

from santecyber.namespaces import sparql_prefixes
from santecyber.query_policy import QuerySyntaxError
from santecyber.sparql import run_query
from santecyber.store import BuildDirectory

COUNT_ATTACKS = "SELECT (COUNT(?a) AS ?n) WHERE { ?a a sc:Attack }"
ATTACKS = "SELECT ?a WHERE { ?a a sc:Attack } ORDER BY ?a"
CONSTRUCT_ATTACKS = (
    "CONSTRUCT { ?a a sc:Attack ; rdfs:label ?l } WHERE { ?a a sc:Attack ; rdfs:label ?l }"
)
SD = "http://www.w3.org/ns/sparql-service-description#"
SRX = "{http://www.w3.org/2005/sparql-results#}"


def expected_rows(store: ox.Store, query: str, **graphs: list[str]) -> list[dict[str, str]]:
    """The rows the store gives, each a dict of variable -> lexical value."""
    result = run_query(store, query, **graphs)
    variables = [v.value for v in result.value.variables]
    return [{v: row[v].value for v in variables if row[v] is not None} for row in result.value]


def json_rows(body: bytes) -> list[dict[str, str]]:
    data = json.loads(body)
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


def attack_count(store: ox.Store) -> int:
    return int(expected_rows(store, COUNT_ATTACKS)[0]["n"])


# the three ways to send a query


def test_get_post_form_and_post_direct_give_the_same_rows(client, store):
    expected = expected_rows(store, ATTACKS)
    assert len(expected) == attack_count(store) > 0
    got = client.get("/sparql", params={"query": ATTACKS})
    form = client.post("/sparql", data={"query": ATTACKS})
    direct = client.post(
        "/sparql", content=ATTACKS, headers={"Content-Type": "application/sparql-query"}
    )
    for response in (got, form, direct):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/sparql-results+json"
        assert json_rows(response.content) == expected


def test_prefixes_are_predeclared_but_explicit_ones_work_too(client, store):
    explicit = sparql_prefixes() + COUNT_ATTACKS
    response = client.get("/sparql", params={"query": explicit})
    assert json_rows(response.content) == [{"n": str(attack_count(store))}]


def test_ask_answers_true_and_false(client):
    yes = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"}).json()
    no = client.get("/sparql", params={"query": "ASK { ?a a sc:NoSuchClass }"}).json()
    assert (yes["boolean"], no["boolean"]) == (True, False)
    as_csv = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }", "format": "csv"})
    assert as_csv.text.strip() == "true"


def test_a_new_build_is_served_without_restart(built, tmp_path):
    """The version in CURRENT is read per request: new answers, new ETags, no stale cache."""
    directory = BuildDirectory(tmp_path / "build")
    shutil.copytree(built.root, directory.root)
    server = start_server(directory.root, tmp_path / "server.log")
    query = "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a sc:Attack }"
    try:
        with server.client() as client:
            before = client.get("/sparql", params={"query": query})
            extra = (
                "<https://w3id.org/santecyber/id/attack/test-new>"
                " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
                " <https://w3id.org/santecyber/ontology#Attack> <x:g> ."
            )
            dump = directory.dump.read_bytes() + extra.encode() + b"\n"
            directory.write_store("test-next", dump)
            directory.publish("test-next", dump)
            after = client.get("/sparql", params={"query": query})
            stale = client.get(
                "/sparql",
                params={"query": query},
                headers={"If-None-Match": before.headers["etag"]},
            )
    finally:
        stop_server(server)
    assert int(json_rows(after.content)[0]["n"]) == int(json_rows(before.content)[0]["n"]) + 1
    assert after.headers["x-santecyber-cache"] == "miss"
    assert "test-next" in after.headers["etag"] and after.headers["etag"] != before.headers["etag"]
    assert stale.status_code == 200


# the dataset: default-graph-uri and named-graph-uri


def source_graphs(store: ox.Store) -> list[str]:
    rows = expected_rows(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g")
    return [row["g"] for row in rows if "/graph/source/" in row["g"]]


def test_default_graph_is_the_union_unless_given(client, store):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    graph = source_graphs(store)[0]
    in_graph = expected_rows(
        store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    )
    union = expected_rows(store, count)
    assert int(in_graph[0]["n"]) < int(union[0]["n"])
    whole = client.get("/sparql", params={"query": count})
    one = client.get("/sparql", params={"query": count, "default-graph-uri": graph})
    posted = client.post("/sparql", data={"query": count, "default-graph-uri": graph})
    assert json_rows(whole.content) == union
    assert json_rows(one.content) == in_graph
    assert json_rows(posted.content) == in_graph


def test_named_graph_uri_limits_the_graphs_graph_sees(client, store):
    graphs = source_graphs(store)[:2]
    assert len(graphs) == 2
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = client.get(
        "/sparql", params=[("query", query)] + [("named-graph-uri", g) for g in graphs]
    )
    assert [row["g"] for row in json_rows(response.content)] == sorted(graphs)
    everything = client.get("/sparql", params={"query": query})
    assert len(json_rows(everything.content)) > 2


def test_two_default_graphs_are_merged(client, store):
    graphs = source_graphs(store)[:2]
    query = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"
    expected = expected_rows(store, query, default_graphs=graphs)
    response = client.get(
        "/sparql", params=[("query", query)] + [("default-graph-uri", g) for g in graphs]
    )
    assert json_rows(response.content) == expected


def test_the_protocol_dataset_replaces_the_querys_from_clauses(client, store):
    """SPARQL 1.1 Protocol 2.1.4: the dataset of the request, not the query's FROM and FROM
    NAMED; the side it leaves out is what it is without parameters (documented above)."""
    first, second = source_graphs(store)[:2]
    count = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s ?p ?o }}"
    graphs = "SELECT DISTINCT ?g {} WHERE {{ GRAPH ?g {{ }} }} ORDER BY ?g"

    def asked(query: str, **dataset: str) -> list[dict[str, str]]:
        response = client.get("/sparql", params={"query": query, **dataset})
        assert response.status_code == 200, response.text
        return json_rows(response.content)

    def in_store(query: str) -> list[dict[str, str]]:  # pyoxigraph alone, no parameters
        return [{"n" if "COUNT" in query else "g": r[0].value} for r in store.query(query)]

    from_first, named_first = f"FROM <{first}>", f"FROM NAMED <{first}>"
    dataset = {"named-graph-uri": second}
    assert asked(count.format(from_first), **dataset) == in_store(count.format(""))
    dataset = {"default-graph-uri": second}
    assert asked(count.format(from_first), **dataset) == in_store(count.format(f"FROM <{second}>"))
    assert asked(graphs.format(named_first), **dataset) == in_store(graphs.format(""))
    assert len(in_store(graphs.format(""))) > 2  # all of them, not the one FROM NAMED gave
    assert asked(graphs.format(named_first)) == [{"g": first}]  # without parameters: the query's
    twice = [
        ("query", count.format("")),
        ("default-graph-uri", first),
        ("default-graph-uri", first),
    ]
    response = client.get("/sparql", params=twice)
    assert json_rows(response.content) == in_store(count.format(from_first))


# result formats


def test_select_in_xml_csv_and_tsv(client, store):
    expected = [row["a"] for row in expected_rows(store, ATTACKS)]
    xml = client.get(
        "/sparql", params={"query": ATTACKS}, headers={"Accept": "application/sparql-results+xml"}
    )
    # XML says its charset: R's SPARQL package (RCurl) read it as Latin-1 otherwise
    assert xml.headers["content-type"] == "application/sparql-results+xml; charset=utf-8"
    uris = [e.text for e in ET.fromstring(xml.content).iter(f"{SRX}uri")]
    assert uris == expected
    labels = client.get(
        "/sparql",
        params={"query": "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert labels.encoding == "utf-8"
    assert "Léonard de Vinci" in labels.text
    rdf_xml = client.get(
        "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s <http://schema.org/name> ?o }"},
        headers={"Accept": "application/rdf+xml"},
    )
    assert rdf_xml.headers["content-type"] == "application/rdf+xml; charset=utf-8"
    assert "Léonard de Vinci" in rdf_xml.text
    table = client.get("/sparql", params={"query": ATTACKS}, headers={"Accept": "text/csv"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(table.text)))
    assert rows[0] == ["a"] and [r[0] for r in rows[1:]] == expected
    tsv = client.get(
        "/sparql", params={"query": ATTACKS}, headers={"Accept": "text/tab-separated-values"}
    )
    lines = tsv.text.splitlines()
    assert lines[0] == "?a" and lines[1:] == [f"<{a}>" for a in expected]


def test_a_format_that_cannot_carry_triple_terms_is_406_naming_those_that_can(client):
    """JSON-LD has no triple terms yet: pyoxigraph's writer refuses, which is no disk fault
    (503) nor the query's (400), but the format asked for (406)."""
    query = "CONSTRUCT { <x:a> <x:says> <<( <x:b> <x:c> <x:d> )>> } WHERE {}"
    refused = client.get("/sparql", params={"query": query, "format": "jsonld"})
    turtle = client.get("/sparql", params={"query": query, "format": "ttl"})
    assert refused.status_code == 406, refused.text
    assert "JSON-LD" in refused.json()["error"] and "Turtle" in refused.json()["error"]
    assert turtle.status_code == 200 and "<<(" in turtle.text


@pytest.mark.parametrize("character", ["\u0001", "\u001f", "\uffff"])
@pytest.mark.parametrize(
    ("form", "xml", "other"),
    [("SELECT ?x WHERE", "xml", "json"), ("CONSTRUCT { <x:a> <x:p> ?x } WHERE", "rdfxml", "nt")],
)
def test_xml_is_406_for_a_character_xml_cannot_carry(client, character, form, xml, other):
    """XML 1.0 has no way to write U+0001 (not even &#1;): pyoxigraph wrote it raw, and the
    client got a 200 whose document did not parse. The other formats carry it."""
    query = f'{form} {{ BIND(CONCAT("a", "{character}", "b") AS ?x) }}'
    refused = client.get("/sparql", params={"query": query, "format": xml})
    carried = client.get("/sparql", params={"query": query, "format": other})
    assert refused.status_code == 406, refused.text
    message, supported = refused.json()["error"], refused.json()["supported"]
    assert f"U+{ord(character):04X}" in message and ("JSON" in message or "Turtle" in message)
    assert supported and not any("xml" in media_type for media_type in supported)
    assert ("text/turtle" in supported) == (xml == "rdfxml")
    assert carried.status_code == 200, carried.text
    if other == "json":
        assert carried.json()["results"]["bindings"] == [
            {"x": {"type": "literal", "value": f"a{character}b"}}
        ]
    else:
        triples = list(ox.parse(carried.content, format=ox.RdfFormat.N_TRIPLES))
        assert [t.object.value for t in triples] == [f"a{character}b"]


@pytest.mark.parametrize("predicate", ["http://e.org/1", "http://e.org/", "urn:x:1", "x:"])
def test_rdf_xml_is_406_for_a_predicate_no_element_name_can_end(client, predicate):
    """RDF/XML writes a predicate as an element whose name ends the IRI: pyoxigraph wrote
    ``<oxprefix:>`` for these, a 200 that no XML parser reads."""
    query = f'CONSTRUCT {{ <http://e.org/s> <{predicate}> "x" }} WHERE {{}}'
    refused = client.get("/sparql", params={"query": query, "format": "rdfxml"})
    carried = client.get("/sparql", params={"query": query, "format": "nt"})
    assert refused.status_code == 406, refused.text
    assert f"<{predicate}>" in refused.json()["error"]
    assert "application/rdf+xml" not in refused.json()["supported"]
    assert [
        t.predicate.value for t in ox.parse(carried.content, format=ox.RdfFormat.N_TRIPLES)
    ] == [predicate]
    fine = f'CONSTRUCT {{ <http://e.org/s> <{predicate}a> "x" }} WHERE {{}}'
    written = client.get("/sparql", params={"query": fine, "format": "rdfxml"})
    assert written.status_code == 200 and ET.fromstring(written.content) is not None


@pytest.mark.parametrize("format_name", ["xml", "rdfxml"])
def test_xml_answers_without_such_characters_still_parse(client, format_name):
    form = "SELECT ?x WHERE" if format_name == "xml" else "CONSTRUCT { <x:a> <x:p> ?x } WHERE"
    query = f'{form} {{ BIND("tab\\t, newline\\n, cr\\r, crlf\\r\\n, é, 🏥" AS ?x) }}'
    response = client.get("/sparql", params={"query": query, "format": format_name})
    assert response.status_code == 200, response.text
    # a raw carriage return would be read back as a line feed (XML 1.0 2.11)
    text = "".join(ET.fromstring(response.content).itertext())
    assert "tab\t, newline\n, cr\r, crlf\r\n, é, 🏥" in text


@pytest.mark.parametrize("format_name", ["json", "xml", "csv", "tsv"])
def test_triple_terms_in_select_answers(client, store, format_name):
    """SPARQL 1.2 triple terms as values (they once took the worker down: 503)."""
    query = "SELECT ?t WHERE { ?a a sc:Attack BIND(<<( ?a a sc:Attack )>> AS ?t) } LIMIT 1"
    attack = expected_rows(store, "SELECT ?a WHERE { ?a a sc:Attack } LIMIT 1")[0]["a"]
    response = client.get("/sparql", params={"query": query, "format": format_name})
    assert response.status_code == 200, response.text
    assert attack in response.text
    if format_name == "json":
        term = response.json()["results"]["bindings"][0]["t"]
        assert term["type"] == "triple" and term["value"]["subject"]["value"] == attack
    if format_name == "tsv":
        assert response.text.splitlines()[1].startswith(f"<<( <{attack}> ")


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_in_every_rdf_format(client, store, media_type, rdflib_format):
    expected = rdflib.Graph()
    for triple in run_query(store, CONSTRUCT_ATTACKS).value:
        expected.parse(data=ox.serialize([triple], format=ox.RdfFormat.N_TRIPLES), format="nt")
    assert len(expected) >= 2 * attack_count(store)
    response = client.get(
        "/sparql", params={"query": CONSTRUCT_ATTACKS}, headers={"Accept": media_type}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    got = rdflib.Dataset() if rdflib_format in ("nquads", "trig") else rdflib.Graph()
    got.parse(data=response.content, format=rdflib_format)
    triples = {
        (s, p, o) for s, p, o, *_ in (got.quads() if isinstance(got, rdflib.Dataset) else got)
    }
    assert triples == set(expected)


def test_describe_returns_the_resource_triples(client, store):
    attack = expected_rows(store, ATTACKS)[0]["a"]
    response = client.get(
        "/sparql",
        params={"query": f"DESCRIBE <{attack}>"},
        headers={"Accept": "application/n-triples"},
    )
    graph = rdflib.Graph().parse(data=response.content, format="nt")
    labels = expected_rows(store, f"SELECT ?l WHERE {{ <{attack}> rdfs:label ?l }}")
    assert {str(o) for o in graph.objects(rdflib.URIRef(attack), rdflib.RDFS.label)} == {
        row["l"] for row in labels
    }


# content negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        (
            "application/sparql-results+json;q=0.1, text/tab-separated-values",
            "text/tab-separated-values",
        ),
        ("text/html, text/*;q=0.8", "text/csv"),
        ("application/json", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        (None, "application/sparql-results+json"),
        # the most specific range gives a type its quality (RFC 9110 12.5.1)
        ("text/*;q=0.9, text/csv;q=0.1", "text/tab-separated-values"),
        ("*/*, application/sparql-results+json;q=0.1", "application/sparql-results+xml"),
        ("application/sparql-results+json;q=0.5, */*;q=0.9", "application/sparql-results+xml"),
    ],
)
def test_accept_with_q_values_and_wildcards(client, accept, expected):
    request = client.build_request("GET", "/sparql", params={"query": ATTACKS})
    if accept is None:
        del request.headers["accept"]
    else:
        request.headers["accept"] = accept
    response = client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert "Accept" in response.headers["vary"]
    assert len(response.content) > 0


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        (ATTACKS, "application/sparql-results+json;q=0, */*", "application/sparql-results+xml"),
        (ATTACKS, "application/json;q=0, */*", "application/sparql-results+xml"),  # an alias
        (ATTACKS, "application/*;q=0, */*;q=0.5", "text/csv"),
        (ATTACKS, "text/csv;q=0, text/*", "text/tab-separated-values"),
        # the most specific range decides: XML is asked for by name, JSON only by application/*
        (
            ATTACKS,
            "application/*;q=0, application/sparql-results+xml",
            "application/sparql-results+xml",
        ),
        # refusing an alias refuses that name, not the type asked for by its own
        (ATTACKS, "text/xml;q=0, application/sparql-results+xml", "application/sparql-results+xml"),
        (
            ATTACKS,
            "application/json;q=0, application/sparql-results+json",
            "application/sparql-results+json",
        ),
        (CONSTRUCT_ATTACKS, "text/turtle;q=0, */*", "application/n-triples"),
        (None, "text/turtle;q=0, */*", "application/ld+json"),  # the service description
        (None, "text/html;q=0, */*", "text/turtle"),  # not the query page
    ],
)
def test_q_0_refuses_a_type_even_under_a_wildcard(client, query, accept, expected):
    """RFC 9110 12.5.1: q=0 means not acceptable; a wildcard does not bring it back."""
    params = {"query": query} if query else {}
    response = client.get("/sparql", params=params, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected
    assert len(response.content) > 0


@pytest.mark.parametrize(
    "accept",
    ["text/csv;q=0", "*/*;q=0", "application/sparql-results+json;q=0, application/json"],
)
def test_only_refused_types_is_406(client, accept):
    response = client.get("/sparql", params={"query": ATTACKS}, headers={"Accept": accept})
    assert response.status_code == 406, response.text
    body = response.json()
    assert body["status"] == 406 and "no acceptable format" in body["error"]
    assert body["supported"] == [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ]


def test_graph_defaults_to_turtle_and_wildcards_pick_rdf(client):
    default = client.get("/sparql", params={"query": CONSTRUCT_ATTACKS}, headers={"Accept": "*/*"})
    assert default.headers["content-type"].split(";")[0] == "text/turtle"
    json_ld = client.get(
        "/sparql", params={"query": CONSTRUCT_ATTACKS}, headers={"Accept": "application/json"}
    )
    assert json_ld.headers["content-type"] == "application/ld+json"
    assert isinstance(json_ld.json(), (list, dict))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("xml", "application/sparql-results+xml"),
        ("json", "application/sparql-results+json"),
    ],
)
def test_format_parameter_overrides_accept(client, store, name, expected):
    for parameter in ("format", "output"):
        response = client.get(
            "/sparql",
            params={"query": COUNT_ATTACKS, parameter: name},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert response.headers["content-type"].split(";")[0] == expected
        assert str(attack_count(store)) in response.text


def test_unsupported_format_is_406_listing_what_is_supported(client):
    response = client.get("/sparql", params={"query": ATTACKS}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    body = response.json()
    assert (
        "text/csv" in body["supported"] and "application/sparql-results+json" in body["supported"]
    )
    assert response.headers["vary"].startswith("Accept")
    graph = client.get("/sparql", params={"query": CONSTRUCT_ATTACKS, "format": "csv"})
    assert graph.status_code == 406
    assert "text/turtle" in graph.json()["supported"]
    assert graph.json()["error"].startswith("parameter 'format': no acceptable format")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"format": "bogus"}, "parameter 'format': 'bogus' is not a known format: use json, xml,"),
        ({"output": "text/html"}, "parameter 'output': 'text/html' is not a known format"),
        ([("format", "csv"), ("format", "json")], "'format=csv' and 'format=json' ask for"),
        ([("format", "csv"), ("output", "tsv")], "'format=csv' and 'output=tsv' ask for"),
    ],
)
def test_bad_format_parameters_are_400_naming_them(client, params, words):
    query = [("query", ATTACKS), *(params.items() if isinstance(params, dict) else params)]
    response = client.get("/sparql", params=query)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
    described = client.get("/sparql", params=query[1:])  # the service description too
    assert described.status_code == 400 and words in described.json()["error"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"format": "text/csv;charset=utf-8"}, "text/csv"),  # parameters dropped, as in Accept
        ({"format": "", "output": "tsv"}, "text/tab-separated-values"),  # empty: not given
        ({"format": "csv", "output": "text/csv"}, "text/csv"),  # the same format twice
        ({"format": "xml", "output": "application/xml"}, "application/sparql-results+xml"),
        # what SPARQLWrapper sends for TSV: the short name and the media type, twice
        (
            [
                ("format", "tsv"),
                ("format", "text/tab-separated-values"),
                ("output", "tsv"),
                ("output", "text/tab-separated-values"),
            ],
            "text/tab-separated-values",
        ),
    ],
)
def test_format_parameters_that_agree(client, params, expected):
    query = [("query", ATTACKS), *(params.items() if isinstance(params, dict) else params)]
    response = client.get("/sparql", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected


def test_sparqlwrapper_json_ld_parameters_still_work(client):
    """SPARQLWrapper's JSON-LD: format=json-ld, then a list of media types, one not ours."""
    listed = "application/ld+json,application/x-json+ld"
    params = [("query", CONSTRUCT_ATTACKS), ("format", "json-ld"), ("format", listed)]
    params += [("output", "json-ld"), ("output", listed)]
    response = client.get("/sparql", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"


# errors


def test_syntax_error_is_400_with_line_and_column(client, store):
    query = "SELECT ?a\nWHERE {\n  ?a a sc:Attack .\n  BIND(1 AS )\n}"
    with pytest.raises(QuerySyntaxError) as parsed:
        run_query(store, query)
    assert parsed.value.line == 4 and parsed.value.column > 0
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    body = response.json()
    assert (body["line"], body["column"]) == (4, parsed.value.column)
    assert f"line 4, column {parsed.value.column}" in body["error"]
    posted = client.post(
        "/sparql", content=query, headers={"Content-Type": "application/sparql-query"}
    )
    assert posted.status_code == 400 and posted.json()["line"] == 4


@pytest.mark.parametrize(
    ("query", "line", "words"),
    [
        ("SELECT * WHERE {\n  ?s ?p ?o .\n  ?o nosuch:q ?z }", 3, "undeclared prefix 'nosuch:'"),
        # pyoxigraph says "expected OPTIONAL" for this one
        ("SELECT * WHERE { ?s ex:p ?o }", 1, "undeclared prefix 'ex:'"),
        ("SELECT ?x WHERE { ?s ?p ?o } GROUP BY ?s", 1, "variable that is unbound"),
    ],
)
def test_errors_that_are_not_about_syntax_say_what_is_wrong(client, query, line, words):
    """pyoxigraph hides these among the characters it expected; the answer says them."""
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert words in response.json()["error"] and response.json()["line"] == line
    assert "\\u{" not in response.json()["error"]  # no list of character classes


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s a sc:Attack ; } LIMT 3",  # sc: is predeclared
        "PREFIX ex: <http://e.org/> SELECT * { ?s ?p ?o.ex:s ?p ?z . FILTER( }",
    ],
)
def test_another_error_is_not_blamed_on_a_prefix(client, query):
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert "prefix" not in response.json()["error"], response.json()


def test_the_prefix_of_a_long_query_is_named_at_once(client):
    """Naming it searched the text before the error in a time that grew with the square of
    its length: at 90,000 characters the worker ran out of time, a 503 instead of a 400."""
    query = f"SELECT * {{ ?s ?p <http://e.org/{'a' * 90_000}> . ?s nosuch:p ?o }}"
    response = client.post(
        "/sparql", content=query, headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 400, response.text[:200]
    assert "undeclared prefix 'nosuch:'" in response.json()["error"]


def test_a_large_form_is_read_whole(client):
    """A form past 64 KiB is decoded in a thread (400,000 fields took half a second of the
    event loop): its parameters are the same."""
    body = "query=" + quote("ASK { ?s a ?o }") + "&a" * 400_000 + "&format=csv"
    response = client.post(
        "/sparql", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.split() == ["true"]  # ASK as CSV: the boolean alone


def test_a_leading_byte_order_mark_is_not_an_error(client):
    """Editors on Windows start UTF-8 files with one; it is not part of the query."""
    body = "\ufeffASK { ?a a sc:Attack }".encode()
    response = client.post(
        "/sparql", content=body, headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": {"default-graph-uri": "http://x/g"}}, 400, "missing parameter 'query'"),
        ({"data": {"query": "  "}}, 400, "empty"),
        ({"data": {"query": ["ASK {}", "ASK {}"]}}, 400, "2 queries"),
        ({"data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400, "not both"),
        ({"data": {"update": "CLEAR ALL"}}, 403, "read-only"),
        (
            {"content": "DROP ALL", "headers": {"Content-Type": "application/sparql-update"}},
            403,
            "read-only",
        ),
        (
            {
                "content": "INSERT DATA { <x:a> <x:b> <x:c> }",
                "headers": {"Content-Type": "application/sparql-query"},
            },
            403,
            "read-only",
        ),
        (
            {"content": "ASK {}", "headers": {"Content-Type": "text/plain"}},
            415,
            "application/sparql-query",
        ),
        (
            {
                "content": b'ASK { ?s ?p "\xff" }',
                "headers": {"Content-Type": "application/sparql-query"},
            },
            400,
            "UTF-8",
        ),
    ],
)
def test_bad_posts_get_clear_4xx(client, kwargs, status, words):
    response = client.post("/sparql", **kwargs)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def get_raw(client, target: str):
    """GET ``target`` byte for byte: httpx would re-encode a malformed percent-escape."""
    request = client.build_request("GET", "/")
    request.url = request.url.copy_with(raw_path=target.encode("latin-1"))
    return client.send(request)


def assert_400(response, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400 and words in body["error"], body


@pytest.mark.parametrize(
    ("encoded", "words"),
    [
        # a literal with \xC3( in it: Starlette made it U+FFFD( and ran that query
        (
            "query=ASK%7B%3Fs%20%3Fp%20%22%C3%28%22%7D",
            "parameter 'query' is not valid UTF-8 (byte 0xC3 at offset 11 of its decoded value)",
        ),
        (
            "query=ASK%7B%7D%ZZ",
            "parameter 'query' has a malformed percent-escape '%ZZ' at offset 9",
        ),
        ("query=ASK%7B%7D%", "parameter 'query' has a malformed percent-escape '%' at offset 9"),
        ("query=ASK%7B%7D&default-graph-uri=urn:x%FF", "parameter 'default-graph-uri' is not"),
        ("query=ASK%7B%7D&format=%E9", "parameter 'format' is not valid UTF-8 (byte 0xE9"),
        ("qu%FFery=ASK%7B%7D", "a parameter name is not valid UTF-8 (byte 0xFF at offset 2"),
    ],
)
def test_bad_bytes_in_parameters_are_400_naming_the_parameter(client, encoded, words):
    """In the query string and in a form body alike: never a U+FFFD, never a SPARQL error."""
    assert_400(get_raw(client, "/sparql?" + encoded), words)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_400(client.post("/sparql", content=encoded.encode(), headers=form), words)


def test_raw_utf8_in_a_form_body_is_read_as_utf8(client):
    """Browsers and the WHATWG parser send raw bytes: UTF-8-decoded after percent-decoding."""
    body = 'query=ASK { FILTER(STRLEN("été") = 3) }'.encode()
    response = client.post(
        "/sparql", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True
    raw = client.post(
        "/sparql",
        content=b'query=ASK{"\xe9"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_400(raw, "parameter 'query' is not valid UTF-8 (byte 0xE9 at offset 5")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/sparql-query; charset=iso-8859-1",
        "application/x-www-form-urlencoded; charset=latin-1",
        'application/sparql-query; charset="windows-1252"',
    ],
)
def test_a_charset_other_than_utf8_is_415(client, content_type):
    body = b'ASK { ?s ?p "\xe9" }'
    if "form" in content_type:
        body = b"query=" + body
    response = client.post("/sparql", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415, response.text
    message = response.json()["error"]
    assert "charset" in message and "UTF-8" in message
    assert content_type.split("charset=")[1].strip('"') in message


def test_utf8_charset_is_fine(client):
    for content_type in (
        "application/sparql-query; charset=UTF-8",
        'application/sparql-query;charset="utf-8"',
    ):
        response = client.post("/sparql", content="ASK {}", headers={"Content-Type": content_type})
        assert response.status_code == 200 and response.json()["boolean"] is True


def test_a_content_encoding_is_415_naming_it(client):
    """The server does not decode request bodies: gzip bytes were read as a broken query."""
    query = {"Content-Type": "application/sparql-query"}
    for coding, body in (("gzip", gzip.compress(b"ASK {}")), ("br", b"ASK {}")):
        response = client.post(
            "/sparql", content=body, headers={**query, "Content-Encoding": coding}
        )
        assert response.status_code == 415, response.text
        assert response.json()["error"].startswith(f"Content-Encoding {coding} is not supported")
        assert response.headers["accept-encoding"] == "identity"
    plain = client.post(
        "/sparql", content=b"ASK {}", headers={**query, "Content-Encoding": "identity"}
    )
    assert plain.status_code == 200 and plain.json()["boolean"] is True


def test_query_in_url_and_body_is_two_queries(client):
    response = client.post(
        "/sparql?query=ASK%7B%7D",
        content="ASK {}",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 400 and "2 queries" in response.json()["error"]


def test_two_queries_or_update_in_get(client):
    two = client.get("/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")])
    assert two.status_code == 400
    update = client.get("/sparql", params={"update": "CLEAR ALL"})
    assert update.status_code == 403
    load = client.get("/sparql", params={"query": "LOAD <http://127.0.0.1:9/x.ttl>"})
    assert load.status_code == 403 and "read-only" in load.json()["error"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "PROPFIND", "MKCOL"])
def test_other_methods_are_405_with_allow(client, method):
    response = client.request(method, "/sparql", content="ASK {}")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
        "POST",
        "OPTIONS",
    }
    assert method in response.json()["error"]


def test_head_has_the_headers_of_get_and_no_body(client):
    get = client.get("/sparql", params={"query": ATTACKS})
    head = client.head("/sparql", params={"query": ATTACKS})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]


# service description


def test_service_description_in_turtle_and_json_ld(client, store):
    turtle = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    endpoint = rdflib.URIRef(str(client.base_url) + "/sparql")
    sd = rdflib.Namespace(SD)
    assert (endpoint, rdflib.RDF.type, sd.Service) in graph
    assert (endpoint, sd.endpoint, endpoint) in graph
    assert (endpoint, sd.supportedLanguage, sd.SPARQL11Query) in graph
    assert (endpoint, sd.feature, sd.UnionDefaultGraph) in graph
    formats = {str(o).rsplit("/", 1)[1] for o in graph.objects(endpoint, sd.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_CSV", "Turtle", "JSON-LD", "RDF_XML"} <= formats
    names = {str(o) for o in graph.objects(None, sd.name)}
    all_graphs = {
        row["g"] for row in expected_rows(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
    }
    assert names == all_graphs
    json_ld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert json_ld.headers["content-type"] == "application/ld+json"
    same = rdflib.Graph().parse(data=json_ld.text, format="json-ld")
    assert len(same) == len(graph)
    assert "Accept" in json_ld.headers["vary"]


def test_browsers_get_the_query_page(client):
    response = client.get(
        "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    machine = client.get("/sparql", headers={"Accept": "text/turtle,text/html;q=0.5"})
    assert machine.headers["content-type"].startswith("text/turtle")


# caching: ETag, 304, gzip, result cache


def test_same_query_same_etag_and_304(client):
    first = client.get("/sparql", params={"query": ATTACKS})
    again = client.get("/sparql", params={"query": ATTACKS})
    other_format = client.get("/sparql", params={"query": ATTACKS, "format": "csv"})
    other_query = client.get("/sparql", params={"query": ATTACKS + " LIMIT 1"})
    etag = first.headers["etag"]
    assert etag == again.headers["etag"]
    assert etag not in (other_format.headers["etag"], other_query.headers["etag"])
    unchanged = client.get("/sparql", params={"query": ATTACKS}, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    changed = client.get("/sparql", params={"query": ATTACKS}, headers={"If-None-Match": 'W/"old"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_if_none_match_star_is_304_only_for_a_query_with_an_answer(client):
    """RFC 9110 13.1.2: ``*`` matches a current representation; a query that fails has none
    (13.2.1: its error is sent as if there were no precondition)."""
    star = {"If-None-Match": "*"}
    broken = client.get("/sparql", params={"query": "ASK {"}, headers=star)
    assert broken.status_code == 400, broken.text
    assert broken.json()["line"] == 1 and "etag" not in broken.headers
    refused = client.get("/sparql", params={"query": "LOAD <http://127.0.0.1:9/x>"}, headers=star)
    assert refused.status_code == 403
    query = ATTACKS + " # if-none-match *"  # a text no earlier test ran: not in any cache
    for method in ("HEAD", "GET"):
        unchanged = client.request(method, "/sparql", params={"query": query}, headers=star)
        assert unchanged.status_code == 304 and unchanged.content == b"", unchanged.text
    answered = client.get("/sparql", params={"query": query})
    assert answered.status_code == 200 and answered.headers["etag"] == unchanged.headers["etag"]


def test_repeated_query_is_served_from_the_cache(client):
    query = "SELECT ?a ?l WHERE { ?a a sc:Attack ; rdfs:label ?l } ORDER BY ?l # cache test"
    first = client.post("/sparql", data={"query": query})
    second = client.post("/sparql", data={"query": query})
    assert first.headers["x-santecyber-cache"] == "miss"
    assert second.headers["x-santecyber-cache"] == "hit"
    assert second.content == first.content
    csv_answer = client.post("/sparql", data={"query": query, "format": "csv"})
    assert csv_answer.headers["x-santecyber-cache"] == "miss"


def test_large_answers_are_gzipped_on_request(client, store):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    response = client.get(
        "/sparql",
        params={"query": query},
        headers={"Accept-Encoding": "gzip", "Accept": "text/csv"},
    )
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept" in response.headers["vary"] and "Accept-Encoding" in response.headers["vary"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert len(rows) - 1 == len(expected_rows(store, query))
    assert int(response.headers["content-length"]) < len(response.content)
    plain = client.get(
        "/sparql",
        params={"query": query},
        headers={"Accept-Encoding": "identity", "Accept": "text/csv"},
    )
    assert "content-encoding" not in plain.headers and plain.content == response.content


@pytest.mark.parametrize("rows", [8, 40, 200, 2000])
def test_gzipped_answers_of_any_size_decode_to_the_plain_answer(client, rows):
    """From just over gzip's 1000-byte threshold to past zlib's largest window (32 KiB)."""
    query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} ORDER BY ?s ?p ?o LIMIT {rows}"
    params, accept = {"query": query, "format": "csv"}, "Accept-Encoding"
    with client.stream("GET", "/sparql", params=params, headers={accept: "gzip"}) as zipped:
        raw = b"".join(zipped.iter_raw())
    plain = client.get("/sparql", params=params, headers={accept: "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert int(zipped.headers["content-length"]) == len(raw) < len(plain.content)
    assert gzip.decompress(raw) == plain.content
    assert len(plain.text.splitlines()) == rows + 1


@pytest.mark.parametrize("refused", ["gzip;q=0", "gzip;q=0, deflate", "nogzip", "*;q=1, gzip;q=0"])
def test_an_answer_is_not_gzipped_for_a_client_that_refuses_it(client, refused):
    """RFC 9110 12.5.3: q=0 is "not acceptable"; Starlette only looked for the word."""
    params = {"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 200", "format": "csv"}
    with client.stream("GET", "/sparql", params=params, headers={"Accept-Encoding": refused}) as r:
        raw = b"".join(r.iter_raw())
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert len(raw.decode().splitlines()) == 201  # plain CSV: the header and 200 rows


@pytest.mark.parametrize(
    "path",
    [
        "/sparql?query=ASK%20%7B%7D",
        f"/sparql?query={quote(ATTACKS)}",
        "/sparql",
        "/id/facility/chu-rennes",
    ],
)
def test_a_304_varies_on_what_its_200_varies_on(client, path):
    """RFC 9110 15.4.5. gzip added Accept-Encoding to the Vary of answers over 1000 bytes
    only, so a 304 (no body) answered by the app lacked it."""

    def varies(response: httpx.Response) -> set[str]:
        return {v.strip().lower() for v in response.headers["vary"].split(",")}

    first = client.get(path, headers={"Accept-Encoding": "gzip", "Accept": "text/turtle, */*"})
    # another Accept-Encoding: not the replay's recorded request, the app answers
    headers = {"If-None-Match": first.headers["etag"], "Accept-Encoding": "gzip, deflate"}
    again = client.get(path, headers={**headers, "Accept": "text/turtle, */*"})
    assert first.status_code == 200 and again.status_code == 304, again.text
    assert varies(again) == varies(first) >= {"accept", "accept-encoding"}
    assert first.headers["vary"].lower().count("accept-encoding") == 1


def test_cors_allows_any_origin(client):
    response = client.get(
        "/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"}
    )
    assert response.headers["access-control-allow-origin"] in ("*", "https://example.org")
    preflight = client.options(
        "/sparql",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
