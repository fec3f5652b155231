"""Dereferencing: every IRI of the graph answers on this host, in RDF or HTML.

``/id/…``, ``/ontology``, ``/vocab/…`` and ``/graph/…`` map to ``https://w3id.org/santecyber/…``.
The IRI itself is negotiated (Accept, q-values) and answers 200 with ``Content-Location`` of the
extension URL that was chosen (``….ttl``, ``.nt``, ``.jsonld``, ``.rdf``, ``.trig``, ``.nq``,
``.html``); the extension URLs answer without negotiation. See docs/linked-data.md.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.staticfiles import NotModifiedResponse
from starlette.types import Receive, Scope, Send

from santecyber import __version__
from santecyber.config import ServerConfig
from santecyber.dumps import REDIRECTS, dump_index, read_redirects
from santecyber.namespaces import BASE
from santecyber.server import pages
from santecyber.server.describe import (
    JSONLD_CONTEXT,
    canonical_iri,
    describe,
    describe_graph,
    is_version_iri,
)
from santecyber.server.negotiation import (
    GRAPH_ALIASES,
    NotAcceptable,
    accepted_media_types,
    choose_media_type,
    content_type,
    etag_matches,
    negotiate_language,
)
from santecyber.server.pagination import BadPage, Paging, pages_link_header, requested_page
from santecyber.server.query_service import QueryService, QueryUnavailable
from santecyber.server.shapes_document import PublishedShapes

#: extension → media type, in the order alternates are listed
EXTENSIONS: dict[str, str] = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "trig": "application/trig",
    "nq": "application/n-quads",
    "html": "text/html",
}
MEDIA_EXTENSIONS = {media: ext for ext, media in EXTENSIONS.items()}
#: other names clients use for the same formats
#: the /sparql endpoint's aliases of RDF formats (text/plain: N-Triples…), and XHTML for HTML
HTML_ALIASES: dict[str, str] = {"application/xhtml+xml": "text/html"}
ALIASES: dict[str, str] = {
    **HTML_ALIASES,
    **{name: media for name, media in GRAPH_ALIASES.items() if "sparql-results" not in name},
}
DEFAULT_MEDIA_TYPE = "text/turtle"  # no Accept header, or only */*
STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}
#: the files there, read once: a name is served only if it is one of them
STATIC_FILES = frozenset(p.name for p in STATIC_DIR.iterdir() if p.suffix in STATIC_TYPES)


def negotiate(
    accept: str | None, offered: list[str] | None = None, aliases: Mapping[str, str] = ALIASES
) -> str:
    """The media type to answer with, from an Accept header (q-values honoured, q=0 refuses).

    >>> negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    'text/html'
    >>> negotiate("application/rdf+xml;q=0.5, text/turtle")
    'text/turtle'
    >>> negotiate(None)
    'text/turtle'
    """
    offered = offered or list(EXTENSIONS.values())
    default = DEFAULT_MEDIA_TYPE if DEFAULT_MEDIA_TYPE in offered else offered[0]
    if accept is None or not accept.strip():
        return default
    accepted = accepted_media_types(accept)
    if not accepted:  # a header with nothing usable in it does not mean "anything"
        raise NotAcceptable(offered, [accept])
    return choose_media_type(accepted, offered, default, aliases)


@dataclass(frozen=True)
class Target:
    """A request path understood: the canonical IRI and the extension asked for, if any."""

    path: str  # without leading slash or extension: id/facility/chu-rennes
    extension: str | None

    @property
    def iri(self) -> str | None:
        return canonical_iri(self.path)


def version_tag(media_type: str, lang: str) -> str:
    """What an ETag adds to the data's version: the code's version and the format, and the
    language for HTML only (RDF does not vary with Accept-Language, and does not say so).

    >>> version_tag("text/turtle", "fr") == version_tag("text/turtle", "en")
    True
    """
    tag = f"{__version__}-{MEDIA_EXTENSIONS[media_type]}"
    return f"{tag}-{lang}" if media_type == "text/html" else tag


def split_extension(path: str) -> Target:
    """``id/x/y.ttl`` → (``id/x/y``, ``ttl``); unknown suffixes stay part of the path.

    Slashes are kept: ``id/x/y/`` is another IRI than ``id/x/y`` (and not one of ours).
    """
    stem, dot, extension = path.rpartition(".")
    if dot and extension in EXTENSIONS and "/" not in extension:
        return Target(stem, extension)
    return Target(path, None)


def link_header(path: str) -> str:
    """Link: the alternates of one document, by extension URL."""
    links = [f'<{BASE}{path}>; rel="canonical"']
    links += [
        f'</{path}.{extension}>; rel="alternate"; type="{media_type}"'
        for extension, media_type in EXTENSIONS.items()
    ]
    return ", ".join(links)


class LinkedDataRoute(APIRoute):
    """A route that answers only for the path it names, else 404, and answers OPTIONS.

    Starlette's path patterns end in ``$``, which also matches before a final newline
    (``/id/facility/chu-rennes%0A`` was answered as ``…/chu-rennes``), and ``%2F`` is decoded
    before routing (``/id/facility%2Fchu-rennes``). Both are other IRIs (RFC 3986 2.2), which
    the graph does not hold: never answer them with the description of one that it does.

    A plain OPTIONS (a CORS preflight never gets here: the CORS middleware answers it) is 204
    with Allow (RFC 9110 9.3.7), and the 405 for other methods lists OPTIONS in its Allow;
    the route's own methods stay GET and HEAD, so OpenAPI does not list an OPTIONS operation.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") or scope["path"].encode()
        if scope["path"].endswith("\n") or b"%2f" in raw.lower():
            shown = raw.decode("latin-1")
            message = f"404 Not Found: {shown} is not a path of this site\n"
            await PlainTextResponse(message, status_code=404)(scope, receive, send)
            return
        if scope["method"] in self.methods:
            await super().handle(scope, receive, send)
            return
        allow = {"Allow": ", ".join([*sorted(self.methods), "OPTIONS"])}
        if scope["method"] != "OPTIONS":
            raise HTTPException(status_code=405, headers=allow)
        await Response(status_code=204, headers=allow)(scope, receive, send)


Params = ParamSpec("Params")


def unavailable_as_503(
    handler: Callable[Params, Awaitable[Response]],
) -> Callable[Params, Awaitable[Response]]:
    """A store too busy (or a query over its time limit) is 503 with Retry-After, never 500."""

    @functools.wraps(handler)
    async def guarded(*args: Params.args, **kwargs: Params.kwargs) -> Response:
        try:
            return await handler(*args, **kwargs)
        except QueryUnavailable as error:
            return PlainTextResponse(
                f"503 Service Unavailable: {error}\n",
                status_code=503,
                headers={"Retry-After": "5"},
            )

    return guarded


def weak(etag: str) -> str:
    """The weak form of an entity tag (RFC 9110 8.8.3).

    Every answer here may leave gzipped or not (the gzip middleware), and a strong tag would
    promise the same bytes for both; the SPARQL router's tags are weak for the same reason.

    >>> weak('"abc"'), weak('W/"abc"')
    ('W/"abc"', 'W/"abc"')
    """
    return "W/" + etag.removeprefix("W/")


def byte_range(value: bytes) -> bool:
    """Whether a Range header is in bytes (unit names are case-insensitive, RFC 9110 14.1).

    >>> byte_range(b"bytes=0-9"), byte_range(b"BYTES=0-9"), byte_range(b"items=0-5")
    (True, True, False)
    """
    return value.partition(b"=")[0].strip().lower() == b"bytes"


class FileAnswer(FileResponse):
    """A file whose Range is ignored unless in bytes: RFC 9110 14.2 says an origin server MUST
    ignore a unit it does not know (Starlette answers 400 "Only support bytes range")."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(n, v) for n, v in scope["headers"] if n != b"range" or byte_range(v)]
        await super().__call__({**scope, "headers": headers}, receive, send)


def file_answer(request: Request, path: Path, media_type: str, etag: str | None = None) -> Response:
    """``path`` as it is on disk, or 304 if If-None-Match names its ETag or is ``*``.

    FileResponse sends an ETag but never compares it; RFC 9110 13.1.2 says an origin server
    MUST evaluate If-None-Match. Without ``etag``, Starlette's (file time and size) is used.
    The tag is made weak: the gzip middleware may send other bytes under it.
    """
    headers = {"ETag": etag} if etag else None
    try:
        found = path.stat()
    except FileNotFoundError:  # a dump of a build replaced since its index was read
        return PlainTextResponse(f"{path.name} is no longer served: read the index again", 404)
    response = FileAnswer(path, media_type=media_type, headers=headers, stat_result=found)
    response.headers["etag"] = weak(response.headers["etag"])
    if etag_matches(request.headers.get("if-none-match"), response.headers["etag"]):
        return NotModifiedResponse(response.headers)
    return response


def context_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/context.jsonld"


def linked_data_router(service: QueryService, config: ServerConfig) -> APIRouter:
    """Routes for /id/…, /ontology, /vocab/…, /graph/…, /shapes, /context.jsonld, /void,
    /dumps/."""
    router = APIRouter(route_class=LinkedDataRoute)
    loaded: dict[tuple[object, ...], dict[str, str]] = {}
    published_shapes = PublishedShapes(config.build_dir)

    def redirects() -> dict[str, str]:
        """The redirects table of the build in service, re-read when a new build is served
        or a build rewrote it (a build that only changes redirects keeps the data version)."""
        version = service.refresh()
        try:
            seen = os.stat(config.build_dir / REDIRECTS)
            signature: tuple[object, ...] = (version, seen.st_ino, seen.st_mtime_ns, seen.st_size)
        except FileNotFoundError:
            signature = (version,)
        if signature not in loaded:
            loaded.clear()
            loaded[signature] = read_redirects(config.build_dir)
        return loaded[signature]

    def not_acceptable(offered: list[str]) -> Response:
        return PlainTextResponse(
            "406 Not Acceptable: this resource is available as " + ", ".join(offered) + "\n",
            status_code=406,
            headers={"Vary": "Accept"},
        )

    def not_found(
        request: Request, media_type: str, lang: str, iri: str, headers: dict[str, str]
    ) -> Response:
        if media_type == "text/html":
            html = pages.render_not_found(iri, lang, request)
            return Response(html, status_code=404, media_type="text/html", headers=headers)
        return PlainTextResponse(
            f"404 Not Found: {iri} is not in the graph\n", status_code=404, headers=headers
        )

    def moved(request: Request, target: Target, path: str, status: int) -> Response:
        """``status`` to ``path``, keeping the extension and the query string asked for."""
        new = "/" + path
        if target.extension:
            new += "." + target.extension
        if request.url.query:
            new += "?" + request.url.query
        return Response(status_code=status, headers={"Location": new})

    @unavailable_as_503
    async def dereference(request: Request, raw_path: str) -> Response:
        target = split_extension(raw_path)
        table = redirects()
        if target.path in table:
            return moved(request, target, table[target.path], 301)
        version = target.iri if target.path.startswith("ontology/") else None
        if version is not None and await is_version_iri(service, version):
            # the ontology as it is at this version: today's document, while it is current
            return moved(request, target, "ontology", 302)
        if target.extension:
            media_type = EXTENSIONS[target.extension]
            headers: dict[str, str] = {}
        else:
            try:
                media_type = negotiate(request.headers.get("accept"))
            except NotAcceptable:
                return not_acceptable(list(EXTENSIONS.values()))
            headers = {"Vary": "Accept, Accept-Language"}
        lang = negotiate_language(request, pages.LANGUAGES)
        if media_type == "text/html":
            headers["Vary"] = "Accept-Language" if target.extension else "Accept, Accept-Language"
            headers["Content-Language"] = lang
        iri = target.iri
        if iri is None:
            return not_found(request, media_type, lang, BASE + target.path, headers)
        if target.path.startswith("graph/"):
            description = await describe_graph(service, iri)
        else:
            description = await describe(service, iri)
        if not description.exists:
            return not_found(request, media_type, lang, iri, headers)
        headers["Link"] = link_header(target.path)
        if description.truncated:
            headers["X-Santecyber-Truncated"] = "true"
        headers["ETag"] = weak(f'"{service.version}-{version_tag(media_type, lang)}"')
        if not target.extension:
            headers["Content-Location"] = f"/{target.path}.{MEDIA_EXTENSIONS[media_type]}"
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        if media_type == "text/html":
            html = await pages.render_resource(service, description, lang, request)
            return Response(html, media_type="text/html; charset=utf-8", headers=headers)
        body = description.serialize(media_type, context_url(request))
        return Response(body, media_type=content_type(media_type), headers=headers)

    def paged_html(request: Request, rendered: tuple[str, Paging], lang: str) -> Response:
        html, paging = rendered
        headers = {
            "Vary": "Accept, Accept-Language",
            "Content-Language": lang,
            "Link": pages_link_header(request, paging),
        }
        return Response(html, media_type="text/html; charset=utf-8", headers=headers)

    @unavailable_as_503
    async def index_or_list(request: Request, kind: str | None) -> Response:
        try:  # index pages are for people: HTML only
            negotiate(request.headers.get("accept"), ["text/html"])
        except NotAcceptable:
            return not_acceptable(["text/html"])
        lang = negotiate_language(request, pages.LANGUAGES)
        try:
            rendered = await pages.render_index(
                service, lang, kind, request, requested_page(request)
            )
        except BadPage as error:
            return bad_request(error)
        if rendered is None:
            return Response(
                pages.render_not_found(BASE + f"id/{kind}/", lang, request),
                status_code=404,
                media_type="text/html",
            )
        return paged_html(request, rendered, lang)

    @router.api_route("/id/", methods=["GET", "HEAD"])
    @router.api_route("/id", methods=["GET", "HEAD"])
    async def id_index(request: Request) -> Response:
        return await index_or_list(request, None)

    @router.api_route("/id/{rest:path}", methods=["GET", "HEAD"])
    async def id_resource(request: Request, rest: str) -> Response:
        kind = rest.removesuffix("/")  # /id/facility/ or /id/facility: not /id/facility//
        if kind in pages.KINDS:
            return await index_or_list(request, kind)
        return await dereference(request, "id/" + rest)

    @router.api_route("/ontology", methods=["GET", "HEAD"])
    async def ontology(request: Request) -> Response:
        return await dereference(request, "ontology")

    @router.api_route("/ontology{rest:path}", methods=["GET", "HEAD"])
    async def ontology_more(request: Request, rest: str) -> Response:
        return await dereference(request, "ontology" + rest)

    @unavailable_as_503
    async def listing(request: Request, what: str) -> Response:
        try:  # listings are for people: HTML only
            negotiate(request.headers.get("accept"), ["text/html"])
        except NotAcceptable:
            return not_acceptable(["text/html"])
        lang = negotiate_language(request, pages.LANGUAGES)
        try:
            rendered = await pages.render_listing(
                service, lang, what, request, requested_page(request)
            )
        except BadPage as error:
            return bad_request(error)
        return paged_html(request, rendered, lang)

    @router.api_route("/vocab", methods=["GET", "HEAD"])
    async def vocabularies(request: Request) -> Response:
        return await listing(request, "vocab")

    @router.api_route("/vocab/{rest:path}", methods=["GET", "HEAD"])
    async def vocabulary(request: Request, rest: str) -> Response:
        if not rest:  # /vocab/ (a second slash is another path, not in the graph)
            return await listing(request, "vocab")
        return await dereference(request, "vocab/" + rest)

    @router.api_route("/graph", methods=["GET", "HEAD"])
    async def graphs(request: Request) -> Response:
        return await listing(request, "graph")

    @router.api_route("/graph/{rest:path}", methods=["GET", "HEAD"])
    async def graph(request: Request, rest: str) -> Response:
        if not rest:
            return await listing(request, "graph")
        return await dereference(request, "graph/" + rest)

    @router.api_route("/context.jsonld", methods=["GET", "HEAD"])
    async def context() -> Response:
        return JSONResponse(
            {"@context": JSONLD_CONTEXT},
            media_type="application/ld+json",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    @router.api_route("/static/{name}", methods=["GET", "HEAD"])
    async def static_file(request: Request, name: str) -> Response:
        """The pages' own styles and script, one way for all: ETag, 304, no CDN."""
        media_type = STATIC_TYPES.get(Path(name).suffix)
        if media_type is None or name not in STATIC_FILES:
            return PlainTextResponse("404 Not Found\n", status_code=404)
        return file_answer(request, STATIC_DIR / name, media_type)

    def document_format(request: Request, extension: str | None) -> str | Response:
        """The media type of a document asked for by extension or negotiated (Accept), or
        the 404/406 to answer."""
        offered = list(EXTENSIONS.values())
        if extension:
            if extension not in EXTENSIONS:
                return PlainTextResponse("404 Not Found\n", status_code=404)
            return EXTENSIONS[extension]
        try:
            return negotiate(request.headers.get("accept"), offered)
        except NotAcceptable:
            return not_acceptable(offered)

    @unavailable_as_503
    async def void(request: Request, extension: str | None) -> Response:
        media_type = document_format(request, extension)
        if isinstance(media_type, Response):
            return media_type
        lang = negotiate_language(request, pages.LANGUAGES)
        base_url = str(request.base_url).rstrip("/")
        description = await pages.void_description(service, config.build_dir, base_url)
        headers = {"Vary": "Accept, Accept-Language", "Link": _void_links()}
        if not extension:
            headers["Content-Location"] = f"/void.{MEDIA_EXTENSIONS[media_type]}"
        if media_type == "text/html":
            html = await pages.render_void(service, description, config.build_dir, lang, request)
            return Response(html, media_type="text/html; charset=utf-8", headers=headers)
        body = description.serialize(media_type, context_url(request))
        return Response(body, media_type=content_type(media_type), headers=headers)

    async def shapes(request: Request, extension: str | None) -> Response:
        media_type = document_format(request, extension)
        if isinstance(media_type, Response):
            return media_type
        document = await asyncio.to_thread(published_shapes.current)
        if document is None:  # built before builds published them, or skipping broken ones
            message = "404 Not Found: the build in service published no shapes\n"
            return PlainTextResponse(message, 404)
        lang = negotiate_language(request, pages.LANGUAGES)
        headers = {"Link": link_header("shapes")}
        if extension:
            headers["Vary"] = "Accept-Language" if media_type == "text/html" else ""
        else:
            headers["Vary"] = "Accept, Accept-Language"
            headers["Content-Location"] = f"/shapes.{MEDIA_EXTENSIONS[media_type]}"
        if media_type == "text/html":
            headers["Content-Language"] = lang
        headers["ETag"] = weak(f'"{document.sha256}-{version_tag(media_type, lang)}"')
        headers = {name: value for name, value in headers.items() if value}
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        if media_type == "text/html":
            html = pages.render_shapes(document, lang, request)
            return Response(html, media_type="text/html; charset=utf-8", headers=headers)
        if media_type == "text/turtle":  # the file itself, as its index entry describes it
            return Response(document.turtle, media_type=media_type, headers=headers)
        body = document.description.serialize(media_type, context_url(request))
        return Response(body, media_type=content_type(media_type), headers=headers)

    @router.api_route("/shapes", methods=["GET", "HEAD"])
    async def shapes_document(request: Request) -> Response:
        return await shapes(request, None)

    @router.api_route("/shapes.{extension}", methods=["GET", "HEAD"])
    async def shapes_extension(request: Request, extension: str) -> Response:
        return await shapes(request, extension)

    @router.api_route("/void", methods=["GET", "HEAD"])
    @router.api_route("/.well-known/void", methods=["GET", "HEAD"])
    async def void_document(request: Request) -> Response:
        return await void(request, None)

    @router.api_route("/void.{extension}", methods=["GET", "HEAD"])
    async def void_extension(request: Request, extension: str) -> Response:
        return await void(request, extension)

    @router.api_route("/dumps", methods=["GET", "HEAD"])
    @router.api_route("/dumps/", methods=["GET", "HEAD"])
    async def dumps(request: Request) -> Response:
        index = dump_index(config.build_dir)
        # JSON is the index itself here, not JSON-LD; first, so that what scripts send (no
        # Accept, or */* as curl, requests and httpx do) gets it, and browsers (text/html) the page
        offered = ["application/json", "text/html"]
        try:
            media_type = negotiate(request.headers.get("accept"), offered, HTML_ALIASES)
        except NotAcceptable:
            return not_acceptable(offered)
        # the page is French or English by Accept-Language: caches must key on both headers
        headers = {"Vary": "Accept, Accept-Language"}
        if media_type == "application/json":
            return JSONResponse(index, headers=headers)
        lang = negotiate_language(request, pages.LANGUAGES)
        html = pages.render_dumps(index, lang, request)
        headers["Content-Language"] = lang
        return Response(html, media_type="text/html; charset=utf-8", headers=headers)

    @router.api_route("/dumps/index.json", methods=["GET", "HEAD"])
    async def dumps_json() -> Response:
        return JSONResponse(dump_index(config.build_dir))

    @router.api_route("/dumps/{name}", methods=["GET", "HEAD"])
    async def dump_file(request: Request, name: str) -> Response:
        index = dump_index(config.build_dir)
        entries = {entry["file"]: entry for entry in index.get("files", [])}
        if name not in entries:  # only files the index lists: no path ever reaches the disk
            return PlainTextResponse(f"404 Not Found: no dump named {name!r}\n", status_code=404)
        entry = entries[name]
        path = config.build_dir / "dumps" / entry["file"]
        media_type = "application/gzip" if entry.get("encoding") == "gzip" else entry["media_type"]
        return file_answer(request, path, media_type, f'"{entry["sha256"]}"')

    return router


def bad_request(error: BadPage) -> Response:
    return PlainTextResponse(f"400 Bad Request: {error}\n", status_code=400)


def _void_links() -> str:
    return ", ".join(
        f'</void.{extension}>; rel="alternate"; type="{media_type}"'
        for extension, media_type in EXTENSIONS.items()
    )
