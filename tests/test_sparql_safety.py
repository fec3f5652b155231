"""Safe by default: read-only, no federation, time limits that free the worker, caps and limits.

A second server runs with small limits set through SANTECYBER_* variables, so each limit is
reached by an ordinary query against the real build.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, free_port, query_workers, start_server, stop_server

from santecyber.query_policy import MAX_NESTING
from santecyber.sparql import run_query

TIMEOUT = 3
MAX_RESULTS = 5
MAX_QUERY_LENGTH = 400
MAX_BODY_BYTES = 2000
MAX_ANSWER_BYTES = 4000
#: a cross join of the whole store with itself four times: never finishes on its own
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ATTACKS = "SELECT ?a WHERE { ?a a sc:Attack } ORDER BY ?a"
SPARQL_QUERY = {"Content-Type": "application/sparql-query"}
REMOTE_ANSWER = {
    "head": {"vars": ["x"]},
    "results": {"bindings": [{"x": {"type": "literal", "value": "from afar"}}]},
}


@pytest.fixture(scope="module")
def limited(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SANTECYBER_QUERY_TIMEOUT": str(TIMEOUT),
        "SANTECYBER_QUERY_WORKERS": "2",
        "SANTECYBER_MAX_RESULTS": str(MAX_RESULTS),
        "SANTECYBER_MAX_QUERY_LENGTH": str(MAX_QUERY_LENGTH),
        "SANTECYBER_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "SANTECYBER_MAX_ANSWER_BYTES": str(MAX_ANSWER_BYTES),
    }
    log = tmp_path_factory.mktemp("limited") / "server.log"
    server = start_server(built.root, log, env)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def store(built):
    store, _ = built.open_current()
    return store


@pytest.fixture()
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request: proof that nothing called out."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = json.dumps(REMOTE_ANSWER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def rows(response: httpx.Response) -> list[dict[str, str]]:
    data = json.loads(response.content)
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


def attack_count(store) -> int:
    result = run_query(store, "SELECT (COUNT(?a) AS ?n) WHERE { ?a a sc:Attack }")
    return int(next(iter(result.value))["n"].value)


# no federation, no updates


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        "select * where {{ service silent <{url}/sparql> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ VALUES ?e {{ <{url}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        "ASK {{ ?a a sc:Attack OPTIONAL {{ SERVICE <{url}/x> {{ ?a ?p ?o }} }} }}",
        # an escaped '#' or quote in a prefixed name opens no comment or string
        r"SELECT * {{ OPTIONAL {{ ?s id:x\#y ?o }} SERVICE <{url}/x> {{ ?a ?b ?c }} }}",
        r"SELECT * {{ OPTIONAL {{ ?s id:x\'y ?o }} SERVICE <{url}/x> {{ ?a ?b ?c }} }} # '",
        # a comment ends at \r too; a long string may hold an escaped quote
        "SELECT * {{ # note\rSERVICE <{url}/x> {{ ?a ?b ?c }} }}",
        r"SELECT * {{ BIND('''a\'''' AS ?x) SERVICE <{url}/x> {{ ?a ?b ?c }} }} #'",
        r'SELECT * {{ BIND("""a\"""" AS ?x) SERVICE <{url}/x> {{ ?a ?b ?c }} }} #"',
        # '<' as less-than, then a string: the lexer reads an IRI and misses SERVICE, so
        # the check before the run (pyoxigraph's own parser) is what refuses it
        "SELECT * {{ ?s ?p ?o FILTER(?o<'x>' ) SERVICE <{url}/x> {{ ?a ?b ?c }} }} #'",
    ],
)
def test_service_is_refused_before_any_request_goes_out(live_server, listener, template):
    url, seen = listener
    query = template.format(url=url)
    with live_server.client() as client:
        response = client.post("/sparql", data={"query": query})
    assert response.status_code == 403
    assert "SERVICE" in response.json()["error"]
    assert seen == []


def test_the_word_service_in_strings_iris_names_and_comments_is_fine(live_server):
    query = (
        "PREFIX service: <http://example.org/> "
        'SELECT ?x ?service WHERE { BIND("SERVICE <x:y>" AS ?x) BIND(service:a AS ?service) '
        "FILTER(?x != <http://example.org/SERVICE>) "
        # names that end in the word: concepts of our own vocabulary do
        "OPTIONAL { ?x sc:police-service ?y } OPTIONAL { ?x service:a.service ?z } "
        "} # SERVICE <x:z>"
    )
    broken = [
        'ASK { ?s ?p "service" FILTER(?s = ) }',
        "ASK { ?s sc:police-service ?o . ?o nosuch:p ?z }",  # an undeclared prefix after it
    ]
    with live_server.client() as client:
        response = client.get("/sparql", params={"query": query})
        errors = [client.get("/sparql", params={"query": text}) for text in broken]
        plain = [
            client.get("/sparql", params={"query": text.replace("service", "cabinet")})
            for text in broken
        ]
    assert response.status_code == 200, response.text
    assert rows(response) == [{"x": "SERVICE <x:y>", "service": "http://example.org/a"}]
    # an error after the word is reported as without it: same place, same words
    for text, error, without in zip(broken, errors, plain, strict=True):
        assert (error.status_code, without.status_code) == (400, 400), error.text
        assert error.json() == without.json() and error.json()["column"] > text.index("service")


@pytest.mark.parametrize(
    "template",
    [
        "LOAD <{url}/data.ttl>",
        "LOAD SILENT <{url}/data.ttl> INTO GRAPH <x:g>",
        "PREFIX ex: <x:> LOAD <{url}/data.ttl>",
    ],
)
def test_load_is_refused_and_fetches_nothing(live_server, listener, template):
    url, seen = listener
    update = template.format(url=url)
    with live_server.client() as client:
        as_query = client.post("/sparql", data={"query": update})
        as_update = client.post("/sparql", data={"update": update})
        as_update_body = client.post(
            "/sparql", content=update, headers={"Content-Type": "application/sparql-update"}
        )
    for response in (as_query, as_update, as_update_body):
        assert response.status_code == 403
        assert "read-only" in response.json()["error"]
    assert seen == []


def test_updates_change_nothing(live_server, store):
    before = attack_count(store)
    with live_server.client() as client:
        insert = client.post(
            "/sparql",
            data={"query": "INSERT DATA { <http://example.org/x> a sc:Attack }"},
        )
        delete = client.post("/sparql", data={"update": "DELETE WHERE { ?a a sc:Attack }"})
        after = client.get(
            "/sparql", params={"query": "SELECT (COUNT(?a) AS ?n) WHERE { ?a a sc:Attack }"}
        )
    assert (insert.status_code, delete.status_code) == (403, 403)
    assert rows(after) == [{"n": str(before)}]


def test_workers_are_off_the_network_unless_they_need_it(live_server, built, listener, tmp_path):
    """The last line of defence after the query checks: a worker of the embedded store with
    no allow-list lives in a network namespace whose only interface is its own loopback, so
    no query could reach any host. With an allow-list, workers stay on the network."""
    if os.geteuid() != 0:
        pytest.skip("checking another process's namespaces needs root")
    url, _ = listener
    server_net = os.readlink(f"/proc/{live_server.process.pid}/ns/net")
    workers = query_workers(live_server)
    assert workers
    for pid in workers:
        assert os.readlink(f"/proc/{pid}/ns/net") != server_net
        interfaces = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
        assert [line.split(":")[0].strip() for line in interfaces] == ["lo"]
    env = {"SANTECYBER_SERVICE_ALLOWLIST": f"{url}/sparql", "SANTECYBER_QUERY_WORKERS": "1"}
    federating = start_server(built.root, tmp_path / "server.log", env)
    try:
        online = query_workers(federating)
        assert online
        assert {os.readlink(f"/proc/{pid}/ns/net") for pid in online} == {server_net}
    finally:
        stop_server(federating)


def test_an_operator_can_allow_listed_service_endpoints(built, listener, tmp_path):
    url, seen = listener
    allowed = f"{url}/sparql"
    down = f"http://127.0.0.1:{free_port()}/sparql"  # listed, but nothing answers there
    env = {"SANTECYBER_SERVICE_ALLOWLIST": f"{allowed} {down} https://example.org/other"}
    server = start_server(built.root, tmp_path / "server.log", env)
    try:
        with server.client() as client:
            listed = client.post(
                "/sparql",
                data={"query": f"SELECT ?x WHERE {{ SERVICE <{allowed}> {{ ?x ?p ?o }} }}"},
            )
            unlisted = client.post(
                "/sparql",
                data={"query": f"SELECT ?x WHERE {{ SERVICE <{url}/else> {{ ?x ?p ?o }} }}"},
            )
            variable = client.post(
                "/sparql",
                data={"query": f"SELECT * {{ BIND(<{allowed}> AS ?e) SERVICE ?e {{ ?x ?p ?o }} }}"},
            )
            # a second, unlisted SERVICE that the lexer misses ('<' read as an IRI)
            hidden = client.post(
                "/sparql",
                data={
                    "query": f"SELECT * {{ SERVICE <{allowed}> {{ ?x ?p ?o }} "
                    f"FILTER(?x<'x>' ) SERVICE <{url}/else> {{ ?x ?p ?o }} }} #'"
                },
            )
            unreachable = client.post(
                "/sparql", data={"query": f"SELECT ?x WHERE {{ SERVICE <{down}> {{ ?x ?p ?o }} }}"}
            )
            description = client.get("/sparql", headers={"Accept": "text/turtle"})
    finally:
        stop_server(server)
    assert hidden.status_code == 403, hidden.text
    # the endpoint's fault, not the query's nor the format's: a bad gateway
    assert unreachable.status_code == 502, unreachable.text
    assert "refused" in unreachable.json()["error"].lower()
    assert listed.status_code == 200, listed.text
    assert rows(listed) == [{"x": "from afar"}]
    assert (unlisted.status_code, variable.status_code) == (403, 403)
    assert "allow-list" in unlisted.json()["error"]
    assert seen == ["/sparql"]  # one call, for the listed endpoint only
    assert "BasicFederatedQuery" in description.text


# time limit: the worker is killed and replaced, cheap queries keep flowing


def test_heavy_query_never_blocks_cheap_ones(limited, store):
    events: list[tuple[str, httpx.Response]] = []
    lock = threading.Lock()
    started = threading.Event()

    def heavy() -> None:
        started.set()
        response = httpx.post(limited.url + "/sparql", data={"query": HEAVY}, timeout=60)
        with lock:
            events.append(("heavy", response))

    thread = threading.Thread(target=heavy)
    thread.start()
    started.wait()
    threading.Event().wait(0.5)  # sequencing only: let the heavy query reach its worker
    expected = attack_count(store)
    with limited.client() as client:
        for limit in range(1, 6):  # distinct queries: none is answered from the cache
            query = f"SELECT (COUNT(?a) AS ?n) WHERE {{ ?a a sc:Attack }} LIMIT {limit}"
            response = client.get("/sparql", params={"query": query})
            with lock:
                events.append(("cheap", response))
    thread.join(60)
    assert [name for name, _ in events] == ["cheap"] * 5 + ["heavy"]
    for _, response in events[:5]:
        assert response.status_code == 200 and rows(response) == [{"n": str(expected)}]
    heavy_response = events[-1][1]
    assert heavy_response.status_code == 503
    body = heavy_response.json()
    assert "time limit" in body["error"] and body["timeout_seconds"] == TIMEOUT
    with limited.client() as client:
        after = client.get("/sparql", params={"query": ATTACKS})
    assert after.status_code == 200 and len(rows(after)) == min(expected, MAX_RESULTS)


def test_killed_workers_are_replaced(limited, store):
    """Both workers time out at once; if they were not replaced nothing would answer after."""
    responses: list[httpx.Response] = []

    def heavy(variant: int) -> None:
        query = HEAVY + f" # variant {variant}"
        responses.append(httpx.post(limited.url + "/sparql", data={"query": query}, timeout=60))

    threads = [threading.Thread(target=heavy, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status_code for r in responses] == [503, 503]
    with limited.client() as client:
        for _ in range(3):
            answer = client.get(
                "/sparql", params={"query": "ASK { ?a a sc:Attack }", "format": "json"}
            )
            assert answer.status_code == 200 and answer.json()["boolean"] is True
        again = client.post("/sparql", data={"query": HEAVY + " # variant 0"})
    assert again.status_code == 503  # a timeout is not cached as an answer, nor forgotten


def test_a_query_over_the_memory_cap_gets_503_and_the_worker_is_replaced(built, tmp_path):
    env = {"SANTECYBER_WORKER_MEMORY_MB": "1200", "SANTECYBER_QUERY_WORKERS": "1"}
    server = start_server(built.root, tmp_path / "server.log", env)
    hungry = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f ?a ?d"
    try:
        with server.client() as client:
            first = client.post("/sparql", data={"query": hungry, "format": "csv"})
            after = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
    finally:
        stop_server(server)
    assert first.status_code == 503
    assert "out of memory" in first.json()["error"]
    assert after.status_code == 200 and after.json()["boolean"] is True


def test_by_default_no_query_can_take_the_machines_memory(built, tmp_path):
    """A string doubled until it is larger than the machine's memory: with no setting, the
    worker's default cap (a share of that memory) stops it, and the server goes on."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    doublings = total.bit_length() + 1  # 2^doublings characters: more than all the memory
    steps = "".join(f" BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(doublings))
    query = f'SELECT (STRLEN(?a{doublings}) AS ?n) WHERE {{ BIND("x" AS ?a0){steps} }}'
    env = {"SANTECYBER_QUERY_WORKERS": "1", "SANTECYBER_QUERY_TIMEOUT": "120"}
    server = start_server(built.root, tmp_path / "server.log", env)
    try:
        with server.client() as client:
            greedy = client.get("/sparql", params={"query": query})
            after = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
    finally:
        stop_server(server)
    assert greedy.status_code == 503, greedy.text
    assert "memory" in greedy.json()["error"]
    assert after.status_code == 200 and after.json()["boolean"] is True


# result cap with an explicit signal


def test_select_beyond_the_cap_is_cut_and_flagged(limited, store):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 50"
    first = run_query(store, query.replace("LIMIT 50", f"LIMIT {MAX_RESULTS}"))
    expected = [{k: row[k].value for k in ("s", "p", "o")} for row in first.value]
    with limited.client() as client:
        as_json = client.get("/sparql", params={"query": query})
        as_csv = client.get("/sparql", params={"query": query, "format": "csv"})
    assert rows(as_json) == expected
    for response in (as_json, as_csv):
        assert response.headers["x-santecyber-truncated"] == "true"
        assert response.headers["x-santecyber-result-limit"] == str(MAX_RESULTS)
        assert "truncated" in response.headers["warning"]
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [dict(r) for r in table] == expected


def test_construct_beyond_the_cap_is_cut_and_flagged(limited):
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 50"
    with limited.client() as client:
        response = client.get("/sparql", params={"query": query, "format": "nt"})
    assert response.headers["x-santecyber-truncated"] == "true"
    assert len(response.text.strip().splitlines()) == MAX_RESULTS


def test_long_terms_are_cut_at_the_byte_cap_and_flagged(limited):
    """Fewer rows than the row cap, but strings long enough to pass the byte cap: the rows
    that fit are kept, whole, in a valid document, and the answer says it was cut."""
    text = "x" * 6 * 2**8  # doubled 8 times in the query (its length is capped at 400)
    steps = zip("abcdefgh", "bcdefghi", strict=True)
    doubled = "".join(f"BIND(CONCAT(?{a},?{a}) AS ?{b})" for a, b in steps)
    values = f'VALUES ?n {{1 2 3}} BIND("xxxxxx" AS ?a){doubled} BIND(CONCAT(STR(?n),?i) AS ?t)'
    fits = MAX_ANSWER_BYTES // len(f'"1{text}"\n')  # rows whose terms fit (TSV lines)
    assert fits < 3 <= MAX_RESULTS
    with limited.client() as client:
        rows_cut = client.post("/sparql", data={"query": f"SELECT ?t {{ {values} }}"})
        triples_cut = client.post(
            "/sparql",
            data={"query": f"CONSTRUCT {{ <x:s> <x:p> ?t }} WHERE {{ {values} }}", "format": "nt"},
        )
    assert [r["t"] for r in rows(rows_cut)] == [f"{n}{text}" for n in range(1, fits + 1)]
    assert len(triples_cut.text.strip().splitlines()) == fits
    for response in (rows_cut, triples_cut):
        assert response.headers["x-santecyber-truncated"] == "true"
        assert response.headers["x-santecyber-byte-limit"] == str(MAX_ANSWER_BYTES)


def test_answers_within_the_cap_carry_no_flag(limited, store):
    with limited.client() as client:
        small = client.get("/sparql", params={"query": ATTACKS + f" LIMIT {MAX_RESULTS}"})
        ask = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
    assert len(rows(small)) == min(MAX_RESULTS, attack_count(store))
    assert "x-santecyber-truncated" not in small.headers
    assert "x-santecyber-truncated" not in ask.headers


# sizes


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 3000 + "?s ?p ?o" + "}" * 3000,
        "SELECT (" + "(" * 5000 + "1" + ")" * 5000 + " AS ?x) {}",
    ],
    ids=["braces", "parentheses"],
)
def test_nesting_deep_enough_to_crash_the_parser_is_400_where_it_is(live_server, query):
    """pyoxigraph's parser overflowed its stack near 3,000 levels and took the worker down
    (503); the nesting is refused first, at the bracket one level too deep."""
    too_deep = [m.start() for m in re.finditer(r"[{(]", query)][MAX_NESTING]
    with live_server.client() as client:
        response = client.post("/sparql", content=query, headers=SPARQL_QUERY)
        shallow = client.get("/sparql", params={"query": "SELECT ?x {" * 50 + "}" * 50})
    assert response.status_code == 400, response.text
    assert str(MAX_NESTING) in response.json()["error"]
    assert (response.json()["line"], response.json()["column"]) == (1, too_deep + 1)
    assert shallow.status_code == 200, shallow.text


@pytest.mark.parametrize(
    "query",
    [
        "ASK { FILTER(1" + "+1" * 12_000 + " > 0) }",
        "ASK { FILTER(true" + " || true" * 12_000 + ") }",
    ],
    ids=["sum", "disjunction"],
)
def test_a_chain_that_crashes_the_parser_is_400_not_retry_later(live_server, query):
    """Flat chains have no brackets to count: pyoxigraph's parser runs out of stack on them
    and takes its worker down. That is no reason to try again later (503, Retry-After): the
    same query crashes the next worker too."""
    with live_server.client() as client:
        crashed = [client.post("/sparql", content=query, headers=SPARQL_QUERY) for _ in range(2)]
        after = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
    for response in crashed:
        assert response.status_code == 400, response.text
        assert "segmentation fault" in response.json()["error"]
        assert "retry-after" not in response.headers
    assert after.status_code == 200 and after.json()["boolean"] is True


def padded(length: int) -> str:
    base = "ASK { ?a a sc:Attack } #"
    return base + "x" * (length - len(base))


def test_query_length_limit(limited):
    with limited.client() as client:
        at_limit = client.get("/sparql", params={"query": padded(MAX_QUERY_LENGTH)})
        too_long_get = client.get("/sparql", params={"query": padded(MAX_QUERY_LENGTH + 1)})
        too_long_post = client.post(
            "/sparql",
            content=padded(MAX_QUERY_LENGTH + 1),
            headers=SPARQL_QUERY,
        )
    assert at_limit.status_code == 200 and at_limit.json()["boolean"] is True
    assert too_long_get.status_code == 414
    assert str(MAX_QUERY_LENGTH) in too_long_get.json()["error"]
    assert too_long_post.status_code == 413


def test_refusals_before_the_routes_are_readable_from_other_sites(limited):
    """414 and 413 come from the security middleware, outside CORS: they carry the header
    too, so a browser notebook sees the message rather than an opaque network error."""
    origin = {"Origin": "https://notebook.example"}
    with limited.client() as client:
        long_target = client.get("/sparql?query=" + "x" * 9000, headers=origin)
        big_body = client.post(
            "/sparql", content="ASK {} #" + "x" * MAX_BODY_BYTES, headers=SPARQL_QUERY | origin
        )
    assert (long_target.status_code, big_body.status_code) == (414, 413)
    for response in (long_target, big_body):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "exceeds" in response.json()["error"]


def test_body_size_limit(limited):
    with limited.client() as client:
        big_form = client.post(
            "/sparql", data={"query": "ASK {}", "named-graph-uri": "x:" + "g" * MAX_BODY_BYTES}
        )
        chunks = (b"ASK {} #" + b"x" * 500 for _ in range(10))  # no Content-Length: streamed
        streamed = client.post("/sparql", content=chunks, headers=SPARQL_QUERY)
    assert big_form.status_code == 413 and str(MAX_BODY_BYTES) in big_form.json()["error"]
    assert streamed.status_code == 413


# bad input: a clear 4xx naming the place, never a 500


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"query": "ASK {}", "default-graph-uri": "not an iri"}, 400, "default-graph-uri"),
        ({"query": "ASK {}", "named-graph-uri": "relative/graph"}, 400, "named-graph-uri"),
        ({"query": "SELECT ?x WHERE { ?x ?y ?z } GROUP BY"}, 400, "line 1"),
        ({"query": "CONSTRUCT { ?s ?p }"}, 400, "line 1"),
        ({"query": "ASK {}", "format": "application/x-unknown"}, 400, "parameter 'format'"),
        ({"query": "ASK {}", "format": "text/turtle"}, 406, "supported"),  # not for ASK
    ],
)
def test_bad_input_is_a_clear_4xx(live_server, params, status, words):
    with live_server.client() as client:
        response = client.get("/sparql", params=params)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_malformed_form_encoding_is_400(live_server):
    with live_server.client() as client:
        response = client.post(
            "/sparql",
            content=b"query=ASK%20%7B%7D%FF",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]
