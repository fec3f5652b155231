"""One-pattern queries are answered by the server itself; everything else by a worker.

The recogniser is checked on its own (what it must refuse matters most: any query that can
scan rows it does not return would escape the time limit), then on the live server: with
its only worker busy, a lookup is still answered, while any other query waits; answers
are the same whichever process gives them; an answer over the server's own small caps is
handed to a worker and comes back whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server

from santecyber.query_shape import MAX_CHARS, MAX_TOKENS, is_one_pattern, one_pattern
from santecyber.server.query_service import HERE_ROWS
from santecyber.sparql import run_query

ID = "https://w3id.org/santecyber/id/"
ATTACK = ID + "attack/2024-10-hospi-grand-ouest"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{ATTACK}> ?p ?o }}"
#: the same rows by a shape the recogniser does not take: a group in a group
LOOKUP_IN_WORKER = f"SELECT ?p ?o WHERE {{ {{ <{ATTACK}> ?p ?o }} }}"
#: a cross join of the whole store with itself four times: never finishes on its own
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
TIMEOUT = 4


@pytest.mark.parametrize(
    "query",
    [
        LOOKUP,
        "select * where { ?s ?p ?o . }",
        "SELECT ?s { ?s a sc:Attack } LIMIT 10",
        "PREFIX s: <http://schema.org/> BASE <https://e.org/> ASK { <x> s:name 'Dedalus'@fr }",
        'SELECT * { ?s ?p "2021"^^xsd:gYear }',
        'SELECT * { ?s ?p """two\nlines""" }',
        "SELECT * { ?s ?p -1.5e3 }",
        "SELECT * { ?s ?p true }",
        "CONSTRUCT WHERE { ?s sc:vendor ?v }",
        f"SELECT ?p ?o WHERE {{ <{ATTACK}> ?p ?o }}\n# request 12 }} . ?x ?y ?z {{\n",
        "SELECT ?s ?p ?o WHERE { ?s ?p 'a } { ?x ?y ?z' }",
    ],
)
def test_one_pattern_queries_are_recognised(query: str) -> None:
    assert is_one_pattern(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p ?o . ?o ?q ?r }",  # a join
        "SELECT * { ?s ?p ?o FILTER(?o = 1) }",  # rows scanned, none returned
        "SELECT * { ?s ?p ?s }",  # the same: a variable twice
        "SELECT * { ?s ?p $s }",
        "SELECT * { ?s ?p ?o } OFFSET 100000",
        "SELECT * { ?s ?p ?o } LIMIT 1 OFFSET 100000",
        "SELECT DISTINCT ?p { ?s ?p ?o }",
        "SELECT REDUCED ?p { ?s ?p ?o }",
        "SELECT * { ?s ?p ?o } ORDER BY ?o",
        "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        "SELECT ?s { ?s ?p ?o } GROUP BY ?s",
        "SELECT * FROM <https://e.org/g> { ?s ?p ?o }",
        "SELECT * { GRAPH ?g { ?s ?p ?o } }",
        "SELECT * { { ?s ?p ?o } }",
        "SELECT * { ?s sc:a/sc:b ?o }",  # a property path
        "SELECT * { ?s sc:a+ ?o }",
        "SELECT * { ?s ?p ?o } VALUES ?s { <x:a> }",
        "SELECT * { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }",
        "SELECT * { _:b ?p ?o }",  # a blank node is a variable too
        "SELECT * { << ?a ?b ?c >> ?p ?o }",
        "SELECT * { id:a\\#b ?p ?o }",  # an escape in a name: not read, so not taken
        "DESCRIBE <https://e.org/x>",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "ASK { ?s ?p ?o } LIMIT 1",
        "SELECT * { ?s ?p ?o }}",
        "SELECT * { ?s ?p ?o",
        "SELECT * { ?s ?p 'unterminated }",
        "SELECT * { ?s ?p ?o } # fine\n LIMIT x",
        "INSERT DATA { <x:s> <x:p> <x:o> }",
        "",
        # not read at all: longer, or more tokens, than a one-pattern query needs
        "SELECT * { ?s ?p ?o }" + " " * MAX_CHARS,
        "SELECT * { ?s ?p ?o }" + "\n#" * MAX_TOKENS,
        "SELECT * { " + "a." * 4000,  # each character read once, not once per token
        "SELECT * { ?s ?p ?o } LIMIT 9223372036854775808",  # pyoxigraph's error, from a worker
        # spaces and digits that Python's \s and \d take, SPARQL does not
        "SELECT * { ?s ?p ?o } LIMIT \u0663\u0660\u0660",
        "SELECT * { ?s ?p ?o } LIMIT \uff13",
        "SELECT * { ?s ?p ?o }\u00a0",
        "SELECT * { ?s ?p ?o }\u2003LIMIT\u20031",
        "CONSTRUCT WHERE { ?s ?p ?o }\x0c",
    ],
)
def test_anything_else_is_not(query: str) -> None:
    assert not is_one_pattern(query)


@pytest.mark.parametrize(
    ("query", "capped"),
    [
        ("SELECT ?x { ?s ?p ?o } # n", f"SELECT ?x {{ ?s ?p ?o }} LIMIT {HERE_ROWS + 1}"),
        ("SELECT * { ?s ?p ?o } limit 5000", f"SELECT * {{ ?s ?p ?o }} LIMIT {HERE_ROWS + 1}"),
        ("SELECT * { ?s ?p ?o } LIMIT 10", "SELECT * { ?s ?p ?o } LIMIT 10"),
        (
            "CONSTRUCT WHERE { ?s ?p ?o . }",
            f"CONSTRUCT WHERE {{ ?s ?p ?o . }} LIMIT {HERE_ROWS + 1}",
        ),
        ("ASK { ?s ?p ?o } # n", "ASK { ?s ?p ?o } # n"),
    ],
)
def test_the_server_asks_the_store_for_one_row_past_its_cap_at_most(query, capped):
    """Not only the answer is capped: the evaluation stops there (rows of unbound variables
    weigh a byte each, thousands of which fit the 8 KiB pyoxigraph writes at a time)."""
    found = one_pattern(query)
    assert found is not None and found.capped(query, HERE_ROWS + 1) == capped


@pytest.fixture(scope="module")
def one_worker(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SANTECYBER_QUERY_TIMEOUT": str(TIMEOUT), "SANTECYBER_QUERY_WORKERS": "1"}
    server = start_server(built.root, tmp_path_factory.mktemp("one") / "server.log", env)
    yield server
    stop_server(server)


def bindings(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    return sorted(({k: v["value"] for k, v in row.items()} for row in rows), key=str)


def test_lookups_are_answered_while_every_worker_is_busy(one_worker, built):
    """The heavy query holds the only worker until its time limit; a lookup sent after it is
    answered before it ends, a query of two patterns only after."""
    store, _ = built.open_current()
    expected = sorted(
        ({"p": r["p"].value, "o": r["o"].value} for r in run_query(store, LOOKUP).value), key=str
    )
    events: list[tuple[str, httpx.Response]] = []
    lock = threading.Lock()

    def send(name: str, query: str) -> None:
        response = httpx.post(one_worker.url + "/sparql", data={"query": query}, timeout=30)
        with lock:
            events.append((name, response))

    heavy = threading.Thread(target=send, args=("heavy", HEAVY))
    heavy.start()
    threading.Event().wait(0.5)  # sequencing only: let the heavy query reach the worker
    for number in range(3):  # distinct texts: none is answered from the cache
        send("lookup", LOOKUP + f" # {number}")
    # sent well before the limit, but not so early that it waits the limit for a worker
    threading.Event().wait(TIMEOUT / 2)
    joined = threading.Thread(target=send, args=("two patterns", LOOKUP_IN_WORKER))
    joined.start()
    heavy.join(30)
    joined.join(30)
    assert [name for name, _ in events] == ["lookup"] * 3 + ["heavy", "two patterns"]
    assert events[3][1].status_code == 503 and "time limit" in events[3][1].json()["error"]
    for _, response in events[:3] + events[4:]:
        assert bindings(response) == expected


@pytest.mark.parametrize("output", ["json", "xml", "csv", "tsv"])
def test_the_server_and_a_worker_give_the_same_answer(live_server, output):
    """Same rows, same document: the server runs the worker's own code (query_worker.answer)."""
    with live_server.client() as client:
        here = client.post("/sparql", data={"query": LOOKUP, "format": output})
        worker = client.post("/sparql", data={"query": LOOKUP_IN_WORKER, "format": output})
    assert here.status_code == worker.status_code == 200
    assert here.headers["content-type"] == worker.headers["content-type"]
    assert len(here.content) > 200
    assert sorted(here.text.splitlines()) == sorted(worker.text.splitlines())


def test_more_rows_than_the_server_keeps_go_to_a_worker(live_server, built):
    """Past HERE_ROWS, the answer is not cut there: a worker gives all of it."""
    store, _ = built.open_current()
    count = int(next(iter(run_query(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").value))[0].value)
    assert HERE_ROWS < count < 100_000  # the test's premise: between the two caps
    with live_server.client() as client:
        response = client.post("/sparql", data={"query": "SELECT * { ?s ?p ?o }", "format": "tsv"})
        unbound = client.post("/sparql", data={"query": "SELECT ?x { ?s ?p ?o }", "format": "tsv"})
        graph = client.post(
            "/sparql", data={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"}
        )
    assert response.status_code == graph.status_code == 200
    assert "x-santecyber-truncated" not in response.headers
    assert len(response.text.splitlines()) == count + 1  # and the header
    assert len(set(graph.text.splitlines())) == count
    assert unbound.text == "?x\n" + "\n" * count  # one empty row per triple


def test_a_bad_lookup_gets_the_same_error_as_anywhere(live_server):
    """Where pyoxigraph finds the error (the end of the text, for a variable selected
    twice) is in the text as sent, not in the one the server sends the store."""
    twice = "SELECT ?x ?x { ?s ?p ?o }\n# a note\n"
    with live_server.client() as client:
        prefix = client.post("/sparql", data={"query": "SELECT * { ?s nosuch:p ?o }"})
        here = client.post("/sparql", data={"query": twice})
        worker = client.post("/sparql", data={"query": twice.replace("{", "{ {") + "}"})
    assert prefix.status_code == 400
    assert "undeclared prefix 'nosuch:'" in prefix.json()["error"]
    assert here.status_code == worker.status_code == 400
    assert (here.json()["line"], here.json()["column"]) == (3, 1)
    assert here.json()["error"] == worker.json()["error"].replace("3, column 2", "3, column 1")
