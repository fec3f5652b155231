"""Limits on a request's head (request line and headers), which uvicorn does not set.

With httptools, uvicorn reads a head of any size (a 300 MB header was read, copied as it grew,
and answered) and waits for it as long as the client likes (a header line every few seconds
keeps a connection forever; enough of them use up the server's files). The app's own limits
(``SecurityMiddleware``) only run once the head has been read. This protocol measures each
head as it arrives, before the parser sees it, and refuses one over ``max_head_bytes`` (414
if the request line alone is that long, else 431); it closes a connection whose head is not
complete ``head_timeout`` seconds after its first byte (408), or that sends nothing for that
long after opening.
"""

from __future__ import annotations

import asyncio
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from santecyber.config import ServerConfig

REASONS = {
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
}
END_OF_LINE = b"\r\n"
END_OF_HEAD = b"\r\n\r\n"


@cache
def _config() -> ServerConfig:
    return ServerConfig()  # read once per server process, from its environment


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a bounded head: in size and in time."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head()
        self._arm_head_timer()  # a client that connects and sends nothing is timed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head and not self._head_fits(data):
            return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._cancel_head_timer()  # the head is timed from its first byte
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._start_head()  # the next request's, which may have begun in the same read

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0  # bytes of the head so far
        self._last_bytes = b""  # its last three, to find its end across reads
        self._line_bytes: int | None = None  # length of its request line, once ended

    def _head_fits(self, data: bytes) -> bool:
        """Count the head's bytes in ``data``; refuse it (False) once they are too many."""
        seen = self._last_bytes + data
        offset = self._head_bytes - len(self._last_bytes)  # where ``seen`` starts in the head
        end = seen.find(END_OF_HEAD)
        head = seen if end < 0 else seen[: end + len(END_OF_HEAD)]
        if self._line_bytes is None and (line := head.find(END_OF_LINE)) >= 0:
            self._line_bytes = offset + line
        self._head_bytes = offset + len(head)
        self._last_bytes = head[-3:]
        limit = _config().max_head_bytes
        if self._head_bytes <= limit:
            return True
        self._refuse(414 if self._line_bytes is None or self._line_bytes > limit else 431)
        return False

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(_config().head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a pipelined head waits for the answer before it
            return
        if self._head_bytes:  # a request was begun: say why it ends
            self._refuse(408)
        else:  # an idle connection: close it, as after a keep-alive timeout
            self.transport.close()

    def _refuse(self, status: int) -> None:
        self._in_head = False
        if self.transport.is_closing():
            return
        body = REASONS[status] + b"\n"
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, REASONS[status], len(body), body)
        )
        self.transport.close()
