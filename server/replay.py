"""Replays a response already sent for the same request, before the app sees it.

Analysts re-run the same queries and notebooks fetch the same pages again, while the data
only changes with a build. A response whose ETag names the data version in service is kept
whole as it left the app (headers, body already compressed), keyed by that version
and by what the request says: method, target, body and the request headers a response may
vary on. The same request, while that version is served, gets those bytes back without
routing, negotiation, query checks or compression (about 4x the requests per second of a
result-cache hit); a GET whose If-None-Match names the ETag gets 304. A new build changes
the version, so nothing kept before it is replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from santecyber.server.bounded_cache import BoundedCache
from santecyber.server.negotiation import etag_matches

#: the request headers that responses may depend on; a response varying on another is not kept
KEYED_HEADERS = (b"accept", b"accept-encoding", b"accept-language", b"content-type", b"origin")
#: Host and scheme too: pages and the service description write absolute URLs of this server;
#: Content-Encoding: an encoded body is refused (415), whatever bytes it holds
REQUEST_HEADERS = (b"host", b"content-encoding", *KEYED_HEADERS)
#: headers a 304 leaves out (RFC 9110 15.4.5: it describes the representation, has no body)
BODY_HEADERS = {b"content-type", b"content-length", b"content-encoding"}
CACHE_HEADER = b"x-santecyber-cache"


class RequestKey(NamedTuple):
    version: str
    method: str
    scheme: str
    path: bytes  # as sent: %2F is not /, so it must not replay the answer for /
    query_string: bytes
    body: bytes
    headers: tuple[bytes, ...]  # the values of REQUEST_HEADERS, in that order


class Recorded(NamedTuple):
    """A 200 response as sent (only those are kept)."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str


def recorded_cost(key: RequestKey, recorded: Recorded) -> int:
    return len(recorded.body) + len(key.body) + len(key.query_string) + len(key.path) + 512


class ReplayMiddleware:
    """Replay GET and POST responses tied to the version that ``version()`` says is served.

    Requests with credentials (``Authorization``: the admin routes) go straight to the app.
    """

    def __init__(self, app: ASGIApp, version: Callable[[], str], capacity: int) -> None:
        self.app = app
        self.version = version
        self.kept: BoundedCache[RequestKey, Recorded] = BoundedCache(capacity, recorded_cost)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        replayable = scope["type"] == "http" and scope["method"] in ("GET", "POST")
        if not replayable or not self.kept.capacity:
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, []).append(value)
        if b"authorization" in headers:
            # never replayed (RFC 9111 3.5); and reading the version here would switch to a
            # new build before /admin/reload does, which then reports it as unchanged
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            body, receive = await read_whole_body(receive)
            if body is None:  # the client left before sending it all
                return
        version = self.version()
        key = RequestKey(
            version,
            scope["method"],
            scope["scheme"],
            scope.get("raw_path") or scope["path"].encode(),
            scope["query_string"],
            body,
            tuple(b",".join(headers.get(name, ())) for name in REQUEST_HEADERS),
        )
        recorded = self.kept.get(key)
        if recorded is None:
            await self.app(scope, receive, self._recorder(key, send))
            return
        wanted = b",".join(headers.get(b"if-none-match", ())).decode("latin-1")
        if scope["method"] == "GET" and etag_matches(wanted, recorded.etag):
            kept = [(n, v) for n, v in recorded.headers if n not in BODY_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": recorded.headers})
        await send({"type": "http.response.body", "body": recorded.body})

    def _recorder(self, key: RequestKey, send: Send) -> Send:
        """``send``, keeping a copy of a whole 200 response tied to ``key.version``."""
        start: Message | None = None

        async def recording_send(message: Message) -> None:
            nonlocal start
            await send(message)
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                if not message.get("more_body", False):  # streamed answers are not kept
                    self._keep(key, start, message.get("body", b""))
                start = None

        return recording_send

    def _keep(self, key: RequestKey, start: Message, body: bytes) -> None:
        if start["status"] != 200:
            return
        headers = list(start.get("headers", []))
        fields = dict(headers)
        etag = fields.get(b"etag", b"").decode("latin-1")
        if not etag.removeprefix("W/").startswith(f'"{key.version}-'):
            return  # not tied to the data version (files, admin), or a build came in between
        varies = {v.strip().lower() for v in fields.get(b"vary", b"").split(b",") if v.strip()}
        if not varies <= set(KEYED_HEADERS):
            return
        headers = [(n, b"hit" if n == CACHE_HEADER else v) for n, v in headers]
        self.kept.put(key, Recorded(headers, body, etag))


async def read_whole_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The request body, and a ``receive`` that hands it to the app as one message.

    Its size is bounded by the security middleware outside (413).
    """
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    handed = False

    async def replay_receive() -> Message:
        nonlocal handed
        if handed:
            return await receive()
        handed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay_receive
