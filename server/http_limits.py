"""Limits on a request's head (request line and headers), which uvicorn does not set.

With httptools, uvicorn reads a head of any size (a 300 MB header was read, copied as it grew,
and answered) and waits for it as long as the client likes (a header line every few seconds
keeps a connection forever; enough of them use up the server's files). The app's own limits
(``SecurityMiddleware``) only run once the head has been read. This protocol refuses a head
over ``max_head_bytes`` as it arrives (414 if the request line alone is too long, else 431),
and closes a connection whose head is not complete ``head_timeout`` seconds after it began,
or after the connection opened (408).
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


@cache
def _config() -> ServerConfig:
    return ServerConfig()  # read once per server process, from its environment


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a bounded head: in size and in time."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head = True  # waiting for (the rest of) a request's head
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()  # a client that connects and sends nothing is timed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._arm_head_timer()
        super().data_received(data)
        if self._in_head and self._head_bytes > _config().max_head_bytes:
            # Still no end of the head: refuse before reading (and copying) any more of it.
            self._refuse(431 if self.headers else 414)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request's head, timed from its first byte

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
        if self._head_bytes:  # a request was begun: say why it ends
            self._refuse(408)
        else:  # an idle connection: close it, as after a keep-alive timeout
            self.transport.close()

    def _refuse(self, status: int) -> None:
        if self.transport.is_closing():
            return
        body = REASONS[status] + b"\n"
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, REASONS[status], len(body), body)
        )
        self.transport.close()
