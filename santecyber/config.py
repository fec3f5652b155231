"""Server settings, from arguments or SANTECYBER_* environment variables.

Every limit of the SPARQL endpoint lives here so an operator can change it without code;
docs/endpoint.md lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from santecyber.paths import BUILD_DIR, path_from_environment


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SANTECYBER_{name}", default)


def _number(name: str, default: str, kind: type[float], minimum: float) -> float:
    """SANTECYBER_{name} as a number of ``kind``; a bad value names the variable."""
    text = _env(name, default)
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(
            f"SANTECYBER_{name} must be {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None
    if value < minimum:
        raise ValueError(f"SANTECYBER_{name} must be at least {minimum:g}, got {text!r}")
    return value


def _int(name: str, default: str, minimum: int = 0) -> int:
    """An integer setting: a typo fails at start-up, naming the variable.

    >>> os.environ["SANTECYBER_QUERY_WORKERS"] = "four"
    >>> _int("QUERY_WORKERS", "4", 1)
    Traceback (most recent call last):
    ValueError: SANTECYBER_QUERY_WORKERS must be an integer, got 'four'
    >>> del os.environ["SANTECYBER_QUERY_WORKERS"]
    """
    return int(_number(name, default, int, minimum))


def _float(name: str, default: str, minimum: float = 0) -> float:
    return float(_number(name, default, float, minimum))


def _services() -> tuple[str, ...]:
    return tuple(_env("SERVICE_ALLOWLIST", "").split())


@dataclass(frozen=True)
class StoreSettings:
    """A remote SPARQL 1.1 store (docs/remote-store.md); the password never shows in a repr.

    >>> settings = StoreSettings("http://db:7878/query", user="reader", password="s3cret")
    >>> "s3cret" in repr(settings), settings.graph_store_url
    (False, 'http://db:7878/store')
    """

    #: the SPARQL 1.1 Protocol query endpoint
    query_url: str
    #: the Graph Store Protocol endpoint the build writes graphs to ('': derived from query_url)
    update_url: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    #: 'basic' or 'digest' HTTP authentication, when a user is given
    auth: str = "basic"
    #: '' : the merge goes into the server's default graph; an IRI: into that named graph, and
    #: queries without a dataset name it as their default graph (servers such as Virtuoso)
    default_graph: str = ""
    #: seconds between two reads of the build's version on the store
    refresh_seconds: float = 2.0

    @property
    def graph_store_url(self) -> str:
        """Where graphs are written: the update URL, or ``…/query`` → ``…/store`` (Oxigraph)."""
        if self.update_url:
            return self.update_url
        if self.query_url.rstrip("/").endswith("/query"):
            return self.query_url.rstrip("/")[: -len("query")] + "store"
        raise ValueError(
            "give the Graph Store Protocol URL with --store-update or SANTECYBER_STORE_UPDATE"
        )

    @classmethod
    def from_env(cls, query_url: str = "", update_url: str = "") -> StoreSettings | None:
        """The remote store named by the arguments or SANTECYBER_STORE*; None: embedded."""
        url = query_url or _env("STORE", "")
        if not url:
            return None
        update_url = update_url or _env("STORE_UPDATE", "")
        _check_url(url, "--store (SANTECYBER_STORE)")
        if update_url:
            _check_url(update_url, "--store-update (SANTECYBER_STORE_UPDATE)")
        auth = _env("STORE_AUTH", "basic").lower()
        if auth not in ("basic", "digest"):
            raise ValueError(f"SANTECYBER_STORE_AUTH must be basic or digest, got {auth!r}")
        return cls(
            query_url=url,
            update_url=update_url,
            user=_env("STORE_USER", ""),
            password=_env("STORE_PASSWORD", ""),
            auth=auth,
            default_graph=_env("STORE_DEFAULT_GRAPH", ""),
            refresh_seconds=_float("STORE_REFRESH", "2", 0.1),
        )


def _worker_memory_share() -> str:
    """The default cap of a worker, in MiB: an equal share of the machine's memory (or of
    its container's) with the server processes (total / (workers started + processes)), so
    that no query can take it all; at least 1 GiB.
    Analytical queries on the synthetic 1M-quad graph stay under 600 MiB."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:  # in a container, its own limit ("max": none)
            total = min(total, int(Path(limit).read_text().strip()))
        except (OSError, ValueError):
            continue
    processes = _int("PROCESSES", "1", 1)
    started = per_process(_int("QUERY_WORKERS", "4", 1), processes) * processes
    return str(max(1024, (total >> 20) // (started + processes)))


def per_process(workers: int, processes: int) -> int:
    """Each server process's share of ``workers``, rounded up (so at least one).

    >>> per_process(4, 2), per_process(4, 3), per_process(1, 2)
    (2, 2, 1)
    """
    return -(-workers // processes)


@dataclass(frozen=True)
class ServerConfig:
    build_dir: Path = field(
        default_factory=lambda: path_from_environment("SANTECYBER_BUILD", BUILD_DIR)
    )
    #: seconds a query may run before its worker process is killed (503)
    query_timeout: float = field(default_factory=lambda: _float("QUERY_TIMEOUT", "30", 0.001))
    #: rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned at most; more are cut and flagged
    max_results: int = field(default_factory=lambda: _int("MAX_RESULTS", "100000", 1))
    #: bytes of the terms of an answer (N-Triples text); past them it is cut and flagged too
    max_answer_bytes: int = field(
        default_factory=lambda: _int("MAX_ANSWER_BYTES", str(256 << 20), 1)
    )
    #: characters of query text: 414 on GET, 413 on POST beyond this
    max_query_length: int = field(default_factory=lambda: _int("MAX_QUERY_LENGTH", "100000"))
    #: bytes of a POST body: 413 beyond this
    max_body_bytes: int = field(default_factory=lambda: _int("MAX_BODY_BYTES", "1000000"))
    #: bytes of a request's head (request line and headers), refused as it arrives beyond
    #: this: 414 if the request line alone is longer, else 431 (server/http_limits.py)
    max_head_bytes: int = field(default_factory=lambda: _int("MAX_HEAD_BYTES", "65536", 16384))
    #: seconds a client has to send a request's head, from its first byte or from connecting
    head_timeout: float = field(default_factory=lambda: _float("HEAD_TIMEOUT", "10", 0.1))
    #: worker processes running queries, each with its own read-only view of the store
    workers: int = field(default_factory=lambda: _int("QUERY_WORKERS", "4", 1))
    #: server processes (`santecyber serve --processes`), sharing the port and the workers
    processes: int = field(default_factory=lambda: _int("PROCESSES", "1", 1))
    #: address space of a worker process in MiB (0: no cap); a query needing more gets 503
    worker_memory_mb: int = field(
        default_factory=lambda: _int("WORKER_MEMORY_MB", _worker_memory_share())
    )
    #: bytes of serialised results kept in memory for repeated queries (0: no cache)
    cache_bytes: int = field(default_factory=lambda: _int("CACHE_BYTES", str(64 << 20)))
    #: serialised answers over this many bytes stream from the worker and are not cached
    stream_bytes: int = field(default_factory=lambda: _int("STREAM_BYTES", str(1 << 20)))
    #: SERVICE endpoints queries may call (space-separated IRIs); empty: no federation
    service_allowlist: tuple[str, ...] = field(default_factory=_services)
    #: a remote SPARQL store (SANTECYBER_STORE…); None: the embedded store of build_dir
    store: StoreSettings | None = field(default_factory=StoreSettings.from_env)

    @property
    def workers_per_process(self) -> int:
        return per_process(self.workers, self.processes)


def _check_url(url: str, name: str) -> None:
    """ValueError naming the option unless ``url`` is an http(s) URL with a host; the URL
    itself is not repeated, since it may carry a password."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises ValueError here
    except ValueError as error:
        raise ValueError(f"{name} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be the http(s) URL of a SPARQL endpoint")
