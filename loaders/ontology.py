"""Loader of the ontology and vocabularies, and the concept index other loaders check against."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from santecyber.errors import InputError, Location, Problem, not_a_file
from santecyber.namespaces import SC, VOCAB, reference_graph
from santecyber.paths import ONTOLOGY_DIR

SKOS_IN_SCHEME = ox.NamedNode("http://www.w3.org/2004/02/skos/core#inScheme")
SKOS_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
SCHEMA_CLASS = ox.NamedNode(str(SC) + "schemaClass")
ONTOLOGY_GRAPH = ox.NamedNode(reference_graph("ontology"))


@dataclass
class Vocabulary:
    """Concepts by scheme, with their labels: what records may name, and how to say it."""

    concepts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    schema_classes: dict[tuple[str, str], str] = field(default_factory=dict)

    def has(self, scheme: str, name: str) -> bool:
        return name in self.concepts.get(scheme, set())

    def label(self, scheme: str, name: str, language: str = "fr") -> str:
        return self.labels.get((scheme, name), {}).get(language, name.replace("-", " "))


def ontology_files(directory: Path = ONTOLOGY_DIR) -> list[Path]:
    """The ontology and every vocabulary, in a stable order."""
    return [directory / "santecyber.ttl", *sorted((directory / "vocab").glob("*.ttl"))]


def parse_turtle(path: Path) -> list[ox.Triple]:
    """Parse a Turtle file (past a byte order mark); a syntax error names file, line, column."""
    from santecyber.rdf_inputs import open_rdf

    if (why := not_a_file(path, "Turtle file")) is not None:  # a FIFO would hang the build
        raise InputError([Problem(Location.of(path), why)])
    try:
        with open_rdf(path) as stream:
            return list(ox.parse(stream, format=ox.RdfFormat.TURTLE))
    except SyntaxError as error:
        line = getattr(error, "lineno", 0) or 0
        column = getattr(error, "offset", 0) or 0
        raise InputError(
            [Problem(Location.of(path, line, column), f"Turtle: {error.msg}")]
        ) from None
    except OSError as error:
        raise InputError([Problem(Location.of(path), f"cannot read: {error}")]) from None


def _concept_key(node: ox.NamedNode) -> tuple[str, str] | None:
    rest = node.value.removeprefix(str(VOCAB))
    if rest == node.value or rest.count("/") != 1:
        return None
    scheme, name = rest.split("/")
    return scheme, name


def load_ontology(directory: Path = ONTOLOGY_DIR) -> tuple[list[ox.Quad], Vocabulary]:
    """Quads of the ontology graph, and the vocabulary index."""
    quads: list[ox.Quad] = []
    vocabulary = Vocabulary()
    for path in ontology_files(directory):
        for triple in parse_turtle(path):
            quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, ONTOLOGY_GRAPH))
            if not isinstance(triple.subject, ox.NamedNode):
                continue
            key = _concept_key(triple.subject)
            if key is None:
                continue
            if triple.predicate == SKOS_IN_SCHEME:
                vocabulary.concepts[key[0]].add(key[1])
            elif triple.predicate == SKOS_PREF_LABEL and isinstance(triple.object, ox.Literal):
                vocabulary.labels.setdefault(key, {})[triple.object.language or ""] = (
                    triple.object.value
                )
            elif triple.predicate == SCHEMA_CLASS and isinstance(triple.object, ox.NamedNode):
                vocabulary.schema_classes[key] = triple.object.value
    return quads, vocabulary
