"""Runs queries on the current store off the event loop, so one query never blocks the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from santecyber.config import ServerConfig
from santecyber.sparql import run_query
from santecyber.store import BuildDirectory


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str


class NotAcceptable(Exception):
    def __init__(self, supported: list[str]) -> None:
        super().__init__("no acceptable format; supported: " + ", ".join(supported))
        self.supported = supported


def choose_media_type(accepted: Sequence[str], supported: list[str], default: str) -> str:
    """The first of ``accepted`` (already ordered by preference) that is supported."""
    for media_type in accepted:
        if media_type in ("*/*", ""):
            return default
        if media_type.endswith("/*"):
            prefix = media_type[:-1]
            for candidate in supported:
                if candidate.startswith(prefix):
                    return candidate
        elif media_type in supported:
            return media_type
    if not accepted:
        return default
    raise NotAcceptable(supported)


class QueryService:
    """Owns the store in service and the threads that query it."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.directory = BuildDirectory(config.build_dir)
        self.store: ox.Store | None = None
        self.version = ""
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self.store, self.version = self.directory.open_current()
        self._pool = ThreadPoolExecutor(self.config.workers, thread_name_prefix="sparql")

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _answer(
        self,
        query: str,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
        accepted: Sequence[str],
    ) -> Answer:
        # pyoxigraph's result iterators belong to the thread that made them: serialise here.
        assert self.store is not None
        result = run_query(self.store, query, default_graphs, named_graphs)
        media_type = choose_media_type(accepted, result.media_types(), result.default_media_type)
        return Answer(result.serialize(media_type), media_type)

    async def execute(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        accepted: Sequence[str] = (),
    ) -> Answer:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, self._answer, query, default_graphs, named_graphs, accepted
        )
