"""Loader of the curated records (data/): YAML → checked models → quads, one graph per source.

Nothing is produced from a broken set of records: every problem of every file is collected
and raised at once, each at its file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pyoxigraph import Literal, NamedNode

from santecyber.errors import InputError, Location, Problem, display_path
from santecyber.loaders.ontology import Vocabulary
from santecyber.loaders.record_schema import (
    Attributed,
    DateClaim,
    Dated,
    Incident,
    Organisation,
    PartialDate,
    Source,
)
from santecyber.loaders.yaml_files import locate, problems_of, read_yaml
from santecyber.namespaces import PROV as PROV_NAMESPACE
from santecyber.namespaces import (
    RDF,
    RDFS,
    SCHEMA,
    concept,
    reference_graph,
    resource,
    source_graph,
)
from santecyber.quads import QuadSet, date_literal, iri, lang, sc, typed

RDF_TYPE = iri(str(RDF.type))
RDFS_LABEL = iri(str(RDFS.label))
RDFS_COMMENT = iri(str(RDFS.comment))
OWL_SAME_AS = iri("http://www.w3.org/2002/07/owl#sameAs")
PROV = str(PROV_NAMESPACE)
XSD_ANY_URI = iri("http://www.w3.org/2001/XMLSchema#anyURI")


def schema(name: str) -> NamedNode:
    return iri(str(SCHEMA) + name)


def typed_date(value: PartialDate | None) -> Literal | None:
    """The date as a literal of the XSD type of its precision (None stays None)."""
    return None if value is None else date_literal(value.value, value.precision)


ORGANISATION_GRAPH = iri(reference_graph("organisations"))
SOURCES_GRAPH = iri(reference_graph("sources"))

ORGANISATION_CLASSES = {
    "facility": "CareFacility",
    "organisation": "Organisation",
    "vendor": "SoftwareVendor",
    "product": "SoftwareProduct",
    "regulator": "Regulator",
    "authority": "Authority",
    "publisher": "Publisher",
    "threat-actor": "ThreatActor",
}
AUTHORITY_CLASSES = {
    "prosecutor-office": "ProsecutorOffice",
    "police-service": "InvestigatingService",
    "gendarmerie-service": "InvestigatingService",
}
DATE_PROPERTIES = {
    "start": schema("startDate"),
    "detection": sc("detectionDate"),
    "disclosure": sc("disclosureDate"),
    "data-release": sc("dataReleaseDate"),
    "end": schema("endDate"),
}
DATE_NAMES_FR = {
    "start": "début",
    "detection": "détection",
    "disclosure": "divulgation",
    "data-release": "mise en ligne des données",
    "end": "fin",
}


@dataclass(frozen=True)
class Entry:
    """A record with where it came from, to name the place of any problem in it."""

    model: Any
    path: Path
    document: Any
    loc: tuple[int | str, ...]

    def at(self, *steps: int | str) -> Location:
        return locate(self.path, self.document, self.loc + steps)


@dataclass
class RecordSet:
    data_dir: Path = Path("data")  # where they were read: messages name its files
    sources: dict[str, Entry] = field(default_factory=dict)
    organisations: dict[str, Entry] = field(default_factory=dict)
    incidents: dict[str, Entry] = field(default_factory=dict)

    def where(self, name: str) -> str:
        """``name`` (``sources.yaml``, ``incidents/``) in the folder read, as shown to users."""
        return display_path(self.data_dir / name) + ("/" if name.endswith("/") else "")


def _read_list(path: Path, model: type[BaseModel], problems: list[Problem]) -> Iterator[Entry]:
    try:
        document = read_yaml(path)
    except InputError as error:
        problems.extend(error.problems)
        return
    if document is None:
        return
    if not isinstance(document, list):
        problems.append(Problem(Location.of(path, 1), "expected a list of records"))
        return
    for index, raw in enumerate(document):
        try:
            yield Entry(model.model_validate(raw), path, document, (index,))
        except ValidationError as error:
            problems.extend(problems_of(path, document, error, (index,)))


def _register(table: dict[str, Entry], entry: Entry, what: str, problems: list[Problem]) -> None:
    slug = entry.model.slug
    if slug in table:
        problems.append(
            Problem(
                entry.at("slug"),
                f"{what} slug {slug!r} is already used at {table[slug].at('slug')}",
            )
        )
    else:
        table[slug] = entry


def read_records(data_dir: Path) -> RecordSet:
    """Read and type-check every record; raises InputError listing all problems."""
    records, problems = _read_all(data_dir)
    if problems:
        raise InputError(problems)
    return records


def _record_files(folder: Path, problems: list[Problem]) -> list[Path]:
    """The ``*.yaml`` files of ``folder``; anything else there (a ``.yml``, a subfolder) is a
    problem, since it would otherwise be skipped without a word. Hidden files are let be; a
    ``*.yaml`` that is not a regular file (a folder, a FIFO) is refused by read_yaml."""
    files = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue
        if path.suffix == ".yaml":
            files.append(path)
        else:
            problems.append(Problem(Location.of(path), "not read: records are *.yaml files"))
    return files


def _read_all(data_dir: Path) -> tuple[RecordSet, list[Problem]]:
    """Every record that is well-formed, and the problems of those that are not."""
    problems: list[Problem] = []
    records = RecordSet(data_dir)
    if not data_dir.is_dir():
        raise InputError([Problem(Location.of(data_dir), "no such folder of records (--data)")])
    sources_file = data_dir / "sources.yaml"
    if not sources_file.exists():
        problems.append(Problem(Location.of(sources_file), "missing: the sources the records cite"))
    else:
        for entry in _read_list(sources_file, Source, problems):
            _register(records.sources, entry, "source", problems)
    for path in _record_files(data_dir / "organisations", problems):
        for entry in _read_list(path, Organisation, problems):
            _register(records.organisations, entry, "organisation", problems)
    for path in _record_files(data_dir / "incidents", problems):
        try:
            document = read_yaml(path)
        except InputError as error:
            problems.extend(error.problems)
            continue
        try:
            entry = Entry(Incident.model_validate(document), path, document, ())
        except ValidationError as error:
            problems.extend(problems_of(path, document, error))
            continue
        if entry.model.slug != path.stem:
            problems.append(
                Problem(
                    entry.at("slug"),
                    f"slug {entry.model.slug!r} differs from the file name {path.stem!r}",
                )
            )
        _register(records.incidents, entry, "incident", problems)
    return records, problems


class _ReferenceCheck:
    """Checks that every slug and concept a record names exists, and dates make sense."""

    def __init__(self, records: RecordSet, vocabulary: Vocabulary, today: date) -> None:
        self.records = records
        self.vocabulary = vocabulary
        self.today = today
        self.problems: list[Problem] = []

    def source(self, entry: Entry, slug: str, *loc: int | str) -> None:
        if slug not in self.records.sources:
            self.problems.append(
                Problem(
                    entry.at(*loc),
                    f"no source has the slug {slug!r} ({self.records.where('sources.yaml')})",
                )
            )

    def organisation(
        self, entry: Entry, slug: str | None, kinds: set[str] | None, *loc: int | str
    ) -> None:
        if slug is None:
            return
        found = self.records.organisations.get(slug)
        if found is None:
            self.problems.append(
                Problem(
                    entry.at(*loc),
                    f"no organisation has the slug {slug!r}"
                    f" ({self.records.where('organisations/')})",
                )
            )
        elif kinds and found.model.kind not in kinds:
            expected = " or ".join(sorted(kinds))
            self.problems.append(
                Problem(
                    entry.at(*loc), f"{slug!r} is {_a(found.model.kind)}, expected {_a(expected)}"
                )
            )

    def concept(self, entry: Entry, scheme: str, name: str | None, *loc: int | str) -> None:
        if name is not None and not self.vocabulary.has(scheme, name):
            known = ", ".join(sorted(self.vocabulary.concepts.get(scheme, ()))) or "none"
            self.problems.append(
                Problem(
                    entry.at(*loc), f"{name!r} is not a concept of vocab/{scheme} (known: {known})"
                )
            )

    def date(self, entry: Entry, value: PartialDate | None, *loc: int | str) -> None:
        if value is not None and value.earliest > self.today:
            self.problems.append(Problem(entry.at(*loc), f"date {value.value} is in the future"))

    def cited(
        self, entry: Entry, sources: list[str], *loc: int | str, within: set[str] | None = None
    ) -> None:
        """Each slug names a source; for an incident's fact, one of that incident's own
        (``within``: its sources and mentioned_in), not any article of the registry."""
        for index, slug in enumerate(sources):
            self.source(entry, slug, *loc, "sources", index)
            if within is not None and slug in self.records.sources and slug not in within:
                self.problems.append(
                    Problem(
                        entry.at(*loc, "sources", index),
                        f"{slug!r} is not one of this incident's sources or mentioned_in",
                    )
                )

    def run(self) -> list[Problem]:
        for entry in self.records.sources.values():
            self.check_source(entry)
        for entry in self.records.organisations.values():
            self.check_organisation(entry)
        investigations: dict[str, Location] = {}
        for entry in self.records.incidents.values():
            self.check_incident(entry, investigations)
        return self.problems

    def check_source(self, entry: Entry) -> None:
        model: Source = entry.model
        self.organisation(entry, model.publisher, {"publisher"}, "publisher")
        for index, slug in enumerate(model.relays):
            self.organisation(entry, slug, {"publisher"}, "relays", index)
        self.date(entry, model.published, "published")

    def check_organisation(self, entry: Entry) -> None:
        model: Organisation = entry.model
        self.concept(entry, "facility-kind", model.facility_kind, "facility_kind")
        self.concept(entry, "authority-kind", model.authority_kind, "authority_kind")
        if model.kind == "facility" and model.facility_kind is None:
            self.problems.append(Problem(entry.at(), "a facility needs facility_kind"))
        if model.kind in {"regulator", "authority"} and model.authority_kind is None:
            self.problems.append(Problem(entry.at(), f"a {model.kind} needs authority_kind"))
        self.organisation(entry, model.operator, {"organisation", "facility"}, "operator")
        self.organisation(entry, model.parent, None, "parent")
        self.organisation(entry, model.vendor, {"vendor"}, "vendor")
        if model.kind == "product" and model.vendor is None:
            self.problems.append(Problem(entry.at(), "a product needs vendor"))
        self.cited(entry, model.sources)

    def attributed(self, entry: Entry, part: Attributed, *loc: str | int) -> None:
        self.organisation(entry, part.according_to, None, *loc, "according_to")

    def check_incident(self, entry: Entry, investigations: dict[str, Location]) -> None:
        model: Incident = entry.model
        if not model.sources and not model.mentioned_in:
            self.problems.append(
                Problem(
                    entry.at(), "an incident needs at least one source (sources or mentioned_in)"
                )
            )
        if model.type == "aggregate" and model.count is None:
            self.problems.append(Problem(entry.at(), "an aggregate needs count"))
        self.cited(entry, model.sources)
        own = {*model.sources, *model.mentioned_in}
        for index, slug in enumerate(model.mentioned_in):
            self.source(entry, slug, "mentioned_in", index)
        for index, claim in enumerate(model.kinds):
            self.concept(entry, "attack-kind", claim.kind, "kinds", index)
            self.cited(entry, claim.sources, "kinds", index, within=own)
        for key in ("targets", "affected"):
            for index, slug in enumerate(getattr(model, key)):
                self.organisation(entry, slug, None, key, index)
        for index, slug in enumerate(model.vendors):
            self.organisation(entry, slug, {"vendor"}, "vendors", index)
        for index, slug in enumerate(model.software):
            self.organisation(entry, slug, {"product"}, "software", index)
        self.organisation(entry, model.threat_actor, {"threat-actor"}, "threat_actor")
        for index, slug in enumerate(model.related):
            if slug == model.slug:
                self.problems.append(
                    Problem(entry.at("related", index), "an incident is not related to itself")
                )
            elif slug not in self.records.incidents:
                self.problems.append(
                    Problem(
                        entry.at("related", index),
                        f"no incident has the slug {slug!r} ({self.records.where('incidents/')})",
                    )
                )
        for index, claim in enumerate(model.dates):
            self.cited(entry, claim.sources, "dates", index, within=own)
            self.date(entry, claim.value, "dates", index, "value")
        for index, impact in enumerate(model.impacts):
            self.cited(entry, impact.sources, "impacts", index, within=own)
            self.attributed(entry, impact, "impacts", index)
            self.concept(entry, "service", impact.service, "impacts", index, "service")
            self.concept(entry, "effect", impact.effect, "impacts", index, "effect")
            self.organisation(entry, impact.facility, {"facility"}, "impacts", index, "facility")
            self.organisation(
                entry, impact.operator, {"organisation"}, "impacts", index, "operator"
            )
            if impact.facility and impact.operator:
                self.problems.append(
                    Problem(
                        entry.at("impacts", index), "an impact takes facility or operator, not both"
                    )
                )
            for key in ("transferred_to", "redirected_to"):
                for other, slug in enumerate(getattr(impact, key)):
                    self.organisation(entry, slug, {"facility"}, "impacts", index, key, other)
        if model.data_exposure is not None:
            exposure = model.data_exposure
            self.cited(entry, exposure.sources, "data_exposure", within=own)
            self.attributed(entry, exposure, "data_exposure")
            for key in ("categories", "categories_in_some"):
                for index, name in enumerate(getattr(exposure, key)):
                    self.concept(entry, "data-category", name, "data_exposure", key, index)
            for index, name in enumerate(exposure.categories_in_some):
                if name in exposure.categories:
                    self.problems.append(
                        Problem(
                            entry.at("data_exposure", "categories_in_some", index),
                            f"{name!r} is already in categories (in every record)",
                        )
                    )
            self.date(entry, exposure.period_end, "data_exposure", "period_end")
            if (
                exposure.period_start
                and exposure.period_end
                and exposure.period_start.earliest > exposure.period_end.earliest
            ):
                self.problems.append(
                    Problem(
                        entry.at("data_exposure", "period_end"), "period_end is before period_start"
                    )
                )
        if model.ransom is not None:
            self.cited(entry, model.ransom.sources, "ransom", within=own)
            self.attributed(entry, model.ransom, "ransom")
        for index, response in enumerate(model.responses):
            self.cited(entry, response.sources, "responses", index, within=own)
            self.attributed(entry, response, "responses", index)
            self.organisation(
                entry,
                response.authority,
                {"regulator", "authority"},
                "responses",
                index,
                "authority",
            )
            self.concept(entry, "authority-action", response.action, "responses", index, "action")
            self.date(entry, response.date, "responses", index, "date")
        for index, inquiry in enumerate(model.investigations):
            if inquiry.slug in investigations:
                self.problems.append(
                    Problem(
                        entry.at("investigations", index, "slug"),
                        f"investigation slug {inquiry.slug!r} is already used at "
                        f"{investigations[inquiry.slug]}",
                    )
                )
            investigations[inquiry.slug] = entry.at("investigations", index, "slug")
            self.cited(entry, inquiry.sources, "investigations", index, within=own)
            self.attributed(entry, inquiry, "investigations", index)
            for key in ("opened_by", "directed_by"):
                self.organisation(
                    entry, getattr(inquiry, key), {"authority"}, "investigations", index, key
                )
            self.concept(entry, "investigation-kind", inquiry.kind, "investigations", index, "kind")
            for other, name in enumerate(inquiry.offences):
                self.concept(entry, "offence", name, "investigations", index, "offences", other)
            for other, slug in enumerate(inquiry.investigated_by):
                self.organisation(
                    entry, slug, {"authority"}, "investigations", index, "investigated_by", other
                )
            for other, slug in enumerate(inquiry.complaint_by):
                self.organisation(entry, slug, None, "investigations", index, "complaint_by", other)
            self.date(entry, inquiry.date, "investigations", index, "date")


@dataclass
class RecordGraph:
    """The quads made from the records, and the record place each minted node comes from."""

    quads: QuadSet
    origins: dict[str, Location]


class _Emitter:
    """Turns checked records into quads; one method per kind of record."""

    def __init__(self, records: RecordSet, vocabulary: Vocabulary) -> None:
        self.records = records
        self.vocabulary = vocabulary
        self.quads = QuadSet()
        self.origins: dict[str, Location] = {}

    def organisation_iri(self, slug: str) -> NamedNode:
        return iri(resource(self.records.organisations[slug].model.kind, slug))

    def concept(self, scheme: str, name: str) -> NamedNode:
        return iri(concept(scheme, name))

    def labels(self, node: NamedNode, fr: str, en: str | None, graphs: list[NamedNode]) -> None:
        self.quads.add(node, RDFS_LABEL, lang(fr, "fr"), graphs)
        if en:
            self.quads.add(node, RDFS_LABEL, lang(en, "en"), graphs)

    def note(self, node: NamedNode, text: str | None, graphs: list[NamedNode]) -> None:
        if text:
            self.quads.add(node, RDFS_COMMENT, lang(text, "en"), graphs)

    def part_note(self, node: NamedNode, part: Attributed, graphs: list[NamedNode]) -> None:
        """A part's note, and whose word it is or whether the source hedges it."""
        self.note(node, part.note, graphs)
        if part.according_to:
            self.quads.add(
                node, sc("accordingTo"), self.organisation_iri(part.according_to), graphs
            )
        if part.hedged is not None:
            self.quads.add(node, sc("hedged"), typed(part.hedged), graphs)

    def concept_labels(
        self,
        node: NamedNode,
        scheme: str,
        name: str,
        prefix: tuple[str, str],
        graphs: list[NamedNode],
    ) -> None:
        self.labels(
            node,
            f"{prefix[0]}{self.vocabulary.label(scheme, name, 'fr')}",
            f"{prefix[1]}{self.vocabulary.label(scheme, name, 'en')}",
            graphs,
        )

    def emit(self) -> RecordGraph:
        operators = {
            e.model.operator for e in self.records.organisations.values() if e.model.operator
        }
        for entry in self.records.sources.values():
            self.source(entry)
        for entry in self.records.organisations.values():
            self.organisation(entry, entry.model.slug in operators)
        for entry in self.records.incidents.values():
            self.incident(entry)
        return RecordGraph(self.quads, self.origins)

    def source(self, entry: Entry) -> None:
        model: Source = entry.model
        node = iri(resource("source", model.slug))
        self.origins[node.value] = entry.at()
        graphs = [SOURCES_GRAPH]
        add = self.quads.add
        add(node, RDF_TYPE, sc("Source"), graphs)
        add(node, schema("headline"), lang(model.title, model.language), graphs)
        self.labels(node, model.title, None, graphs)
        add(node, schema("publisher"), self.organisation_iri(model.publisher), graphs)
        add(node, schema("author"), typed(model.author) if model.author else None, graphs)
        self.date(
            node,
            entry,
            "published",
            schema("datePublished"),
            model.published,
            "stated" if not model.published_note else "resolved",
            model.published_note,
            graphs,
            "date-1",
            ("Date de publication : ", "Publication date: "),
        )
        if model.url:
            add(node, schema("url"), Literal(model.url, datatype=XSD_ANY_URI), graphs)
        add(node, schema("inLanguage"), typed(model.language), graphs)
        for slug in model.relays:
            add(node, sc("relays"), self.organisation_iri(slug), graphs)
        self.note(node, model.note, graphs)
        graph = iri(source_graph(model.slug))
        self.origins[graph.value] = entry.at()
        add(graph, RDF_TYPE, sc("SourceGraph"), [graph])
        add(graph, RDF_TYPE, iri(PROV + "Bundle"), [graph])
        add(graph, iri(PROV + "wasDerivedFrom"), node, [graph])
        self.labels(
            graph,
            f"Énoncés de la source : {model.title}",
            f"Statements of the source: {model.title}",
            [graph],
        )

    def organisation(self, entry: Entry, is_operator: bool) -> None:
        model: Organisation = entry.model
        node = self.organisation_iri(model.slug)
        self.origins[node.value] = entry.at()
        reference = [ORGANISATION_GRAPH]
        stated = [iri(source_graph(s)) for s in model.sources] or reference
        add = self.quads.add
        class_name = ORGANISATION_CLASSES[model.kind]
        if model.authority_kind in AUTHORITY_CLASSES:
            class_name = AUTHORITY_CLASSES[model.authority_kind]
        add(node, RDF_TYPE, sc(class_name), reference)
        if is_operator:
            add(node, RDF_TYPE, sc("Operator"), stated)
        add(node, schema("name"), lang(model.name, "fr"), reference)
        label = model.label
        self.labels(node, label.fr if label else model.name, label.en if label else None, reference)
        if model.facility_kind:
            add(
                node,
                sc("facilityKind"),
                self.concept("facility-kind", model.facility_kind),
                reference,
            )
            schema_class = self.vocabulary.schema_classes.get(
                ("facility-kind", model.facility_kind)
            )
            if schema_class:
                add(node, RDF_TYPE, iri(schema_class), reference)
        if model.authority_kind:
            add(
                node,
                sc("authorityKind"),
                self.concept("authority-kind", model.authority_kind),
                reference,
            )
        if model.operator:
            add(node, sc("operatedBy"), self.organisation_iri(model.operator), stated)
        if model.parent:
            add(node, schema("parentOrganization"), self.organisation_iri(model.parent), stated)
        if model.vendor:
            add(node, schema("publisher"), self.organisation_iri(model.vendor), stated)
        if model.establishment_count is not None:
            add(node, sc("establishmentCount"), typed(model.establishment_count), stated)
        if model.finess:
            add(node, sc("finess"), typed(model.finess), reference)
        if model.wikidata:
            add(
                node,
                OWL_SAME_AS,
                iri(f"http://www.wikidata.org/entity/{model.wikidata}"),
                reference,
            )
        if model.url:
            add(node, schema("url"), iri(model.url), reference)
        self.note(node, model.note, reference)
        if model.city or model.departement or model.region:
            address = iri(node.value + "#address")
            add(node, schema("address"), address, reference)
            add(address, RDF_TYPE, schema("PostalAddress"), reference)
            place = ", ".join(p for p in (model.city, model.departement, model.region) if p)
            self.labels(address, f"Adresse : {place}", f"Address: {place}", reference)
            for predicate, value in (
                (schema("addressLocality"), model.city),
                (sc("departement"), model.departement),
                (sc("departementCode"), model.departement_code),
                (sc("region"), model.region),
            ):
                if value:
                    add(address, predicate, typed(value), reference)
            add(address, schema("addressCountry"), typed("FR"), reference)

    def date(
        self,
        node: NamedNode,
        entry: Entry,
        loc: int | str | tuple,
        predicate: NamedNode,
        value: PartialDate,
        status: str,
        note: str | None,
        graphs: list[NamedNode],
        fragment: str,
        names: tuple[str, str],
    ) -> None:
        """A typed date and the node that says how precise it is and whether it was resolved
        (``node#fragment``, or ``node-fragment`` when ``node`` is itself a hash IRI)."""
        literal = typed_date(value)
        qualification = iri(f"{node.value}{'-' if '#' in node.value else '#'}{fragment}")
        self.origins[qualification.value] = entry.at(*(loc if isinstance(loc, tuple) else (loc,)))
        add = self.quads.add
        add(node, predicate, literal, graphs)
        add(node, sc("dateQualification"), qualification, graphs)
        add(qualification, RDF_TYPE, sc("DateQualification"), graphs)
        add(qualification, sc("qualifiedProperty"), predicate, graphs)
        add(qualification, sc("dateValue"), literal, graphs)
        add(
            qualification,
            sc("datePrecision"),
            self.concept("date-precision", value.precision),
            graphs,
        )
        add(qualification, sc("dateStatus"), self.concept("date-status", status), graphs)
        self.labels(qualification, f"{names[0]}{value.value}", f"{names[1]}{value.value}", graphs)
        self.note(qualification, note, graphs)

    def incident(self, entry: Entry) -> None:
        model: Incident = entry.model
        node = iri(resource("attack", model.slug))
        self.origins[node.value] = entry.at()
        default = [iri(source_graph(s)) for s in dict.fromkeys(model.sources + model.mentioned_in)]

        def graphs(fact_sources: list[str]) -> list[NamedNode]:
            return [iri(source_graph(s)) for s in fact_sources] or default

        add = self.quads.add
        add(
            node, RDF_TYPE, sc("Attack" if model.type == "attack" else "IncidentAggregate"), default
        )
        self.labels(node, model.label.fr, model.label.en, default)
        if model.description:
            add(node, schema("description"), lang(model.description.fr, "fr"), default)
            if model.description.en:
                add(node, schema("description"), lang(model.description.en, "en"), default)
        self.note(node, model.note, default)
        for slug in model.sources:
            add(iri(resource("source", slug)), schema("about"), node, [iri(source_graph(slug))])
        for slug in model.mentioned_in:
            add(iri(resource("source", slug)), schema("mentions"), node, [iri(source_graph(slug))])
        for claim in model.kinds:
            where = graphs(claim.sources)
            add(node, sc("attackKind"), self.concept("attack-kind", claim.kind), where)
        for slug in model.targets:
            add(node, sc("target"), self.organisation_iri(slug), default)
        for slug in model.affected:
            add(node, sc("affectedOrganisation"), self.organisation_iri(slug), default)
        for slug in model.vendors:
            add(node, sc("involvedVendor"), self.organisation_iri(slug), default)
        for slug in model.software:
            add(node, sc("involvedSoftware"), self.organisation_iri(slug), default)
        if model.threat_actor:
            add(node, sc("threatActor"), self.organisation_iri(model.threat_actor), default)
        for slug in model.related:
            other = iri(resource("attack", slug))
            add(node, sc("relatedIncident"), other, default)
            add(other, sc("relatedIncident"), node, default)
        if model.crisis_cell is not None:
            add(node, sc("crisisCellActivated"), typed(model.crisis_cell), default)
        if model.count is not None:
            add(node, sc("incidentCount"), typed(model.count), default)
        if model.affected_count is not None:
            add(node, sc("affectedFacilityCount"), typed(model.affected_count), default)
        for index, claim in enumerate(model.dates, 1):
            self.date_claim(node, entry, index, claim, graphs(claim.sources))
        for index, impact in enumerate(model.impacts, 1):
            part = iri(f"{node.value}#impact-{index}")
            self.origins[part.value] = entry.at("impacts", index - 1)
            where = graphs(impact.sources)
            add(node, sc("impact"), part, where)
            add(part, RDF_TYPE, sc("Impact"), where)
            add(part, sc("service"), self.concept("service", impact.service), where)
            add(part, sc("effect"), self.concept("effect", impact.effect), where)
            service_fr = self.vocabulary.label("service", impact.service, "fr")
            service_en = self.vocabulary.label("service", impact.service, "en")
            self.labels(
                part,
                f"{service_fr} : {self.vocabulary.label('effect', impact.effect, 'fr')}",
                f"{service_en}: {self.vocabulary.label('effect', impact.effect, 'en')}",
                where,
            )
            if impact.facility:
                add(part, sc("atFacility"), self.organisation_iri(impact.facility), where)
            if impact.operator:
                add(part, sc("acrossOperator"), self.organisation_iri(impact.operator), where)
            if impact.patients_transferred is not None:
                add(part, sc("patientsTransferred"), typed(impact.patients_transferred), where)
            for slug in impact.transferred_to:
                add(part, sc("transferredTo"), self.organisation_iri(slug), where)
            for slug in impact.redirected_to:
                add(part, sc("redirectedTo"), self.organisation_iri(slug), where)
            self.part_note(part, impact, where)
        if model.data_exposure is not None:
            self.exposure(node, entry, model, graphs(model.data_exposure.sources))
        if model.ransom is not None:
            part = iri(f"{node.value}#ransom")
            self.origins[part.value] = entry.at("ransom")
            where = graphs(model.ransom.sources)
            amount = f"{model.ransom.amount:,.0f}".replace(",", " ")
            add(node, sc("ransomDemand"), part, where)
            add(part, RDF_TYPE, schema("MonetaryAmount"), where)
            add(part, schema("value"), typed(model.ransom.amount), where)
            add(part, schema("currency"), typed(model.ransom.currency), where)
            self.labels(
                part,
                f"Rançon demandée : {amount} {model.ransom.currency}",
                f"Ransom demanded: {amount} {model.ransom.currency}",
                where,
            )
            self.part_note(part, model.ransom, where)
        for index, response in enumerate(model.responses, 1):
            part = iri(f"{node.value}#action-{index}")
            self.origins[part.value] = entry.at("responses", index - 1)
            where = graphs(response.sources)
            authority = self.records.organisations[response.authority].model.name
            add(node, sc("authorityAction"), part, where)
            add(part, RDF_TYPE, sc("AuthorityAction"), where)
            add(part, sc("authority"), self.organisation_iri(response.authority), where)
            add(part, sc("actionKind"), self.concept("authority-action", response.action), where)
            self.concept_labels(
                part,
                "authority-action",
                response.action,
                (f"{authority} : ", f"{authority}: "),
                where,
            )
            self.dated(part, entry, ("responses", index - 1), response, where)
            self.part_note(part, response, where)
        for index, inquiry in enumerate(model.investigations):
            self.investigation(node, entry, index, graphs(inquiry.sources))

    def dated(
        self, node: NamedNode, entry: Entry, loc: tuple, fact: Dated, where: list[NamedNode]
    ) -> None:
        """The start date of an authority's action or an investigation, qualified like an
        incident's."""
        if fact.date is None:
            return
        assert fact.date_status is not None  # the schema requires it with a date
        self.date(
            node,
            entry,
            (*loc, "date"),
            schema("startDate"),
            fact.date,
            fact.date_status,
            fact.date_note,
            where,
            "date",
            ("Date : ", "Date: "),
        )

    def date_claim(
        self, node: NamedNode, entry: Entry, index: int, claim: DateClaim, where: list[NamedNode]
    ) -> None:
        name = DATE_NAMES_FR[claim.property]
        self.date(
            node,
            entry,
            ("dates", index - 1),
            DATE_PROPERTIES[claim.property],
            claim.value,
            claim.status,
            claim.note,
            where,
            f"date-{index}",
            (f"Date de {name} : ", f"{claim.property.replace('-', ' ').capitalize()} date: "),
        )

    def exposure(
        self, node: NamedNode, entry: Entry, model: Incident, where: list[NamedNode]
    ) -> None:
        exposure = model.data_exposure
        assert exposure is not None
        part = iri(f"{node.value}#exposure")
        self.origins[part.value] = entry.at("data_exposure")
        add = self.quads.add
        add(node, sc("dataExposure"), part, where)
        add(part, RDF_TYPE, sc("DataExposure"), where)
        self.labels(
            part,
            f"Données exposées : {model.label.fr}",
            f"Data exposed: {model.label.en or model.label.fr}",
            where,
        )
        for predicate, value in (
            ("exfiltrated", exposure.exfiltrated),
            ("recordCount", exposure.record_count),
            ("sourceCount", exposure.source_count),
            ("publishedOnline", exposure.published_online),
        ):
            if value is not None:
                add(part, sc(predicate), typed(value), where)
        for name in exposure.categories:
            add(part, sc("dataCategory"), self.concept("data-category", name), where)
        for name in exposure.categories_in_some:
            add(part, sc("partialDataCategory"), self.concept("data-category", name), where)
        add(part, sc("dataPeriodStart"), typed_date(exposure.period_start), where)
        add(part, sc("dataPeriodEnd"), typed_date(exposure.period_end), where)
        self.part_note(part, exposure, where)

    def investigation(
        self, attack: NamedNode, entry: Entry, index: int, where: list[NamedNode]
    ) -> None:
        inquiry = entry.model.investigations[index]
        node = iri(resource("investigation", inquiry.slug))
        self.origins[node.value] = entry.at("investigations", index)
        add = self.quads.add
        add(attack, sc("investigation"), node, where)
        add(node, sc("concerns"), attack, where)
        add(node, RDF_TYPE, sc("Investigation"), where)
        label_fr = self.vocabulary.label("investigation-kind", inquiry.kind, "fr")
        label_en = self.vocabulary.label("investigation-kind", inquiry.kind, "en")
        self.labels(
            node,
            f"{label_fr} : {entry.model.label.fr}",
            f"{label_en}: {entry.model.label.en or entry.model.label.fr}",
            where,
        )
        add(node, sc("investigationKind"), self.concept("investigation-kind", inquiry.kind), where)
        if inquiry.opened_by:
            add(node, sc("openedBy"), self.organisation_iri(inquiry.opened_by), where)
        if inquiry.directed_by:
            add(node, sc("directedBy"), self.organisation_iri(inquiry.directed_by), where)
        for name in inquiry.offences:
            add(node, sc("offence"), self.concept("offence", name), where)
        for slug in inquiry.investigated_by:
            add(node, sc("investigatedBy"), self.organisation_iri(slug), where)
        for slug in inquiry.complaint_by:
            add(node, sc("complaintFiledBy"), self.organisation_iri(slug), where)
        self.dated(node, entry, ("investigations", index), inquiry, where)
        self.part_note(node, inquiry, where)


def _a(noun: str) -> str:
    """``noun`` with its indefinite article.

    >>> _a("facility"), _a("authority or organisation")
    ('a facility', 'an authority or organisation')
    """
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def load_records(data_dir: Path, vocabulary: Vocabulary, today: date | None = None) -> RecordGraph:
    """Read, check and convert every record of ``data_dir``; raises InputError on any problem.

    References are checked even when some files are broken, so one run reports everything.
    """
    records, problems = _read_all(data_dir)
    problems += _ReferenceCheck(records, vocabulary, today or date.today()).run()
    if problems:
        raise InputError(problems)
    return _Emitter(records, vocabulary).emit()
