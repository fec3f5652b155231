"""Responses replayed at the edge (server/replay.py) answer exactly what the app would.

Each test sends a request once (recorded), then variants of it that the replay must not
confuse with it, against the real app under uvicorn; expected answers come from the store.
Streamed answers are never recorded: tests/test_sparql_streaming.py sends one twice.
"""

from __future__ import annotations

import csv
import io
import json

import httpx
import pyoxigraph as ox
from conftest import LiveServer

from santecyber.sparql import run_query

#: labelled resources: an answer over the 1000 bytes that gzip starts at
QUERY = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label # replay"


def expected(store: ox.Store) -> list[list[str]]:
    return [[row["s"].value, row["label"].value] for row in run_query(store, QUERY).value]


def test_a_replayed_answer_is_the_recorded_one(client: httpx.Client, store: ox.Store) -> None:
    first = client.post("/sparql", data={"query": QUERY})
    again = client.post("/sparql", data={"query": QUERY})
    bindings = json.loads(again.content)["results"]["bindings"]
    rows = [[b["s"]["value"], b["label"]["value"]] for b in bindings]
    assert rows == expected(store) and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-santecyber-cache"] == "hit"
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


def test_other_accept_or_encoding_is_not_the_recorded_answer(
    client: httpx.Client, store: ox.Store
) -> None:
    for _ in range(2):  # the second round is answered by the replay, if anything
        as_json = client.get("/sparql", params={"query": QUERY}, headers={"Accept-Encoding": ""})
        as_csv = client.get("/sparql", params={"query": QUERY}, headers={"Accept": "text/csv"})
        zipped = client.get("/sparql", params={"query": QUERY}, headers={"Accept-Encoding": "gzip"})
    assert as_json.headers["content-type"].startswith("application/sparql-results+json")
    assert "content-encoding" not in as_json.headers
    assert list(csv.reader(io.StringIO(as_csv.text)))[1:] == expected(store)
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == as_json.content


def test_an_encoded_request_body_is_not_the_recorded_one(client: httpx.Client) -> None:
    """The same bytes sent with Content-Encoding are refused (415: bodies are not
    decoded), however often they were answered without it."""
    headers = {"Content-Type": "application/sparql-query"}
    body = QUERY.encode()
    plain = [client.post("/sparql", content=body, headers=headers) for _ in range(2)]
    encoded = client.post("/sparql", content=body, headers={**headers, "Content-Encoding": "gzip"})
    assert [response.status_code for response in plain] == [200, 200]
    assert plain[1].headers["x-santecyber-cache"] == "hit"
    assert encoded.status_code == 415, encoded.text
    assert "Content-Encoding" in encoded.json()["error"]


def test_conditional_get_of_a_replayed_answer_is_304(client: httpx.Client) -> None:
    first = client.get("/sparql", params={"query": QUERY})
    client.get("/sparql", params={"query": QUERY})
    etag = first.headers["etag"]
    unchanged = client.get("/sparql", params={"query": QUERY}, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag and "content-type" not in unchanged.headers
    assert unchanged.headers["x-content-type-options"] == "nosniff"
    stale = client.get("/sparql", params={"query": QUERY}, headers={"If-None-Match": 'W/"old"'})
    assert stale.status_code == 200 and stale.content == first.content
    posted = client.post("/sparql", data={"query": QUERY}, headers={"If-None-Match": etag})
    assert posted.status_code == 200  # POST is never conditional here


def test_host_and_language_are_part_of_the_request(live_server: LiveServer) -> None:
    """The service description names the endpoint by the Host asked; pages follow the language."""
    for _ in range(2):
        endpoints = {}
        for host in ("a.example", "b.example"):
            with live_server.client(headers={"Host": host}) as client:
                turtle = client.get("/sparql", headers={"Accept": "text/turtle"}).text
            endpoints[host] = f"<http://{host}/sparql>" in turtle
        assert endpoints == {"a.example": True, "b.example": True}
        with live_server.client() as client:
            pages = {
                lang: client.get(
                    "/id/facility/chu-rennes",
                    headers={"Accept": "text/html", "Accept-Language": lang},
                )
                for lang in ("fr", "en")
            }
        assert 'lang="fr"' in pages["fr"].text and 'lang="en"' in pages["en"].text


def test_an_encoded_slash_is_not_the_recorded_path(client: httpx.Client) -> None:
    """%2F is not a path separator (RFC 3986 2.2): the answer kept for /id/facility/chu-rennes
    must not come back for /id/facility%2Fchu-rennes, which is another IRI (404)."""
    path = "/id/facility/chu-rennes.nt"
    assert client.get(path).status_code == client.get(path).status_code == 200
    near = client.get(httpx.URL(str(client.base_url).rstrip("/") + "/id/facility%2Fchu-rennes.nt"))
    assert near.status_code == 404
    assert "chu-rennes>" not in near.text
