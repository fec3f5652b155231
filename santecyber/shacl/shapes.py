"""The shapes graph read into plain objects: what each shape targets, reaches and requires.

Only what santecyber.shacl can evaluate is accepted: anything else raises ``Unsupported``
naming the shape and the term, so ``santecyber validate`` can fall back to pySHACL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from santecyber.namespaces import SH

#: Constraint parameters the engine evaluates (SHACL Core, SHACL-SPARQL constraints).
SUPPORTED = {
    SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH.languageIn, SH.uniqueLang,
    SH["in"], SH.hasValue, SH.minCount, SH.maxCount, SH.minInclusive, SH.minExclusive,
    SH.maxInclusive, SH.maxExclusive, SH.minLength, SH.maxLength, SH.equals, SH.disjoint,
    SH.node, SH["or"], SH["and"], SH["not"], SH.xone, SH.property, SH.qualifiedValueShape,
    SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.sparql,
}  # fmt: skip
#: Other terms a shape may carry that change nothing in what is checked.
NEUTRAL = {
    RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.path, SH.name,
    SH.description, SH.order, SH.group, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
    SH.targetObjectsOf, SH.target, SH.defaultValue, SH.deactivated,
}  # fmt: skip
SHAPE_VALUED = (SH.node, SH["not"], SH.property, SH.qualifiedValueShape)
LIST_OF_SHAPES = (SH["or"], SH["and"], SH.xone)


class Unsupported(Exception):
    """The shapes use SHACL this engine does not evaluate (pySHACL does)."""


@dataclass(frozen=True)
class SparqlQuery:
    """A SPARQL SELECT of a constraint or target, with ``$this`` as the plain ``?this``."""

    node: Node  # the sh:SPARQLConstraint or sh:SPARQLTarget
    text: str  # prefixes included
    messages: tuple[Literal, ...] = ()

    @property
    def projects_this(self) -> bool:
        """Whether each row names its ?this (else rows only mean something per bound node)."""
        head = re.search(r"SELECT\s+(.*?)\s*(?:WHERE|\{)", self.text, re.I | re.S)
        projected = head.group(1) if head else ""
        return re.search(r"\?this\b|^(DISTINCT\s+|REDUCED\s+)?\*", projected, re.I) is not None


@dataclass
class Shape:
    node: Node
    severity: URIRef
    messages: tuple[Literal, ...]
    path: Node | None  # the SHACL path, for property shapes
    sparql_path: str | None  # the same path in SPARQL syntax
    params: dict[URIRef, list[Node]]  # constraint parameter → its values
    target_classes: list[URIRef] = field(default_factory=list)
    target_nodes: list[Node] = field(default_factory=list)
    target_subjects_of: list[URIRef] = field(default_factory=list)
    target_objects_of: list[URIRef] = field(default_factory=list)
    target_queries: list[SparqlQuery] = field(default_factory=list)
    sparql: list[SparqlQuery] = field(default_factory=list)

    @property
    def is_property(self) -> bool:
        return self.path is not None

    @property
    def has_targets(self) -> bool:
        return bool(
            self.target_classes
            or self.target_nodes
            or self.target_subjects_of
            or self.target_objects_of
            or self.target_queries
        )

    def one(self, parameter: URIRef) -> Node | None:
        values = self.params.get(parameter, [])
        return values[0] if values else None


class ShapesGraph:
    """Every shape of a shapes graph, by node, each read once."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.shapes: dict[Node, Shape] = {}
        for node in shape_nodes(graph):
            self.get(node)

    def get(self, node: Node) -> Shape:
        """The shape at ``node`` (read on first use: nested shapes need no type)."""
        if node not in self.shapes:
            self.shapes[node] = self._read(node)
        return self.shapes[node]

    def targeted(self) -> list[Shape]:
        return [shape for shape in self.shapes.values() if shape.has_targets]

    def members(self, node: Node) -> list[Node]:
        return list(self.graph.items(node))

    def _read(self, node: Node) -> Shape:
        graph = self.graph
        params: dict[URIRef, list[Node]] = {}
        for predicate, value in graph.predicate_objects(node):
            if not isinstance(predicate, URIRef):
                continue
            if predicate in SUPPORTED:
                params.setdefault(predicate, []).append(value)
            elif str(predicate).startswith(str(SH)) and predicate not in NEUTRAL:
                raise Unsupported(f"{_name(graph, node)} uses {_name(graph, predicate)}")
        if (node, SH.deactivated, Literal(True)) in graph:
            raise Unsupported(f"{_name(graph, node)} is sh:deactivated")
        if (node, RDF.type, RDFS.Class) in graph:
            raise Unsupported(f"{_name(graph, node)} is also a class (implicit target)")
        path = graph.value(node, SH.path)
        shape = Shape(
            node=node,
            severity=graph.value(node, SH.severity) or SH.Violation,  # type: ignore[arg-type]
            messages=tuple(m for m in graph.objects(node, SH.message) if isinstance(m, Literal)),
            path=path,
            sparql_path=sparql_path(graph, path) if path is not None else None,
            params=params,
            target_classes=list(graph.objects(node, SH.targetClass)),  # type: ignore[arg-type]
            target_nodes=list(graph.objects(node, SH.targetNode)),
            target_subjects_of=list(graph.objects(node, SH.targetSubjectsOf)),  # type: ignore[arg-type]
            target_objects_of=list(graph.objects(node, SH.targetObjectsOf)),  # type: ignore[arg-type]
        )
        for target in graph.objects(node, SH.target):
            if (target, RDF.type, SH.SPARQLTarget) not in graph:
                raise Unsupported(f"{_name(graph, node)} has a target that is not a SPARQLTarget")
            shape.target_queries.append(self._query(target, None))
        for constraint in params.get(SH.sparql, []):
            if (constraint, SH.deactivated, Literal(True)) in graph:
                continue
            shape.sparql.append(self._query(constraint, shape.sparql_path))
        for parameter in SHAPE_VALUED:
            for nested in params.get(parameter, []):
                self.get(nested)
        for parameter in LIST_OF_SHAPES:
            for members in params.get(parameter, []):
                for nested in self.members(members):
                    self.get(nested)
        return shape

    def _query(self, node: Node, path: str | None) -> SparqlQuery:
        """A sh:select with its sh:prefixes, ``$this`` made ``?this`` and ``$PATH`` expanded."""
        graph = self.graph
        select = graph.value(node, SH.select)
        if select is None:
            raise Unsupported(f"{_name(graph, node)}: only sh:select SPARQL is evaluated")
        text = str(select)
        for variable in ("currentShape", "shapesGraph", "value"):
            if re.search(rf"\${variable}\b", text):
                raise Unsupported(f"{_name(graph, node)} uses ${variable}")
        if re.search(r"[?$]failure\b", text):
            raise Unsupported(f"{_name(graph, node)} reports ?failure")
        if "$PATH" in text:
            if path is None:
                raise Unsupported(f"{_name(graph, node)} uses $PATH outside a property shape")
            text = text.replace("$PATH", path)
        text = re.sub(r"\$this\b", "?this", text)
        messages = tuple(m for m in graph.objects(node, SH.message) if isinstance(m, Literal))
        return SparqlQuery(node, "\n".join([*prefix_declarations(graph, node), text]), messages)


def prefix_declarations(graph: Graph, node: Node) -> list[str]:
    """The PREFIX lines of the sh:prefixes of a SPARQL constraint or target, sorted."""
    declarations = set()
    for prefixes in graph.objects(node, SH.prefixes):
        for declaration in graph.objects(prefixes, SH.declare):
            prefix = graph.value(declaration, SH.prefix)
            namespace = graph.value(declaration, SH.namespace)
            declarations.add(f"PREFIX {prefix}: <{namespace}>")
    return sorted(declarations)


def shape_nodes(graph: Graph) -> set[Node]:
    """Shapes that are typed as such or that declare a target."""
    found: set[Node] = set()
    for kind in (SH.NodeShape, SH.PropertyShape):
        found.update(graph.subjects(RDF.type, kind))
    for target in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        found.update(graph.subjects(target, None))
    found.update(graph.subjects(SH.target, None))
    return found


def sparql_path(graph: Graph, node: Node) -> str:
    """A SHACL property path as a SPARQL property path with full IRIs.

    >>> g = Graph().parse(data='''@prefix sh: <http://www.w3.org/ns/shacl#> .
    ... <x> sh:path ( <p> [ sh:inversePath <q> ] [ sh:zeroOrMorePath <r> ] ) .''', format="turtle",
    ...     publicID="http://e/")
    >>> sparql_path(g, g.value(URIRef("http://e/x"), SH.path))
    '(<http://e/p>/^<http://e/q>/(<http://e/r>)*)'
    """
    if isinstance(node, URIRef):
        return f"<{node}>"
    if not isinstance(node, BNode):
        raise Unsupported(f"{node!r} is not a SHACL path")
    if (node, RDF.first, None) in graph:
        return "(" + "/".join(sparql_path(graph, item) for item in graph.items(node)) + ")"
    if (alternatives := graph.value(node, SH.alternativePath)) is not None:
        return "(" + "|".join(sparql_path(graph, item) for item in graph.items(alternatives)) + ")"
    if (inverse := graph.value(node, SH.inversePath)) is not None:
        return "^" + sparql_path(graph, inverse)
    for key, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        if (inner := graph.value(node, key)) is not None:
            return f"({sparql_path(graph, inner)}){mark}"
    raise Unsupported(f"unknown SHACL path {node!r}")


def _name(graph: Graph, node: Node) -> str:
    return node.n3(graph.namespace_manager) if isinstance(node, URIRef) else "a blank shape"
