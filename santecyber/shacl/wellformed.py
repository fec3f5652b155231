"""Shapes that cannot be run as written, found before either engine runs them.

Left to the engines, such shapes gave Python tracebacks (a bad regular expression, a shape
nested in itself, SPARQL that does not parse), exit code 1 as if the data had violations, or
a shape that checks nothing without a word (a property shape without sh:path); the two engines
did not even fail alike. A SHACL-SPARQL query with SERVICE would also have the validator fetch
from the network. So both engines get the same answer first: the list of problems, each with
the named shape it is in, for the caller to give its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from santecyber.namespaces import SH
from santecyber.query_policy import (
    QueryRefused,
    QuerySyntaxError,
    check_nesting,
    check_no_hidden_service,
    code_only,
    query_form_of,
    service_clauses,
    syntax_error,
)
from santecyber.shacl import values
from santecyber.shacl.shapes import LIST_OF_SHAPES, SHAPE_VALUED, prefix_declarations, shape_nodes

#: parameters whose one value is a count or length
COUNTS = (
    SH.minCount, SH.maxCount, SH.minLength, SH.maxLength, SH.qualifiedMinCount,
    SH.qualifiedMaxCount,
)  # fmt: skip
LISTS = (*LIST_OF_SHAPES, SH["in"], SH.languageIn)
#: parameters whose values name classes, datatypes or properties: IRIs
IRI_VALUED = (
    SH["class"], SH.datatype, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf,
    SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals,
)  # fmt: skip
#: parameters whose one value is compared with the values: literals
BOUNDS = (SH.minInclusive, SH.minExclusive, SH.maxInclusive, SH.maxExclusive)
#: stands for $PATH when a query is only parsed: an IRI is valid wherever a path is
_ANY_PATH = "<urn:x-santecyber:path>"
NO_SERVICE = "SERVICE is not allowed in a shape: validation makes no outbound requests"


@dataclass(frozen=True)
class Malformed:
    """A problem in a shape; ``owner`` is the named shape it is written in (None: unnamed)."""

    owner: URIRef | None
    message: str


def malformed(graph: Graph) -> list[Malformed]:
    """Every problem of every shape reachable from the targeted or typed ones."""
    found: list[Malformed] = []
    todo, seen = list(shape_nodes(graph)), set()
    cycles: set[frozenset[Node]] = set()
    while todo:
        shape = todo.pop()
        if shape in seen or isinstance(shape, Literal):
            continue
        seen.add(shape)
        if (shape, SH.deactivated, Literal(True)) in graph:
            continue
        owner = _owner(graph, shape)
        where = f"shape {_n3(graph, owner)}" if owner is not None else "a blank shape"
        if shape != owner:
            where += f", {_describe(graph, shape)}"
        found += [Malformed(owner, f"{where}: {problem}") for problem in _problems(graph, shape)]
        cycle = _cycle(graph, shape)
        if cycle and frozenset(cycle) not in cycles:  # once per cycle, at its first IRI if any
            named = [node for node in cycle if isinstance(node, URIRef)]
            if not named or shape == named[0]:
                cycles.add(frozenset(cycle))
                trail = " → ".join(_n3(graph, node) for node in cycle)
                message = f"{where}: refers to itself ({trail}); SHACL leaves that undefined"
                found.append(Malformed(owner, message))
        todo += _references(graph, shape)
    return found


def _problems(graph: Graph, shape: Node) -> Iterator[str]:
    for parameter in COUNTS:
        given = list(graph.objects(shape, parameter))
        if len(given) > 1:
            yield f"{_n3(graph, parameter)} has {len(given)} values: at most one"
        for value in given:
            number = value.value if isinstance(value, Literal) else None
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                yield f"{_n3(graph, parameter)} {_n3(graph, value)} is not an integer ≥ 0"
    for regex in graph.objects(shape, SH.pattern):
        if not isinstance(regex, Literal):
            yield f"sh:pattern {_n3(graph, regex)} is not a string"
            continue
        flags = graph.value(shape, SH.flags)
        try:
            values.pattern(regex, flags if isinstance(flags, Literal) else None)
        except re.error as error:
            yield f"sh:pattern {_n3(graph, regex)} is not a valid regular expression ({error})"
    for parameter in LISTS:
        for head in graph.objects(shape, parameter):
            if not _is_list(graph, head):
                yield f"{_n3(graph, parameter)} {_n3(graph, head)} is not an RDF list"
    for parameter in (*SHAPE_VALUED, SH.path):
        for value in graph.objects(shape, parameter):
            if isinstance(value, Literal):
                yield f"{_n3(graph, parameter)} {_n3(graph, value)} is a literal, not a node"
    for parameter in IRI_VALUED:
        for value in graph.objects(shape, parameter):
            if not isinstance(value, URIRef):
                yield f"{_n3(graph, parameter)} {_n3(graph, value)} is not an IRI"
    for parameter in BOUNDS:
        for value in graph.objects(shape, parameter):
            if not isinstance(value, Literal):
                yield f"{_n3(graph, parameter)} {_n3(graph, value)} is not a literal"
    paths = len(list(graph.objects(shape, SH.path)))
    if (shape, RDF.type, SH.PropertyShape) in graph and paths != 1:
        yield "a sh:PropertyShape needs exactly one sh:path"
    for prop in graph.objects(shape, SH.property):
        if not isinstance(prop, Literal) and len(list(graph.objects(prop, SH.path))) != 1:
            yield f"sh:property {_describe(graph, prop)} needs exactly one sh:path"
    for constraint in graph.objects(shape, SH.sparql):
        yield from _select_problems(graph, constraint, "sh:sparql")
    for target in graph.objects(shape, SH.target):
        yield from _select_problems(graph, target, "sh:target")


def _select_problems(graph: Graph, node: Node, where: str) -> Iterator[str]:
    """A query that is not a SELECT, uses SERVICE, does not parse, or ignores $this."""
    select = graph.value(node, SH.select)
    if select is None or (node, SH.deactivated, Literal(True)) in graph:
        return  # no SPARQL to run here (the engines say what they make of the rest)
    declarations = prefix_declarations(graph, node)
    text = "\n".join([*declarations, str(select).replace("$PATH", _ANY_PATH)])
    if query_form_of(text) != "bindings":
        yield f"{where}: sh:select is not a SELECT query"
        return
    if service_clauses(text):
        yield f"{where}: {NO_SERVICE}"
        return
    try:
        check_nesting(text)
        check_no_hidden_service(text)
        ox.Store().query(text)  # an empty store: parsing is all it does; no SERVICE is left
    except QueryRefused:
        yield f"{where}: {NO_SERVICE}"
        return
    except (QuerySyntaxError, SyntaxError) as error:
        failure = error if isinstance(error, QuerySyntaxError) else syntax_error(error)
        line = failure.line - len(declarations)
        at = f" at line {line}, column {failure.column} of sh:select" if line > 0 else ""
        yield f"{where}: SPARQL syntax error{at}: {failure}"
        return
    if not re.search(r"[?$]this\b", code_only(text)):
        yield f"{where}: sh:select never uses $this, the focus node it is run for"


def _references(graph: Graph, shape: Node) -> list[Node]:
    """The shapes ``shape`` refers to (nested shapes, members of sh:and/sh:or/sh:xone)."""
    found = [v for p in SHAPE_VALUED for v in graph.objects(shape, p)]
    for parameter in LIST_OF_SHAPES:
        for head in graph.objects(shape, parameter):
            if _is_list(graph, head):
                found += graph.items(head)
    return [node for node in found if not isinstance(node, Literal)]


def _cycle(graph: Graph, start: Node) -> list[Node]:
    """The shortest chain of references from ``start`` back to itself ([] if none): both
    engines recursed without end on one."""
    parents: dict[Node, Node] = {}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for nested in _references(graph, node):
            if nested == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(parents[chain[-1]])
                return [*reversed(chain), start]
            if nested not in parents:
                parents[nested] = node
                todo.append(nested)
    return []


def _is_list(graph: Graph, node: Node) -> bool:
    """Whether ``node`` heads a well-formed RDF list (one rdf:first and rdf:rest per cell,
    ending in rdf:nil, no loop)."""
    seen: set[Node] = set()
    while node != RDF.nil:
        if node in seen or isinstance(node, Literal):
            return False
        seen.add(node)
        rest = list(graph.objects(node, RDF.rest))
        if len(list(graph.objects(node, RDF.first))) != 1 or len(rest) != 1:
            return False
        node = rest[0]
    return True


def _owner(graph: Graph, node: Node) -> URIRef | None:
    """The named shape a blank node is written in: the first IRI up its chain of subjects."""
    todo, seen = [node], set()
    while todo:
        current = todo.pop(0)
        if isinstance(current, URIRef):
            return current
        if current not in seen:
            seen.add(current)
            todo += graph.subjects(None, current)
    return None


def _describe(graph: Graph, node: Node) -> str:
    if isinstance(node, BNode):
        path = graph.value(node, SH.path)
        return f"[ sh:path {_n3(graph, path)} ]" if path is not None else "[ … ]"
    return _n3(graph, node)


def _n3(graph: Graph, node: Node | None) -> str:
    if isinstance(node, URIRef | Literal):
        return node.n3(graph.namespace_manager)
    return "[ … ]"
