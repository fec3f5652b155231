"""A remote SPARQL 1.1 store: queries over the SPARQL 1.1 Protocol, graphs written over the
Graph Store Protocol, and the build's version in a small metadata graph.

The server's rules stay in front of the remote: a query is refused (updates, SERVICE), checked
for syntax and its form decided here, by pyoxigraph on an empty store, before anything is
sent. The answer is parsed by pyoxigraph as it streams in and cut at the result limit by the
same code as for the embedded store (:meth:`QueryResult.serialize_limited`), so formats and
truncation behave the same; past the limit the rest of the answer is never read.

What the build writes on the remote (docs/remote-store.md):

- every named graph of the build, replaced one by one with ``PUT`` (atomic per graph);
- the merge of all graphs, each statement once, in the server's default graph (or, with
  ``SANTECYBER_STORE_DEFAULT_GRAPH``, in a named graph per version, which queries then name
  as their default graph and hide from ``GRAPH ?g``);
- last, ``graph/reference/build``: the version and the size of every graph.
"""

from __future__ import annotations

import io
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from santecyber import __version__
from santecyber.config import StoreSettings
from santecyber.namespaces import BASE, PREFIXES
from santecyber.query_policy import code_only
from santecyber.sparql import QueryResult, run_query

BUILD_GRAPH = BASE + "graph/reference/build"
IDENTIFIER = "http://purl.org/dc/terms/identifier"
HAS_PART = "http://purl.org/dc/terms/hasPart"
TRIPLES = "http://rdfs.org/ns/void#triples"
RESULTS_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "text/tab-separated-values;q=0.8"
)
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
_DECLARED = re.compile(r"PREFIX\s+([^\s:]*):", re.IGNORECASE)
_FROM = re.compile(r"(?<![?$\w:])FROM(?![\w:-])", re.IGNORECASE)
_GRAPH = re.compile(r"(?<![?$\w:])GRAPH(?![\w:-])", re.IGNORECASE)
_GRAPH_VARIABLE = re.compile(r"(?<![?$\w:])GRAPH\s*([?$][^\s{]+)\s*\{", re.IGNORECASE)
#: statements per request when a merge graph is written in parts (dataset mode): Virtuoso
#: takes 100,000 per request, while one request of the whole merge risks `SR172: Transaction
#: deadlocked` (docs/remote-store.md)
MERGE_PART = 100_000
#: a write the server rolled back as the victim of a deadlock between concurrent writes
#: (Virtuoso: `SR172: Transaction deadlocked`, SQLSTATE 40001) is sent again, this many times
#: at most: every write of the build (PUT, POST of a set of statements, DELETE) is idempotent
WRITE_ATTEMPTS = 6
_DEADLOCKED = re.compile(r"\bSR172\b|\b40001\b")
_CREDENTIALS_HELP = "check SANTECYBER_STORE_USER and SANTECYBER_STORE_PASSWORD"


class StoreUnavailable(Exception):
    """The remote store cannot answer now: down, too slow, refusing our credentials (503)."""


class StoreFailed(StoreUnavailable):
    """The remote store answered the query with an error of its own (HTTP 500), such as
    Virtuoso's ``SR319`` (a string too long for its temporary column): the same query would
    fail again, so the endpoint says 502 without ``Retry-After``."""


class StoreRejected(Exception):
    """The remote store refused a request the server let through, with its reason (400)."""


class LoadMismatch(Exception):
    """After loading, a graph on the remote does not hold the statements the build sent."""


def redact(url: str) -> str:
    """``url`` without user, password or query string, for messages and logs.

    >>> redact("http://reader:s3cret@db.example:7878/query?key=abc")
    'http://db.example:7878/query'
    >>> redact("http://reader:s3cret@[::1/query")  # urllib cannot take it apart
    'http://[::1/query'
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return re.split(r"[?#]", re.sub(r"//[^/?#]*@", "//", url, count=1))[0]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def with_prefixes(query: str) -> str:
    """``query`` with the model's prefixes declared, except those it declares itself.

    >>> with_prefixes("PREFIX sc: <x:> ASK { ?a a sc:Attack }").count("PREFIX sc:")
    1
    """
    declared = {name.lower() for name in _DECLARED.findall(code_only(query))}
    prologue = "".join(
        f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items() if name not in declared
    )
    return prologue + query


def hide_graphs(query: str, hidden: Sequence[str]) -> str:
    """``query`` with every ``GRAPH ?var { … }`` wrapped so that ``?var`` is none of ``hidden``.

    ``{ GRAPH ?g { P } FILTER(?g NOT IN (…)) }`` has the answers of ``GRAPH ?g { P }`` minus
    those graphs, wherever the pattern stands (OPTIONAL, UNION, EXISTS, subqueries).

    >>> hide_graphs('SELECT * { GRAPH ?g { ?s ?p "}" } }', ["x:m"])
    'SELECT * { { GRAPH ?g { ?s ?p "}" } FILTER(?g NOT IN (<x:m>)) } }'
    """
    if not hidden:
        return query
    code = code_only(query)
    excluded = ", ".join(f"<{iri}>" for iri in hidden)
    edits: list[tuple[int, int, str]] = []
    for match in _GRAPH_VARIABLE.finditer(code):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(code)):
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            if depth == 0:
                break
        edits.append((match.start(), 1, "{ "))
        edits.append((end + 1, 0, f" FILTER({match.group(1)} NOT IN ({excluded})) }}"))
    # from the end, so that offsets hold; at one offset a closing goes before an opening
    for offset, _, text in sorted(edits, reverse=True):
        query = query[:offset] + text + query[offset:]
    return query


@dataclass(frozen=True)
class BuildInfo:
    """What ``graph/reference/build`` says: the version and the size of every graph."""

    version: str
    #: named graph → statements (the merge graph included when it is a named graph)
    graphs: dict[str, int]
    #: statements of the merged default graph
    default_triples: int


class _Body(io.RawIOBase):
    """A streamed HTTP body as a file for pyoxigraph's parsers; transport errors are kept."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.iter_bytes()
        self._pending = b""
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            except httpx.HTTPError as error:
                self.error = error
                raise OSError("the answer of the SPARQL store was cut") from None
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class RemoteStore:
    """A client of one SPARQL 1.1 server; thread-safe (one HTTP connection pool)."""

    def __init__(self, settings: StoreSettings, timeout: float = 60.0) -> None:
        self.settings = settings
        self.where = redact(settings.query_url)
        auth: httpx.Auth | None = None
        if settings.user:
            kind = httpx.DigestAuth if settings.auth == "digest" else httpx.BasicAuth
            auth = kind(settings.user, settings.password)
        self.client = httpx.Client(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": f"santecyber/{__version__}"},
        )
        self._empty = ox.Store()
        #: the last version read on the store; dataset mode: a version, its sources and the
        #: graphs hidden from GRAPH ?g in it (see ``dataset``)
        self._version = ""
        self._dataset: tuple[str, tuple[str, ...], tuple[str, ...] | None] = ("", (), None)

    def close(self) -> None:
        self.client.close()

    # HTTP

    def _failure(self, response: httpx.Response, what: str) -> Exception:
        status = response.status_code
        if status in (401, 403, 407):
            return StoreUnavailable(
                f"the SPARQL store at {self.where} refused access (HTTP {status}): "
                + _CREDENTIALS_HELP
            )
        reason = " ".join(response.text.split())[:300]
        if status == 500:
            return StoreFailed(
                f"the SPARQL store at {self.where} failed on {what} (HTTP 500)"
                + (f": {reason}" if reason else "")
            )
        if status > 500 or status in (404, 408, 429):
            return StoreUnavailable(
                f"the SPARQL store at {self.where} failed (HTTP {status})"
                + (f": {reason}" if reason else "")
            )
        return StoreRejected(f"the SPARQL store rejected {what} (HTTP {status}): {reason}")

    def _unreachable(self, error: httpx.HTTPError) -> StoreUnavailable:
        if isinstance(error, httpx.TimeoutException):
            return StoreUnavailable(f"the SPARQL store at {self.where} did not answer in time")
        if not isinstance(error, httpx.ConnectError):  # it took the request, then hung up
            return StoreUnavailable(
                f"the SPARQL store at {self.where} is unreachable or hung up without an answer "
                f"({type(error).__name__})"
            )
        return StoreUnavailable(
            f"the SPARQL store at {self.where} is unreachable ({type(error).__name__})"
        )

    def _send(
        self, method: str, url: str, what: str, missing_ok: bool = False, **options: object
    ) -> httpx.Response:
        """One write, sent again after a deadlock; ``missing_ok``: a 404 is fine."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                response = self.client.request(method, url, **options)  # type: ignore[arg-type]
            except httpx.HTTPError as error:
                raise self._unreachable(error) from None
            if response.status_code < 500 or not _DEADLOCKED.search(response.text):
                break
            time.sleep(0.25 * 2**attempt)
        if response.status_code >= 400 and not (missing_ok and response.status_code == 404):
            raise self._failure(response, what)
        return response

    # queries

    def parameters(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        version: str = "",
        as_served: bool = True,
    ) -> dict[str, str | list[str]]:
        """The form of a SPARQL Protocol POST.

        In dataset mode, a query that names no dataset gets the merge graph of ``version`` as
        its default graph, and its ``GRAPH ?g`` patterns see the sources of the build only
        (not the merge graphs, the version graph, the server's own graphs): see ``dataset``.
        """
        code = code_only(query)
        if as_served and self.settings.default_graph and not _FROM.search(code):
            default_graphs = default_graphs or (self.merge_graph(version),)
            if not named_graphs and _GRAPH.search(code):
                sources, hidden = self.dataset(version)
                if hidden is None:
                    named_graphs = sources
                else:
                    query = hide_graphs(query, hidden)
        data: dict[str, str | list[str]] = {"query": with_prefixes(query)}
        if default_graphs:
            data["default-graph-uri"] = list(default_graphs)
        if named_graphs:
            data["named-graph-uri"] = list(named_graphs)
        return data

    def merge_graph(self, version: str) -> str:
        """Dataset mode: the named graph holding the merge of build ``version``.

        One per version, so a new build writes its merge beside the one in service, in as
        many requests as needed, and readers switch with the version graph.
        """
        return f"{self.settings.default_graph}:{version}"

    def is_merge_graph(self, graph: str) -> bool:
        merge = self.settings.default_graph
        return bool(merge) and (graph == merge or graph.startswith(merge + ":"))

    def form_of(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        allowed_services: Sequence[str] = (),
    ) -> str:
        """Refuse or reject ``query`` here, as the embedded store would; else its form.

        The query is prepared on an empty in-memory store: the same parser, the same
        QueryRefused / QuerySyntaxError (with line and column) as for the embedded store.
        """
        return run_query(self._empty, query, default_graphs, named_graphs, allowed_services).form

    @contextmanager
    def results(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        allowed_services: Sequence[str] = (),
        version: str = "",
        as_served: bool = True,
    ) -> Iterator[QueryResult]:
        """The answer as it streams in; read it inside the ``with`` block, e.g. with
        ``result.serialize_limited(media_type, limit)``, which stops reading at the limit.
        """
        form = self.form_of(query, default_graphs, named_graphs, allowed_services)
        data = self.parameters(query, default_graphs, named_graphs, version, as_served)
        accept = GRAPH_ACCEPT if form == "graph" else RESULTS_ACCEPT
        try:
            with self.client.stream(
                "POST", self.settings.query_url, data=data, headers={"Accept": accept}
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._failure(response, "the query")
                body = _Body(response)
                try:
                    yield QueryResult(form, self._parse(response, body, form))
                except (OSError, SyntaxError, ValueError) as error:
                    if body.error is not None:
                        raise self._unreachable(body.error) from None
                    if isinstance(error, OSError) and error.errno is not None:
                        raise  # our own disk (a full TMPDIR while the answer is written)
                    raise StoreRejected(
                        f"the answer of the SPARQL store cannot be read: {error}"
                    ) from None
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None

    def _parse(self, response: httpx.Response, body: _Body, form: str) -> object:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if form == "graph":
            rdf_format = ox.RdfFormat.from_media_type(media) if media else None
            if rdf_format is None:
                raise ValueError(f"a graph as {media or 'no media type'}")
            return (quad.triple for quad in ox.parse(body, format=rdf_format))
        results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
        if results_format is None:
            raise ValueError(f"results as {media or 'no media type'}")
        parsed = ox.parse_query_results(body, results_format)
        if form == "boolean" and isinstance(parsed, ox.QuerySolutions):
            return _as_boolean(parsed)
        return parsed

    def query(self, query: str, as_served: bool = True) -> list | ox.QueryBoolean:
        """A whole (small) answer, shaped like ``ox.Store.query``'s: rows, triples or a boolean."""
        # dataset mode: the merge graph to query is that of the version last read
        in_dataset = as_served and self.settings.default_graph
        version = (self._version or self.version()) if in_dataset else ""
        with self.results(query, version=version, as_served=as_served) as result:
            if result.form == "boolean":
                return result.value  # type: ignore[return-value]
            return list(result.value)  # type: ignore[arg-type]

    # the build on the store

    def version(self) -> str:
        """The version of the build on the store; '' before any ``santecyber build --store``."""
        rows = self.query(
            f"SELECT ?v WHERE {{ GRAPH <{BUILD_GRAPH}> {{ <{BUILD_GRAPH}> <{IDENTIFIER}> ?v }} }}",
            as_served=False,
        )
        self._version = rows[0]["v"].value if rows else ""  # type: ignore[index]
        return self._version

    def build_info(self) -> BuildInfo | None:
        """Everything ``graph/reference/build`` says; None before any build."""
        rows = self.query(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{BUILD_GRAPH}> {{ ?s ?p ?o }} }}", as_served=False
        )
        version, default, parts, sizes = "", 0, set(), {}
        for row in rows:  # type: ignore[union-attr]
            s, p, o = row["s"].value, row["p"].value, row["o"]
            if s == BUILD_GRAPH and p == IDENTIFIER:
                version = o.value
            elif s == BUILD_GRAPH and p == TRIPLES:
                default = int(o.value)
            elif s == BUILD_GRAPH and p == HAS_PART:
                parts.add(o.value)
            elif p == TRIPLES:
                sizes[s] = int(o.value)
        if not version:
            return None
        return BuildInfo(version, {g: sizes.get(g, 0) for g in parts}, default)

    def dataset(self, version: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
        """Dataset mode: the source graphs of ``version``, and the graphs ``GRAPH ?g`` must not
        see, read once per version.

        With a default graph named, servers that follow the SPARQL Protocol open no named
        graph unless they are named too: the sources are then sent as ``named-graph-uri``
        (hidden: None). Virtuoso opens every graph whatever the default graph is, and hangs
        up on a few thousand ``named-graph-uri``; there, the hidden graphs (every graph on the
        store that is not a source: the merges, the version graph, its own graphs) are
        filtered out of ``GRAPH ?g`` in the query text instead.
        """
        if self._dataset[0] != version or not version:
            info = self.build_info()
            merge = self.merge_graph(version)
            sources = tuple(sorted(set(info.graphs if info else ()) - {merge}))
            probe = "ASK { GRAPH ?g { ?s ?p ?o } }"
            with self.results(probe, default_graphs=(merge,), as_served=False) as result:
                every_graph_open = bool(result.value)
            hidden = None
            if every_graph_open:  # DISTINCT ?g times out on Virtuoso where GROUP BY does not
                hidden = tuple(sorted(set(self.graph_counts()[0]) - set(sources)))
            self._dataset = (version, sources, hidden)
        return self._dataset[1], self._dataset[2]

    def graph_counts(self) -> tuple[dict[str, int], int]:
        """Statements per named graph on the store, and in the server's default graph (0 in
        dataset mode, where the merge is a named graph)."""
        rows = self.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            as_served=False,
        )
        graphs = {row["g"].value: int(row["n"].value) for row in rows}  # type: ignore[union-attr]
        if self.settings.default_graph:
            return graphs, 0
        rows = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", as_served=False)
        return graphs, int(rows[0]["n"].value)  # type: ignore[index]

    # writing graphs (Graph Store Protocol)

    def _graph_url(self, graph: str | None) -> str:
        url = self.settings.graph_store_url
        joiner = "&" if "?" in url else "?"
        return url + joiner + ("default" if graph is None else "graph=" + quote(graph, safe=""))

    def put_graph(self, graph: str | None, triples: Sequence[ox.Triple], add: bool = False) -> None:
        """Replace one graph (None: the default graph) with ``triples``, atomically; with
        ``add``, add them to it instead (POST)."""
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        # N-Triples is Turtle: every Graph Store Protocol server reads text/turtle
        what = f"graph <{graph}>" if graph else "the default graph"
        self._send(
            "POST" if add else "PUT",
            self._graph_url(graph),
            what,
            content=body,
            headers={"Content-Type": "text/turtle"},
        )

    def put_graph_in_parts(
        self, graph: str, triples: Sequence[ox.Triple], part: int = MERGE_PART
    ) -> None:
        """Replace a graph nobody reads yet with ``triples``, ``part`` statements per request."""
        for start in range(0, max(len(triples), 1), part):
            self.put_graph(graph, triples[start : start + part], add=start > 0)

    def delete_graph(self, graph: str) -> None:
        """Drop one named graph; a graph already gone is fine."""
        self._send("DELETE", self._graph_url(graph), f"dropping <{graph}>", missing_ok=True)


def _as_boolean(solutions: ox.QuerySolutions) -> ox.QueryBoolean:
    """An ASK answered as one row holding 1 or 0 (Virtuoso's ``__ASK_RETVAL``), as a boolean.

    >>> rows = b'{"head": {"vars": ["r"]}, "results": {"bindings": [{"r": {"type": "literal",'
    >>> rows += b' "value": "1"}}]}}'
    >>> bool(_as_boolean(ox.parse_query_results(rows, ox.QueryResultsFormat.JSON)))
    True
    """
    row = next(iter(solutions), None)
    value = row[0] if row is not None else None
    truth = value is not None and value.value not in ("0", "false")
    answer = b'{"head": {}, "boolean": %s}' % (b"true" if truth else b"false")
    return ox.parse_query_results(answer, ox.QueryResultsFormat.JSON)  # type: ignore[return-value]


def load_build(
    store: RemoteStore,
    nquads: bytes,
    version: str,
    parallel: int = 4,
    report: Callable[[str], None] = lambda _: None,
    part: int = MERGE_PART,
) -> BuildInfo:
    """Load a build into the remote store graph by graph, check every count, then the version.

    Raises StoreUnavailable (down), StoreRejected (a write refused) or LoadMismatch (a graph
    holds other statements than those sent); the version graph is then left as it was, so
    the server keeps announcing the previous build.
    """
    graphs: dict[str, set[ox.Triple]] = defaultdict(set)
    merged: set[ox.Triple] = set()
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        if isinstance(quad.graph_name, ox.NamedNode):
            graphs[quad.graph_name.value].add(quad.triple)
        merged.add(quad.triple)
    previous = store.build_info()
    dataset_mode = bool(store.settings.default_graph)
    merge_graph = store.merge_graph(version) if dataset_mode else None
    # the merge in service stays until readers have moved to this build
    kept_merge = store.merge_graph(previous.version) if previous and dataset_mode else None
    report(f"loading {len(graphs)} graphs and the merged default graph into {store.where}")

    def put(graph: str) -> None:
        store.put_graph(graph, sorted(graphs[graph], key=str))

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(put, sorted(graphs)))
    if merge_graph is None:
        store.put_graph(None, list(merged))  # one PUT: the default graph is read meanwhile
    elif merge_graph != kept_merge:  # the same version in service already has its merge
        store.put_graph_in_parts(merge_graph, list(merged), part)
    for stale in sorted(set(previous.graphs if previous else ()) - set(graphs)):
        if not store.is_merge_graph(stale):
            store.delete_graph(stale)
    counts, default_count = store.graph_counts()
    if merge_graph is not None:
        default_count = counts.get(merge_graph, 0)
    wrong = [
        f"<{g}>: {counts.get(g, 0)} statements, {len(t)} sent"
        for g, t in sorted(graphs.items())
        if counts.get(g, 0) != len(t)
    ]
    if default_count != len(merged):
        wrong.append(f"default graph: {default_count} statements, {len(merged)} sent")
    if wrong:
        raise LoadMismatch(f"{len(wrong)} graphs differ after loading: " + "; ".join(wrong[:5]))
    sizes = {g: len(t) for g, t in graphs.items()}
    if merge_graph:
        sizes[merge_graph] = len(merged)
    info = BuildInfo(version, sizes, len(merged))
    store.put_graph(BUILD_GRAPH, build_triples(info))
    for old in sorted(g for g in counts if store.is_merge_graph(g)):
        if old not in (merge_graph, kept_merge):  # merges of builds before the previous one
            store.delete_graph(old)
    report(f"loaded version {version}: {len(merged)} statements in the default graph")
    return info


def build_triples(info: BuildInfo) -> list[ox.Triple]:
    """The metadata graph: version, default graph size, and each graph with its size."""
    build = ox.NamedNode(BUILD_GRAPH)
    count = ox.NamedNode(TRIPLES)
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    triples = [
        ox.Triple(build, ox.NamedNode(IDENTIFIER), ox.Literal(info.version)),
        ox.Triple(build, count, ox.Literal(str(info.default_triples), datatype=integer)),
    ]
    for graph, size in sorted(info.graphs.items()):
        node = ox.NamedNode(graph)
        triples.append(ox.Triple(build, ox.NamedNode(HAS_PART), node))
        triples.append(ox.Triple(node, count, ox.Literal(str(size), datatype=integer)))
    return triples


def build_into(
    settings: StoreSettings,
    data_dir: Path,
    build_dir: Path,
    validate: bool = True,
    report: Callable[[str], None] = lambda _: None,
) -> BuildInfo:
    """``santecyber build --store``: compile, validate, load into the remote store, then write
    the dumps and redirects table into ``build_dir`` (no local store).

    Raises what :func:`santecyber.build.build` raises, and what :func:`load_build` raises.
    """
    from santecyber.build import compile_graph, validated_shapes
    from santecyber.dumps import stage_dumps
    from santecyber.store import BuildDirectory

    compiled = compile_graph(data_dir)
    shapes = validated_shapes(compiled, validate)
    target = BuildDirectory(build_dir)
    store = RemoteStore(settings, timeout=600.0)
    with target.building():  # one build at a time from this build directory
        try:
            info = load_build(store, compiled.nquads, compiled.version, report=report)
        finally:
            store.close()
        stage_dumps(target, compiled.nquads, compiled.redirects, compiled.version, shapes).switch()
    return info
