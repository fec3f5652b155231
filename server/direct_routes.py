"""Hot routes reached without FastAPI's routing layers.

Every distinct SPARQL lookup goes through the endpoint once, and on the event loop FastAPI's
exit-stack and router layers, route matching over every route and dependency solving cost
about as much as the endpoint itself (docs/endpoint.md, "Benchmark"). The SPARQL endpoint
uses none of them: it takes the Request and returns a Response. So this innermost
middleware sends a request whose path and method match one of ``routes`` straight to that
route's endpoint, as Starlette's plain routes call theirs, under the app's exception
handlers (an HTTPException is its status, as on every other route). The routes stay
registered on the app, for OpenAPI, and the middleware above (security headers, replay,
gzip, CORS) sees them as before.

Paths are matched as sent: behind ``--root-path`` the requests take the routed way.

A route may list the method ``*``: it takes the methods that no route of its path lists
(``TRACE``, ``PROPFIND``…), which FastAPI would answer with its own 405.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

#: the method that a route lists to take every method no other route of its path takes
ANY_OTHER_METHOD = "*"


class DirectRoutes:
    """Dispatch ``routes`` (fixed paths, endpoints taking only the Request) before the app,
    with ``handlers`` (the app's ``exception_handlers``) for what they raise."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[BaseRoute],
        handlers: Mapping[Any, Callable[..., Any]],
    ) -> None:
        self.app = app
        self.endpoints: dict[tuple[str, str], ASGIApp] = {}
        for route in routes:
            if not isinstance(route, APIRoute) or route.param_convertors:
                raise ValueError(f"{route!r}: only fixed paths can be dispatched directly")
            endpoint = ExceptionMiddleware(request_response(route.endpoint), dict(handlers))
            for method in route.methods:
                self.endpoints[route.path, method] = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            endpoint = self.endpoints.get((path, scope["method"])) or self.endpoints.get(
                (path, ANY_OTHER_METHOD)
            )
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)
