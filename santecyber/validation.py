"""SHACL validation with pySHACL: results in plain values, each mapped back to its input.

pySHACL gets rdflib's in-memory graphs: over an oxrdflib-backed graph it returns wrong results
(plain literals come back as xsd:string).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from santecyber.errors import InputError, Location, Problem, not_a_file
from santecyber.loaders.ontology import ontology_files
from santecyber.namespaces import REPORT_PREFIXES, SH
from santecyber.paths import SHAPES_DIR
from santecyber.shacl import (
    BOUND_NODES,
    Engine,
    ShapesGraph,
    Unsupported,
    report_graph,
    to_oxigraph,
)
from santecyber.shacl.wellformed import malformed

SEVERITIES = ("Violation", "Warning", "Info")  # most serious first
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)

Locator = Callable[[str], Location | None]  # a focus node's IRI → where it was written


def severity_rank(severity: str) -> int:
    """0 for the most serious severity.

    >>> [severity_rank(s) for s in ("Violation", "Warning", "Info")]
    [0, 1, 2]
    """
    return SEVERITIES.index(severity)


def shape_files(directory: Path = SHAPES_DIR) -> list[Path]:
    """The shapes (``*.ttl``) of ``directory``; InputError when there are none: a missing
    or mistyped folder would otherwise validate anything, checking nothing."""
    found = sorted(directory.glob("*.ttl"))
    if not found:
        where = "" if directory.is_dir() else ": no such folder"
        message = f"no shapes (*.ttl) in {directory}{where}: nothing would be checked"
        raise InputError([Problem(Location.of(directory), message)])
    return found


def load_shapes(files: Sequence[Path]) -> Graph:
    """The shapes of ``files``, refused (InputError at the shape's file and line) when a shape
    cannot be run as written: see santecyber.shacl.wellformed."""
    from santecyber.rdf_inputs import FileLocator

    shapes = bind_prefixes(parse_files(files))
    if found := malformed(shapes):
        locate = FileLocator(files)
        anywhere = Location(", ".join(Location.of(path).file for path in files))
        places = [locate(str(m.owner)) if m.owner is not None else None for m in found]
        raise InputError(
            [Problem(place or anywhere, m.message) for place, m in zip(places, found, strict=True)]
        )
    return shapes


def parse_files(files: Iterable[Path]) -> Graph:
    """The union of Turtle (or other RDF) files; InputError with file:line on bad syntax."""
    from santecyber.rdf_inputs import read_graph

    graph = Graph()
    for path in files:
        graph += read_graph(path)
    return graph


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes (schema: is http://schema.org/, not rdflib's https one)."""
    for prefix, namespace in REPORT_PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


@dataclass(frozen=True)
class ShapeInfo:
    """A named shape of the shapes graph: what a report calls a rule."""

    iri: str
    name: str  # prefixed form, e.g. scs:FrenchLabel
    label: str
    message: str
    severity: str


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL validation result, in plain values (terms in their prefixed form)."""

    severity: str  # Violation | Warning | Info
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str
    constraint: str
    focus_node: str = ""  # the focus node's IRI (or blank node label), unabbreviated
    shape_node: str = ""  # the source shape's IRI (or blank node label)
    location: Location | None = None  # where the focus node was written, when known


@dataclass(frozen=True)
class ValidationOutcome:
    conforms: bool
    results: list[ShapeResult]
    report: Graph
    shapes: list[ShapeInfo] = field(default_factory=list)
    engine: str = "fast"  # fast (santecyber.shacl) or pyshacl
    note: str = ""  # why pySHACL ran when the fast engine was asked for

    def located(self, locate: Locator) -> ValidationOutcome:
        """The same outcome with each result's location filled in by ``locate``."""
        results = [replace(r, location=locate(r.focus_node)) for r in self.results]
        return replace(self, results=results)


def _text(graph: Graph, node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, URIRef | Literal | BNode):
        return node.n3(graph.namespace_manager)
    return str(node)


def path_text(graph: Graph, node: Node | None) -> str | None:
    """A SHACL property path in SPARQL's property path syntax (``a|b``, ``^a``, ``a/b``)."""
    if node is None or not isinstance(node, BNode):
        return _text(graph, node)
    if (alternatives := graph.value(node, SH.alternativePath)) is not None:
        items = list(graph.items(alternatives))
        return "(" + "|".join(path_text(graph, item) or "" for item in items) + ")"
    if (inverse := graph.value(node, SH.inversePath)) is not None:
        return "^" + (path_text(graph, inverse) or "")
    for key, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        if (inner := graph.value(node, key)) is not None:
            return f"({path_text(graph, inner)}){mark}"
    if (node, RDF.first, None) in graph:
        return "/".join(path_text(graph, item) or "" for item in graph.items(node))
    return _text(graph, node)


def _plain(node: Node | None) -> str:
    if node is None:
        return ""
    return str(node) if not isinstance(node, BNode) else f"_:{node}"


def named_shapes(shapes: Graph) -> list[ShapeInfo]:
    """The shapes a report names: typed sh:NodeShape/sh:PropertyShape or with a target."""
    bind_prefixes(shapes)
    found: set[Node] = set()
    for kind in (SH.NodeShape, SH.PropertyShape):
        found.update(shapes.subjects(RDF.type, kind))
    for target in TARGETS:
        found.update(shapes.subjects(target, None))
    infos = []
    for shape in found:
        if not isinstance(shape, URIRef):
            continue
        severity = shapes.value(shape, SH.severity) or SH.Violation
        infos.append(
            ShapeInfo(
                iri=str(shape),
                name=shape.n3(shapes.namespace_manager),
                label=str(shapes.value(shape, RDFS.label) or ""),
                message=str(shapes.value(shape, SH.message) or ""),
                severity=str(severity).rsplit("#", 1)[-1],
            )
        )
    return sorted(infos, key=lambda info: info.name)


def validate_graph(
    data: Graph | Dataset,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    focus_nodes: Iterable[str] | None = None,
    engine: str = "fast",
) -> ValidationOutcome:
    """Validate ``data`` (a graph, or a dataset taken as the union of its graphs).

    ``shapes`` and ``ontology`` default to the project's shapes/ and ontology/. With
    ``focus_nodes``, only the results on those nodes (of the shapes that target them). The
    ``fast`` engine (santecyber.shacl) runs when it supports every term the shapes use; else,
    and with ``engine="pyshacl"``, pySHACL, the reference.
    """
    shapes = shapes if shapes is not None else load_shapes(shape_files())
    ontology = ontology if ontology is not None else parse_files(ontology_files())
    quads = data.quads((None, None, None, None)) if isinstance(data, Dataset) else data
    statements = [statement[:3] for statement in quads]
    if engine == "fast":
        try:
            compiled = ShapesGraph(shapes)
        except Unsupported as why:
            engine, note = "pyshacl", f"pySHACL ran instead of the fast engine: {why}"
        else:
            store = ox.Store()
            store.extend(_oxigraph_quads([*statements, *ontology]))
            return validate_store(store, shapes, focus_nodes, compiled)
    else:
        note = ""
    # pySHACL copies only RDFS/OWL axioms from ont_graph, not the SKOS concepts the shapes
    # check references against: validate the data together with the ontology, as served.
    union = Graph()
    for statement in [*statements, *ontology]:
        union.add(statement)
    focus = set(focus_nodes) if focus_nodes is not None else None
    if focus is not None and not focus:
        return _outcome(True, bind_prefixes(Graph()), shapes, "pyshacl", note)
    # pySHACL's own focus_nodes option also skips the nested shapes' checks on values that
    # are not focus nodes: validate everything and keep the results on the focus nodes.
    try:
        conforms, report, _ = pyshacl.validate(
            union,
            shacl_graph=shapes,
            ont_graph=ontology,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
    except Exception as error:  # pySHACL (and rdflib's SPARQL parser under it) raise bare
        # Exception, pyparsing and AttributeError on shapes they cannot run: all mean that
        raise ValidationError(f"pySHACL could not run the shapes: {error}") from None
    outcome = _outcome(bool(conforms), report, shapes, "pyshacl", note)
    if focus is None:
        return outcome
    results = [r for r in outcome.results if r.focus_node in focus]
    conforms = not any(r.severity == "Violation" for r in results)
    return replace(outcome, results=results, conforms=conforms)


def validate_store(
    store: ox.Store,
    shapes: Graph,
    focus_nodes: Iterable[str] | None = None,
    compiled: ShapesGraph | None = None,
    bound_nodes: int = BOUND_NODES,
) -> ValidationOutcome:
    """Validate the default graph of a pyoxigraph store with the fast engine (Unsupported if
    the shapes use SHACL it does not evaluate; ``bound_nodes``: see santecyber.shacl)."""
    compiled = compiled or ShapesGraph(shapes)
    focus = {URIRef(node) for node in focus_nodes} if focus_nodes is not None else None
    results = Engine(store, compiled, bound_nodes).validate(focus)
    report = report_graph(results, shapes)
    conforms = not any(r.shape.severity == SH.Violation for r in results)
    return _outcome(conforms, report, shapes, "fast", "")


def _oxigraph_quads(triples: Iterable[tuple[Node, Node, Node]]) -> Iterator[ox.Quad]:
    for subject, predicate, value in triples:
        yield ox.Quad(to_oxigraph(subject), to_oxigraph(predicate), to_oxigraph(value))  # type: ignore[arg-type]


def _outcome(
    conforms: bool, report: Graph, shapes: Graph, engine: str, note: str
) -> ValidationOutcome:
    """The results of a SHACL validation report graph, in plain values."""
    bind_prefixes(report)
    results = []
    for result in report.objects(None, SH.result):  # top-level results, not nested details
        severity = report.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        focus_node = report.value(result, SH.focusNode)
        shape = report.value(result, SH.sourceShape)
        results.append(
            ShapeResult(
                severity=str(severity).rsplit("#", 1)[-1],
                focus=_text(report, focus_node) or "",
                path=path_text(report, report.value(result, SH.resultPath)),
                value=_text(report, report.value(result, SH.value)),
                message="; ".join(messages),
                shape=_text(report, shape) or "",
                constraint=_text(report, report.value(result, SH.sourceConstraintComponent)) or "",
                focus_node=_plain(focus_node),
                shape_node=_plain(shape),
            )
        )
    results.sort(key=lambda r: (r.focus, r.path or "", r.constraint, r.value or "", r.shape))
    return ValidationOutcome(
        conforms=conforms,
        results=results,
        report=report,
        shapes=named_shapes(shapes),
        engine=engine,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Where results come from, and validating only some nodes
# ---------------------------------------------------------------------------------------------


def origins_locator(origins: dict[str, Location]) -> Locator:
    """Locate a node by the record that minted it; a hash IRI without its own origin by its
    document's (``…/attack/x#impact-1`` → ``…/attack/x``)."""

    def locate(node: str) -> Location | None:
        return origins.get(node) or origins.get(node.split("#", 1)[0])

    return locate


def first_of(*locators: Locator) -> Locator:
    """The first location any of the locators finds."""

    def locate(node: str) -> Location | None:
        for locator in locators:
            if (found := locator(node)) is not None:
                return found
        return None

    return locate


def neighbourhood(data: Graph, focus: Iterable[str]) -> Graph:
    """What the shapes can look at from the focus nodes: their statements both ways, and the
    statements about each node those reach (and about the blank nodes and hash-IRI parts
    below those, e.g. a target's ``#address``).

    The project's shapes look at most two steps away (a value's type or scheme, an owner's
    dates), so validating ``focus`` over this graph gives the same results for those nodes as
    over ``data``; tests/test_validate.py proves it on every record.
    """
    nodes = {URIRef(iri) for iri in focus}
    nodes |= {URIRef(node.split("#", 1)[0]) for node in nodes if "#" in node}  # parts' owners
    found = Graph()
    reached: set[Node] = set()
    for node in nodes:
        for triple in data.triples((node, None, None)):
            found.add(triple)
            reached.add(triple[2])
        for triple in data.triples((None, None, node)):
            found.add(triple)
            reached.add(triple[0])
    todo = [n for n in reached - nodes if isinstance(n, URIRef | BNode)]
    seen = set(todo)
    while todo:
        node = todo.pop()
        for triple in data.triples((node, None, None)):
            found.add(triple)
            part = isinstance(triple[2], BNode) or "#" in str(triple[2])
            if part and isinstance(triple[2], URIRef | BNode) and triple[2] not in seen:
                seen.add(triple[2])
                todo.append(triple[2])
    return found


class ValidationError(Exception):
    """The shapes could not be run (e.g. a malformed shape or SPARQL constraint)."""


@cache
def ontology_locator() -> Locator:
    """Locate the ontology's and vocabularies' nodes in ontology/*.ttl."""
    from santecyber.rdf_inputs import FileLocator

    return FileLocator(ontology_files())


def minted_by(origins: dict[str, Location], records: Iterable[Path]) -> set[str]:
    """The nodes the given record files mint; InputError for a file that mints none."""
    wanted = {path.resolve(): path for path in records}
    nodes: dict[Path, set[str]] = {path: set() for path in wanted}
    for node, place in origins.items():
        file = Path(place.file).resolve()
        if file in nodes:
            nodes[file].add(node)
    empty = [wanted[f] for f, found in nodes.items() if not found]
    if empty:
        raise InputError(
            [Problem(Location.of(p), "not a record file of the data folder") for p in empty]
        )
    return set().union(*nodes.values())


def checked(run: Callable[[], ValidationOutcome], shapes: Sequence[Path]) -> ValidationOutcome:
    """``run``, with what the engines raise on shapes they cannot run (beyond what
    load_shapes refuses first) as ValidationError naming the shapes files: exit 2, not 1.
    Quiet about ill-typed literals, which the engines convert to rdflib's terms too."""
    from santecyber.rdf_inputs import quiet_literal_conversion

    try:
        with quiet_literal_conversion():
            return run()
    except (ReportableRuntimeError, ValueError, TypeError, SyntaxError, RuntimeError) as error:
        names = ", ".join(Location.of(path).file for path in shapes)
        raise ValidationError(f"{names}: {str(error).strip()}") from None


def run_validation(
    inputs: list[str],
    data_dir: Path,
    shapes_files: list[Path],
    changed: list[Path],
    engine: str = "fast",
    timeout: float = 60,
) -> ValidationOutcome:
    """What ``santecyber validate`` runs: located results for records, RDF files or endpoints
    (each given ``timeout`` seconds to answer).

    InputError (exit 2) for unreadable input or shapes, with file:line where known. An
    endpoint is named without the credentials of its URL, in messages and in reports.
    """
    from santecyber.build import compile_graph
    from santecyber.rdf_inputs import FileLocator, as_graph, fetch_endpoint, read_quads
    from santecyber.remote import redact

    for path in shapes_files:
        if (why := not_a_file(path, "shapes file")) is not None:
            raise InputError([Problem(Location.of(path), why)])
    shapes_files = shapes_files or shape_files()
    shapes = load_shapes(shapes_files)
    if inputs:
        if changed:
            raise InputError([Problem(Location("--changed"), "works on the records, not files")])
        statements: list = []
        files: list[Path] = []
        urls: set[str] = set()
        for given in inputs:
            if given.startswith(("http://", "https://")):
                statements += fetch_endpoint(given, timeout)
                urls.add(redact(given))
                continue
            path = Path(given)
            if (why := not_a_file(path)) is not None:
                raise InputError([Problem(Location.of(path), why)])
            statements += read_quads(path)
            files.append(path)
        ontology = parse_files(ontology_files())
        data = as_graph(statements)
        outcome = checked(
            lambda: validate_graph(data, shapes, ontology, engine=engine), shapes_files
        )
        where_url = Location(sorted(urls)[0]) if len(urls) == 1 and not files else None
        return outcome.located(
            first_of(FileLocator(files), ontology_locator(), lambda _: where_url)
        )
    compiled = compile_graph(data_dir)
    graph = as_graph(compiled.record_quads)
    focus = None
    if changed:
        for path in changed:
            if (why := not_a_file(path, "record file")) is not None:
                raise InputError([Problem(Location.of(path), why)])
        focus = minted_by(compiled.origins, changed)
        if engine == "pyshacl":  # the fast engine binds its queries to the focus nodes instead
            graph = neighbourhood(graph, focus)
    outcome = checked(
        lambda: validate_graph(graph, shapes, compiled.ontology, focus, engine), shapes_files
    )
    return outcome.located(first_of(origins_locator(compiled.origins), ontology_locator()))
