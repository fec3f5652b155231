"""The SPARQL 1.1 Protocol endpoint at /sparql (query operation)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from santecyber.config import ServerConfig
from santecyber.server.negotiation import accepted_media_types, format_override
from santecyber.server.query_service import NotAcceptable, QueryService
from santecyber.sparql import QueryRefused, QuerySyntaxError


def _error(status: int, message: str, **extra: object) -> Response:
    return JSONResponse({"error": message, **extra}, status_code=status)


def sparql_router(service: QueryService, config: ServerConfig) -> APIRouter:
    router = APIRouter()

    async def answer(
        request: Request,
        query: str | None,
        default_graphs: list[str],
        named_graphs: list[str],
        output: str | None,
    ) -> Response:
        if not query:
            return _error(400, "missing parameter 'query'")
        if len(query) > config.max_query_length:
            return _error(414, f"query longer than {config.max_query_length} characters")
        override = format_override(output)
        accepted = [override] if override else accepted_media_types(request.headers.get("accept"))
        try:
            result = await service.execute(query, default_graphs, named_graphs, accepted)
        except QuerySyntaxError as error:
            return _error(
                400, f"SPARQL syntax error: {error}", line=error.line, column=error.column
            )
        except QueryRefused as error:
            return _error(error.status, str(error))
        except NotAcceptable as error:
            return _error(406, str(error), supported=error.supported)
        return Response(
            result.body,
            media_type=result.media_type,
            headers={"Vary": "Accept", "ETag": f'"{service.version}"'},
        )

    @router.get("/sparql")
    async def sparql_get(request: Request) -> Response:
        params = request.query_params
        if len(params.getlist("query")) > 1:
            return _error(400, "more than one 'query' parameter")
        return await answer(
            request,
            params.get("query"),
            params.getlist("default-graph-uri"),
            params.getlist("named-graph-uri"),
            params.get("format") or params.get("output"),
        )

    @router.post("/sparql")
    async def sparql_post(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        params = request.query_params
        default_graphs = params.getlist("default-graph-uri")
        named_graphs = params.getlist("named-graph-uri")
        output = params.get("format") or params.get("output")
        if content_type == "application/sparql-query":
            query = (await request.body()).decode("utf-8", errors="replace")
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.form()
            if form.getlist("update"):
                return _error(403, "SPARQL Update is not allowed: this endpoint is read-only")
            queries = form.getlist("query")
            if len(queries) > 1:
                return _error(400, "more than one 'query' parameter")
            query = str(queries[0]) if queries else None
            default_graphs += [str(v) for v in form.getlist("default-graph-uri")]
            named_graphs += [str(v) for v in form.getlist("named-graph-uri")]
            output = output or form.get("format") or form.get("output")  # type: ignore[assignment]
        elif content_type == "application/sparql-update":
            return _error(403, "SPARQL Update is not allowed: this endpoint is read-only")
        else:
            return _error(
                415, "POST a query as application/sparql-query or application/x-www-form-urlencoded"
            )
        return await answer(
            request, query, default_graphs, named_graphs, str(output) if output else None
        )

    return router
