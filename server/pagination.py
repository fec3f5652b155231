"""Pages of the index listings (``/id/{kind}/``, ``/graph/``, ``/vocab/``): ``?page=N``, a fixed
page size, links to the neighbours in the HTML and in a ``Link`` header. See docs/linked-data.md.

The listings are sorted in a total order before they are cut, so page N holds the same
resources on every request for the same data version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import Request

PAGE_SIZE = 100
PARAMETER = "page"
Item = TypeVar("Item")


class BadPage(ValueError):
    """``?page=`` is not a page of this listing: a 400 naming the parameter."""

    def __init__(self, message: str) -> None:
        super().__init__(f"parameter {PARAMETER!r}: {message}")


def requested_page(request: Request) -> int:
    """The page asked for (1 when absent): a whole number from 1, else BadPage."""
    values = request.query_params.getlist(PARAMETER)
    if not values:
        return 1
    if len(values) > 1:
        raise BadPage("given more than once")
    digits = values[0].strip().lstrip("0")
    if not digits.isascii() or not digits.isdigit():  # "", "0", "-1", "1.5", "٣"…
        raise BadPage(f"{values[0][:40]!r} is not a page number (a whole number from 1)")
    if len(digits) > 9:  # no listing comes near a billion pages
        raise BadPage(f"page {digits[:40]} is past the last page")
    return int(digits)


@dataclass(frozen=True)
class Paging:
    """Where one page sits in its listing: what the template and the Link header show."""

    number: int
    total: int  # items in the whole listing
    size: int = PAGE_SIZE

    @property
    def count(self) -> int:
        """Pages in the listing (an empty listing has one, empty, page)."""
        return max(1, -(-self.total // self.size))

    @property
    def first_item(self) -> int:
        """1-based position of this page's first item (0 when the listing is empty)."""
        return min(self.total, (self.number - 1) * self.size + 1)

    @property
    def last_item(self) -> int:
        return min(self.total, self.number * self.size)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def paginate(items: Sequence[Item], number: int) -> tuple[list[Item], Paging]:
    """Page ``number`` of ``items`` (already in their total order), or BadPage past the end."""
    paging = Paging(number, len(items))
    if number > paging.count:
        raise BadPage(f"page {number} is past the last page, {paging.count}")
    start = (number - 1) * paging.size
    return list(items[start : start + paging.size]), paging


def page_url(request: Request, number: int) -> str:
    """This listing's URL at page ``number``, keeping the other parameters (``lang``)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != PARAMETER]
    if number > 1:
        params.append((PARAMETER, str(number)))
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def links(request: Request, paging: Paging) -> dict[str, str]:
    """rel → URL of the first, previous, next and last pages (those that exist)."""
    found = {"first": 1, "prev": paging.previous, "next": paging.next, "last": paging.count}
    return {rel: page_url(request, n) for rel, n in found.items() if n is not None}


def pages_link_header(request: Request, paging: Paging) -> str:
    """The same links for clients that read headers (RFC 8288)."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links(request, paging).items())
