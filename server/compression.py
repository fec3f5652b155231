"""gzip for the clients that accept it, as Accept-Encoding says with its q-values.

Starlette's middleware compresses when the header merely contains "gzip": ``gzip;q=0``
(RFC 9110 12.5.3: not acceptable) and ``nogzip`` got gzip. This one reads the codings and
their qualities first, and otherwise leaves everything to Starlette, but for the Vary of
the answers it sees (``varying_on_encoding``).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, IdentityResponder
from starlette.types import Message, Receive, Scope, Send

from santecyber.server.negotiation import REFUSED, accepted_media_types


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``accept_encoding`` lets an answer be gzipped: gzip (or x-gzip), or else *,
    with a quality above 0.

    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("gzip;q=0"), accepts_gzip("nogzip")
    (True, False, False)
    >>> accepts_gzip("*"), accepts_gzip("*;q=0.5, gzip;q=0"), accepts_gzip("br;q=1, *;q=0.1")
    (True, False, True)
    """
    codings = accepted_media_types(accept_encoding)  # the same q-values as Accept's
    for coding in ("gzip", "x-gzip", "*"):
        if coding in codings:
            return True
        if coding + REFUSED in codings:
            return False
    return False


def varying_on_encoding(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers``, with Accept-Encoding in a Vary that lacks it, each name once.

    Starlette adds it only to answers of ``minimum_size`` bytes or more, so a 304 (no body)
    left it out of the Vary its 200 had; RFC 9110 15.4.5 wants the same. A small answer
    varying on it too claims no more than that it could have been gzipped.

    >>> varying_on_encoding([(b"vary", b"Accept, Accept-Encoding, Accept-Encoding")])
    [(b'vary', b'Accept, Accept-Encoding')]
    >>> varying_on_encoding([(b"vary", b"Accept"), (b"etag", b'W/"1"')])
    [(b'vary', b'Accept, Accept-Encoding'), (b'etag', b'W/"1"')]
    >>> varying_on_encoding([(b"content-type", b"text/css")])  # not negotiated
    [(b'content-type', b'text/css')]
    """
    varied = [value for name, value in headers if name.lower() == b"vary"]
    if not varied:
        return headers
    names: dict[bytes, bytes] = {}
    for value in varied:
        for name in value.split(b","):
            if name.strip():
                names.setdefault(name.strip().lower(), name.strip())
    names.setdefault(b"accept-encoding", b"Accept-Encoding")
    rest = [(name, value) for name, value in headers if name.lower() != b"vary"]
    return [(b"vary", b", ".join(names.values())), *rest]


class AcceptedGZipMiddleware(GZipMiddleware):
    """Starlette's ``GZipMiddleware``, for the requests whose Accept-Encoding allows gzip,
    and with Accept-Encoding in the Vary of every negotiated answer (304s included)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = varying_on_encoding(list(message.get("headers", [])))
            await send(message)

        asked = Headers(scope=scope).get("accept-encoding", "")
        if "gzip" in asked and not accepts_gzip(asked):  # where Starlette would compress
            plain = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
            await plain(scope, receive, send_varying)
            return
        await super().__call__(scope, receive, send_varying)
