"""Collecting quads and writing them as sorted, byte-stable N-Quads."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pyoxigraph import Literal, NamedNode, Quad

from santecyber.namespaces import SC
from santecyber.namespaces import XSD as XSD_NAMESPACE

XSD = str(XSD_NAMESPACE)
DATE_TYPES = {
    "minute": NamedNode(XSD + "dateTime"),
    "day": NamedNode(XSD + "date"),
    "month": NamedNode(XSD + "gYearMonth"),
    "year": NamedNode(XSD + "gYear"),
}

Object = NamedNode | Literal


def iri(value: str) -> NamedNode:
    return NamedNode(str(value))


def sc(name: str) -> NamedNode:
    return NamedNode(str(SC) + name)


def typed(value: object) -> Literal:
    """A literal typed by its Python type (bool, int, Decimal, str)."""
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))
    if isinstance(value, Decimal):
        return Literal(format(value.normalize(), "f"), datatype=NamedNode(XSD + "decimal"))
    return Literal(str(value))


def lang(text: str, language: str) -> Literal:
    return Literal(text, language=language)


def date_literal(value: str, precision: str) -> Literal:
    return Literal(value, datatype=DATE_TYPES[precision])


class QuadSet:
    """Statements placed in named graphs; a statement stated by several graphs is in each."""

    def __init__(self) -> None:
        self._quads: set[Quad] = set()

    def add(
        self,
        subject: NamedNode,
        predicate: NamedNode,
        obj: Object | None,
        graphs: Iterable[NamedNode],
    ) -> None:
        """Add ``subject predicate obj`` to every graph; a missing object adds nothing."""
        if obj is None:
            return
        for graph in graphs:
            self._quads.add(Quad(subject, predicate, obj, graph))

    def update(self, quads: Iterable[Quad]) -> None:
        self._quads.update(quads)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._quads)

    def __len__(self) -> int:
        return len(self._quads)


def nquads_lines(quads: Iterable[Quad]) -> list[str]:
    """Sorted N-Quads lines: the same quads always give the same bytes."""
    return sorted(f"{quad} .\n" for quad in quads)
