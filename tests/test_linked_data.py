"""Dereferencing on the live server: every resource IRI of the built graph, in every format,
checked against the store; negotiation, 404/406, redirects, VoID, dumps, and escaping."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import browser
import httpx
import pyoxigraph as ox
import pytest
from conftest import FORMATS, LiveServer, start_server, stop_server
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from santecyber.dumps import write_dumps
from santecyber.errors import InputError
from santecyber.loaders.redirects import load_redirects
from santecyber.namespaces import BASE, PREFIXES, SC
from santecyber.paths import ROOT
from santecyber.server.describe import JSONLD_CONTEXT
from santecyber.store import BuildDirectory

QUAD_FORMATS = {"trig", "nq"}
VOID = "http://rdfs.org/ns/void#"


# --- what the store says --------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(built: BuildDirectory) -> Iterator[ox.Store]:
    # a copy in memory, so the test never holds the server's on-disk store
    memory = ox.Store()
    memory.bulk_load(input=built.dump.read_bytes(), format=ox.RdfFormat.N_QUADS)
    yield memory


@pytest.fixture(scope="module")
def resource_iris(store: ox.Store) -> list[str]:
    """Every resource IRI of the graph: subjects under id/ that are not hash IRIs."""
    rows = store.query(
        f"""SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
        FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}id/") && !CONTAINS(STR(?s), "#")) }}
        ORDER BY ?s"""
    )
    iris = [row["s"].value for row in rows]
    assert len(iris) > 40  # the records hold about sixty resources
    return iris


def as_rdflib(quads: list[ox.Quad]) -> Dataset:
    dataset = Dataset()
    dataset.parse(data=ox.serialize(quads, format=ox.RdfFormat.N_QUADS), format="nquads")
    return dataset


def own_quads(store: ox.Store, iri: str) -> list[ox.Quad]:
    return list(store.quads_for_pattern(ox.NamedNode(iri), None, None, None))


def incoming_quads(store: ox.Store, iri: str) -> list[ox.Quad]:
    return list(store.quads_for_pattern(None, None, ox.NamedNode(iri), None))


def path_of(iri: str) -> str:
    assert iri.startswith(BASE)
    return "/" + iri[len(BASE) :]


def parse(body: bytes, rdflib_format: str) -> Dataset:
    dataset = Dataset()
    dataset.parse(data=body, format=rdflib_format)
    return dataset


def triples_of(dataset: Dataset) -> set[tuple]:
    return {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}


# --- every resource, every format -----------------------------------------------------------


def test_every_resource_dereferences_in_every_rdf_format(
    live_server: LiveServer, store: ox.Store, resource_iris: list[str]
) -> None:
    problems: list[str] = []
    with live_server.client() as client:
        for iri in resource_iris:
            path = path_of(iri)
            expected_quads = as_rdflib(own_quads(store, iri) + incoming_quads(store, iri))
            expected = triples_of(expected_quads)
            for extension, (media_type, rdflib_format) in FORMATS.items():
                for url, headers in (
                    (path, {"Accept": media_type}),
                    (f"{path}.{extension}", {}),
                ):
                    response = client.get(url, headers=headers)
                    if response.status_code != 200:
                        problems.append(f"{url} {media_type}: {response.status_code}")
                        continue
                    if response.headers["content-type"].split(";")[0] != media_type:
                        problems.append(f"{url}: content-type {response.headers['content-type']}")
                    if url == path:
                        if response.headers.get("content-location") != f"{path}.{extension}":
                            problems.append(f"{url} {media_type}: content-location")
                        if "Accept" not in response.headers.get("vary", ""):
                            problems.append(f"{url}: no Vary: Accept")
                    got = parse(response.content, rdflib_format)
                    missing = expected - triples_of(got)
                    if missing:
                        problems.append(f"{url} {media_type}: {len(missing)} statements missing")
                    if extension in QUAD_FORMATS:
                        quads = set(got.quads((None, None, None, None)))
                        wanted = set(expected_quads.quads((None, None, None, None)))
                        lost = {
                            (s, p, o, g.identifier if hasattr(g, "identifier") else g)
                            for s, p, o, g in wanted
                        } - {
                            (s, p, o, g.identifier if hasattr(g, "identifier") else g)
                            for s, p, o, g in quads
                        }
                        if lost:
                            problems.append(f"{url} {media_type}: {len(lost)} quads lost")
    assert not problems, "\n".join(problems[:40])


def test_descriptions_carry_parts_and_labels_of_both_sides(
    live_server: LiveServer, store: ox.Store, resource_iris: list[str]
) -> None:
    """Hash IRIs of the resource are described (never dangling); neighbours are labelled."""
    problems: list[str] = []
    with live_server.client() as client:
        for iri in resource_iris:
            got = Graph().parse(data=client.get(path_of(iri) + ".nt").content, format="nt")
            subjects = {str(s) for s in got.subjects()}
            nodes = {str(n) for n in got.all_nodes() if isinstance(n, URIRef)}
            for node in nodes:
                if node.startswith(iri + "#") and node not in subjects:
                    problems.append(f"{iri}: part {node} left dangling")
            for quad in own_quads(store, iri) + incoming_quads(store, iri):
                for term in (quad.subject, quad.object):
                    if not isinstance(term, ox.NamedNode) or term.value.startswith(iri):
                        continue
                    labelled = any(
                        store.quads_for_pattern(term, ox.NamedNode(str(RDFS.label)), None, None)
                    )
                    if labelled and (URIRef(term.value), RDFS.label, None) not in got:
                        problems.append(f"{iri}: no label for {term.value}")
            # every part of the resource in the store is in its description
            for quad in store.quads_for_pattern(ox.NamedNode(iri), None, None, None):
                part = quad.object
                if isinstance(part, ox.NamedNode) and part.value.startswith(iri + "#"):
                    for statement in store.quads_for_pattern(part, None, None, None):
                        triple = parse(
                            ox.serialize([statement.triple], format=ox.RdfFormat.N_TRIPLES),
                            "nt",
                        )
                        if not triples_of(triple) <= set(got):
                            problems.append(f"{iri}: part statement missing {statement}")
    assert not problems, "\n".join(problems[:40])


def test_every_resource_has_an_html_page(
    live_server: LiveServer, store: ox.Store, resource_iris: list[str]
) -> None:
    problems: list[str] = []
    with live_server.client() as client:
        for iri in resource_iris:
            response = client.get(path_of(iri), headers={"Accept": "text/html"})
            if response.status_code != 200 or not response.headers["content-type"].startswith(
                "text/html"
            ):
                problems.append(f"{iri}: {response.status_code} {response.headers['content-type']}")
                continue
            if response.headers.get("content-location") != path_of(iri) + ".html":
                problems.append(
                    f"{iri}: content-location {response.headers.get('content-location')}"
                )
            if f"<code>{iri}</code>" not in response.text:
                problems.append(f"{iri}: the page does not show its IRI")
    assert not problems, "\n".join(problems)


def test_head_answers_like_get_without_a_body(live_server: LiveServer) -> None:
    path = "/id/facility/chu-rennes"
    with live_server.client() as client:
        got = client.get(path, headers={"Accept": "text/turtle"})
        head = client.head(path, headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-location"] == "/id/facility/chu-rennes.ttl"
    assert head.headers["link"] == got.headers["link"]


def test_etag_gives_304_when_unchanged(live_server: LiveServer) -> None:
    path = "/id/attack/2023-06-chu-rennes"
    with live_server.client() as client:
        first = client.get(path, headers={"Accept": "application/n-triples"})
        etag = first.headers["etag"]
        again = client.get(path, headers={"Accept": "application/n-triples", "If-None-Match": etag})
        other_format = client.get(path, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert other_format.status_code == 200
    assert "x-santecyber-truncated" not in first.headers


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/id/attack/2022-08-corbeil-essonnes", "text/turtle"),
        ("/id/attack/2022-08-corbeil-essonnes", "text/html"),
        ("/ontology.nt", "*/*"),
        ("/dumps/graph-reference-ontology.ttl", "*/*"),
        ("/static/site.css", "*/*"),
    ],
)
def test_etags_are_weak_as_gzip_and_identity_share_them(
    live_server: LiveServer, path: str, accept: str
) -> None:
    """RFC 9110 8.8.3: a strong ETag promises the same bytes, but the gzip and identity bodies
    differ under one tag; the tags are weak, and If-None-Match still matches them (weakly)."""
    with live_server.client() as client:
        gzipped = client.get(path, headers={"Accept": accept, "Accept-Encoding": "gzip"})
        plain = client.get(path, headers={"Accept": accept, "Accept-Encoding": "identity"})
        assert gzipped.status_code == plain.status_code == 200
        assert gzipped.headers["content-encoding"] == "gzip"
        assert "content-encoding" not in plain.headers
        etag = plain.headers["etag"]
        assert gzipped.headers["etag"] == etag
        assert etag.startswith('W/"') and etag.endswith('"')
        for wanted in (etag, etag.removeprefix("W/")):
            again = client.get(path, headers={"Accept": accept, "If-None-Match": wanted})
            assert again.status_code == 304, wanted
            assert again.headers["etag"] == etag


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/id/facility/chu-rennes",
        "/id/facility/chu-rennes.ttl",
        "/id/",
        "/id/attack/",
        "/ontology",
        "/vocab/attack-kind",
        "/graph/",
        "/void",
        "/.well-known/void",
        "/context.jsonld",
        "/dumps/",
        "/dumps/santecyber.nq.gz",
    ],
)
def test_plain_options_answers_with_allow(live_server: LiveServer, path: str) -> None:
    """OPTIONS without CORS preflight headers is 204 with Allow (RFC 9110 9.3.7), not 405; the
    405 for other methods lists OPTIONS too; a CORS preflight still gets the CORS answer."""
    with live_server.client() as client:
        options = client.options(path)
        assert options.status_code == 204, options.text
        assert options.content == b""
        assert options.headers["allow"] == "GET, HEAD, OPTIONS"
        for method in ("PUT", "DELETE", "TRACE"):
            refused = client.request(method, path)
            assert refused.status_code == 405, method
            assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
        preflight = client.options(
            path,
            headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
        )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_scripts_on_other_sites_can_read_the_links_to_other_formats(live_server: LiveServer):
    """A notebook in a browser reads Link and Content-Location only if CORS exposes them."""
    with live_server.client() as client:
        response = client.get(
            "/id/facility/chu-rennes",
            headers={"Origin": "https://example.org", "Accept": "text/turtle"},
        )
    assert response.headers["link"] and response.headers["content-location"]
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"link", "content-location", "etag"} <= exposed


# --- negotiation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/rdf+xml;q=0.5, text/turtle;q=0.9", "text/turtle"),
        ("text/turtle;q=0.1, application/ld+json", "application/ld+json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/n-quads;q=0.3, application/trig;q=0.4", "application/trig"),
        ("*/*", "text/turtle"),
        ("application/json", "application/ld+json"),
        ("text/plain", "application/n-triples"),  # as /sparql reads it
        ("text/*;q=0.5, application/n-triples;q=0.6", "application/n-triples"),
        # q=0 refuses a type even under a wildcard (RFC 9110 12.5.1)
        ("text/turtle;q=0, */*", "application/n-triples"),
        ("text/*;q=0, */*;q=0.5", "application/n-triples"),
        ("*/*;q=0, text/html", "text/html"),
        ("application/n-triples;q=0, application/json;q=0, application/*", "application/rdf+xml"),
        # refusing an alias refuses that name, not the type asked for by its own
        ("application/json;q=0, application/ld+json", "application/ld+json"),
        ("application/xml;q=0, application/rdf+xml", "application/rdf+xml"),
        # the most specific range gives a type its quality, under a wildcard too
        ("*/*;q=0.9, text/turtle;q=0.1", "application/n-triples"),
    ],
)
def test_q_values_choose_the_format(live_server: LiveServer, accept: str, expected: str) -> None:
    with live_server.client() as client:
        response = client.get("/id/attack/2023-06-chu-rennes", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_unsupported_format_is_406(live_server: LiveServer) -> None:
    with live_server.client() as client:
        for accept in ("application/pdf", "image/png, text/csv", "text/turtle;q=0", "*/*;q=0"):
            response = client.get("/id/facility/chu-rennes", headers={"Accept": accept})
            assert response.status_code == 406, accept
            assert "text/turtle" in response.text
        # index pages are HTML only
        for path in ("/id/", "/id/attack/"):
            assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 406
            assert client.get(path, headers={"Accept": "text/html;q=0, */*"}).status_code == 406
            assert client.get(path, headers={"Accept": "*/*"}).status_code == 200


def test_link_header_lists_alternates_that_all_answer(live_server: LiveServer) -> None:
    path = "/id/facility/chu-rennes"
    with live_server.client() as client:
        response = client.get(path, headers={"Accept": "text/turtle"})
        targets = [
            part.split(">")[0].lstrip("<")
            for part in response.headers["link"].split(", ")
            if 'rel="alternate"' in part
        ]
        assert sorted(targets) == sorted(f"{path}.{ext}" for ext in [*FORMATS, "html"])
        assert f'<{BASE}id/facility/chu-rennes>; rel="canonical"' in response.headers["link"]
        for target in targets:
            assert client.get(target).status_code == 200, target


def test_unknown_iris_are_404_in_the_negotiated_format(live_server: LiveServer) -> None:
    with live_server.client() as client:
        for path in (
            "/id/facility/no-such-hospital",
            "/vocab/attack-kind/no-such-kind",
            "/graph/source/no-such-article",
            "/id/facility/CHU-RENNES",
            "/id/facility/chu rennes",
            "/id/facility/%3Cscript%3E",
        ):
            text = client.get(path, headers={"Accept": "text/turtle"})
            assert text.status_code == 404, path
            assert text.headers["content-type"].startswith("text/plain")
            html = client.get(path, headers={"Accept": "text/html"})
            assert html.status_code == 404, path
            assert html.headers["content-type"].startswith("text/html")
            assert "<h1>" in html.text
            assert "<script>" not in html.text.lower().replace('<script type="application', "")
        # an extension URL answers in its own format, whatever the Accept header
        turtle = client.get("/id/attack/1999-01-nowhere.ttl", headers={"Accept": "text/html"})
        assert turtle.status_code == 404
        assert turtle.headers["content-type"].startswith("text/plain")
        page = client.get("/id/attack/1999-01-nowhere.html")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert f"{BASE}id/attack/1999-01-nowhere" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/id/facility/chu-rennes/",
        "/id/facility/chu-rennes//",
        "/id/facility//",  # not the list of facilities
        "/id//facility",
        "/vocab//",
        "/graph//",
        "/id/facility/chu-rennes.ttl/",
        "/id/facility/chu-rennes%0A",
        "/id/facility/chu-rennes.ttl%0A",
        "/id/facility%2Fchu-rennes",
        "/id/facility%2fchu-rennes.nt",
        "/ontology/",
        "/ontology%0A",
        "/vocab/attack-kind/",
        "/graph/source/rfi-2022-12-versailles/",
        "/id/facility%0A",
        "/id/%0A",
        "/vocab/%0A",
        "/dumps/santecyber.nq.gz%0A",
        "/void%0A",
        "/static/site.css%0A",
    ],
)
def test_non_canonical_paths_are_404(live_server: LiveServer, path: str) -> None:
    """A trailing slash, a final newline or an encoded slash makes another IRI, which the graph
    does not hold: 404, never the description of the IRI it resembles (nor its replay)."""
    resembled = path.replace("%2F", "/").replace("%2f", "/").replace("%0A", "").rstrip("/")
    with live_server.client() as client:
        for accept in ("text/turtle", "text/html"):
            client.get(resembled or "/", headers={"Accept": accept})  # kept by the replay cache
            response = client.get(httpx.URL(live_server.url + path), headers={"Accept": accept})
            assert response.status_code == 404, (path, accept)
            for header in ("link", "content-location", "etag"):
                assert header not in response.headers, (path, header)
            assert "chu-rennes>" not in response.text and "Rennes" not in response.text


@pytest.mark.parametrize("listing", ["/id", "/vocab", "/graph"])
def test_a_listing_answers_with_or_without_its_slash(live_server: LiveServer, listing: str) -> None:
    with live_server.client() as client:
        bare = client.get(listing, headers={"Accept": "text/html"})
        slashed = client.get(listing + "/", headers={"Accept": "text/html"})
    assert bare.status_code == slashed.status_code == 200

    def listed(page: httpx.Response) -> list[str]:
        main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
        return re.findall(r'href="(/(?:id|vocab|graph)/[^"]+)"', main)

    assert listed(bare) == listed(slashed) and len(listed(bare)) > 2


def test_percent_encoded_unreserved_characters_are_the_same_iri(live_server: LiveServer) -> None:
    """RFC 3986 6.2.2.2: %73 is 's', so this is the canonical IRI, not another one."""
    with live_server.client() as client:
        encoded = client.get(httpx.URL(live_server.url + "/id/facility/chu-renne%73.nt"))
        plain = client.get("/id/facility/chu-rennes.nt")
    assert encoded.status_code == plain.status_code == 200
    assert encoded.content == plain.content


def test_same_iris_on_any_host(live_server: LiveServer) -> None:
    """The host the request came to does not change the IRIs (they are the w3id ones)."""
    with live_server.client() as client:
        here = client.get("/id/facility/chu-rennes.nt")
        elsewhere = client.get(
            "/id/facility/chu-rennes.nt", headers={"Host": "data.example.org:8080"}
        )
    assert here.status_code == elsewhere.status_code == 200
    assert here.content == elsewhere.content
    assert f"<{BASE}id/facility/chu-rennes>".encode() in here.content


def test_jsonld_is_compact_with_the_published_context(live_server: LiveServer) -> None:
    with live_server.client() as client:
        context = client.get("/context.jsonld")
        assert context.status_code == 200
        assert context.headers["content-type"].startswith("application/ld+json")
        terms = context.json()["@context"]
        document = client.get("/id/facility/chu-rennes.jsonld").json()
    assert document["@context"] == f"{live_server.url}/context.jsonld"
    nodes = {node["id"]: node for node in document["@graph"]}
    rennes = nodes[f"{BASE}id/facility/chu-rennes"]
    assert rennes["label"]["fr"] == "Centre hospitalier universitaire de Rennes"
    assert rennes["address"] == f"{BASE}id/facility/chu-rennes#address"
    assert "label" in terms and "target" in terms
    # the compact keys are the context's terms, not full IRIs
    assert not any(key.startswith("http") for key in rennes)


def test_every_property_of_the_ontology_has_a_term_in_the_context() -> None:
    """A property left out comes back as a full IRI among compact keys (sc:hedged did)."""
    ontology = Graph().parse(ROOT / "ontology" / "santecyber.ttl")
    ours = {
        str(prop).removeprefix(str(SC))
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty)
        for prop in ontology.subjects(RDF.type, kind)
        if str(prop).startswith(str(SC))
    }
    assert len(ours) > 40 and ours <= set(JSONLD_CONTEXT), ours - set(JSONLD_CONTEXT)


def test_ontology_vocabularies_and_graphs_dereference(
    live_server: LiveServer, store: ox.Store
) -> None:
    with live_server.client() as client:
        ontology = Graph().parse(data=client.get("/ontology.ttl").content, format="turtle")
        attack_class = URIRef(f"{BASE}ontology#Attack")
        assert (attack_class, RDF.type, None) in ontology
        assert (attack_class, RDFS.label, None) in ontology
        scheme = Graph().parse(data=client.get("/vocab/attack-kind.ttl").content)
        concept = URIRef(f"{BASE}vocab/attack-kind/ransomware")
        assert (concept, None, URIRef(f"{BASE}vocab/attack-kind")) in scheme
        concept_page = client.get("/vocab/attack-kind/ransomware", headers={"Accept": "text/html"})
        assert concept_page.status_code == 200
        graph_iri = f"{BASE}graph/source/rfi-2022-12-versailles"
        trig = client.get("/graph/source/rfi-2022-12-versailles.trig")
        assert trig.status_code == 200
        got = parse(trig.content, "trig")
        expected = list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))
        named = got.graph(URIRef(graph_iri))
        assert len(named) == len(expected) > 50


# --- the examples of docs/linked-data.md, run as written ----------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "linked-data.md"
DOC_HOST = "http://127.0.0.1:8000"


def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_doc_examples_run(live_server: LiveServer, store: ox.Store) -> None:
    commands = [
        line
        for block in doc_blocks("console")
        for line in block.splitlines()
        if line.startswith("curl ")
    ]
    assert len(commands) == 3
    formats = ["turtle", "trig", "json-ld"]
    for command, rdflib_format in zip(commands, formats, strict=True):
        arguments = [a.replace(DOC_HOST, live_server.url) for a in shlex.split(command)]
        done = subprocess.run(["curl", "-sf", *arguments[1:]], capture_output=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)
        assert len(parse(done.stdout, rdflib_format)) > 0
    namespace: dict[str, object] = {}
    for block in doc_blocks("python"):
        exec(block.replace(DOC_HOST, live_server.url), namespace)
    attack = f"{BASE}id/attack/2022-08-corbeil-essonnes"
    expected = {
        (q.object.value, q.graph_name.value)
        for q in store.quads_for_pattern(
            ox.NamedNode(attack), ox.NamedNode("http://schema.org/startDate"), None, None
        )
    }
    assert namespace["claims"] == expected and len(expected) == 2


# --- VoID and dumps -------------------------------------------------------------------------


def test_void_describes_graphs_endpoint_dumps_and_licence(
    live_server: LiveServer, store: ox.Store
) -> None:
    with live_server.client() as client:
        for path in ("/void", "/.well-known/void"):
            response = client.get(path, headers={"Accept": "text/turtle"})
            assert response.status_code == 200
            void = Graph().parse(data=response.content, format="turtle")
            dataset = URIRef(BASE + "void#santecyber")
            endpoint = URIRef(live_server.url + "/sparql")
            assert (dataset, URIRef(VOID + "sparqlEndpoint"), endpoint) in void
            assert (
                dataset,
                URIRef("http://purl.org/dc/terms/license"),
                URIRef("https://creativecommons.org/licenses/by/4.0/"),
            ) in void
            counts = {}
            for subset in void.objects(dataset, URIRef(VOID + "subset")):
                name = void.value(
                    subset, URIRef("http://www.w3.org/ns/sparql-service-description#name")
                )
                counts[str(name)] = int(void.value(subset, URIRef(VOID + "triples")))
            expected: dict[str, int] = {}
            for quad in store.quads_for_pattern(None, None, None, None):
                expected[quad.graph_name.value] = expected.get(quad.graph_name.value, 0) + 1
            assert counts == expected
            distinct = {q.triple for q in store.quads_for_pattern(None, None, None, None)}
            assert int(void.value(dataset, URIRef(VOID + "triples"))) == len(distinct)
            sources = set(void.objects(dataset, URIRef("http://purl.org/dc/terms/source")))
            assert URIRef(BASE + "id/source/rfi-2022-12-versailles") in sources
            dumps = list(void.objects(dataset, URIRef(VOID + "dataDump")))
            assert URIRef(live_server.url + "/dumps/santecyber.nq.gz") in dumps
            for dump in dumps:
                assert client.head(str(dump)).status_code == 200
        html = client.get("/void", headers={"Accept": "text/html"}, params={"lang": "en"})
        assert html.status_code == 200 and "CC BY 4.0" in html.text
        # the page's count is void:triples, not the sum over graphs (a fact two sources state)
        assert f"<dt>Statements</dt><dd>{len(distinct)}</dd>" in html.text
        assert len(distinct) < sum(expected.values())


def test_dumps_are_listed_with_size_and_sha256(
    live_server: LiveServer, built: BuildDirectory
) -> None:
    with live_server.client() as client:
        index = client.get("/dumps/index.json").json()
        assert index["version"] == built.current_version()
        files = {entry["file"]: entry for entry in index["files"]}
        assert "santecyber.nq.gz" in files
        graphs = set()
        for name, entry in files.items():
            response = client.get(f"/dumps/{name}")
            assert response.status_code == 200
            assert len(response.content) == entry["size"]
            assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
            if name.endswith(".ttl"):
                graph = Graph().parse(data=response.content, format="turtle")
                assert len(graph) == entry["statements"]
                graphs.add(entry["graph"])
        whole = client.get("/dumps/santecyber.nq.gz").content
        assert gzip.decompress(whole) == built.dump.read_bytes()
        assert BASE + "graph/source/rfi-2022-12-versailles" in graphs
        page = client.get("/dumps/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "santecyber.nq.gz" in page.text
        xhtml = client.get("/dumps/", headers={"Accept": "application/xhtml+xml"})
        assert xhtml.status_code == 200 and xhtml.text == page.text
        listing = client.get("/dumps/", headers={"Accept": "application/json"})
        assert listing.json() == index
        # what scripts send (curl, requests, httpx: */*; urllib: nothing) gets the index too
        bare = client.build_request("GET", "/dumps/")
        del bare.headers["accept"]  # httpx sends */* unless told otherwise
        for script in (client.get("/dumps/", headers={"Accept": "*/*"}), client.send(bare)):
            assert script.headers["content-type"] == "application/json"
            assert script.json() == index
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        assert client.get("/dumps/", headers={"Accept": browser}).text == page.text


def varies_on(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",")}


def test_the_dumps_page_says_it_varies_by_language(live_server: LiveServer) -> None:
    """Its HTML is French or English by Accept-Language: shared caches must be told (Vary)."""
    with live_server.client() as client:
        for lang in ("en", "fr"):
            page = client.get("/dumps/", headers={"Accept": "text/html", "Accept-Language": lang})
            assert page.status_code == 200
            assert f'<html lang="{lang}">' in page.text
            assert page.headers["content-language"] == lang
            assert {"accept", "accept-language"} <= varies_on(page)
        listing = client.get("/dumps/", headers={"Accept": "application/json"})
    assert listing.status_code == 200 and listing.json()["files"]
    assert {"accept", "accept-language"} <= varies_on(listing)


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [("en-GB;q=0", "fr"), ("en-GB;q=0, fr;q=0.1", "fr"), ("fr;q=0", "en"), ("fr;q=0, de", "en")],
)
def test_a_language_refused_with_q_0_is_not_served(
    live_server: LiveServer, accept_language: str, lang: str
) -> None:
    """q=0 means "not this one" (RFC 9110 12.4.2), not the last choice."""
    with live_server.client() as client:
        headers = {"Accept": "text/html", "Accept-Language": accept_language}
        page = client.get("/dumps/", headers=headers)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text


@pytest.mark.parametrize(
    "path", ["/", "/sparql", "/id/facility/", "/id/facility/chu-rennes", "/dumps/"]
)
def test_lang_is_one_of_ours_in_any_case_and_given_once(live_server: LiveServer, path: str) -> None:
    """The query page (at / and /sparql) and the linked-data pages read ?lang= alike; a bad
    one is named, with the security headers (/sparql was a bare 500 when it skipped the
    app's exception handlers)."""
    html = {"Accept": "text/html"}
    with live_server.client() as client:
        upper = client.get(path, params={"lang": "EN"}, headers=html)
        unknown = client.get(path, params={"lang": "de"}, headers=html)
        twice = client.get(f"{path}?lang=en&lang=fr", headers=html)
    assert upper.status_code == 200 and '<html lang="en">' in upper.text
    assert unknown.status_code == 400 and "'de' is not one of fr, en" in unknown.text
    assert twice.status_code == 400 and "more than once" in twice.text
    assert "content-security-policy" in unknown.headers
    # in the format of the errors of what was asked for: the endpoint's JSON, or plain text
    if path in ("/", "/sparql"):
        assert unknown.json() == {
            "error": "parameter 'lang': 'de' is not one of fr, en",
            "status": 400,
        }
    else:
        assert unknown.headers["content-type"].startswith("text/plain")
        assert unknown.text == "400 Bad Request: parameter 'lang': 'de' is not one of fr, en\n"


#: files served as they are on disk, each with an ETag
FILES = (
    "/dumps/santecyber.nq.gz",
    "/dumps/graph-reference-ontology.ttl",
    "/static/site.css",
    "/static/query.css",
    "/static/query.js",
)


def test_static_serves_only_the_pages_own_files(live_server: LiveServer) -> None:
    """Styles and script with their types; nothing else of the folder or beside it."""
    with live_server.client() as client:
        script = client.get("/static/query.js")
        style = client.get("/static/query.css")
        missing = [client.get(f"/static/{name}") for name in ("nope.js", "query", "__init__.py")]
    assert script.status_code == style.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert [r.status_code for r in missing] == [404, 404, 404]


@pytest.mark.parametrize("path", FILES)
def test_files_answer_if_none_match_with_304(live_server: LiveServer, path: str) -> None:
    """RFC 9110 13.1.2: an origin server must evaluate If-None-Match; a match (or *) is 304."""
    with live_server.client() as client:
        first = client.get(path)
        etag = first.headers["etag"]
        assert first.status_code == 200 and first.content
        for wanted in (etag, "*", f'"other", {etag}', "W/" + etag.removeprefix("W/")):
            for method in ("GET", "HEAD"):
                again = client.request(method, path, headers={"If-None-Match": wanted})
                assert again.status_code == 304, (method, wanted)
                assert again.content == b""
                assert again.headers["etag"] == etag
                assert again.headers.get("content-length", "0") == "0"
        other = client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.content == first.content


@pytest.mark.parametrize("path", FILES)
def test_a_range_in_an_unknown_unit_is_ignored(live_server: LiveServer, path: str) -> None:
    """RFC 9110 14.2: a Range in a unit the server does not know must be ignored (200, all)."""
    identity = {"Accept-Encoding": "identity"}
    with live_server.client() as client:
        whole = client.get(path, headers=identity).content
        for unit in ("items=0-5", "lines=1-2", "Items=0-5"):
            response = client.get(path, headers={**identity, "Range": unit})
            assert response.status_code == 200, unit
            assert response.content == whole
            assert "content-range" not in response.headers
        for unit in ("bytes=0-9", "BYTES=0-9"):  # unit names are case-insensitive
            part = client.get(path, headers={**identity, "Range": unit})
            assert part.status_code == 206, unit
            assert part.content == whole[:10]
            assert part.headers["content-range"] == f"bytes 0-9/{len(whole)}"


def test_dumps_cannot_reach_other_files(live_server: LiveServer) -> None:
    with live_server.client() as client:
        for raw in (
            "/dumps/..%2FCURRENT",
            "/dumps/%2E%2E%2Fsantecyber.nq",
            "/dumps/..%2F..%2F..%2Fetc%2Fpasswd",
            "/dumps/index.json%00",
            "/dumps/.index.json.tmp",
        ):
            response = client.get(httpx.URL(live_server.url + raw))
            assert response.status_code == 404, raw
            assert b"root:" not in response.content


# --- a tiny build of our own: redirects and hostile labels ----------------------------------

HOSTILE = '<script>alert("owned")</script>'


def evil_nquads() -> bytes:
    """A tiny graph whose labels try to inject markup into the pages."""
    org = ox.NamedNode(f"{BASE}graph/reference/organisations")
    source = ox.NamedNode(f"{BASE}graph/source/evil")
    facility = ox.NamedNode(f"{BASE}id/facility/evil")
    attack = ox.NamedNode(f"{BASE}id/attack/2020-01-evil")
    label, kind = ox.NamedNode(str(RDFS.label)), ox.NamedNode(str(RDF.type))
    quads = [
        ox.Quad(facility, kind, ox.NamedNode(f"{BASE}ontology#CareFacility"), org),
        ox.Quad(facility, label, ox.Literal(HOSTILE, language="fr"), org),
        ox.Quad(
            facility, label, ox.Literal("Evil </script><script>alert(1)//", language="en"), org
        ),
        ox.Quad(
            facility,
            ox.NamedNode("http://schema.org/description"),
            ox.Literal("<img src=x onerror=alert(2)>", language="fr"),
            org,
        ),
        ox.Quad(attack, kind, ox.NamedNode(f"{BASE}ontology#Attack"), source),
        ox.Quad(attack, label, ox.Literal("<b>bold</b> attack", language="fr"), source),
        ox.Quad(attack, ox.NamedNode(f"{BASE}ontology#target"), facility, source),
        ox.Quad(
            attack,
            ox.NamedNode("http://schema.org/startDate"),
            ox.Literal("2020-01", datatype=ox.NamedNode(f"{XSD}gYearMonth")),
            source,
        ),
    ]
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("tiny-build")
    data = tmp_path_factory.mktemp("tiny-data")
    (data / "redirects.yaml").write_text(
        "id/facility/old-evil: id/facility/evil\n"
        f"{BASE}id/attack/2020-01-renamed: {BASE}id/attack/2020-01-evil\n",
        encoding="utf-8",
    )
    nquads = evil_nquads()
    directory = BuildDirectory(root)
    directory.write_store("tiny", nquads)
    directory.publish("tiny", nquads)
    write_dumps(directory, nquads, load_redirects(data / "redirects.yaml"))
    server = start_server(root, root / "server.log")
    yield server
    stop_server(server)


def test_the_ontology_version_iri_leads_to_the_ontology(
    live_server: LiveServer, store: ox.Store
) -> None:
    """owl:versionIRI names the ontology at that version: while it is the current one, its
    IRI is a 302 to the ontology's document (it held one statement before)."""
    query = "SELECT ?o ?v WHERE { GRAPH ?g { ?o owl:versionIRI ?v } }"
    rows = list(store.query(query, prefixes=PREFIXES))
    assert len(rows) == 1
    ontology, version = rows[0]["o"].value, rows[0]["v"].value
    with live_server.client() as client:
        for suffix in ("", ".ttl"):
            moved = client.get(path_of(version) + suffix, params={"lang": "en"})
            assert moved.status_code == 302, moved.text
            assert moved.headers["location"] == f"{path_of(ontology)}{suffix}?lang=en"
        document = client.get(path_of(version) + ".ttl", follow_redirects=True)
        graph = Graph().parse(data=document.content, format="turtle")
        assert (URIRef(ontology), OWL.versionIRI, URIRef(version)) in graph
        assert len(graph) > 100  # the whole ontology, not one statement
        assert client.get(path_of(ontology) + "/9.9.9").status_code == 404


def test_redirects_table_gives_301(tiny_server: LiveServer) -> None:
    with tiny_server.client() as client:
        response = client.get("/id/facility/old-evil", headers={"Accept": "text/turtle"})
        assert response.status_code == 301
        assert response.headers["location"] == "/id/facility/evil"
        with_extension = client.get("/id/attack/2020-01-renamed.nt")
        assert with_extension.status_code == 301
        assert with_extension.headers["location"] == "/id/attack/2020-01-evil.nt"
        followed = client.get("/id/facility/old-evil.ttl", follow_redirects=True)
        assert followed.status_code == 200
        assert f"<{BASE}id/facility/evil>".encode() in followed.content


def test_labels_are_escaped_in_html(tiny_server: LiveServer) -> None:
    with tiny_server.client() as client:
        pages = [
            client.get(path, headers={"Accept": "text/html", "Accept-Language": lang})
            for path in ("/id/facility/evil", "/id/attack/2020-01-evil", "/id/", "/id/facility/")
            for lang in ("fr", "en")
        ]
    for page in pages:
        assert page.status_code == 200
        body = page.text
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "<b>bold</b>" not in body
        # one script element per page: the schema.org JSON-LD, whose text cannot close it
        assert body.count("<script") == body.count('<script type="application/ld+json">') <= 1
    facility_fr = pages[0].text
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in facility_fr
    start = facility_fr.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    embedded = json.loads(facility_fr[start : facility_fr.index("</script>", start)])
    assert embedded["name"] == HOSTILE
    assert "</script" not in facility_fr[start : facility_fr.index("</script>", start)].lower()


def tiny_build(root: Path, crowd: int = 0) -> Path:
    """The hostile graph, plus ``crowd`` attacks targeting its facility (to make work)."""
    nquads = evil_nquads()
    if crowd:
        facility = f"<{BASE}id/facility/evil>"
        target = f"<{BASE}ontology#target>"
        graph = f"<{BASE}graph/source/evil>"
        nquads += "".join(
            f"<{BASE}id/attack/crowd-{n}> {target} {facility} {graph} .\n" for n in range(crowd)
        ).encode()
    directory = BuildDirectory(root)
    directory.write_store("tiny", nquads)
    directory.publish("tiny", nquads)
    write_dumps(directory, nquads)
    return root


def test_a_new_build_brings_its_redirects_and_pages_without_restart(tmp_path: Path) -> None:
    root = tiny_build(tmp_path / "build")
    server = start_server(root, tmp_path / "server.log")
    try:
        with server.client() as client:
            assert client.get("/id/facility/older-evil").status_code == 404
            assert client.get("/id/facility/newcomer.nt").status_code == 404
            newcomer = (
                f'<{BASE}id/facility/newcomer> <{RDFS.label}> "Newcomer"@en'
                f" <{BASE}graph/reference/organisations> .\n"
            )
            nquads = evil_nquads() + newcomer.encode()
            data = tmp_path / "data"
            data.mkdir()
            (data / "redirects.yaml").write_text("id/facility/older-evil: id/facility/evil\n")
            directory = BuildDirectory(root)
            directory.write_store("tiny-2", nquads)
            directory.publish("tiny-2", nquads)
            write_dumps(directory, nquads, load_redirects(data / "redirects.yaml"))
            moved = client.get("/id/facility/older-evil")
            assert moved.status_code == 301
            assert moved.headers["location"] == "/id/facility/evil"
            assert client.get("/id/facility/newcomer.nt").status_code == 200
            assert client.get("/dumps/index.json").json()["version"] == "tiny-2"
            # a build that only changes the redirects keeps the data version
            (data / "redirects.yaml").write_text("id/facility/eldest-evil: id/facility/evil\n")
            write_dumps(directory, nquads, load_redirects(data / "redirects.yaml"))
            assert client.get("/id/facility/eldest-evil").status_code == 301
            assert client.get("/id/facility/older-evil").status_code == 404
    finally:
        stop_server(server)


@pytest.mark.browser
def test_hostile_labels_stay_text_in_chromium(tiny_server: LiveServer) -> None:
    browser.require_chromium()
    rendered = browser.dump_dom(f"{tiny_server.url}/id/facility/evil.html?lang=en")
    assert "<img" not in rendered
    assert rendered.count("<script") == 1  # the JSON-LD only
    assert "Evil &lt;/script&gt;&lt;script&gt;alert(1)//" in rendered


def test_limits_of_the_store_are_reported_not_500(tmp_path: Path) -> None:
    """A description cut by the result limit says so; a query over its time limit is 503."""
    root = tiny_build(tmp_path / "build", crowd=200_000)
    cut = start_server(root, tmp_path / "cut.log", {"SANTECYBER_MAX_RESULTS": "3"})
    try:
        with cut.client() as client:
            response = client.get("/id/facility/evil.nt")
        assert response.status_code == 200
        assert response.headers["x-santecyber-truncated"] == "true"
    finally:
        stop_server(cut)
    # the smallest time limit allowed, for queries over 200,000 statements
    slow = start_server(root, tmp_path / "slow.log", {"SANTECYBER_QUERY_TIMEOUT": "0.001"})
    try:
        with slow.client() as client:
            for path in ("/id/facility/evil", "/void"):
                response = client.get(path, headers={"Accept": "text/html"})
                assert response.status_code == 503, path
                assert response.headers["retry-after"]
    finally:
        stop_server(slow)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/id/facility/chu-rennes", {"Accept": "text/turtle;q=abc, */*;q=nan"}),
        ("/id/facility/chu-rennes", {"Accept": ",,;;,"}),
        ("/id/facility/chu-rennes", {"Accept-Language": "*;q=x, ;;"}),
        ("/id/facility/chu-rennes?lang=%3Cscript%3E", {"Accept": "text/html"}),
        ("/id/facility/chu-rennes.ttl.ttl", {}),
        ("/id/facility/chu-rennes.", {}),
        ("/id/facility/%C3%A9t%C3%A9", {"Accept": "text/html"}),
        ("/id/%00", {}),
        ("/id/" + "a" * 5000, {}),
        ("/ontologyX", {}),
        ("/ontology.", {}),
        ("/vocab/", {}),
        ("/graph/", {"Accept": "text/html"}),
        ("/void.exe", {}),
        ("/dumps/%2e%2e", {}),
        ("/id/attack/", {"Accept-Language": "zz"}),
    ],
)
def test_odd_requests_get_a_clear_answer(live_server: LiveServer, path: str, headers: dict) -> None:
    with live_server.client() as client:
        response = client.get(httpx.URL(live_server.url + path), headers=headers)
    assert response.status_code < 500, (path, response.status_code, response.text[:200])


def test_redirects_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "redirects.yaml"
    bad.write_text("id/facility/a: https://example.org/elsewhere\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"redirects\.yaml"):
        load_redirects(bad)
    bad.write_text("id/facility/a: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"redirects\.yaml:"):
        load_redirects(bad)
    good = tmp_path / "good.yaml"
    good.write_text(f"{BASE}id/facility/a: id/facility/b\n", encoding="utf-8")
    assert load_redirects(good) == {"id/facility/a": "id/facility/b"}
    assert load_redirects(tmp_path / "absent.yaml") == {}
