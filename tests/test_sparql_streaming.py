"""Large answers stream from the worker to the client (issue 4, "results stream").

A server with one worker and a result cap of 20,000 rows answers cross joins of the real
build: answers over 1 MiB are streamed in chunks and not cached, smaller ones are cached and
revalidated by ETag; a client that leaves mid-answer frees the only worker.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from conftest import LiveServer, query_workers, start_server, stop_server

MAX_RESULTS = 20_000
#: every statement once per attack: far more rows than the cap, megabytes of JSON
CROSS = "SELECT ?s ?p ?o ?a WHERE { ?s ?p ?o . ?a a sc:Attack }"


@pytest.fixture(scope="module")
def streaming(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SANTECYBER_QUERY_WORKERS": "1",
        "SANTECYBER_MAX_RESULTS": str(MAX_RESULTS),
        "SANTECYBER_QUERY_TIMEOUT": "20",
    }
    server = start_server(built.root, tmp_path_factory.mktemp("streaming") / "server.log", env)
    yield server
    stop_server(server)


def test_a_large_answer_arrives_whole_and_is_not_cached(streaming):
    query = CROSS + " LIMIT 15000"
    with streaming.client() as client:
        first = client.get("/sparql", params={"query": query})
        again = client.get("/sparql", params={"query": query, "format": "csv"})
        twice = client.get("/sparql", params={"query": query, "format": "csv"})
    assert first.status_code == 200 and len(first.content) > 1 << 20
    assert first.headers["content-encoding"] == "gzip"  # compressed as it streams
    assert len(first.json()["results"]["bindings"]) == 15000
    assert "x-santecyber-truncated" not in first.headers
    assert len(list(csv.DictReader(io.StringIO(again.text)))) == 15000
    assert len(again.content) > 1 << 20
    assert again.text == twice.text
    assert twice.headers["x-santecyber-cache"] == "miss"  # too big for the cache


def test_a_streamed_answer_beyond_the_cap_is_flagged(streaming):
    with streaming.client() as client:
        response = client.get("/sparql", params={"query": CROSS, "format": "tsv"})
    assert response.status_code == 200
    assert response.headers["x-santecyber-truncated"] == "true"
    assert response.headers["x-santecyber-result-limit"] == str(MAX_RESULTS)
    assert len(response.text.strip().splitlines()) == MAX_RESULTS + 1  # header line


def test_a_small_answer_is_cached_and_revalidated(streaming):
    query = "SELECT ?a WHERE { ?a a sc:Attack } ORDER BY ?a"
    with streaming.client() as client:
        first = client.get("/sparql", params={"query": query})
        second = client.get("/sparql", params={"query": query})
        revalidated = client.get(
            "/sparql", params={"query": query}, headers={"If-None-Match": first.headers["etag"]}
        )
    assert first.status_code == 200 and first.json()["results"]["bindings"]
    assert second.headers["x-santecyber-cache"] == "hit" and second.content == first.content
    assert revalidated.status_code == 304 and revalidated.content == b""


def test_a_large_answer_revalidates_by_etag(streaming):
    query = CROSS + " LIMIT 12000"
    with streaming.client() as client:
        first = client.get("/sparql", params={"query": query, "format": "csv"})
        revalidated = client.get(
            "/sparql",
            params={"query": query, "format": "csv"},
            headers={"If-None-Match": first.headers["etag"]},
        )
    assert len(first.content) > 1 << 20
    assert revalidated.status_code == 304 and revalidated.content == b""


def test_if_none_match_star_on_a_large_answer_is_304_and_frees_the_worker(streaming):
    """``*`` runs the query (a failing one has no representation to match); the streamed
    answer it does not send must not hold the only worker."""
    query = CROSS + " LIMIT 13000"
    with streaming.client() as client:
        star = client.get(
            "/sparql", params={"query": query, "format": "csv"}, headers={"If-None-Match": "*"}
        )
        assert star.status_code == 304 and star.content == b""
        for limit in (1, 2):
            small = f"SELECT ?a WHERE {{ ?a a sc:Attack }} LIMIT {limit} # star"
            response = client.get("/sparql", params={"query": small}, timeout=15)
            assert response.status_code == 200
            assert len(response.json()["results"]["bindings"]) == limit
        whole = client.get("/sparql", params={"query": query, "format": "csv"})
    assert whole.status_code == 200 and whole.headers["etag"] == star.headers["etag"]
    assert len(whole.content) > 1 << 20  # it was a streamed answer


def test_a_client_leaving_mid_answer_frees_the_worker(streaming):
    """The only worker is busy with the abandoned answer until it is killed and replaced."""
    where = urlsplit(streaming.url)
    for variant in range(2):
        target = "/sparql?" + urlencode({"query": CROSS + f" # {variant}", "format": "csv"})
        with socket.create_connection((where.hostname, where.port), timeout=30) as raw:
            raw.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = raw.recv(65536)
            assert head.startswith(b"HTTP/1.1 200")
        # closed after the first bytes: the rest of the answer is never read
    with streaming.client() as client:
        for limit in (1, 2, 3):
            query = f"SELECT ?a WHERE {{ ?a a sc:Attack }} LIMIT {limit}"
            response = client.get("/sparql", params={"query": query}, timeout=15)
            assert response.status_code == 200
            assert len(response.json()["results"]["bindings"]) == limit


def test_a_stream_past_the_time_limit_is_cut_and_the_server_goes_on(built, tmp_path):
    """A client too slow to take the answer within the time limit: the worker is killed,
    the connection ends before the body is complete, and the next query is answered."""
    env = {
        "SANTECYBER_QUERY_WORKERS": "1",
        "SANTECYBER_MAX_RESULTS": "200000",
        "SANTECYBER_QUERY_TIMEOUT": "8",
    }
    server = start_server(built.root, tmp_path / "server.log", env)
    where = urlsplit(server.url)
    target = "/sparql?" + urlencode({"query": CROSS, "format": "csv"})
    try:
        with socket.create_connection((where.hostname, where.port), timeout=60) as raw:
            request = f"GET {target} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n"
            raw.sendall(request.encode())
            received = raw.recv(4096)
            assert received.startswith(b"HTTP/1.1 200")
            head = received.split(b"\r\n\r\n")[0].decode().lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            threading.Event().wait(12)  # past the time limit, having read almost nothing
            body = received.split(b"\r\n\r\n", 1)[1]
            while chunk := raw.recv(1 << 20):
                body += chunk
        assert len(body) < length  # ended by the server before the declared length
        with server.client() as client:
            response = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
        assert response.status_code == 200 and response.json()["boolean"] is True
    finally:
        stop_server(server)


def peak_memory_mib(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in MiB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in lines if line.startswith("VmHWM")).split()[1]) >> 10


def test_head_of_a_large_answer_gives_its_size_without_its_bytes(built, tmp_path):
    """Few rows, long strings (the row cap does not bound bytes): HEAD says how long the
    answer is, and the server does not hold it (it once read it whole: +250 MB for 126 MB)."""
    doubling = "".join(f" BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(16))
    query = (
        "SELECT ?n ?z WHERE { VALUES ?n { 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 }"
        f' BIND("0123456789abcdef" AS ?a0){doubling} BIND(?a16 AS ?z) }}'
    )
    server = start_server(built.root, tmp_path / "server.log", {"SANTECYBER_QUERY_WORKERS": "1"})
    try:
        with server.client() as client:
            client.get("/sparql", params={"query": "ASK {}"})
            before = peak_memory_mib(server.process.pid)
            plain = {"Accept-Encoding": "identity"}
            params = {"query": query, "format": "csv"}
            head = client.head("/sparql", params=params, headers=plain)
            during = peak_memory_mib(server.process.pid)
            get = client.get("/sparql", params=params, headers=plain)
            after = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
    finally:
        stop_server(server)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(get.content) > 20 << 20
    assert get.headers["content-length"] == head.headers["content-length"]
    assert during - before < 16, (before, during)
    assert after.status_code == 200 and after.json()["boolean"] is True


@pytest.fixture(scope="module")
def streams_from_1000_bytes(built, tmp_path_factory) -> Iterator[LiveServer]:
    """Answers over 1,000 bytes stream: some fit the one message that carries the header
    (64 KiB), others need chunks after it."""
    env = {"SANTECYBER_STREAM_BYTES": "1000", "SANTECYBER_QUERY_WORKERS": "1"}
    server = start_server(built.root, tmp_path_factory.mktemp("stream1000") / "server.log", env)
    yield server
    stop_server(server)


@pytest.mark.parametrize("rows", [40, 2000])
def test_streamed_answers_in_one_message_or_many_arrive_whole(
    streams_from_1000_bytes, live_server, rows
):
    params = {"query": CROSS + f" ORDER BY ?s ?p ?o ?a LIMIT {rows}", "format": "csv"}
    with live_server.client() as client:
        expected = client.get("/sparql", params=params).text
    with streams_from_1000_bytes.client() as client:
        sent = [client.get("/sparql", params=params) for _ in range(2)]
        after = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert len(expected.encode()) > 1000
    assert (len(expected.encode()) < 64 << 10) == (rows == 40)
    for response in sent:
        assert response.status_code == 200
        assert response.text == expected
        assert len(list(csv.DictReader(io.StringIO(response.text)))) == rows
        assert response.headers["x-santecyber-cache"] == "miss"  # streamed: not cached
    assert after.json()["boolean"] is True  # the only worker was freed


def test_an_answer_that_came_whole_is_dropped_without_ending_its_worker(streams_from_1000_bytes):
    """HEAD and If-None-Match: * drop an answer unread; when it came whole with its header
    (over 1,000 bytes: streamed; under 64 KiB: one message), its worker has nothing left to
    send and goes back to the pool instead of being killed and replaced."""
    params = {"query": CROSS + " ORDER BY ?s ?p ?o ?a LIMIT 40", "format": "csv"}
    before = query_workers(streams_from_1000_bytes)
    with streams_from_1000_bytes.client() as client:
        head = client.head("/sparql", params=params)
        star = client.get("/sparql", params=params, headers={"If-None-Match": "*"})
        got = client.get("/sparql", params=params)
    assert head.status_code == 200 and head.content == b""
    # the GET's headers (RFC 9110 9.3.2): gzip, and no Content-Length, known only once sent
    assert head.headers["content-encoding"] == got.headers["content-encoding"] == "gzip"
    assert "content-length" not in head.headers and "content-length" not in got.headers
    assert head.headers["content-type"] == got.headers["content-type"]
    assert (
        head.headers["etag"] == got.headers["etag"] and head.headers["vary"] == got.headers["vary"]
    )
    assert star.status_code == 304
    assert got.status_code == 200 and len(list(csv.DictReader(io.StringIO(got.text)))) == 40
    assert query_workers(streams_from_1000_bytes) == before
