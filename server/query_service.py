"""Runs queries on the store in service, in worker processes, with a cache in front.

Why processes: pyoxigraph cannot cancel a query, so the only way to enforce a time limit and
get the capacity back is to kill the process running it. The exception: a query of one triple
pattern, whose time its row cap bounds, is run by the server itself when its answer is small
(``run_here``). Why a cache: analysts send the same
queries again and again, and the data only changes with a new build (its version is part of
every key, so a new build never serves stale answers).

With a remote store (``SANTECYBER_STORE``), workers forward queries to it over HTTP and the
version comes from its ``graph/reference/build`` graph, read every few seconds by a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import NamedTuple

import pyoxigraph as ox

from santecyber.config import ServerConfig
from santecyber.query_policy import QueryRefused, QuerySyntaxError, check_allowed
from santecyber.query_shape import OnePattern, one_pattern
from santecyber.remote import RemoteStore, StoreRejected, StoreUnavailable
from santecyber.server.bounded_cache import BoundedCache
from santecyber.server.negotiation import (
    NotAcceptable,
    choose_media_type,
    negotiate,
)
from santecyber.server.query_worker import (
    QueryWorker,
    WorkerLost,
    WorkError,
    WorkRequest,
    WorkResult,
    answer,
)
from santecyber.server.worker_pool import NoWorkerFree, WorkerPool
from santecyber.store import BuildDirectory

LOG = logging.getLogger("santecyber.sparql")

#: bytes per message from a worker when an answer is streamed
CHUNK_BYTES = 64 << 10
#: the most rows and bytes of terms of a one-pattern query answered by the server itself:
#: at most 2.6 ms of the event loop on 1M quads, whatever the format (1,000 rows and 64 KiB
#: took up to 7.7 ms); bigger answers go to a worker (see run_here)
HERE_ROWS = 250
HERE_BYTES = 16 << 10
__all__ = [
    "Answer",
    "AnswerStream",
    "NotAcceptable",
    "Plan",
    "QueryService",
    "QueryUnavailable",
    "choose_media_type",
]


class QueryUnavailable(Exception):
    """The query could not be answered now (time limit, no free worker): HTTP 503."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.status = 503
        self.timed_out = timed_out


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str
    truncated: bool = False
    etag: str = ""
    cached: bool = False
    #: an answer over ``stream_bytes`` (config): ``body`` is empty, the bytes come from here
    stream: AnswerStream | None = None


class CacheKey(NamedTuple):
    version: str
    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    #: the negotiated media type, or the client's preferences when the form was unclear
    media: tuple[str, ...]
    #: one of the server's own queries (pages, VoID): answered whole, not cut at the caps
    whole: bool = False


@dataclass(frozen=True)
class Plan:
    """What a request will run, decided before anything touches the store."""

    key: CacheKey
    media_type: str | None
    #: cheap by its shape (santecyber/query_shape.py): the server may run it itself
    here: OnePattern | None = None

    @property
    def etag(self) -> str:
        """Weak: the same answer gzipped or not is the same representation for us."""
        digest = hashlib.sha256(repr(self.key[1:]).encode()).hexdigest()[:20]
        return f'W/"{self.key.version}-{digest}"'


def answer_cost(key: CacheKey, answer: Answer) -> int:
    """What an answer holds in the cache: its bytes and its query's."""
    return len(answer.body) + len(key.query)


class QueryService:
    """Owns the worker processes, the version in service and the result cache.

    ``execute`` is the one entry point for every router: it returns serialised bytes and
    their media type, or raises QuerySyntaxError, QueryRefused, NotAcceptable or
    QueryUnavailable.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.directory = BuildDirectory(config.build_dir)
        #: the store in service, opened read-only in this process for small lookups
        self.store: ox.Store | _Lookups | None = None
        self.remote: RemoteStore | None = None
        self._watching = threading.Event()
        self.version = ""
        #: why the store CURRENT names could not be opened ('' when it is the one served)
        self.unopened = ""
        self.cache: BoundedCache[CacheKey, Answer] = BoundedCache(config.cache_bytes, answer_cost)
        self._pool: WorkerPool[QueryWorker] | None = None
        self._workers: set[QueryWorker] = set()
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None
        self._stopped = False
        #: queries in flight (running or waiting for a worker), only touched from the event loop
        self._waiting = 0
        #: beyond this many in flight, 503 at once
        self._capacity = max(32, config.workers_per_process * 8)
        self._remote_down = False
        self._warned_online = False
        self._pointer = str(self.directory.pointer)  # stat per request: no Path built each time
        #: (inode, mtime, size) of the CURRENT pointer when last read
        self._pointer_seen: tuple[int, int, int] | None = None

    # life cycle

    def start(self) -> None:
        """Open the store and start the workers; called on the event loop that will serve."""
        self._stopped = False
        self._pool = WorkerPool(asyncio.get_running_loop())
        if self.config.store is None:
            self.store, self.version = self.directory.open_current()
        else:
            self.remote = RemoteStore(self.config.store, self.config.query_timeout + 5)
            self.store = _Lookups(self.remote)
            self._watching.clear()
            self._read_remote_version()
            threading.Thread(target=self._watch_remote, name="store-version", daemon=True).start()
        # workers start (and replacements later) in threads: a start takes milliseconds
        count = self.config.workers_per_process
        self._threads = ThreadPoolExecutor(count, thread_name_prefix="worker-start")
        starting = [self._threads.submit(self._spawn) for _ in range(count)]
        for future in starting:
            future.result()

    def stop(self) -> None:
        self._stopped = True
        self._watching.set()
        if self.remote is not None:
            self.remote.close()
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)

    def _spawn(self) -> None:
        # with no remote store and no SERVICE allow-list, a worker has no use for the network
        offline = self.config.store is None and not self.config.service_allowlist
        worker = QueryWorker(
            self.config.build_dir,
            self.config.worker_memory_mb << 20,
            self.config.store,
            self.config.query_timeout + 5,
            offline,
        )
        if worker.not_offline and not self._warned_online:
            self._warned_online = True
            LOG.warning("query workers: %s", worker.not_offline)
        with self._lock:
            if self._stopped:
                worker.close()
                return
            self._workers.add(worker)
        assert self._pool is not None
        self._pool.release_threadsafe(worker)

    @property
    def in_flight(self) -> int:
        """Queries running or waiting for a worker."""
        return self._waiting

    def refresh(self) -> str:
        """The version in service, following a new build without a restart.

        Called on every request: the pointer is only read again when its stat changes (a
        publish or rollback replaces it by a rename, so a new inode), one syscall per request.
        A store that cannot be opened leaves the previous one served, and says why in
        ``unopened`` (a reload reports it) until CURRENT changes again.
        """
        if self.remote is not None:
            return self.version  # kept up to date by _watch_remote
        try:
            seen = os.stat(self._pointer)
        except FileNotFoundError:
            return self.version
        signature = (seen.st_ino, seen.st_mtime_ns, seen.st_size)
        if signature == self._pointer_seen:
            return self.version
        version = self.directory.current_version()
        self.unopened = ""
        if version and version != self.version:
            try:
                self.store, self.version = self.directory.open_current()
            except OSError as error:  # published damaged: the one in service stays
                self.unopened = str(error)
                LOG.error("%s; serving %s until CURRENT changes again", error, self.version)
        if version:  # a pointer naming a store not there yet is read again next time
            self._pointer_seen = signature
        return self.version

    def _read_remote_version(self) -> None:
        """Read the version on the remote store; when unreachable keep the last one, log once."""
        assert self.remote is not None
        try:
            version = self.remote.version()
        except (StoreUnavailable, StoreRejected, RuntimeError) as error:
            if self._stopped:  # the client was closed under us
                return
            if not self._remote_down:
                LOG.warning("%s; serving version %r until it answers", error, self.version)
            self._remote_down = True
            return
        if self._remote_down:
            LOG.warning("the SPARQL store at %s answers again", self.remote.where)
        self._remote_down = False
        if version != self.version:
            LOG.info("serving version %s of %s", version or "(none)", self.remote.where)
            self.version = version

    def _watch_remote(self) -> None:
        assert self.config.store is not None
        while not self._watching.wait(self.config.store.refresh_seconds):
            self._read_remote_version()

    # queries

    def plan(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        accepted: Sequence[str] = (),
        whole: bool = False,
    ) -> Plan:
        """Refuse, negotiate and key a request without running it (so 304/406 cost nothing).

        ``whole``: a query of the server's own, whose answer the caps on analysts' queries
        (SANTECYBER_MAX_RESULTS, SANTECYBER_MAX_ANSWER_BYTES) must not cut, since a page
        would show a part as the whole; the time limit still applies.
        """
        form = check_allowed(query, self.config.service_allowlist)
        media_type = negotiate(form, accepted) if form in ("bindings", "boolean", "graph") else None
        media = (media_type,) if media_type else tuple(accepted)
        graphs = (tuple(default_graphs), tuple(named_graphs))
        key = CacheKey(self.refresh(), query, *graphs, media, whole)
        on_our_store = self.remote is None and not default_graphs and not named_graphs
        return Plan(key, media_type, one_pattern(query) if on_our_store else None)

    async def run(self, plan: Plan, stream: bool = False) -> Answer:
        """The answer to a planned request, from the cache or a worker.

        With ``stream``, an answer over ``config.stream_bytes`` comes back as an
        ``Answer.stream`` that holds its worker until the last chunk was read (or kills it:
        time limit, client gone); smaller answers are read whole and cached.
        """
        cached = self.cache.get(plan.key)
        if cached is not None:
            return Answer(cached.body, cached.media_type, cached.truncated, plan.etag, True)
        request = WorkRequest(
            query=plan.key.query,
            version=plan.key.version,
            default_graphs=plan.key.default_graphs,
            named_graphs=plan.key.named_graphs,
            accepted=plan.key.media,
            max_results=sys.maxsize if plan.key.whole else self.config.max_results,
            max_bytes=0 if plan.key.whole else self.config.max_answer_bytes,  # 0: none
            allowed_services=self.config.service_allowlist,
            chunk_bytes=CHUNK_BYTES if stream else 0,
        )
        if plan.here is not None and plan.key.version == self.version:
            small = self.run_here(plan, request)
            if small is not None:
                return small
        if self._waiting >= self._capacity:
            raise QueryUnavailable(f"{self._waiting} queries are already waiting: try again later")
        loop = asyncio.get_running_loop()
        timeout = self.config.query_timeout
        limit = self.config.stream_bytes
        self._waiting += 1
        try:
            worker = await self._borrow()
            deadline = loop.time() + timeout
            try:  # cancelled too: the client left, stop its query
                result = await worker.call_on_loop(request, timeout)
                if isinstance(result, WorkResult) and 0 <= result.size <= limit:
                    parts, received = [result.body], len(result.body)
                    while received < result.size:
                        parts.append(await worker.read_chunk(deadline, timeout))
                        received += len(parts[-1])
                    result = WorkResult(b"".join(parts), result.media_type, result.truncated, "")
            except BaseException as error:
                raise self._lost(worker, request, error) from None
        finally:
            self._waiting -= 1
        if isinstance(result, WorkResult) and result.size > limit:
            answer_stream = AnswerStream(self, worker, request, result, deadline)
            return Answer(b"", result.media_type, result.truncated, plan.etag, stream=answer_stream)
        self._release(worker)
        return self._kept(plan, result)

    def run_here(self, plan: Plan, request: WorkRequest) -> Answer | None:
        """The answer of a one-pattern query, run by this process on the event loop, if it
        has at most HERE_ROWS rows and HERE_BYTES bytes; else None, for a worker to run.

        Such a query costs a constant per row it returns (santecyber/query_shape.py), so
        these caps bound its time: no worker is needed to stop it, and the lookup is spared
        the round trip to one (docs/endpoint.md, "Where a query runs").
        """
        assert isinstance(self.store, ox.Store) and plan.here is not None
        rows, size = min(HERE_ROWS, request.max_results), min(HERE_BYTES, request.max_bytes)
        query = plan.here.capped(request.query, rows + 1)  # one more: whether rows were cut
        result = answer(self.store, replace(request, query=query, max_results=rows, max_bytes=size))
        if isinstance(result, WorkError) and result.kind == "syntax" and query != request.query:
            return None  # its line and column are the worker's to find, in the text as sent
        ours = (rows, size) != (request.max_results, request.max_bytes)
        if ours and isinstance(result, WorkResult) and result.truncated:
            return None  # cut by our caps, maybe not by the configured ones: a worker's job
        return self._kept(plan, result)

    def _kept(self, plan: Plan, result: WorkResult | WorkError) -> Answer:
        """The Answer for a whole ``result`` (cached), or its error raised."""
        if isinstance(result, WorkError):
            raise _as_exception(result)
        kept = Answer(result.body, result.media_type, result.truncated, plan.etag)
        if self.config.cache_bytes > 0:
            self.cache.put(plan.key, kept)
        return kept

    async def execute(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        accepted: Sequence[str] = (),
        whole: bool = False,
    ) -> Answer:
        """Serialised answer to ``query`` in the first of ``accepted`` that fits its form
        (``whole``: see ``plan``)."""
        return await self.run(self.plan(query, default_graphs, named_graphs, accepted, whole))

    async def _borrow(self) -> QueryWorker:
        """A free worker, waiting at most the time limit for one."""
        assert self._pool is not None
        try:
            return await self._pool.borrow(self.config.query_timeout)
        except NoWorkerFree as error:
            raise QueryUnavailable(f"{error}: try again later") from None

    def _release(self, worker: QueryWorker) -> None:
        assert self._pool is not None
        self._pool.release(worker)

    def _lost(
        self, worker: QueryWorker, request: WorkRequest, error: BaseException
    ) -> BaseException:
        """What to raise when ``worker`` failed on ``request``; it is replaced either way."""
        if isinstance(error, WorkerLost):
            LOG.warning("%s; query: %.200r", error, request.query)
            self._replace(worker)
            if error.crashed:  # not worth a retry: this query's fault, not the server's load
                return QueryRefused(str(error), 400)
            return QueryUnavailable(str(error), error.timed_out)
        worker.kill()
        self._replace(worker)
        return error

    def _replace(self, worker: QueryWorker) -> None:
        """Forget a dead worker and start another in the background."""
        with self._lock:
            self._workers.discard(worker)
        if not self._stopped and self._threads is not None:
            self._threads.submit(self._spawn_logged)

    def _spawn_logged(self) -> None:
        try:
            self._spawn()
        except Exception:
            LOG.exception("could not start a query worker; %d left", len(self._workers))


class AnswerStream:
    """The chunks of a large answer, read from its worker as the client takes them.

    The worker stays busy until the last chunk; the time limit still runs (from when the
    worker took the query). Past it, the worker is killed and the iteration raises
    QueryUnavailable: the response was already started, so the server can only end the
    connection mid-body. ``close`` (always called when the response ends) kills a worker
    whose answer was not read to the end, e.g. because the client left.
    """

    def __init__(
        self,
        service: QueryService,
        worker: QueryWorker,
        request: WorkRequest,
        header: WorkResult,
        deadline: float,
    ) -> None:
        self.service = service
        self.worker = worker
        self.request = request
        self.size = header.size
        #: the answer's bytes that came with its header (all of it, when they fit one chunk)
        self.first = header.body
        self.deadline = deadline
        self.finished = False
        self._watchdog: asyncio.TimerHandle | None = None
        if len(self.first) == self.size:  # all here: the worker has nothing more to send
            self._finish()
        else:  # at the limit the worker goes, even if the client is not reading
            self._watchdog = asyncio.get_running_loop().call_at(deadline, self._expire)

    async def chunks(self) -> AsyncIterator[bytes]:
        received = len(self.first)
        if self.first:
            yield self.first
        timeout = self.service.config.query_timeout
        while received < self.size:
            if self.finished:  # expired while the previous chunk was being sent
                raise QueryUnavailable(f"query stopped after the time limit of {timeout:g} s")
            try:
                chunk = await self.worker.read_chunk(self.deadline, timeout)
            except WorkerLost as error:
                self._end(error)
                raise QueryUnavailable(str(error), error.timed_out) from None
            received += len(chunk)
            yield chunk
        if not self.finished:
            self._finish()

    def _finish(self) -> None:
        """The worker sent the whole answer: back to the pool (once)."""
        self.finished = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        self.service._release(self.worker)

    def _expire(self) -> None:
        timeout = self.service.config.query_timeout
        self._end(WorkerLost(f"answer not sent within the time limit of {timeout:g} s", True))

    def _end(self, error: BaseException) -> None:
        """Kill and replace the worker of an answer not read to its end (once)."""
        if not self.finished:
            self.finished = True
            if self._watchdog is not None:
                self._watchdog.cancel()
            self.service._lost(self.worker, self.request, error)

    def close(self) -> None:
        if not self.finished:
            LOG.info("answer abandoned mid-stream; query: %.200r", self.request.query)
            self._end(ConnectionAbortedError())

    def discard(self) -> None:
        """Drop the answer unread (HEAD: the size was all it needed); a worker still sending
        it is ended."""
        self._end(ConnectionAbortedError())


class _Lookups:
    """The server's own small lookups on a remote store, shaped like ``ox.Store.query``.

    A store that cannot answer gives no rows (logged): a lookup (graph sizes for the service
    description) must not turn a page into a 500.
    """

    def __init__(self, remote: RemoteStore) -> None:
        self.remote = remote

    def query(self, query: str) -> list | ox.QueryBoolean:
        try:
            return self.remote.query(query)
        except (StoreUnavailable, StoreRejected) as error:
            LOG.warning("%s; lookup skipped: %.100r", error, query)
            return []


def _as_exception(error: WorkError) -> Exception:
    if error.kind == "syntax":
        return QuerySyntaxError(error.message, error.line, error.column)
    if error.kind == "not-acceptable":
        return NotAcceptable(error.supported, message=error.message)
    if error.kind == "unavailable":
        return QueryUnavailable(error.message)
    return QueryRefused(error.message, error.status)
