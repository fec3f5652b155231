"""The load generator's ceiling, served as a peer by ``bench.http``: no server work at all.

A bare ASGI app under uvicorn that answers every request with the same small SPARQL JSON
result, without reading the query. Its requests/s are the most any server can show in the
benchmark on this machine, because the load generator shares the machine's cores with the
server: a ratio to a peer above ``ceiling / peer`` cannot be measured here.

    uvicorn bench.ceiling_app:app --port 8000
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

#: about the size of a lookup's answer on the synthetic graph (a few bindings)
BODY = (
    b'{"head":{"vars":["p","o"]},"results":{"bindings":['
    + b",".join(
        b'{"p":{"type":"uri","value":"http://schema.org/name"},'
        b'"o":{"type":"literal","value":"Centre hospitalier"}}'
        for _ in range(6)
    )
    + b"]}}"
)
HEADERS = [
    (b"content-type", b"application/sparql-results+json"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the request to its end, as any server must
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
