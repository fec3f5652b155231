"""SHACL validation of the built graph with pySHACL.

pySHACL gets rdflib's in-memory graphs: over an oxrdflib-backed graph it returns wrong results
(plain literals come back as xsd:string).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyshacl
from rdflib import Dataset, Graph
from rdflib.term import Node

from santecyber.loaders.ontology import ontology_files
from santecyber.namespaces import SH
from santecyber.paths import SHAPES_DIR


def shape_files(directory: Path = SHAPES_DIR) -> list[Path]:
    return sorted(directory.glob("*.ttl"))


def parse_files(files: list[Path]) -> Graph:
    graph = Graph()
    for path in files:
        graph.parse(path, format="turtle")
    return graph


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL validation result, in plain values."""

    severity: str  # Violation | Warning | Info
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str
    constraint: str


@dataclass(frozen=True)
class ValidationOutcome:
    conforms: bool
    results: list[ShapeResult]
    report: Graph


def _text(graph: Graph, node: Node | None) -> str | None:
    if node is None:
        return None
    if hasattr(node, "n3"):
        return node.n3(graph.namespace_manager)
    return str(node)


def validate_graph(
    data: Graph | Dataset,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
) -> ValidationOutcome:
    """Validate ``data`` (a graph, or a dataset taken as the union of its graphs).

    ``shapes`` and ``ontology`` default to the project's shapes/ and ontology/.
    """
    shapes = shapes if shapes is not None else parse_files(shape_files())
    ontology = ontology if ontology is not None else parse_files(ontology_files())
    # pySHACL copies only RDFS/OWL axioms from ont_graph, not the SKOS concepts the shapes
    # check references against: validate the data together with the ontology, as served.
    union = Graph()
    quads = data.quads((None, None, None, None)) if isinstance(data, Dataset) else data
    for statement in quads:
        union.add(statement[:3])
    for triple in ontology:
        union.add(triple)
    data = union
    conforms, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    results = []
    for result in report.objects(None, SH.result):  # top-level results, not nested details
        severity = report.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        results.append(
            ShapeResult(
                severity=str(severity).rsplit("#", 1)[-1],
                focus=_text(report, report.value(result, SH.focusNode)) or "",
                path=_text(report, report.value(result, SH.resultPath)),
                value=_text(report, report.value(result, SH.value)),
                message="; ".join(messages),
                shape=_text(report, report.value(result, SH.sourceShape)) or "",
                constraint=_text(report, report.value(result, SH.sourceConstraintComponent)) or "",
            )
        )
    results.sort(key=lambda r: (r.focus, r.path or "", r.constraint, r.value or ""))
    return ValidationOutcome(conforms=bool(conforms), results=results, report=report)
