"""Checks of one value node against one constraint parameter, on rdflib terms.

They follow pySHACL's value semantics (the reference engine: ill-typed literals, language
ranges, regular expression flags, literal comparison) so both engines report the same values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal

from pyshacl.rdfutil import compare_literal
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from santecyber.namespaces import SH

ValueCheck = Callable[[Node], bool]  # True when the value conforms

_PYTHON_TYPES: dict[URIRef, type | tuple[type, ...]] = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: int,
    XSD.float: float,
    XSD.decimal: Decimal,
    XSD.boolean: bool,
    XSD.date: date,
    XSD.time: time,
    XSD.dateTime: datetime,
}


def _well_typed(value: Literal, datatype: URIRef) -> bool:
    expected = _PYTHON_TYPES.get(datatype)
    return expected is None or isinstance(value.value, expected)


def datatype(expected: URIRef) -> ValueCheck:
    def check(value: Node) -> bool:
        if not isinstance(value, Literal):
            return False
        if value.datatype == expected:
            return getattr(value, "ill_typed", None) is not True and _well_typed(value, expected)
        if expected == RDFS.Literal:
            return True
        if expected == RDFS.Datatype and value.datatype:
            return True
        if value.datatype is None and value.language is None and expected == XSD.string:
            return _well_typed(value, expected)
        if expected == RDF.langString and value.language:
            return _well_typed(value, expected)
        return False

    return check


_KINDS = {
    BNode: (SH.BlankNode, SH.BlankNodeOrLiteral, SH.BlankNodeOrIRI),
    Literal: (SH.Literal, SH.BlankNodeOrLiteral, SH.IRIOrLiteral),
    URIRef: (SH.IRI, SH.IRIOrLiteral, SH.BlankNodeOrIRI),
}


def node_kind(kind: Node) -> ValueCheck:
    return lambda value: kind in _KINDS.get(type(value), ())


def _text(value: Node) -> str:
    plain = isinstance(value, Literal) and value.datatype in (None, RDF.langString, XSD.string)
    return str(value.value) if plain and value.value is not None else str(value)


def pattern(regex: Literal, flags: Literal | None) -> ValueCheck:
    options = 0
    if flags is not None:
        text = str(flags.value).lower()
        options |= re.I if "i" in text else 0
        options |= re.M if "m" in text else 0
    source = str(regex.value) if regex.value is not None and len(regex.value) > 1 else str(regex)
    compiled = re.compile(source, options)
    return lambda value: not isinstance(value, BNode) and compiled.search(_text(value)) is not None


def language_in(languages: list[Node]) -> ValueCheck:
    wanted = {str(language).lower() for language in languages}

    def check(value: Node) -> bool:
        if not isinstance(value, Literal) or not value.language:
            return False
        language = value.language.lower()
        return "*" in wanted or language in wanted or language.split("-")[0] in wanted

    return check


def one_of(members: list[Node]) -> ValueCheck:
    return lambda value: value in members


def _comparable(value: Node, bound: Literal) -> Literal | None:
    if not isinstance(value, Literal):
        return None
    if isinstance(bound.value, str) != isinstance(value.value, str):
        return None
    return value


def value_range(parameter: URIRef, bound: Literal) -> ValueCheck:
    """sh:minInclusive and its siblings: the value compares to ``bound`` as required."""
    accept: Callable[[int], bool] = {
        SH.minInclusive: lambda order: order >= 0,
        SH.minExclusive: lambda order: order > 0,
        SH.maxInclusive: lambda order: order <= 0,
        SH.maxExclusive: lambda order: order < 0,
    }[parameter]

    def check(value: Node) -> bool:
        literal = _comparable(value, bound)
        if literal is None:
            return False
        try:
            return accept(compare_literal(literal, bound))
        except (TypeError, NotImplementedError):
            return False

    return check


def length(parameter: URIRef, bound: int) -> ValueCheck:
    def check(value: Node) -> bool:
        if isinstance(value, BNode):
            return False
        size = len(_text(value))
        return size >= bound if parameter == SH.minLength else size <= bound

    return check


VALUE_PARAMETERS = (
    SH.datatype, SH.nodeKind, SH.pattern, SH.languageIn, SH["in"], SH.minInclusive,
    SH.minExclusive, SH.maxInclusive, SH.maxExclusive, SH.minLength, SH.maxLength,
)  # fmt: skip
