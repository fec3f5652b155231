"""gzip for the clients that accept it, as Accept-Encoding says with its q-values.

Starlette's middleware compresses when the header merely contains "gzip": ``gzip;q=0``
(RFC 9110 12.5.3: not acceptable) and ``nogzip`` got gzip. This one reads the codings and
their qualities first, and otherwise leaves everything to Starlette.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, IdentityResponder
from starlette.types import Receive, Scope, Send


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``accept_encoding`` lets an answer be gzipped: gzip (or x-gzip), or else *,
    with a quality above 0.

    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("gzip;q=0"), accepts_gzip("nogzip")
    (True, False, False)
    >>> accepts_gzip("*"), accepts_gzip("*;q=0.5, gzip;q=0"), accepts_gzip("br;q=1, *;q=0.1")
    (True, False, True)
    """
    qualities: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *parameters = (field.strip() for field in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities.setdefault(coding.lower(), quality)
    for coding in ("gzip", "x-gzip", "*"):
        if coding in qualities:
            return qualities[coding] > 0
    return False


class AcceptedGZipMiddleware(GZipMiddleware):
    """Starlette's ``GZipMiddleware``, for the requests whose Accept-Encoding allows gzip."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            asked = Headers(scope=scope).get("accept-encoding", "")
            if "gzip" in asked and not accepts_gzip(asked):  # where Starlette would compress
                plain = IdentityResponder(
                    self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
                )
                await plain(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
