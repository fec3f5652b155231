"""Query worker processes: pyoxigraph cannot cancel a query, but a process can be killed.

Each worker opens the store in service read-only, runs one query at a time and sends back the
serialised answer (pyoxigraph's result iterators belong to the thread that made them, so
serialising happens here too). The server kills a worker whose query runs past its time
limit and starts another; nothing else is lost, since workers hold no state but the store.
A request with ``chunk_bytes`` gets its answer as a header (carrying it whole when it fits
one chunk), then raw chunks, which the server streams to the client (docs/endpoint.md,
"Large answers stream").

With a remote store (:mod:`santecyber.remote`) a worker forwards the query over HTTP instead,
and reads and cuts the answer with the same code; killing it at the time limit abandons the
remote request (its connection closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import tempfile
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from santecyber.config import StoreSettings
from santecyber.query_policy import QueryRefused, QuerySyntaxError
from santecyber.remote import RemoteStore, StoreFailed, StoreRejected, StoreUnavailable
from santecyber.server.negotiation import NotAcceptable, negotiate
from santecyber.server.network_sandbox import leave_network
from santecyber.sparql import SPOOL_BYTES, NotRepresentable, QueryResult, run_query

LOG = logging.getLogger("santecyber.sparql")

#: forkserver: workers fork from a small clean process with these modules already imported,
#: so a replacement is ready in milliseconds and never inherits the server's threads.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["santecyber.server.query_worker"])
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class WorkRequest:
    query: str
    version: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    max_results: int = 100_000
    #: bytes of the answer's terms at most (0: no bound), as ``QueryResult.write_limited``
    max_bytes: int = 0
    allowed_services: tuple[str, ...] = ()
    #: 0: the answer comes back in the WorkResult; else WorkResult(size=N) first, its body
    #: the whole answer if it fits in one chunk, else empty and the answer follows as raw
    #: messages of at most this many bytes (see ``read_chunk``)
    chunk_bytes: int = 0


@dataclass(frozen=True)
class WorkResult:
    body: bytes
    media_type: str
    truncated: bool
    form: str
    #: with ``chunk_bytes``: the body's length, sent in chunks after this header
    size: int = -1


@dataclass(frozen=True)
class WorkError:
    """A query the worker could not answer: what kind of failure, with its HTTP status."""

    kind: str  # syntax | refused | not-acceptable | unavailable | failed
    status: int
    message: str
    line: int = 0
    column: int = 0
    supported: tuple[str, ...] = field(default=())


CRASHED_MESSAGE = (
    "the query crashed its worker (segmentation fault), and would again: pyoxigraph's parser"
    " runs out of stack on a chain of thousands of operators or path steps (1+1+…, a/a/…):"
    " write it shorter"
)


class WorkerLost(Exception):
    """The worker was killed (time limit) or died (crash, out of memory). ``crashed``: by a
    segmentation fault, which the same query would cause again."""

    def __init__(self, message: str, timed_out: bool, crashed: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.crashed = crashed


def _serialised(result: QueryResult, request: WorkRequest, output: BinaryIO | None) -> WorkResult:
    media_type = negotiate(result.form, request.accepted)
    if output is None:
        body, truncated = result.serialize_limited(
            media_type, request.max_results, request.max_bytes
        )
        return WorkResult(body, media_type, truncated, result.form)
    truncated = result.write_limited(output, media_type, request.max_results, request.max_bytes)
    return WorkResult(b"", media_type, truncated, result.form, output.tell())


def answer(
    store: ox.Store | RemoteStore, request: WorkRequest, output: BinaryIO | None = None
) -> WorkResult | WorkError:
    """Run ``request`` on ``store``; every expected failure becomes a WorkError.

    With ``output``, the body is written there and the result carries only its size.
    """
    arguments = (request.default_graphs, request.named_graphs, request.allowed_services)
    try:
        if isinstance(store, RemoteStore):
            with store.results(request.query, *arguments, version=request.version) as result:
                return _serialised(result, request, output)
        return _serialised(run_query(store, request.query, *arguments), request, output)
    except QuerySyntaxError as error:
        return WorkError("syntax", 400, str(error), error.line, error.column)
    except NotRepresentable as error:
        return WorkError("not-acceptable", 406, str(error), supported=error.supported)
    except QueryRefused as error:
        return WorkError("refused", error.status, str(error))
    except NotAcceptable as error:
        return WorkError("not-acceptable", 406, str(error), supported=tuple(error.supported))
    except StoreFailed as error:  # before StoreUnavailable, its base: no retry will help
        return WorkError("failed", 502, str(error))
    except StoreUnavailable as error:
        return WorkError("unavailable", 503, str(error))
    except StoreRejected as error:
        return WorkError("failed", 400, str(error))
    except OSError as error:
        if error.errno is not None:  # the server's disk (a full TMPDIR while spooling)
            return WorkError("unavailable", 503, f"the answer could not be completed: {error}")
        if "does not support" in str(error):  # pyoxigraph's writer (JSON-LD and RDF 1.2 terms)
            message = f"the answer cannot be written in the format asked for: {error}"
            return WorkError("failed", 406, message + " (Turtle and N-Triples carry any term)")
        # pyoxigraph's own I/O: an allow-listed SERVICE endpoint, or the store itself
        return WorkError("failed", 502, f"a store or endpoint the query needs failed: {error}")
    except (ValueError, TypeError, RuntimeError) as error:
        return WorkError("failed", 400, f"query evaluation failed: {error}")
    except MemoryError:  # past SANTECYBER_WORKER_MEMORY_MB in Python; pyoxigraph aborts instead
        return WorkError("unavailable", 503, "the query needs more memory than a worker has")
    except Exception as error:  # a bug of ours or of a library: the worker stays up to say so
        LOG.exception("query failed unexpectedly: %.200r", request.query)
        return WorkError("failed", 500, f"internal error: {type(error).__name__}: {error}")


def _open(build_root: Path, version: str) -> ox.Store:
    return ox.Store.read_only(str(build_root / "stores" / version))


def worker_main(
    connection: Connection,
    build_root: str,
    memory_bytes: int = 0,
    remote: StoreSettings | None = None,
    timeout: float = 60.0,
    offline: bool = False,
) -> None:
    """Serve requests from ``connection`` until it closes or sends None.

    ``memory_bytes`` caps the worker's address space: a query needing more makes the worker
    die, which the server reports as 503 and repairs by starting another. With ``remote``,
    queries go to that SPARQL store (``timeout``: seconds of its HTTP client, beyond the
    server's own limit, which kills the worker first). ``offline`` takes the worker off the
    network first (server/network_sandbox.py); the ready message says why if it could not.
    """
    not_offline = leave_network() if offline else ""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    root = Path(build_root)
    store: ox.Store | RemoteStore | None = RemoteStore(remote, timeout) if remote else None
    version = ""
    connection.send(("ready", os.getpid(), not_offline))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            if not isinstance(store, RemoteStore) and (store is None or request.version != version):
                store, version = _open(root, request.version), request.version
        except OSError as error:
            message = f"store {request.version} cannot be opened: {error}"
            connection.send(WorkError("unavailable", 503, message))
            continue
        _respond(connection, store, request)


def _respond(connection: Connection, store: ox.Store | RemoteStore, request: WorkRequest) -> None:
    """Send the answer to ``request``: whole, or (``chunk_bytes``) as a header then chunks.

    Streamed, the body goes to a spooled file first (on disk past SPOOL_BYTES), so status,
    media type, truncation and size are known before any byte of it; the pipe's
    back-pressure then keeps this worker busy until the server took the last chunk.
    """
    if request.chunk_bytes <= 0:
        connection.send(answer(store, request))
        return
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as body:
        response = answer(store, request, body)
        small = isinstance(response, WorkResult) and response.size <= request.chunk_bytes
        if small:  # one message instead of two: most answers are lookups of a few KB
            body.seek(0)
            response = replace(response, body=body.read())
        connection.send(response)
        if isinstance(response, WorkResult) and not small:
            body.seek(0)
            while chunk := body.read(request.chunk_bytes):
                connection.send_bytes(chunk)


class QueryWorker:
    """One worker process and the pipe to it; used by one request at a time, on the event loop."""

    def __init__(
        self,
        build_root: Path,
        memory_bytes: int = 0,
        remote: StoreSettings | None = None,
        timeout: float = 60.0,
        offline: bool = False,
    ) -> None:
        self.connection, child = _CONTEXT.Pipe(duplex=True)
        self.process = _CONTEXT.Process(
            target=worker_main,
            args=(child, str(build_root), memory_bytes, remote, timeout, offline),
            daemon=True,
            name="sparql-worker",
        )
        self.process.start()
        child.close()
        if not self.connection.poll(START_TIMEOUT):
            self.kill()
            raise RuntimeError(f"query worker did not start within {START_TIMEOUT} s")
        _, _, why = self.connection.recv()
        #: why the worker is still on the network although asked to leave it ('' if not)
        self.not_offline: str = why

    @property
    def pid(self) -> int | None:
        return self.process.pid

    async def call_on_loop(self, request: WorkRequest, timeout: float) -> WorkResult | WorkError:
        """Send ``request`` and wait at most ``timeout`` s (then the worker is killed), on the
        event loop: it waits for the pipe to become readable, no thread is involved.

        The answer is then read in one go on the loop: the worker has it serialised already
        and writes it at pipe speed (milliseconds for the megabytes of a capped answer).
        """
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        descriptor = self.connection.fileno()
        try:
            self.connection.send(request)
            loop.add_reader(descriptor, lambda: readable.done() or readable.set_result(None))
            try:
                await asyncio.wait_for(readable, timeout)
            finally:
                loop.remove_reader(descriptor)
                os.set_blocking(descriptor, True)  # uvloop made it non-blocking
            return self.connection.recv()
        except TimeoutError:
            raise self._stopped(timeout) from None
        except (EOFError, OSError):
            raise self._died() from None

    async def read_chunk(self, deadline: float, timeout: float) -> bytes:
        """The next chunk of a streamed answer, on the loop; past ``deadline`` the worker dies."""
        loop = asyncio.get_running_loop()
        descriptor = self.connection.fileno()
        try:
            if loop.time() >= deadline:
                raise TimeoutError
            if not self.connection.poll(0):
                readable: asyncio.Future[None] = loop.create_future()
                loop.add_reader(descriptor, lambda: readable.done() or readable.set_result(None))
                try:
                    await asyncio.wait_for(readable, max(0.0, deadline - loop.time()))
                finally:
                    loop.remove_reader(descriptor)
                    os.set_blocking(descriptor, True)
            return self.connection.recv_bytes()
        except TimeoutError:
            raise self._stopped(timeout) from None
        except (EOFError, OSError):
            raise self._died() from None

    def _died(self) -> WorkerLost:
        self.kill()
        code = self.process.exitcode
        if code == -signal.SIGSEGV:  # how pyoxigraph's parser ends when it runs out of stack
            return WorkerLost(CRASHED_MESSAGE, timed_out=False, crashed=True)
        # past its address-space cap, pyoxigraph aborts or the kernel kills: the likely cause
        reason = " (out of memory)" if code in (-signal.SIGABRT, -signal.SIGKILL) else ""
        return WorkerLost(f"the query worker stopped while running this query{reason}", False)

    def _stopped(self, timeout: float) -> WorkerLost:
        self.kill()
        return WorkerLost(f"query stopped after the time limit of {timeout:g} s", timed_out=True)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()

    def close(self) -> None:
        """Ask the worker to finish, killing it if it does not promptly."""
        with contextlib.suppress(OSError, ValueError):
            self.connection.send(None)
        self.process.join(1)
        self.kill()
