"""HTML pages for people: one per resource (French and English), the index with its timeline,
VoID and dumps. Jinja2 with autoescape; no JavaScript, no asset from another site.

Every literal shown comes from the graph and goes through autoescape; the schema.org JSON-LD
is dumped with ``<``, ``>`` and ``&`` escaped so it cannot close its ``<script>`` element.
"""

from __future__ import annotations

import itertools
import json
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from santecyber.dumps import dump_index
from santecyber.namespaces import BASE, RDF, SC, SCHEMA
from santecyber.namespaces import DCTERMS as DCTERMS_NAMESPACE
from santecyber.namespaces import XSD as XSD_NAMESPACE
from santecyber.server.describe import (
    LABEL_PROPERTIES,
    PROV_DERIVED,
    RDFS_LABEL,
    Description,
    Reference,
    SourceInfo,
    best_label,
    document_iri,
    local_path,
    reference,
    select,
)
from santecyber.server.pagination import Paging, links, paginate
from santecyber.server.query_service import QueryService
from santecyber.server.shapes_document import IRI as SHAPES_IRI
from santecyber.server.shapes_document import ShapesDocument
from santecyber.server.void import DATASET, VOID, void_quads

LANGUAGES = ("fr", "en")
RDF_TYPE = str(RDF.type)
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = str(XSD_NAMESPACE)
DCTERMS = str(DCTERMS_NAMESPACE)
TEMPLATES = Path(__file__).parent / "templates"
Item = TypeVar("Item")

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

#: kinds of /id/{kind}/… with their classes (for the lists) and their names
KINDS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "attack": (("Attack", "IncidentAggregate"), "Attaques", "Attacks"),
    "facility": (("CareFacility",), "Établissements", "Facilities"),
    "organisation": (("Organisation", "Operator"), "Organisations", "Organisations"),
    "vendor": (("SoftwareVendor",), "Éditeurs de logiciels", "Software vendors"),
    "product": (("SoftwareProduct",), "Logiciels", "Software products"),
    "regulator": (("Regulator",), "Autorités de régulation", "Regulators and authorities"),
    "authority": (
        ("Authority", "ProsecutorOffice", "InvestigatingService"),
        "Parquets et enquêteurs",
        "Prosecutors and investigators",
    ),
    "investigation": (("Investigation",), "Enquêtes", "Investigations"),
    "threat-actor": (("ThreatActor",), "Attaquants", "Threat actors"),
    "publisher": (("Publisher",), "Éditeurs de presse", "Publishers"),
    "source": (("Source",), "Sources", "Sources"),
}

UI: dict[str, dict[str, str]] = {
    "fr": {
        "site": "santecyber — cyberattaques contre la santé en France",
        "index": "Index",
        "attacks": "Attaques",
        "facilities": "Établissements",
        "sources": "Sources",
        "kinds": "Ressources par type",
        "facts": "Faits",
        "source": "Source",
        "sources_col": "Sources",
        "conflict": "Les sources divergent",
        "timeline": "Chronologie",
        "date": "Date",
        "precision": "Précision",
        "status": "Statut",
        "note": "Note",
        "what": "Quoi",
        "links_in": "Liens entrants",
        "parts": "Détails",
        "formats": "Autres formats",
        "reference": "données de référence",
        "not_found": "Ressource inconnue",
        "not_found_text": "Cette IRI n'est pas dans le graphe :",
        "statements": "Ce que dit cette source",
        "contents": "Contenu du graphe",
        "by_year": "Attaques par année et par région",
        "year": "Année",
        "region": "Région",
        "unknown_region": "région inconnue",
        "aggregates": "Bilans chiffrés",
        "title": "Titre",
        "switch": "English",
        "void": "Description du jeu de données (VoID)",
        "dumps": "Téléchargements",
        "shapes": "Formes SHACL",
        "shapes_intro": "Les contraintes que chaque construction du graphe vérifie avant de"
        " publier les données. Les rapports de validation (SARIF) renvoient à la section de"
        " chaque forme.",
        "shape": "Forme",
        "shape_count": "formes",
        "severity": "Gravité",
        "applies_to": "S'applique à",
        "severity_Violation": "obligatoire (violation)",
        "severity_Warning": "attendu (avertissement)",
        "severity_Info": "noté (information)",
        "file": "Fichier",
        "size": "Taille (octets)",
        "count": "Énoncés",
        "graph": "Graphe",
        "licence": "Licence",
        "endpoint": "Point d'accès SPARQL",
        "yes": "oui",
        "no": "non",
        "chart_title": "Nombre d'attaques par année, par région",
        "pages": "Pages",
        "page_of": "Page {number} sur {count} — {first} à {last} sur {total}",
        "previous": "← Page précédente",
        "next": "Page suivante →",
        "footer": "Données sous licence CC BY 4.0. Chaque fait renvoie à la source qui l'énonce.",
    },
    "en": {
        "site": "santecyber — cyberattacks on French healthcare",
        "index": "Index",
        "attacks": "Attacks",
        "facilities": "Facilities",
        "sources": "Sources",
        "kinds": "Resources by kind",
        "facts": "Facts",
        "source": "Source",
        "sources_col": "Sources",
        "conflict": "Sources disagree",
        "timeline": "Timeline",
        "date": "Date",
        "precision": "Precision",
        "status": "Status",
        "note": "Note",
        "what": "What",
        "links_in": "Linked from",
        "parts": "Details",
        "formats": "Other formats",
        "reference": "reference data",
        "not_found": "Unknown resource",
        "not_found_text": "This IRI is not in the graph:",
        "statements": "What this source states",
        "contents": "Contents of the graph",
        "by_year": "Attacks by year and region",
        "year": "Year",
        "region": "Region",
        "unknown_region": "unknown region",
        "aggregates": "Reported counts",
        "title": "Title",
        "switch": "Français",
        "void": "Dataset description (VoID)",
        "dumps": "Downloads",
        "shapes": "SHACL shapes",
        "shapes_intro": "The constraints every build of the graph checks before it publishes"
        " the data. Validation reports (SARIF) link to each shape's section.",
        "shape": "Shape",
        "shape_count": "shapes",
        "severity": "Severity",
        "applies_to": "Applies to",
        "severity_Violation": "required (violation)",
        "severity_Warning": "expected (warning)",
        "severity_Info": "noted (info)",
        "file": "File",
        "size": "Size (bytes)",
        "count": "Statements",
        "graph": "Graph",
        "licence": "Licence",
        "endpoint": "SPARQL endpoint",
        "yes": "yes",
        "no": "no",
        "chart_title": "Number of attacks per year, by region",
        "pages": "Pages",
        "page_of": "Page {number} of {count} — {first} to {last} of {total}",
        "previous": "← Previous page",
        "next": "Next page →",
        "footer": "Data under the CC BY 4.0 licence. Every fact links to the source stating it.",
    },
}

#: names of reused terms the ontology does not label
TERM_NAMES: dict[str, tuple[str, str]] = {
    RDF_TYPE: ("type", "type"),
    f"{SCHEMA}startDate": ("date de début", "start date"),
    f"{SCHEMA}endDate": ("date de fin", "end date"),
    f"{SCHEMA}description": ("description", "description"),
    f"{SCHEMA}name": ("nom", "name"),
    f"{SCHEMA}address": ("adresse", "address"),
    f"{SCHEMA}addressLocality": ("commune", "locality"),
    f"{SCHEMA}addressCountry": ("pays", "country"),
    f"{SCHEMA}headline": ("titre", "headline"),
    f"{SCHEMA}publisher": ("éditeur", "publisher"),
    f"{SCHEMA}author": ("auteur", "author"),
    f"{SCHEMA}datePublished": ("date de publication", "publication date"),
    f"{SCHEMA}url": ("adresse web", "web address"),
    f"{SCHEMA}inLanguage": ("langue", "language"),
    f"{SCHEMA}about": ("à propos de", "about"),
    f"{SCHEMA}mentions": ("mentionne", "mentions"),
    f"{SCHEMA}value": ("montant", "amount"),
    f"{SCHEMA}currency": ("devise", "currency"),
    f"{SCHEMA}parentOrganization": ("organisation parente", "parent organisation"),
    f"{SCHEMA}sameAs": ("identique à", "same as"),
    f"{RDFS}label": ("libellé", "label"),
    f"{RDFS}comment": ("note", "note"),
    f"{RDFS}isDefinedBy": ("défini par", "defined by"),
    f"{RDFS}subClassOf": ("sous-classe de", "subclass of"),
    f"{RDFS}subPropertyOf": ("sous-propriété de", "subproperty of"),
    f"{RDFS}domain": ("domaine", "domain"),
    f"{RDFS}range": ("portée", "range"),
    f"{SKOS}prefLabel": ("libellé préféré", "preferred label"),
    f"{SKOS}definition": ("définition", "definition"),
    f"{SKOS}inScheme": ("dans le schéma", "in scheme"),
    f"{SKOS}topConceptOf": ("concept de tête de", "top concept of"),
    f"{SKOS}hasTopConcept": ("concept de tête", "top concept"),
    "http://www.w3.org/2002/07/owl#sameAs": ("identique à", "same as"),
    "http://www.w3.org/2002/07/owl#versionIRI": ("IRI de version", "version IRI"),
    PROV_DERIVED: ("dérivé de", "derived from"),
    f"{SCHEMA}Hospital": ("hôpital", "hospital"),
    f"{SCHEMA}MedicalClinic": ("clinique", "clinic"),
    f"{SCHEMA}DiagnosticLab": ("laboratoire d'analyses", "diagnostic laboratory"),
    f"{SCHEMA}MedicalOrganization": ("organisation médicale", "medical organisation"),
    f"{SCHEMA}PostalAddress": ("adresse postale", "postal address"),
    f"{SCHEMA}MonetaryAmount": ("montant", "monetary amount"),
    f"{SKOS}Concept": ("concept", "concept"),
    f"{SKOS}ConceptScheme": ("schéma de concepts", "concept scheme"),
    "http://www.w3.org/2002/07/owl#Ontology": ("ontologie", "ontology"),
    "http://www.w3.org/2002/07/owl#Class": ("classe", "class"),
    "http://www.w3.org/2002/07/owl#ObjectProperty": ("propriété (lien)", "object property"),
    "http://www.w3.org/2002/07/owl#DatatypeProperty": ("propriété (valeur)", "datatype property"),
    "http://www.w3.org/2002/07/owl#versionInfo": ("version", "version"),
    "http://www.w3.org/ns/prov#Bundle": ("lot PROV", "PROV bundle"),
    f"{DCTERMS}title": ("titre", "title"),
    f"{DCTERMS}description": ("description", "description"),
    f"{DCTERMS}license": ("licence", "licence"),
    f"{DCTERMS}created": ("créé le", "created"),
}

#: how to name, on the page of X, the resources that point at X with a property
INVERSE_NAMES: dict[str, tuple[str, str]] = {
    f"{SC}target": ("Attaques qui l'ont visé", "Attacks that hit it"),
    f"{SC}affectedOrganisation": ("Attaques qui l'ont affecté", "Attacks that affected it"),
    f"{SC}operatedBy": ("Établissements gérés", "Facilities it runs"),
    f"{SC}involvedVendor": ("Attaques où il est en cause", "Attacks involving it"),
    f"{SC}involvedSoftware": ("Attaques où il est en cause", "Attacks involving it"),
    f"{SC}authority": ("Interventions", "What it did"),
    f"{SC}relatedIncident": ("Incidents liés", "Related incidents"),
    f"{SCHEMA}publisher": ("Ce qu'il publie", "What it publishes"),  # articles, software
    f"{SCHEMA}about": ("Articles à son sujet", "Articles about it"),
    f"{SCHEMA}mentions": ("Articles qui le mentionnent", "Articles that mention it"),
    f"{SC}relays": ("Articles qui le relaient", "Articles relaying it"),
    f"{SC}openedBy": ("Enquêtes ouvertes", "Investigations it opened"),
    f"{SC}directedBy": ("Enquêtes sous son autorité", "Investigations under it"),
    f"{SC}investigatedBy": ("Enquêtes menées", "Investigations it leads"),
    f"{SC}complaintFiledBy": ("Plaintes déposées", "Complaints it filed"),
    f"{SC}atFacility": ("Impacts sur place", "Impacts there"),
    f"{SC}transferredTo": ("Patients reçus", "Patients received"),
    f"{SC}redirectedTo": ("Patients orientés vers lui", "Patients told to come here"),
    f"{SCHEMA}parentOrganization": ("Organismes rattachés", "Bodies under it"),
    f"{SKOS}inScheme": ("Concepts", "Concepts"),
    f"{SKOS}topConceptOf": ("Concepts", "Concepts"),
    f"{RDFS}isDefinedBy": ("Termes définis", "Terms it defines"),
}

#: facts first in this order, the others after them by name
FACT_ORDER = [
    RDF_TYPE,
    f"{SCHEMA}headline",
    f"{SC}attackKind",
    f"{SC}facilityKind",
    f"{SC}authorityKind",
    f"{SCHEMA}startDate",
    f"{SC}detectionDate",
    f"{SC}disclosureDate",
    f"{SCHEMA}endDate",
    f"{SCHEMA}datePublished",
    f"{SC}target",
    f"{SC}affectedOrganisation",
    f"{SC}affectedFacilityCount",
    f"{SC}operatedBy",
    f"{SCHEMA}parentOrganization",
    f"{SC}involvedVendor",
    f"{SC}involvedSoftware",
    f"{SC}threatActor",
    f"{SC}crisisCellActivated",
    f"{SC}incidentCount",
    f"{SC}relatedIncident",
    f"{SCHEMA}publisher",
    f"{SCHEMA}author",
    f"{SCHEMA}about",
    f"{SCHEMA}mentions",
    f"{SCHEMA}url",
    f"{SCHEMA}description",
    f"{SKOS}definition",
    f"{RDFS}comment",
]
#: shown as the page title, not as facts
TITLE_PROPERTIES = {RDFS_LABEL, f"{SKOS}prefLabel"}
#: shown as text under the title
TEXT_PROPERTIES = [f"{SCHEMA}description", f"{SKOS}definition", f"{DCTERMS}description"]

SCHEMA_TYPES = {
    f"{SC}Attack": "Event",
    f"{SC}IncidentAggregate": "Event",
    f"{SCHEMA}Hospital": "Hospital",
    f"{SCHEMA}MedicalClinic": "MedicalClinic",
    f"{SCHEMA}DiagnosticLab": "DiagnosticLab",
    f"{SC}CareFacility": "MedicalOrganization",
    f"{SC}Publisher": "NewsMediaOrganization",
    f"{SC}Regulator": "GovernmentOrganization",
    f"{SC}Authority": "GovernmentOrganization",
    f"{SC}ProsecutorOffice": "GovernmentOrganization",
    f"{SC}InvestigatingService": "GovernmentOrganization",
    f"{SC}SoftwareProduct": "SoftwareApplication",
    f"{SC}Source": "NewsArticle",
    f"{SKOS}Concept": "DefinedTerm",
    f"{SKOS}ConceptScheme": "DefinedTermSet",
}


@dataclass
class SourceRef:
    """The source of one statement, as shown beside it."""

    name: str
    date: str
    url: str
    href: str  # the source's page here
    title: str


@dataclass
class Value:
    text: str
    href: str | None
    sources: list[SourceRef]
    external: bool = False
    lang: str = ""  # the literal's language, marked up so it is read in that language


@dataclass
class Fact:
    label: str
    values: list[Value]
    conflict: bool = False


@dataclass
class Part:
    anchor: str
    title: str
    kind: str
    facts: list[Fact]


@dataclass
class TimelineEntry:
    anchor: str  # the fragment of its IRI (#date-1), where links to it land
    date: str
    what: str
    precision: str
    status: str
    note: str
    sources: list[SourceRef]
    note_lang: str = ""


@dataclass
class Page:
    """Everything resource.html shows."""

    iri: str
    title: str
    kinds: list[str]
    texts: list[str]
    facts: list[Fact]
    parts: list[Part]
    timeline: list[TimelineEntry]
    incoming: list[Fact]
    statements: list[Part] = field(default_factory=list)


def local_name(iri: str) -> str:
    for separator in ("#", "/"):
        if separator in iri:
            iri = iri.rsplit(separator, 1)[-1] or iri
    return iri


def href_of(iri: str, lang: str | None = None) -> tuple[str, bool]:
    """Where a link to ``iri`` goes (keeping the page's ``lang``), and whether it leaves
    this site.

    >>> href_of("https://w3id.org/santecyber/id/attack/x#action-1", "en")
    ('/id/attack/x?lang=en#action-1', False)
    """
    path = local_path(iri)
    if path is None:
        return iri, True
    if lang:
        document, hash_sign, fragment = path.partition("#")
        path = f"{document}?lang={lang}{hash_sign}{fragment}"
    return path, False


class Labeller:
    """Names of IRIs in one language, from a description's label statements and the ontology."""

    def __init__(self, quads: list[ox.Quad], ref: Reference, lang: str) -> None:
        self.lang = lang
        self.ref = ref
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        self.titles: dict[str, dict[str, str]] = defaultdict(dict)  # dcterms:title, if no label
        for quad in quads:
            if quad.predicate.value in LABEL_PROPERTIES and isinstance(quad.object, ox.Literal):
                language = quad.object.language or ""
                known = self.labels[quad.subject.value]
                # rdfs:label wins over schema:name
                if language not in known or quad.predicate.value == RDFS_LABEL:
                    known[language] = quad.object.value
            elif quad.predicate.value == f"{DCTERMS}title" and isinstance(quad.object, ox.Literal):
                self.titles[quad.subject.value].setdefault(
                    quad.object.language or "", quad.object.value
                )

    def add(self, iri: str, label: ox.Literal) -> None:
        self.labels[iri].setdefault(label.language or "", label.value)

    def name(self, iri: str) -> str:
        own = self.labels.get(iri) or self.titles.get(iri)
        found = best_label(own, self.lang) if own else self.ref.label(iri, self.lang)
        if found:
            return found
        if iri in TERM_NAMES:
            return TERM_NAMES[iri][LANGUAGES.index(self.lang)]
        return local_name(iri)


def format_literal(literal: ox.Literal, lang: str) -> str:
    datatype = literal.datatype.value if literal.datatype else ""
    text = literal.value
    if datatype == f"{XSD}boolean":
        return UI[lang]["yes"] if text in ("true", "1") else UI[lang]["no"]
    if datatype in (f"{XSD}integer", f"{XSD}decimal"):
        try:
            number = int(text) if datatype == f"{XSD}integer" else float(text)
        except ValueError:
            return text
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        grouped = f"{number:,}"
        return grouped.replace(",", "\u202f") if lang == "fr" else grouped
    return text


class PageBuilder:
    """Turns a description into a :class:`Page`."""

    def __init__(self, description: Description, ref: Reference, lang: str) -> None:
        self.description = description
        self.iri = description.iri
        self.ref = ref
        self.lang = lang
        self.names = Labeller(description.quads, ref, lang)

    def source_ref(self, graph: str) -> SourceRef:
        info: SourceInfo | None = self.ref.sources.get(graph)
        if info is None:
            href, _ = href_of(graph, self.lang)
            return SourceRef(UI[self.lang]["reference"], "", "", href, self.names.name(graph))
        href, _ = href_of(info.source, self.lang)
        name = info.publisher_name or self.names.name(info.publisher) or info.headline
        return SourceRef(name, info.date, info.url, href, info.headline)

    def value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal, graphs: list[str]) -> Value:
        sources = [self.source_ref(g) for g in sorted(set(graphs))]
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value if term.datatype else ""
            if datatype == f"{XSD}anyURI" and term.value.startswith(("http://", "https://")):
                return Value(term.value, term.value, sources, external=True)
            return Value(format_literal(term, self.lang), None, sources, lang=term.language or "")
        if isinstance(term, ox.BlankNode):
            return Value("_:" + term.value, None, sources)
        href, external = href_of(term.value, self.lang)
        return Value(self.names.name(term.value), href, sources, external)

    def facts(self, subject: str, skip: set[str]) -> list[Fact]:
        """The facts of ``subject`` (statements grouped by property, values with sources)."""
        by_property: dict[str, dict[object, list[str]]] = defaultdict(lambda: defaultdict(list))
        for quad in self.description.quads:
            if quad.subject.value == subject and quad.predicate.value not in skip:
                by_property[quad.predicate.value][quad.object].append(quad.graph_name.value)
        facts = []
        for prop, values in by_property.items():
            terms = list(values)
            literals = [t for t in terms if isinstance(t, ox.Literal) and t.language]
            if literals:  # keep the page's language when the statement has it
                mine = [t for t in literals if t.language == self.lang]
                chosen = mine or [t for t in literals if t.language == "en"] or literals
                terms = [t for t in terms if not isinstance(t, ox.Literal) or not t.language]
                terms += chosen
            shown = [self.value(t, values[t]) for t in sorted(terms, key=str)]  # type: ignore[arg-type]
            plain = [t for t in terms if isinstance(t, ox.Literal) and not t.language]
            conflict = len(plain) > 1 and len({tuple(values[t]) for t in plain}) > 1
            facts.append(Fact(self.names.name(prop), shown, conflict))
        order = {p: i for i, p in enumerate(FACT_ORDER)}
        keyed = sorted(
            zip(by_property, facts, strict=True),
            key=lambda pair: (order.get(pair[0], len(order)), pair[1].label),
        )
        return [fact for _, fact in keyed]

    def parts(self) -> list[str]:
        prefix = self.iri + "#"
        found = {
            q.subject.value for q in self.description.quads if q.subject.value.startswith(prefix)
        }
        return sorted(found, key=_natural)

    def types_of(self, subject: str) -> list[str]:
        return sorted(
            {
                q.object.value
                for q in self.description.quads
                if q.subject.value == subject and q.predicate.value == RDF_TYPE
            }
        )

    def build(self) -> Page:
        own = [q for q in self.description.quads if q.subject.value == self.iri]
        title = self.names.name(self.iri)
        texts = []
        for prop in TEXT_PROPERTIES:
            candidates = [q.object for q in own if q.predicate.value == prop]
            literals = [t for t in candidates if isinstance(t, ox.Literal)]
            mine = [t for t in literals if t.language == self.lang] or literals
            texts += sorted({t.value for t in mine})
        part_iris = self.parts()
        part_set = set(part_iris)
        linking = {q.predicate.value for q in own if q.object.value in part_set}
        skip = TITLE_PROPERTIES | set(TEXT_PROPERTIES) | linking
        facts = self.facts(self.iri, skip)
        kinds = [self.names.name(t) for t in self.types_of(self.iri)]
        timeline: list[TimelineEntry] = []
        parts: list[Part] = []
        for part in part_iris:
            types = self.types_of(part)
            if f"{SC}DateQualification" in types:
                timeline.append(self.timeline_entry(part))
                continue
            parts.append(
                Part(
                    anchor=part.split("#", 1)[1],
                    title=self.names.name(part),
                    kind=", ".join(self.names.name(t) for t in types),
                    facts=self.facts(part, TITLE_PROPERTIES | {RDF_TYPE, f"{RDFS}isDefinedBy"}),
                )
            )
        timeline.sort(key=lambda entry: (entry.date, entry.what))
        return Page(self.iri, title, kinds, texts, facts, parts, timeline, self.incoming())

    def timeline_entry(self, part: str) -> TimelineEntry:
        fields: dict[str, ox.NamedNode | ox.Literal] = {}
        graphs: list[str] = []
        for quad in self.description.quads:
            if quad.subject.value != part:
                continue
            graphs.append(quad.graph_name.value)
            prop = quad.predicate.value
            obj = quad.object
            if prop == f"{RDFS}comment" and isinstance(obj, ox.Literal):
                if obj.language in (self.lang, None, "") or "comment" not in fields:
                    fields["comment"] = obj
            else:
                fields[local_name(prop)] = obj  # type: ignore[assignment]

        def name(key: str) -> str:
            term = fields.get(key)
            if term is None:
                return ""
            return term.value if isinstance(term, ox.Literal) else self.names.name(term.value)

        # the date of a part (an authority's action) is named by that part, not "start date"
        owners = {
            quad.subject.value
            for quad in self.description.quads
            if quad.predicate.value == f"{SC}dateQualification" and quad.object.value == part
        }
        owner = min(owners - {self.iri}, default=None)
        return TimelineEntry(
            anchor=part.split("#", 1)[1],
            date=name("dateValue"),
            what=self.names.name(owner) if owner else name("qualifiedProperty"),
            precision=name("datePrecision"),
            status=name("dateStatus"),
            note=name("comment"),
            sources=[self.source_ref(g) for g in sorted(set(graphs))],
            note_lang=getattr(fields.get("comment"), "language", None) or "",
        )

    def incoming(self) -> list[Fact]:
        """Statements pointing at the resource, grouped by property."""
        groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for quad in self.description.quads:
            if quad.object == ox.NamedNode(self.iri) and quad.subject.value != self.iri:
                groups[quad.predicate.value][quad.subject.value].append(quad.graph_name.value)
        facts = []
        for prop, subjects in groups.items():
            names = INVERSE_NAMES.get(prop)
            label = names[LANGUAGES.index(self.lang)] if names else f"← {self.names.name(prop)}"
            values = [self.value(ox.NamedNode(s), graphs) for s, graphs in subjects.items()]
            values.sort(key=lambda v: v.text)
            facts.append(Fact(label, values))
        return sorted(facts, key=lambda f: f.label)


def _natural(iri: str) -> tuple:
    fragment = iri.split("#", 1)[-1]
    head, _, number = fragment.rpartition("-")
    return (head, int(number)) if number.isdigit() else (fragment, 0)


def schema_org(page: Page, description: Description, names: Labeller | None = None) -> Markup:
    """The schema.org JSON-LD of a page, safe inside <script>: the type, name, description,
    dates, address (organisations) and the places hit (attacks)."""
    own = [q for q in description.quads if q.subject.value == page.iri]
    types = [q.object.value for q in own if q.predicate.value == RDF_TYPE]
    schema_type = next((SCHEMA_TYPES[t] for t in types if t in SCHEMA_TYPES), None)
    if schema_type is None:
        schema_type = (
            "Organization" if any("Organisation" in t or "Vendor" in t for t in types) else "Thing"
        )
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": schema_type,
        "@id": page.iri,
        "name": page.title,
        "url": page.iri,
    }
    if page.texts:
        data["description"] = page.texts[0]
    for quad in own:
        prop, obj = quad.predicate.value, quad.object
        if prop in (f"{SCHEMA}startDate", f"{SCHEMA}datePublished", f"{SCHEMA}headline"):
            data.setdefault(local_name(prop), obj.value)
        elif (
            prop == f"{SCHEMA}url" and schema_type == "NewsArticle"
        ) or prop == "http://www.w3.org/2002/07/owl#sameAs":
            data["sameAs"] = obj.value
        elif prop == f"{SCHEMA}address" and isinstance(obj, ox.NamedNode):
            fields = {
                local_name(q.predicate.value): q.object.value
                for q in description.quads
                if q.subject == obj and isinstance(q.object, ox.Literal)
            }
            address = {"@type": "PostalAddress"}
            for schema_key, ours in (
                ("addressLocality", "addressLocality"),
                ("addressRegion", "region"),
                ("addressCountry", "addressCountry"),
            ):
                if ours in fields:
                    address[schema_key] = fields[ours]
            data["address"] = address
        elif prop == f"{SC}target" and names is not None and schema_type == "Event":
            places = data.setdefault("location", [])
            place = {"@type": "Place", "@id": obj.value, "name": names.name(obj.value)}
            if place not in places:  # type: ignore[operator]
                places.append(place)  # type: ignore[union-attr]
    return script_json(data)


def script_json(data: dict[str, object]) -> Markup:
    """JSON that cannot end its <script> element early (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def web_page(name: str, kind: str = "WebPage", **extra: object) -> Markup:
    """schema.org JSON-LD for pages that are not about one resource (index, lists, VoID…)."""
    return script_json({"@context": "https://schema.org", "@type": kind, "name": name, **extra})


def dataset_jsonld(lang: str, dumps: dict, base_url: str) -> Markup:
    """The dataset as schema.org sees it: licence, SPARQL endpoint, downloads."""
    return web_page(
        "santecyber",
        "Dataset",
        description=UI[lang]["site"],
        license="https://creativecommons.org/licenses/by/4.0/",
        url=BASE + "id/",
        inLanguage=["fr", "en"],
        distribution=[
            {
                "@type": "DataDownload",
                "encodingFormat": entry["media_type"],
                "contentUrl": f"{base_url}/dumps/{entry['file']}",
                "contentSize": str(entry["size"]),
            }
            for entry in dumps.get("files", [])
        ],
    )


def alternates(path: str) -> list[dict[str, str]]:
    from santecyber.server.linked_data import EXTENSIONS

    return [
        {"type": media, "href": f"/{path}.{ext}", "ext": ext}
        for ext, media in EXTENSIONS.items()
        if ext != "html"
    ]


def common(lang: str, request: Request) -> dict[str, object]:
    """What base.html needs on every page (``here``: where the language switch leads)."""
    other = "en" if lang == "fr" else "fr"
    return {
        "lang": lang,
        "t": UI[lang],
        "other_lang": other,
        "here": request.url.path,
        "kinds": KINDS,
    }


async def render_resource(
    service: QueryService, description: Description, lang: str, request: Request
) -> str:
    """The HTML page of one resource (or named graph)."""
    ref = await reference(service)
    builder = PageBuilder(description, ref, lang)
    page = builder.build()
    if f"{SC}Source" in builder.types_of(description.iri):
        page.statements = await source_statements(service, description.iri, ref, lang)
    if description.iri.startswith(BASE + "graph/"):
        page.statements = graph_contents(description, ref, lang)
    path = description.iri[len(BASE) :]
    return environment.get_template("resource.html").render(
        **common(lang, request),
        page=page,
        jsonld=schema_org(page, description, builder.names),
        alternates=alternates(path),
        canonical=description.iri,
    )


def group_statements(
    quads: list[ox.Quad], names_from: Description, ref: Reference, lang: str
) -> list[Part]:
    """Statements grouped by subject, each subject a card (used for sources and graphs).

    All come from one graph, named once above them, so values do not repeat their source.
    """
    builder = PageBuilder(Description(names_from.iri, quads), ref, lang)
    for quad in names_from.quads:  # labels fetched with the statements
        if quad.predicate.value in LABEL_PROPERTIES and isinstance(quad.object, ox.Literal):
            builder.names.add(quad.subject.value, quad.object)
    subjects = sorted(
        {q.subject.value for q in quads},
        key=lambda s: (s.startswith(BASE + "graph/"), "#" in s, document_iri(s), _natural(s)),
    )
    cards = []
    for subject in subjects:
        types = builder.types_of(subject)
        cards.append(
            Part(
                anchor=href_of(subject, lang)[0],
                title=builder.names.name(subject),
                kind=", ".join(builder.names.name(t) for t in types),
                facts=builder.facts(subject, {RDF_TYPE} | TITLE_PROPERTIES),
            )
        )
    for card in cards:
        for fact in card.facts:
            for value in fact.values:
                value.sources = []
    return cards


def graph_contents(description: Description, ref: Reference, lang: str) -> list[Part]:
    quads = [q for q in description.quads if q.graph_name.value == description.iri]
    return group_statements(quads, description, ref, lang)


async def source_statements(
    service: QueryService, source: str, ref: Reference, lang: str
) -> list[Part]:
    """Everything the graph of ``source`` states, with the labels of what it names."""
    rows = await select(
        service,
        f"""SELECT ?s ?p ?o ?g WHERE {{
  GRAPH ?g {{ ?g <{PROV_DERIVED}> <{source}> . ?s ?p ?o }}
}}""",
    )
    quads = [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows]  # type: ignore[arg-type]
    objects = sorted({q.object.value for q in quads if isinstance(q.object, ox.NamedNode)})
    labels = Description(source, [])
    if objects:
        values = " ".join(f"<{iri}>" for iri in objects[:2000])
        label_rows = await select(
            service,
            f"""SELECT ?s ?p ?o ?g WHERE {{
  VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }}
  FILTER(?p IN ({", ".join(f"<{p}>" for p in LABEL_PROPERTIES)}))
}}""",
        )
        labels.quads = [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in label_rows]  # type: ignore[arg-type]
    return group_statements(quads, labels, ref, lang)


def render_not_found(iri: str, lang: str, request: Request) -> str:
    return environment.get_template("not_found.html").render(
        **common(lang, request), iri=iri, jsonld=web_page(UI[lang]["not_found"])
    )


@dataclass
class TimelineRow:
    iri: str
    href: str
    label: str
    date: str
    year: str
    regions: list[str]
    aggregate: bool


_rows_cache: dict[tuple[int, str, str], list[TimelineRow]] = {}


async def attack_rows(service: QueryService, lang: str) -> list[TimelineRow]:
    """One row per incident: label, best date, regions; three DISTINCT queries, cached per
    data version (the same statement in several source graphs must not multiply rows)."""
    key = (id(service), service.version, lang)
    if key in _rows_cache:
        return _rows_cache[key]
    incidents = f"VALUES ?type {{ <{SC}Attack> <{SC}IncidentAggregate> }} ?a a ?type ."
    labels = await select(
        service,
        f"""SELECT DISTINCT ?a ?type ?label WHERE {{ {incidents}
  ?a <{RDFS_LABEL}> ?label }}""",
    )
    dates = await select(
        service,
        f"""SELECT DISTINCT ?a ?p ?date WHERE {{ {incidents}
  ?a ?p ?date VALUES ?p {{ <{SCHEMA}startDate> <{SC}disclosureDate> <{SC}detectionDate> }} }}""",
    )
    regions = await select(
        service,
        f"""SELECT DISTINCT ?a ?p ?region WHERE {{ {incidents}
  ?a ?p ?place VALUES ?p {{ <{SC}target> <{SC}affectedOrganisation> }}
  ?place <{SCHEMA}address>/<{SC}region> ?region }}""",
    )
    names: dict[str, dict[str, str]] = defaultdict(dict)
    aggregates: set[str] = set()
    for row in labels:
        iri = row["a"].value  # type: ignore[union-attr]
        names[iri][getattr(row["label"], "language", "") or ""] = row["label"].value  # type: ignore[union-attr]
        if row["type"].value == f"{SC}IncidentAggregate":  # type: ignore[union-attr]
            aggregates.add(iri)
    start_dates: dict[str, set[str]] = defaultdict(set)
    other_dates: dict[str, set[str]] = defaultdict(set)
    for row in dates:
        into = start_dates if row["p"].value == f"{SCHEMA}startDate" else other_dates  # type: ignore[union-attr]
        into[row["a"].value].add(row["date"].value)  # type: ignore[union-attr]
    target_regions: dict[str, set[str]] = defaultdict(set)
    other_regions: dict[str, set[str]] = defaultdict(set)
    for row in regions:
        into = target_regions if row["p"].value == f"{SC}target" else other_regions  # type: ignore[union-attr]
        into[row["a"].value].add(row["region"].value)  # type: ignore[union-attr]
    result = []
    for iri, labelled in names.items():
        # the start date when known (its most precise claim), else disclosure or detection
        candidates = start_dates.get(iri) or other_dates.get(iri) or set()
        date = sorted(candidates, key=lambda d: (-len(d), d))[0] if candidates else ""
        mine = sorted(target_regions.get(iri, set()))
        result.append(
            TimelineRow(
                iri=iri,
                href=href_of(iri)[0],
                label=labelled.get(lang) or labelled.get("en") or next(iter(labelled.values())),
                date=date,
                year=date[:4],
                regions=mine + sorted(other_regions.get(iri, set()) - set(mine)),
                aggregate=iri in aggregates,
            )
        )
    result.sort(key=lambda r: (r.date, r.label, r.iri))  # total: pages stay stable
    if len(_rows_cache) > 16:
        _rows_cache.clear()
    _rows_cache[key] = result
    return result


def collation_key(text: str) -> str:
    """Sort key that ignores case and accents (Île-de-France among the I's).

    >>> sorted(["Île-de-France", "Bretagne", "Normandie"], key=collation_key)
    ['Bretagne', 'Île-de-France', 'Normandie']
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


PALETTE = ["#1b5e8a", "#b4462b", "#2f7d32", "#7b3f99", "#a66300", "#00727a", "#8a1c4a", "#4a5a12"]


def tick_step(most: int) -> int:
    """1, 2, 5, 10, 20, 50…: the smallest that puts at most 8 ticks on an axis up to ``most``.

    >>> [tick_step(n) for n in (3, 8, 9, 40, 1975)]
    [1, 1, 2, 5, 500]
    """
    step, factors = 1, itertools.cycle((2, 2.5, 2))
    while most / step > 8:
        step = round(step * next(factors))
    return step


def chart(rows: list[TimelineRow], lang: str) -> dict[str, object]:
    """Geometry of the inline SVG bar chart: attacks per year, stacked by region."""
    attacks = [r for r in rows if not r.aggregate and r.year]
    if not attacks:
        return {"bars": [], "years": [], "legend": [], "width": 0, "height": 0, "ticks": []}
    unknown = UI[lang]["unknown_region"]
    regions = sorted(
        {(r.regions[0] if r.regions else unknown) for r in attacks},
        key=lambda region: (region == unknown, collation_key(region)),
    )
    colours = {region: PALETTE[i % len(PALETTE)] for i, region in enumerate(regions)}
    first, last = int(min(r.year for r in attacks)), int(max(r.year for r in attacks))
    years = [str(y) for y in range(first, last + 1)]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in attacks:
        counts[(row.year, row.regions[0] if row.regions else unknown)] += 1
    most = max(sum(counts[(y, g)] for g in regions) for y in years)
    # 40 px per attack up to 8, then a fixed 320 px: the chart stays one screen high
    unit, bar, gap, left, top = min(40, 320 / most), 48, 24, 40, 16
    height = top + most * unit
    bars, labels = [], []
    for index, year in enumerate(years):
        x = left + gap + index * (bar + gap)
        y = top + most * unit
        for region in regions:
            n = counts[(year, region)]
            if n:
                y -= n * unit
                bars.append(
                    {
                        "x": x,
                        "y": y,
                        "w": bar,
                        "h": n * unit,
                        "fill": colours[region],
                        "title": f"{year} — {region}: {n}",
                    }
                )
        labels.append({"x": x + bar / 2, "y": height + 18, "text": year})
    step = tick_step(most)
    ticks = [{"y": top + most * unit - n * unit, "text": str(n)} for n in range(0, most + 1, step)]
    return {
        "bars": bars,
        "years": labels,
        "legend": [{"colour": colours[r], "region": r} for r in regions],
        "width": left + gap + len(years) * (bar + gap),
        "height": height + 28,
        "ticks": ticks,
        "left": left,
    }


def paged_page(
    request: Request,
    lang: str,
    heading: str,
    items: Sequence[Item],
    page: int,
    timeline: bool = False,
) -> tuple[str, Paging]:
    """Page ``page`` of a listing (items in their total order) rendered with its links;
    ``timeline``: the items are TimelineRows, shown as a table of dates."""
    shown, paging = paginate(items, page)
    html = environment.get_template("list.html").render(
        **common(lang, request),
        heading=heading,
        timeline=timeline,
        shown=shown,
        paging=paging,
        page_links=links(request, paging),
        jsonld=web_page(heading, "CollectionPage"),
    )
    return html, paging


def ordered_items(names: dict[str, dict[str, str]], lang: str) -> list[dict[str, str]]:
    """One link per IRI, by label ignoring case and accents, then by IRI (a total order)."""
    items = [
        {"iri": iri, "href": href_of(iri)[0], "label": best_label(labels, lang) or local_name(iri)}
        for iri, labels in names.items()
    ]
    return sorted(items, key=lambda item: (collation_key(item["label"]), item["iri"]))


def labels_by_iri(rows: list[dict[str, ox.Term]]) -> dict[str, dict[str, str]]:
    """IRI → language → label, from rows of ?s and an optional ?label."""
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        iri = row["s"].value
        names.setdefault(iri, {})
        if "label" in row:
            names[iri][getattr(row["label"], "language", "") or ""] = row["label"].value
    return names


async def render_listing(
    service: QueryService, lang: str, what: str, request: Request, page: int
) -> tuple[str, Paging]:
    """/vocab/ (the concept schemes) or /graph/ (the named graphs), one page of them."""
    if what == "vocab":
        rows = await select(
            service,
            f"""SELECT DISTINCT ?s ?label WHERE {{
  ?s a <{SKOS}ConceptScheme> OPTIONAL {{ ?s <{SKOS}prefLabel> ?label }} }}""",
        )
        heading = "Vocabulaires" if lang == "fr" else "Vocabularies"
    else:
        rows = await select(
            service,
            f"""SELECT DISTINCT ?s ?label WHERE {{
  GRAPH ?s {{ }} OPTIONAL {{ GRAPH ?s {{ ?s <{RDFS_LABEL}> ?label }} }} }}""",
        )
        heading = UI[lang]["graph"] + "s"
    names = {iri: n for iri, n in labels_by_iri(rows).items() if iri.startswith(BASE)}
    return paged_page(request, lang, heading, ordered_items(names, lang), page)


async def list_rows(service: QueryService, kind: str, lang: str) -> list[dict[str, str]]:
    classes = " ".join(f"<{SC}{name}>" for name in KINDS[kind][0])
    prefix = json.dumps(f"{BASE}id/{kind}/")
    rows = await select(
        service,
        f"""SELECT DISTINCT ?s ?label WHERE {{
  VALUES ?class {{ {classes} }} ?s a ?class .
  FILTER(STRSTARTS(STR(?s), {prefix}))
  OPTIONAL {{ ?s <{RDFS_LABEL}> ?label }}
}}""",
    )
    return ordered_items(labels_by_iri(rows), lang)


async def render_index(
    service: QueryService, lang: str, kind: str | None, request: Request, page: int
) -> tuple[str, Paging] | None:
    """/id/ (timeline, chart, kinds) or /id/{kind}/ (every resource of a kind), one page of
    the timeline or of the resources; None for an unknown kind."""
    if kind is not None:
        if kind not in KINDS:
            return None
        heading = KINDS[kind][1 + LANGUAGES.index(lang)]
        rows = await attack_rows(service, lang) if kind == "attack" else []
        if rows:  # the attacks as a timeline table
            return paged_page(request, lang, heading, rows, page, timeline=True)
        items = await list_rows(service, kind, lang)
        return paged_page(request, lang, heading, items, page)
    rows = await attack_rows(service, lang)
    attacks, paging = paginate([r for r in rows if not r.aggregate], page)
    by_year: dict[str, list[TimelineRow]] = defaultdict(list)
    for row in attacks:
        by_year[row.year or "?"].append(row)
    html = environment.get_template("index.html").render(
        **common(lang, request),
        by_year=sorted(by_year.items()),
        paging=paging,
        page_links=links(request, paging),
        aggregates=[r for r in rows if r.aggregate],
        chart=chart(rows, lang),
        jsonld=dataset_jsonld(
            lang, dump_index(service.config.build_dir), str(request.base_url).rstrip("/")
        ),
    )
    return html, paging


async def void_description(service: QueryService, build_dir: Path, base_url: str) -> Description:
    """VoID and DCAT for the dataset in service: licence, sources, graphs, endpoint, dumps."""
    ref = await reference(service)
    rows = await select(
        service, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    )
    counts = {r["g"].value: int(r["n"].value) for r in rows}  # type: ignore[union-attr]
    # the default graph is the merge of all graphs: its size counts each statement once
    total = await select(service, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    triples = int(total[0]["n"].value) if total else None  # type: ignore[union-attr]
    quads = void_quads(counts, ref, dump_index(build_dir), base_url, triples)
    return Description(BASE + "void", quads)


async def render_void(
    service: QueryService, description: Description, build_dir: Path, lang: str, request: Request
) -> str:
    ref = await reference(service)
    rows = await select(
        service, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    )
    graphs = sorted(
        (
            {
                "iri": r["g"].value,  # type: ignore[union-attr]
                "href": href_of(r["g"].value)[0],  # type: ignore[union-attr]
                "count": int(r["n"].value),  # type: ignore[union-attr]
                "source": ref.sources.get(r["g"].value),  # type: ignore[union-attr]
            }
            for r in rows
        ),
        key=lambda g: g["iri"],
    )
    return environment.get_template("void.html").render(
        **common(lang, request),
        graphs=graphs,
        dumps=dump_index(build_dir),
        jsonld=web_page(UI[lang]["void"]),
        # what void:triples says: each statement once, however many graphs state it
        total=next(
            (
                q.object.value
                for q in description.quads
                if q.subject.value == DATASET and q.predicate.value == f"{VOID}triples"
            ),
            sum(g["count"] for g in graphs),
        ),
    )


def render_dumps(index: dict, lang: str, request: Request) -> str:
    return environment.get_template("dumps.html").render(
        **common(lang, request), dumps=index, jsonld=web_page(UI[lang]["dumps"], "CollectionPage")
    )


def render_shapes(document: ShapesDocument, lang: str, request: Request) -> str:
    return environment.get_template("shapes.html").render(
        **common(lang, request),
        shapes=document,
        alternates=alternates("shapes"),
        canonical=SHAPES_IRI,
        jsonld=web_page(UI[lang]["shapes"]),
    )
