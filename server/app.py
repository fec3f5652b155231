"""The FastAPI application: SPARQL endpoint over the current store of the build directory."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse, Response
from fastapi.telemetry import TelemetryConfig

from santecyber import __version__
from santecyber.config import ServerConfig
from santecyber.reload import install_reload
from santecyber.server.compression import AcceptedGZipMiddleware
from santecyber.server.direct_routes import DirectRoutes
from santecyber.server.linked_data import linked_data_router
from santecyber.server.negotiation import BadParameter
from santecyber.server.query_page import install_query_page
from santecyber.server.query_service import QueryService
from santecyber.server.replay import ReplayMiddleware
from santecyber.server.security import install_security
from santecyber.server.sparql_router import error_response, sparql_router

#: paths whose errors are the endpoint's JSON (docs/endpoint.md); elsewhere, plain text
ENDPOINT_PATHS = ("/", "/sparql")

#: prctl(2): the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def app_from_environment() -> FastAPI:
    """The app configured by SANTECYBER_* alone: what each process of `santecyber serve`
    builds (uvicorn imports it by name, so that it can start several)."""
    config = ServerConfig()
    if config.processes > 1:
        end_with_parent()
    return create_app(config)


def end_with_parent() -> None:
    """Have Linux send SIGTERM to this process when the one that started it dies.

    With ``--processes``, uvicorn's first process supervises the others; killed outright
    (SIGKILL, the OOM killer), it could not stop them, and they would go on holding the
    port and serving the old build. Elsewhere than Linux this does nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    # dead already, before the request above (this runs once the app is imported): uvicorn
    # starts each process with multiprocessing, which knows the parent it started from
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os.kill(os.getpid(), signal.SIGTERM)


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The app, serving the store that ``config.build_dir`` marks current."""
    config = config or ServerConfig()
    service = QueryService(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="santecyber",
        version=__version__,
        description="Knowledge graph of cyberattacks on French healthcare: SPARQL 1.1 endpoint.",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their script and styles from a CDN: blank under our CSP
        # (script-src 'self'), and no page here loads assets from another site; no installed
        # package ships them. /openapi.json stays.
        docs_url=None,
        redoc_url=None,
        # nothing here configures OpenTelemetry: skip FastAPI's per-request check for it
        telemetry=NO_TELEMETRY,
        # /sparql/ is not /sparql: Starlette's redirect would build its absolute Location
        # from the Host header (an open redirect when no proxy fixes Host); 404 instead
        redirect_slashes=False,
    )
    app.state.config = config
    app.add_exception_handler(BadParameter, bad_parameter)
    app.state.queries = service
    sparql = sparql_router(service, config)
    # first: the innermost layer
    app.add_middleware(DirectRoutes, routes=sparql.routes, handlers=app.exception_handlers)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=[
            "ETag",
            "X-Santecyber-Truncated",
            "X-Santecyber-Result-Limit",
            "X-Santecyber-Byte-Limit",
            "X-Santecyber-Cache",
            "Warning",
            "Link",  # the other formats of a resource, the pages of a listing
            "Content-Location",
        ],
    )
    # Level 5: most of level 9's gain at a fraction of its cost on the event loop.
    app.add_middleware(AcceptedGZipMiddleware, minimum_size=1000, compresslevel=5)
    app.include_router(sparql)
    app.include_router(linked_data_router(service, config))
    install_query_page(app)
    install_reload(app, service)
    # outside every route, the gzip and CORS layers: replays their output (server/replay.py)
    app.add_middleware(ReplayMiddleware, version=service.refresh, capacity=config.cache_bytes)
    install_security(app, config)  # last: the outermost middleware
    return app


async def bad_parameter(request: Request, error: Exception) -> Response:
    """A refused parameter (``lang=de``): 400 as the endpoint's JSON error on the query page
    and /sparql, as the linked-data pages' plain text elsewhere."""
    assert isinstance(error, BadParameter)
    if request.url.path in ENDPOINT_PATHS:
        return error_response(400, error.detail)
    return PlainTextResponse(f"400 Bad Request: {error.detail}\n", status_code=400)
