"""The SHACL shapes of the build in service, served at /shapes.

A build publishes the shapes it checked the records with beside its dumps (santecyber.dumps),
so the page matches the data served (a build with ``--skip-validation`` publishes them
unchecked, or none when they do not load). Validation reports name each rule by its IRI,
``https://w3id.org/santecyber/shapes#Name`` (SARIF ``helpUri``): that IRI lands on the rule's
section of the HTML page, and the whole document is served in every RDF format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from santecyber.dumps import DUMPS, dump_index
from santecyber.namespaces import BASE
from santecyber.reports import TARGET_WORDS, shape_targets
from santecyber.server.describe import Description
from santecyber.validation import bind_prefixes, named_shapes

IRI = BASE + "shapes"
#: what a shape applies to, in each language of the pages
WORDS_BY_LANGUAGE = {
    "en": TARGET_WORDS,
    "fr": {
        "subjects": "sujets de",
        "objects": "objets de",
        "sparql": "nœuds trouvés par une cible SPARQL",
    },
}


@dataclass(frozen=True)
class ShapeSection:
    """One named shape, as its section of the page (``anchor``: the IRI's fragment)."""

    anchor: str
    name: str
    label: str
    severity: str  # Violation | Warning | Info
    message: str
    targets: dict[str, list[str]]  # by language
    turtle: str  # the shape's concise bounded description, without the prefix lines


@dataclass(frozen=True)
class ShapesDocument:
    """The published shapes file, read once per content (``sha256``)."""

    sha256: str
    turtle: bytes  # the file as published: what its index entry's size and SHA-256 describe
    description: Description  # every statement, for the other RDF formats
    sections: list[ShapeSection]


def shape_turtle(shapes: Graph, iri: str) -> str:
    """``iri`` and the blank nodes it reaches (its property shapes, lists), in Turtle."""
    bounded = bind_prefixes(shapes.cbd(URIRef(iri)))
    text = bounded.serialize(format="turtle")
    return "\n".join(line for line in text.splitlines() if not line.startswith("@prefix")).strip()


def read_shapes(content: bytes, sha256: str) -> ShapesDocument:
    shapes = bind_prefixes(Graph().parse(data=content, format="turtle"))
    quads = list(ox.parse(content, format=ox.RdfFormat.TURTLE))
    sections = [
        ShapeSection(
            anchor=info.iri.partition("#")[2],
            name=info.name,
            label=info.label,
            severity=info.severity,
            message=info.message,
            targets={
                lang: shape_targets(shapes, URIRef(info.iri), words)
                for lang, words in WORDS_BY_LANGUAGE.items()
            },
            turtle=shape_turtle(shapes, info.iri),
        )
        for info in named_shapes(shapes)
        if info.iri.startswith(IRI + "#")
    ]
    return ShapesDocument(sha256, content, Description(IRI, quads), sections)


class PublishedShapes:
    """The shapes of the build in service (None before a build that published them)."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self.document: ShapesDocument | None = None

    def current(self) -> ShapesDocument | None:
        # the dumps folder in service, once: a build may switch the link between two reads
        folder = Path(os.path.realpath(self.build_dir / DUMPS))
        entry = dump_index(folder.parent, folder.name).get("shapes")
        if entry is None:
            return None
        if self.document is None or self.document.sha256 != entry["sha256"]:
            try:
                content = (folder / entry["file"]).read_bytes()
            except FileNotFoundError:  # pruned since: the next build's are in service
                return self.document
            self.document = read_shapes(content, entry["sha256"])
        return self.document
