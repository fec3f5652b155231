"""The reference design of issue 4, served as a fourth peer by ``bench.http``.

"A plain FastAPI app running pyoxigraph queries in a thread pool", as the issue puts it:
no time limit that stops a query, no result cap, no cache, no checks. The issue expects
it to reach 75-90% of ``oxigraph serve``; the benchmark prints what it reaches here, so
that santecyber's ratios can be read against it.

    SANTECYBER_BENCH_STORE=path/to/store uvicorn bench.thread_pool_app:app --port 8000
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from santecyber.sparql import PREFIXES

#: the santecyber store: its default graph is the merge of all graphs, as /sparql serves it
store = ox.Store.read_only(os.environ["SANTECYBER_BENCH_STORE"])
app = FastAPI()


def answer(query: str) -> tuple[bytes, str]:
    result = store.query(query, prefixes=PREFIXES)
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.N_TRIPLES), "application/n-triples"
    body = result.serialize(format=ox.QueryResultsFormat.JSON)
    return body, "application/sparql-results+json"


@app.api_route("/sparql", methods=["GET", "POST"])
async def sparql(request: Request) -> Response:
    if request.method == "GET":
        query = request.query_params["query"]
    else:
        query = parse_qs((await request.body()).decode())["query"][0]
    body, media_type = await run_in_threadpool(answer, query)
    return Response(body, media_type=media_type)
