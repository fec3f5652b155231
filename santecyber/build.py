"""Build: loaders → quads → SHACL validation → new store and dump, switched to only on success."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from santecyber.dumps import stage_dumps
from santecyber.errors import InputError, Location
from santecyber.loaders.ontology import load_ontology
from santecyber.loaders.records import load_records
from santecyber.loaders.redirects import FILE as REDIRECTS_FILE
from santecyber.loaders.redirects import load_redirects
from santecyber.namespaces import BASE
from santecyber.paths import DATA_DIR, ONTOLOGY_DIR
from santecyber.quads import nquads_lines
from santecyber.rdf_inputs import as_graph
from santecyber.store import BuildDirectory, data_version
from santecyber.validation import (
    ValidationOutcome,
    checked,
    load_shapes,
    shape_files,
    validate_graph,
)


@dataclass(frozen=True)
class Compiled:
    """Everything a build makes before anything is written."""

    nquads: bytes  # sorted N-Quads of every graph
    version: str  # content hash of the N-Quads: the data version (ETag)
    record_quads: list[ox.Quad]
    ontology: Graph
    origins: dict[str, Location]
    redirects: dict[str, str]  # old IRI path → new (data/redirects.yaml), checked on the graph

    @property
    def quad_count(self) -> int:
        return self.nquads.count(b"\n")


class ValidationFailed(Exception):
    def __init__(self, outcome: ValidationOutcome, compiled: Compiled) -> None:
        self.outcome = outcome
        self.compiled = compiled
        super().__init__(
            f"{sum(r.severity == 'Violation' for r in outcome.results)} SHACL violations"
        )


def compile_graph(data_dir: Path = DATA_DIR, ontology_dir: Path = ONTOLOGY_DIR) -> Compiled:
    """Run every loader; raises InputError (with file:line) on bad input."""
    ontology_quads, vocabulary = load_ontology(ontology_dir)
    records = load_records(data_dir, vocabulary)
    record_quads = list(records.quads)
    quads = [*ontology_quads, *record_quads]
    redirects = load_redirects(data_dir / REDIRECTS_FILE, resource_paths(quads))
    nquads = "".join(nquads_lines(quads)).encode()
    return Compiled(
        nquads=nquads,
        version=data_version(nquads),
        record_quads=record_quads,
        ontology=as_graph(ontology_quads),
        origins=records.origins,
        redirects=redirects,
    )


def resource_paths(quads: list[ox.Quad]) -> set[str]:
    """The paths (``id/facility/chu-rennes``) of our IRIs that name a subject or a graph."""
    paths = set()
    for quad in quads:
        for term in (quad.subject, quad.graph_name):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE):
                paths.add(term.value[len(BASE) :])
    return paths


def validate_compiled(compiled: Compiled, shapes: Graph | None = None) -> ValidationOutcome:
    """The records against ``shapes`` (default: shapes/): InputError for malformed shapes,
    ValidationError if an engine cannot run them (both exit 2: bad input, not violations)."""
    graph = as_graph(compiled.record_quads)
    return checked(lambda: validate_graph(graph, shapes, ontology=compiled.ontology), shape_files())


def validated_shapes(compiled: Compiled, validate: bool = True) -> Graph | None:
    """The shapes of shapes/, which a build publishes beside its dumps (served at /shapes),
    once the records pass them; ValidationFailed on a violation. Without ``validate``, they
    are published unchecked, or not at all when they do not load: a build that skips the
    check does not fail on them."""
    if not validate:
        try:
            return load_shapes(shape_files())
        except InputError:
            return None
    shapes = load_shapes(shape_files())
    outcome = validate_compiled(compiled, shapes)
    if any(r.severity == "Violation" for r in outcome.results):
        raise ValidationFailed(outcome, compiled)
    return shapes


def build(
    data_dir: Path = DATA_DIR,
    target: BuildDirectory | None = None,
    validate: bool = True,
    ontology_dir: Path = ONTOLOGY_DIR,
) -> Compiled:
    """Compile, validate, write a new store and make it current; on any failure, change nothing."""
    target = target or BuildDirectory()
    compiled = compile_graph(data_dir, ontology_dir)
    shapes = validated_shapes(compiled, validate)
    with target.building():
        target.write_store(compiled.version, compiled.nquads)
        try:
            staged = stage_dumps(
                target, compiled.nquads, compiled.redirects, compiled.version, shapes
            )
            try:
                target.publish(compiled.version, compiled.nquads, [staged])
            except BaseException:
                staged.discard()
                raise
        except BaseException:
            target.discard_store(compiled.version)
            raise
    return compiled
