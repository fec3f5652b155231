"""The SPARQL 1.1 Protocol endpoint at /sparql: query operation only, read-only.

Every request is checked (method, content type, sizes, one query, no update, no SERVICE)
before anything touches the store; content negotiation and conditional GET happen before a
worker is asked, so 304/406 cost nothing. docs/endpoint.md describes the behaviour.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from typing import NamedTuple

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from santecyber.config import ServerConfig
from santecyber.query_policy import READ_ONLY_MESSAGE, QueryRefused, QuerySyntaxError
from santecyber.server.direct_routes import ANY_OTHER_METHOD
from santecyber.server.negotiation import (
    BadFormat,
    NotAcceptable,
    accepted_media_types,
    choose_media_type,
    content_type,
    etag_matches,
    format_override,
    prefers,
)
from santecyber.server.parameters import (
    ProtocolError,
    decode_utf8,
    parse_parameters,
)
from santecyber.server.query_service import (
    Answer,
    AnswerStream,
    QueryService,
    QueryUnavailable,
)
from santecyber.server.service_description import (
    DESCRIPTION_FORMATS,
    describe_service,
    graph_sizes,
    serialize_description,
)

ALLOW = "GET, HEAD, POST, OPTIONS"
QUERY_CONTENT_TYPES = ["application/sparql-query", "application/x-www-form-urlencoded"]
#: revalidate every time: answers only change with a new build, and then the ETag changes
CACHE_CONTROL = "public, no-cache"
TRUNCATED_HEADER = "X-Santecyber-Truncated"
#: bytes of a form body decoded in a thread rather than on the event loop
LARGE_FORM_BYTES = 64 << 10


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: object
) -> Response:
    return JSONResponse(
        {"error": message, "status": status, **extra},
        status_code=status,
        headers={"Vary": "Accept", **(headers or {})},
    )


class Parameters:
    """The protocol parameters of one request, from the URL and (POST) the body."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"request body of {declared} bytes exceeds the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type_parameters(content_type: str) -> tuple[str, dict[str, str]]:
    """A Content-Type's media type (lower case) and parameters (names in lower case).

    >>> media_type_parameters('Application/SPARQL-Query; charset="UTF-8"')
    ('application/sparql-query', {'charset': 'UTF-8'})
    """
    media_type, *fields = content_type.split(";")
    parameters = {}
    for field in fields:
        name, _, value = field.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), parameters


def check_body_encoding(request: Request, charset: str | None) -> None:
    """415 for a body we would misread: a charset other than UTF-8, or a Content-Encoding
    (gzip, br…: the server does not decode request bodies, RFC 9110 15.5.16)."""
    if charset is not None and charset.lower() != "utf-8":
        raise ProtocolError(415, f"charset {charset} is not supported: send the body as UTF-8")
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise ProtocolError(
            415,
            f"Content-Encoding {coding} is not supported: send the body uncompressed",
            {"Accept-Encoding": "identity"},
        )


def single_query(parameters: Parameters, body_query: str | None = None) -> str | None:
    """The one query of a request (None: none at all); two, or query with update: 400."""
    queries = parameters.all("query") + ([body_query] if body_query is not None else [])
    updates = parameters.all("update")
    if updates and queries:
        raise ProtocolError(400, "a request carries either 'query' or 'update', not both")
    if updates:
        raise ProtocolError(403, READ_ONLY_MESSAGE)
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} queries in one request: send exactly one")
    if not queries:
        return None
    if not queries[0].strip():
        raise ProtocolError(400, "parameter 'query' is empty")
    return queries[0]


def check_graph_iris(parameters: Parameters) -> None:
    """default-graph-uri / named-graph-uri must be absolute IRIs: say which one is not."""
    for name in ("default-graph-uri", "named-graph-uri"):
        for value in parameters.all(name):
            try:
                ox.NamedNode(value)
            except ValueError as error:
                raise ProtocolError(
                    400, f"parameter '{name}': {value!r} is not an IRI ({error})"
                ) from None


class Preferences(NamedTuple):
    """The client's media types, best first, and the parameter that gave them (None: Accept)."""

    accepted: list[str]
    source: str | None

    def refusal(self, error: NotAcceptable) -> str:
        """The 406 message, naming ``format=``/``output=`` when they made the choice."""
        return f"parameter '{self.source}': {error}" if self.source else str(error)


def preferences(request: Request, parameters: Parameters) -> Preferences:
    """``format=``/``output=`` beat Accept; a value they cannot take is 400 naming them."""
    values = [(name, value) for name, value in parameters.pairs if name in ("format", "output")]
    try:
        source, override = format_override(values)
    except BadFormat as error:
        raise ProtocolError(400, str(error)) from None
    if source is not None:
        return Preferences(override, source)
    return Preferences(accepted_media_types(request.headers.get("accept")), None)


def not_modified(etag: str) -> Response:
    return Response(
        status_code=304, headers={"ETag": etag, "Vary": "Accept", "Cache-Control": CACHE_CONTROL}
    )


def answer_headers(answer: Answer, config: ServerConfig) -> dict[str, str]:
    headers = {
        "Vary": "Accept",
        "Cache-Control": CACHE_CONTROL,
        "X-Santecyber-Cache": "hit" if answer.cached else "miss",
    }
    if answer.etag:
        headers["ETag"] = answer.etag
    if answer.truncated:
        headers[TRUNCATED_HEADER] = "true"
        headers["X-Santecyber-Result-Limit"] = str(config.max_results)
        headers["X-Santecyber-Byte-Limit"] = str(config.max_answer_bytes)
        headers["Warning"] = (
            f'199 santecyber "results truncated to the first {config.max_results} or to'
            f" {config.max_answer_bytes} bytes of terms: narrow the query or page it with"
            ' LIMIT/OFFSET"'
        )
    return headers


class StreamedAnswer(StreamingResponse):
    """A large answer sent as its worker produces it; its worker is freed however it ends."""

    def __init__(self, stream: AnswerStream, media_type: str, headers: dict[str, str]) -> None:
        super().__init__(stream.chunks(), media_type=content_type(media_type), headers=headers)
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.stream.close()


def sparql_router(service: QueryService, config: ServerConfig) -> APIRouter:
    router = APIRouter()
    sizes_by_version: dict[str, dict[str, int]] = {}

    async def run(
        request: Request,
        query: str,
        parameters: Parameters,
        conditional: bool,
    ) -> Response:
        asked = preferences(request, parameters)
        check_graph_iris(parameters)
        try:
            plan = service.plan(
                query,
                parameters.all("default-graph-uri"),
                parameters.all("named-graph-uri"),
                asked.accepted,
            )
            wanted = request.headers.get("if-none-match") if conditional else None
            # "*" matches only a query that has an answer (RFC 9110 13.1.2): run it first
            any_answer = wanted is not None and wanted.strip() == "*"
            if wanted and not any_answer and etag_matches(wanted, plan.etag):
                return not_modified(plan.etag)
            answer = await service.run(plan, stream=True)
            if any_answer:
                if answer.stream is not None:  # not sent: free its worker now
                    answer.stream.discard()
                return not_modified(plan.etag)
        except QuerySyntaxError as error:
            where = f" at line {error.line}, column {error.column}" if error.line else ""
            return error_response(
                400, f"SPARQL syntax error{where}: {error}", line=error.line, column=error.column
            )
        except QueryRefused as error:
            return error_response(error.status, str(error))
        except NotAcceptable as error:
            return error_response(406, asked.refusal(error), supported=error.supported)
        except QueryUnavailable as error:
            extra = {"timeout_seconds": config.query_timeout} if error.timed_out else {}
            retry = {} if error.timed_out else {"Retry-After": "5"}
            return error_response(503, str(error), retry, **extra)
        headers = answer_headers(answer, config)
        if answer.stream is not None:
            headers["Content-Length"] = str(answer.stream.size)  # gzip drops it
            if request.method == "HEAD":  # the size is known: the worker need not send it
                answer.stream.discard()
                # still a stream, of one empty chunk: the gzip layer then sets the headers
                # it sets on the GET (Content-Encoding, and no Content-Length to give)
                shown = content_type(answer.media_type)
                return StreamingResponse(iter([b""]), media_type=shown, headers=headers)
            return StreamedAnswer(answer.stream, answer.media_type, headers)
        return Response(answer.body, media_type=content_type(answer.media_type), headers=headers)

    async def sizes() -> dict[str, int]:
        version = service.refresh()
        if version not in sizes_by_version and service.store is not None:
            store = service.store
            sizes_by_version.clear()
            sizes_by_version[version] = await asyncio.to_thread(graph_sizes, store)
        return sizes_by_version.get(version, {})

    async def description(request: Request, parameters: Parameters) -> Response:
        asked = preferences(request, parameters)
        accepted = asked.accepted
        page = getattr(request.app.state, "query_page", None)
        if page is not None and prefers(accepted, "text/html", DESCRIPTION_FORMATS):
            shown = page(request) if callable(page) else page
            if inspect.isawaitable(shown):
                shown = await shown
            return shown if isinstance(shown, Response) else HTMLResponse(str(shown))
        try:
            media_type = choose_media_type(accepted, DESCRIPTION_FORMATS, "text/turtle")
        except NotAcceptable as error:
            if "text/html" not in accepted:
                return error_response(406, asked.refusal(error), supported=error.supported)
            media_type = "text/turtle"
        version = service.refresh()
        etag = f'W/"{version}-sd-{media_type}"'
        headers = {"Vary": "Accept", "ETag": etag, "Cache-Control": CACHE_CONTROL}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        endpoint = str(request.url.replace(query=None, fragment=None))
        triples = describe_service(endpoint, version, await sizes(), config)
        body = serialize_description(triples, media_type)
        return Response(body, media_type=content_type(media_type), headers=headers)

    async def handle(request: Request) -> Response:
        try:
            url_parameters = Parameters(parse_parameters(request.scope["query_string"]))
            if request.method in ("GET", "HEAD"):
                query = single_query(url_parameters)
                if query is None:
                    return await description(request, url_parameters)
                if len(query) > config.max_query_length:
                    raise ProtocolError(
                        414,
                        f"query of {len(query)} characters exceeds the limit of"
                        f" {config.max_query_length}: POST longer queries",
                    )
                return await run(request, query, url_parameters, conditional=True)
            content_type, content_parameters = media_type_parameters(
                request.headers.get("content-type", "")
            )
            if content_type == "application/sparql-update":
                raise ProtocolError(403, READ_ONLY_MESSAGE)
            if content_type not in QUERY_CONTENT_TYPES:
                shown = content_type or "no Content-Type"
                raise ProtocolError(
                    415,
                    f"{shown} is not accepted: POST a query as " + " or ".join(QUERY_CONTENT_TYPES),
                )
            check_body_encoding(request, content_parameters.get("charset"))
            body = await read_body(request, config.max_body_bytes)
            if content_type == "application/sparql-query":
                parameters = url_parameters
                query = single_query(parameters, decode_utf8(body, "the query body"))
            else:
                # A large form (up to a million empty fields) takes half a second to
                # decode: off the event loop, which other requests share.
                form = (
                    parse_parameters(body)
                    if len(body) < LARGE_FORM_BYTES
                    else await asyncio.to_thread(parse_parameters, body)
                )
                parameters = Parameters(url_parameters.pairs + form)
                query = single_query(parameters)
            if query is None:
                raise ProtocolError(400, "missing parameter 'query'")
            if len(query) > config.max_query_length:
                raise ProtocolError(
                    413,
                    f"query of {len(query)} characters exceeds the limit of"
                    f" {config.max_query_length}",
                )
            return await run(request, query, parameters, conditional=False)
        except ProtocolError as error:
            return error_response(error.status, str(error), error.headers)

    router.add_api_route("/sparql", handle, methods=["GET", "HEAD", "POST"], include_in_schema=True)

    async def not_allowed(request: Request) -> Response:
        return error_response(
            405, f"{request.method} is not allowed on /sparql: use {ALLOW}", {"Allow": ALLOW}
        )

    async def options(request: Request) -> Response:
        return Response(status_code=204, headers={"Allow": ALLOW})

    router.add_api_route(
        "/sparql",
        not_allowed,
        methods=["PUT", "DELETE", "PATCH", ANY_OTHER_METHOD],  # TRACE… (direct_routes.py)
        include_in_schema=False,
    )
    router.add_api_route("/sparql", options, methods=["OPTIONS"], include_in_schema=False)
    return router
