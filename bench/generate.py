"""Synthetic santecyber data for the benchmarks: N-Quads shaped like the real graph.

The output follows ``docs/model.md``: the same classes, properties, IRIs, concept schemes and
named graphs, at any size. Names of facilities, operators, vendors, publishers and threat actors
are invented (the communes are made up; départements and the 18 regions are real), so nothing
here can be mistaken for a claim about a real organisation.

What is written, and where:

- ``graph/reference/organisations``: care facilities (each with a ``#address`` hash node holding
  commune, département, département code, region and country), operators (hospital territory
  groups and private groups, with addresses), software vendors (with addresses) and their
  products, regulators (CNIL, ANSSI, DGS, ANS, CERT Santé, the ministry and the 18 regional
  health agencies), prosecutors' offices, investigating services, publishers and threat actors.
- ``graph/reference/sources``: the bibliographic record of every article (``sc:Source``,
  headline, publisher, author, typed publication date and its date qualification, URL, language,
  relays, ``schema:about`` the incident it is about, ``schema:mentions`` other incidents).
- ``graph/source/{slug}``: one graph per article (10 to 40 quads or so), describing itself as
  ``sc:SourceGraph``/``prov:Bundle`` derived from its source, and holding what that article states
  about its attack: type, labels, description, attack kinds, targets, start date (at minute, day,
  month or year precision) with its ``sc:DateQualification``, impacts, data exposure, ransom
  demand, involved vendor and software, threat actor, authority actions, investigation, related
  incidents. An attack has one to five sources; statements shared by several sources are
  repeated in each of their graphs. About 0.5 % of the articles are about an
  ``sc:IncidentAggregate`` (a yearly count) instead.

Shaped for analyst queries: targets reach a region through ``schema:address``/``sc:region``;
vendors follow a Zipf law, so a few are involved in many attacks; about 2 % of the attacks have
two sources that state two different start dates (``#date-1`` and ``#date-2``, different months at
least); every other source that states a start date repeats the first source's literal exactly.

The output is deterministic for a given ``seed`` (one ``random.Random``, no set iteration, no
clock) and is streamed: only the organisations and a small record per attack stay in memory.
No quad is written twice, so a store loading the file holds exactly the returned count.

Usage::

    python bench/generate.py OUT.nq [--quads N] [--seed S]
"""

from __future__ import annotations

import argparse
import bisect
import random
import re
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import TextIO, TypeVar

__all__ = ["generate", "main"]

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# IRIs and N-Quads terms (every term is kept in its written form: "<iri>" or a literal)
# ---------------------------------------------------------------------------------------------

BASE = "https://w3id.org/santecyber/"
SC = BASE + "ontology#"
ID = BASE + "id/"
VOCAB = BASE + "vocab/"
GRAPH = BASE + "graph/"
SCHEMA = "http://schema.org/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"

G_ORGANISATIONS = f"<{GRAPH}reference/organisations>"
G_SOURCES = f"<{GRAPH}reference/sources>"

A = f"<{RDF}type>"
LABEL = f"<{RDFS}label>"
COMMENT = f"<{RDFS}comment>"
SAME_AS = f"<{OWL}sameAs>"


def _sc(name: str) -> str:
    return f"<{SC}{name}>"


def _schema(name: str) -> str:
    return f"<{SCHEMA}{name}>"


# classes
C_ATTACK = _sc("Attack")
C_AGGREGATE = _sc("IncidentAggregate")
C_IMPACT = _sc("Impact")
C_EXPOSURE = _sc("DataExposure")
C_ACTION = _sc("AuthorityAction")
C_INVESTIGATION = _sc("Investigation")
C_DATE_QUALIFICATION = _sc("DateQualification")
C_SOURCE = _sc("Source")
C_SOURCE_GRAPH = _sc("SourceGraph")
C_BUNDLE = f"<{PROV}Bundle>"
C_FACILITY = _sc("CareFacility")
C_OPERATOR = _sc("Operator")
C_VENDOR = _sc("SoftwareVendor")
C_PRODUCT = _sc("SoftwareProduct")
C_REGULATOR = _sc("Regulator")
C_PROSECUTOR = _sc("ProsecutorOffice")
C_INVESTIGATING = _sc("InvestigatingService")
C_PUBLISHER = _sc("Publisher")
C_THREAT_ACTOR = _sc("ThreatActor")
C_ADDRESS = _schema("PostalAddress")
C_MONEY = _schema("MonetaryAmount")

# properties
P_NAME = _schema("name")
P_URL = _schema("url")
P_ADDRESS = _schema("address")
P_LOCALITY = _schema("addressLocality")
P_COUNTRY = _schema("addressCountry")
P_PARENT = _schema("parentOrganization")
P_DESCRIPTION = _schema("description")
P_START = _schema("startDate")
P_HEADLINE = _schema("headline")
P_PUBLISHER = _schema("publisher")
P_AUTHOR = _schema("author")
P_PUBLISHED = _schema("datePublished")
P_LANGUAGE = _schema("inLanguage")
P_ABOUT = _schema("about")
P_MENTIONS = _schema("mentions")
P_VALUE = _schema("value")
P_CURRENCY = _schema("currency")
P_DEPARTEMENT = _sc("departement")
P_DEPARTEMENT_CODE = _sc("departementCode")
P_REGION = _sc("region")
P_FINESS = _sc("finess")
P_FACILITY_KIND = _sc("facilityKind")
P_AUTHORITY_KIND = _sc("authorityKind")
P_OPERATED_BY = _sc("operatedBy")
P_ESTABLISHMENTS = _sc("establishmentCount")
P_ATTACK_KIND = _sc("attackKind")
P_TARGET = _sc("target")
P_AFFECTED = _sc("affectedOrganisation")
P_AFFECTED_COUNT = _sc("affectedFacilityCount")
P_CRISIS_CELL = _sc("crisisCellActivated")
P_DISCLOSURE = _sc("disclosureDate")
P_DATE_QUALIFICATION = _sc("dateQualification")
P_QUALIFIED_PROPERTY = _sc("qualifiedProperty")
P_DATE_VALUE = _sc("dateValue")
P_DATE_PRECISION = _sc("datePrecision")
P_DATE_STATUS = _sc("dateStatus")
P_IMPACT = _sc("impact")
P_SERVICE = _sc("service")
P_EFFECT = _sc("effect")
P_AT_FACILITY = _sc("atFacility")
P_PATIENTS = _sc("patientsTransferred")
P_TRANSFERRED_TO = _sc("transferredTo")
P_EXPOSURE = _sc("dataExposure")
P_EXFILTRATED = _sc("exfiltrated")
P_RECORDS = _sc("recordCount")
P_CATEGORY = _sc("dataCategory")
P_PERIOD_START = _sc("dataPeriodStart")
P_PERIOD_END = _sc("dataPeriodEnd")
P_SOURCE_COUNT = _sc("sourceCount")
P_PUBLISHED_ONLINE = _sc("publishedOnline")
P_RANSOM = _sc("ransomDemand")
P_VENDOR = _sc("involvedVendor")
P_SOFTWARE = _sc("involvedSoftware")
P_THREAT_ACTOR = _sc("threatActor")
P_RELATED = _sc("relatedIncident")
P_ACTION = _sc("authorityAction")
P_AUTHORITY = _sc("authority")
P_ACTION_KIND = _sc("actionKind")
P_INVESTIGATION = _sc("investigation")
P_OPENED_BY = _sc("openedBy")
P_INVESTIGATION_KIND = _sc("investigationKind")
P_OFFENCE = _sc("offence")
P_INVESTIGATED_BY = _sc("investigatedBy")
P_COMPLAINT_BY = _sc("complaintFiledBy")
P_CONCERNS = _sc("concerns")
P_INCIDENT_COUNT = _sc("incidentCount")
P_RELAYS = _sc("relays")
P_DERIVED_FROM = f"<{PROV}wasDerivedFrom>"

# the bare IRIs a date qualification points to with sc:qualifiedProperty
Q_PUBLISHED = P_PUBLISHED

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_INTEGER = f"^^<{XSD}integer>"
_DECIMAL = f"^^<{XSD}decimal>"
_ANY_URI = f"^^<{XSD}anyURI>"
TRUE = f'"true"^^<{XSD}boolean>'
FALSE = f'"false"^^<{XSD}boolean>'
_DATE_TYPES = {
    "minute": f"^^<{XSD}dateTime>",
    "day": f"^^<{XSD}date>",
    "month": f"^^<{XSD}gYearMonth>",
    "year": f"^^<{XSD}gYear>",
}


def fr(text: str) -> str:
    """A French literal, escaped for N-Quads.

    >>> fr('Le "plan blanc"\\n')
    '"Le \\\\"plan blanc\\\\"\\\\n"@fr'
    """
    return f'"{text.translate(_ESCAPES)}"@fr'


def en(text: str) -> str:
    """An English literal, escaped for N-Quads."""
    return f'"{text.translate(_ESCAPES)}"@en'


def plain(text: str) -> str:
    """A plain (xsd:string) literal, escaped for N-Quads."""
    return f'"{text.translate(_ESCAPES)}"'


def integer(value: int) -> str:
    return f'"{value}"{_INTEGER}'


def boolean(value: bool) -> str:
    return TRUE if value else FALSE


def any_uri(url: str) -> str:
    return f'"{url}"{_ANY_URI}'


def concept(scheme: str, name: str) -> str:
    """The term of a concept of one of the schemes of ``docs/model.md``."""
    return f"<{VOCAB}{scheme}/{name}>"


def resource(kind: str, slug: str) -> str:
    return f"<{ID}{kind}/{slug}>"


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A slug (``^[a-z0-9]+(-[a-z0-9]+)*$``) from a French name.

    >>> slugify("Centre hospitalier de Saint-Étienne-d'Aunis")
    'centre-hospitalier-de-saint-etienne-d-aunis'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


# ---------------------------------------------------------------------------------------------
# Dates at a precision
# ---------------------------------------------------------------------------------------------

PRECISIONS = ("minute", "day", "month", "year")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_lexical(day: date, precision: str, minutes: int = 0) -> str:
    """Lexical form of ``day`` at ``precision`` (``minutes`` past midnight for ``minute``).

    >>> [date_lexical(date(2022, 8, 21), p, 1287) for p in PRECISIONS]
    ['2022-08-21T21:27:00', '2022-08-21', '2022-08', '2022']
    """
    if precision == "minute":
        return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00"
    if precision == "day":
        return day.isoformat()
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}"


def date_literal(lexical: str, precision: str) -> str:
    return f'"{lexical}"{_DATE_TYPES[precision]}'


# ---------------------------------------------------------------------------------------------
# Places: the 18 regions and 101 départements (code, name, prefecture)
# ---------------------------------------------------------------------------------------------

REGIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Auvergne-Rhône-Alpes": (
        ("01", "Ain", "Bourg-en-Bresse"),
        ("03", "Allier", "Moulins"),
        ("07", "Ardèche", "Privas"),
        ("15", "Cantal", "Aurillac"),
        ("26", "Drôme", "Valence"),
        ("38", "Isère", "Grenoble"),
        ("42", "Loire", "Saint-Étienne"),
        ("43", "Haute-Loire", "Le Puy-en-Velay"),
        ("63", "Puy-de-Dôme", "Clermont-Ferrand"),
        ("69", "Rhône", "Lyon"),
        ("73", "Savoie", "Chambéry"),
        ("74", "Haute-Savoie", "Annecy"),
    ),
    "Bourgogne-Franche-Comté": (
        ("21", "Côte-d'Or", "Dijon"),
        ("25", "Doubs", "Besançon"),
        ("39", "Jura", "Lons-le-Saunier"),
        ("58", "Nièvre", "Nevers"),
        ("70", "Haute-Saône", "Vesoul"),
        ("71", "Saône-et-Loire", "Mâcon"),
        ("89", "Yonne", "Auxerre"),
        ("90", "Territoire de Belfort", "Belfort"),
    ),
    "Bretagne": (
        ("22", "Côtes-d'Armor", "Saint-Brieuc"),
        ("29", "Finistère", "Quimper"),
        ("35", "Ille-et-Vilaine", "Rennes"),
        ("56", "Morbihan", "Vannes"),
    ),
    "Centre-Val de Loire": (
        ("18", "Cher", "Bourges"),
        ("28", "Eure-et-Loir", "Chartres"),
        ("36", "Indre", "Châteauroux"),
        ("37", "Indre-et-Loire", "Tours"),
        ("41", "Loir-et-Cher", "Blois"),
        ("45", "Loiret", "Orléans"),
    ),
    "Corse": (("2A", "Corse-du-Sud", "Ajaccio"), ("2B", "Haute-Corse", "Bastia")),
    "Grand Est": (
        ("08", "Ardennes", "Charleville-Mézières"),
        ("10", "Aube", "Troyes"),
        ("51", "Marne", "Châlons-en-Champagne"),
        ("52", "Haute-Marne", "Chaumont"),
        ("54", "Meurthe-et-Moselle", "Nancy"),
        ("55", "Meuse", "Bar-le-Duc"),
        ("57", "Moselle", "Metz"),
        ("67", "Bas-Rhin", "Strasbourg"),
        ("68", "Haut-Rhin", "Colmar"),
        ("88", "Vosges", "Épinal"),
    ),
    "Hauts-de-France": (
        ("02", "Aisne", "Laon"),
        ("59", "Nord", "Lille"),
        ("60", "Oise", "Beauvais"),
        ("62", "Pas-de-Calais", "Arras"),
        ("80", "Somme", "Amiens"),
    ),
    "Île-de-France": (
        ("75", "Paris", "Paris"),
        ("77", "Seine-et-Marne", "Melun"),
        ("78", "Yvelines", "Versailles"),
        ("91", "Essonne", "Évry-Courcouronnes"),
        ("92", "Hauts-de-Seine", "Nanterre"),
        ("93", "Seine-Saint-Denis", "Bobigny"),
        ("94", "Val-de-Marne", "Créteil"),
        ("95", "Val-d'Oise", "Cergy"),
    ),
    "Normandie": (
        ("14", "Calvados", "Caen"),
        ("27", "Eure", "Évreux"),
        ("50", "Manche", "Saint-Lô"),
        ("61", "Orne", "Alençon"),
        ("76", "Seine-Maritime", "Rouen"),
    ),
    "Nouvelle-Aquitaine": (
        ("16", "Charente", "Angoulême"),
        ("17", "Charente-Maritime", "La Rochelle"),
        ("19", "Corrèze", "Tulle"),
        ("23", "Creuse", "Guéret"),
        ("24", "Dordogne", "Périgueux"),
        ("33", "Gironde", "Bordeaux"),
        ("40", "Landes", "Mont-de-Marsan"),
        ("47", "Lot-et-Garonne", "Agen"),
        ("64", "Pyrénées-Atlantiques", "Pau"),
        ("79", "Deux-Sèvres", "Niort"),
        ("86", "Vienne", "Poitiers"),
        ("87", "Haute-Vienne", "Limoges"),
    ),
    "Occitanie": (
        ("09", "Ariège", "Foix"),
        ("11", "Aude", "Carcassonne"),
        ("12", "Aveyron", "Rodez"),
        ("30", "Gard", "Nîmes"),
        ("31", "Haute-Garonne", "Toulouse"),
        ("32", "Gers", "Auch"),
        ("34", "Hérault", "Montpellier"),
        ("46", "Lot", "Cahors"),
        ("48", "Lozère", "Mende"),
        ("65", "Hautes-Pyrénées", "Tarbes"),
        ("66", "Pyrénées-Orientales", "Perpignan"),
        ("81", "Tarn", "Albi"),
        ("82", "Tarn-et-Garonne", "Montauban"),
    ),
    "Pays de la Loire": (
        ("44", "Loire-Atlantique", "Nantes"),
        ("49", "Maine-et-Loire", "Angers"),
        ("53", "Mayenne", "Laval"),
        ("72", "Sarthe", "Le Mans"),
        ("85", "Vendée", "La Roche-sur-Yon"),
    ),
    "Provence-Alpes-Côte d'Azur": (
        ("04", "Alpes-de-Haute-Provence", "Digne-les-Bains"),
        ("05", "Hautes-Alpes", "Gap"),
        ("06", "Alpes-Maritimes", "Nice"),
        ("13", "Bouches-du-Rhône", "Marseille"),
        ("83", "Var", "Toulon"),
        ("84", "Vaucluse", "Avignon"),
    ),
    "Guadeloupe": (("971", "Guadeloupe", "Basse-Terre"),),
    "Martinique": (("972", "Martinique", "Fort-de-France"),),
    "Guyane": (("973", "Guyane", "Cayenne"),),
    "La Réunion": (("974", "La Réunion", "Saint-Denis"),),
    "Mayotte": (("976", "Mayotte", "Mamoudzou"),),
}
# département codes of the regional capitals (seat of the regional health agency)
REGION_CAPITALS = {
    "Auvergne-Rhône-Alpes": "69",
    "Bourgogne-Franche-Comté": "21",
    "Bretagne": "35",
    "Centre-Val de Loire": "45",
    "Corse": "2A",
    "Grand Est": "67",
    "Hauts-de-France": "59",
    "Île-de-France": "75",
    "Normandie": "76",
    "Nouvelle-Aquitaine": "33",
    "Occitanie": "31",
    "Pays de la Loire": "44",
    "Provence-Alpes-Côte d'Azur": "13",
    "Guadeloupe": "971",
    "Martinique": "972",
    "Guyane": "973",
    "La Réunion": "974",
    "Mayotte": "976",
}
# the most populated départements get more facilities
BIG_DEPARTEMENTS = frozenset(
    {
        "13",
        "31",
        "33",
        "34",
        "35",
        "38",
        "44",
        "59",
        "62",
        "67",
        "69",
        "75",
        "76",
        "77",
        "78",
        "91",
        "92",
        "93",
        "94",
        "95",
        "06",
        "83",
    }
)


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    name: str
    prefecture: str
    region: str


DEPARTEMENTS: tuple[Departement, ...] = tuple(
    Departement(code, name, prefecture, region)
    for region, rows in REGIONS.items()
    for code, name, prefecture in rows
)
DEPARTEMENT_BY_CODE = {d.code: d for d in DEPARTEMENTS}

# ---------------------------------------------------------------------------------------------
# Invented names
# ---------------------------------------------------------------------------------------------

COMMUNE_HEADS = (
    "Saint-Aubin",
    "Saint-Cyprien",
    "Sainte-Hélène",
    "Villeneuve",
    "Beaumont",
    "Montfort",
    "Châteauneuf",
    "Bourgneuf",
    "Fontenelle",
    "La Roche",
    "Montaigu",
    "Neuville",
    "Le Plessis",
    "Bois-Robert",
    "Champagnac",
    "Lavernay",
    "Rochebelle",
    "Valmont",
    "Sainte-Croix",
    "Ormoy",
    "Les Aubiers",
    "Brévannes",
    "Pontclair",
    "Miraval",
    "Ussac",
    "Kerlann",
    "Plouvenez",
)
COMMUNE_TAILS = (
    "",
    "",
    "",
    "-sur-Mer",
    "-sur-Loire",
    "-le-Château",
    "-les-Bains",
    "-en-Vallée",
    "-la-Forêt",
    "-d'Aunis",
    "-sous-Bois",
    "-la-Rivière",
    "-sur-Seine",
    "-l'Abbaye",
    "-du-Lac",
    "-en-Forez",
)
SAINTS = (
    "Saint-Joseph",
    "Sainte-Anne",
    "Saint-Louis",
    "Saint-Vincent",
    "Sainte-Marie",
    "Saint-Martin",
    "Saint-Jean",
    "Sainte-Thérèse",
    "Saint-Luc",
    "Saint-Roch",
    "Sainte-Claire",
    "Saint-François",
)
CLINIC_PLACES = (
    "du Parc",
    "des Cèdres",
    "de l'Union",
    "des Lilas",
    "Pasteur",
    "Mutualiste",
    "des Fleurs",
    "du Val",
    "Bel-Air",
    "La Source",
    "des Tilleuls",
    "du Littoral",
)
SURNAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Le Gall",
)
FIRST_NAMES = (
    "Camille",
    "Julien",
    "Marie",
    "Thomas",
    "Léa",
    "Nicolas",
    "Sophie",
    "Pierre",
    "Chloé",
    "Antoine",
    "Manon",
    "Hugo",
    "Élise",
    "Mathieu",
    "Clémence",
    "Lucas",
    "Inès",
    "Maxime",
    "Anaïs",
    "Romain",
    "Gaëlle",
    "Loïc",
    "Zoé",
    "Noël",
)
VENDOR_HEADS = ("Medi", "Santé", "Hospi", "Bio", "Clini", "Labo", "Radio", "Pharma", "Doc", "Care")
VENDOR_TAILS = ("log", "soft", "tech", "data", "net", "sys", "ware", "link", "flow", "cloud")
VENDOR_FORMS = (" SAS", " Systèmes", " Informatique", " SA", " Solutions")
PRODUCT_KINDS = ("Patient", "Lab", "RIS", "PACS", "GAP", "Urgences", "Bloc", "Pharma", "RH")
THREAT_ACTORS = (
    "NightLynx",
    "Vortex Team",
    "BlackHeron",
    "Cobalt Mantis",
    "Sable Ring",
    "RansomHydra",
    "Grey Kestrel",
    "Locksmith Collective",
    "Noctua",
    "Silent Pike",
    "Ember Spider",
    "Frostbyte",
    "Obsidian Wren",
    "Team Kraken",
    "ZeroLune",
    "Basalt Fox",
)
NATIONAL_PUBLISHERS = (
    ("Agence Dépêches Santé", "depeches-sante.example"),
    ("Le Quotidien national", "quotidien-national.example"),
    ("Santé Numérique Hebdo", "sante-numerique.example"),
    ("Le Veilleur Cyber", "veilleur-cyber.example"),
    ("Info Continue", "info-continue.example"),
    ("La Tribune hospitalière", "tribune-hospitaliere.example"),
    ("Cyber Actu", "cyber-actu.example"),
    ("Radio Hexagone", "radio-hexagone.example"),
    ("Télé Hexagone Info", "tele-hexagone.example"),
    ("Le Journal du soir", "journal-du-soir.example"),
)
AGENCY_COUNT = 1  # the first national publishers are agencies that others relay

# ---------------------------------------------------------------------------------------------
# Concepts of docs/model.md, with weights
# ---------------------------------------------------------------------------------------------

FACILITY_KINDS = {  # kind: (schema.org class, weight)
    "hospital": ("Hospital", 40),
    "clinic": ("MedicalClinic", 22),
    "medical-laboratory": ("DiagnosticLab", 15),
    "rehabilitation-centre": ("MedicalClinic", 8),
    "health-centre": ("MedicalClinic", 10),
    "university-hospital": ("Hospital", 5),
}
ATTACK_KINDS = (
    ("ransomware", 55),
    ("data-exfiltration", 14),
    ("data-leak", 15),
    ("credential-sale", 5),
    ("unknown", 11),
)
SERVICES = (
    "information-system",
    "network",
    "intranet",
    "email",
    "website",
    "emergency",
    "samu",
    "surgery",
    "chemotherapy",
    "intensive-care",
    "neonatology",
    "remote-imaging",
    "tele-expertise",
    "teleconsultation",
    "card-payment",
    "appointments",
    "medical-activity",
    "medical-laboratory",
    "nuclear-medicine",
    "paediatrics",
)
SERVICE_WEIGHTS = (30, 12, 6, 10, 6, 12, 3, 8, 3, 2, 1, 4, 1, 2, 2, 8, 6, 4, 1, 1)
EFFECTS = (
    "closed",
    "closed-except-walk-ins",
    "suspended",
    "cancelled",
    "interrupted",
    "degraded",
    "preventive-degraded-mode",
    "possibly-rescheduled",
    "unaffected",
    "restored",
    "patients-moved-out",
)
EFFECT_WEIGHTS = (5, 3, 8, 6, 12, 30, 6, 4, 6, 6, 3)
DATA_CATEGORIES = (
    "name",
    "postal-address",
    "phone-number",
    "email-address",
    "social-security-number",
    "blood-group",
    "attending-physician",
    "health-insurer",
    "health-comments",
    "pregnancy",
    "medication",
    "pathology",
    "login-credentials",
    "patient-records",
    "unspecified",
)
OFFENCES = (
    "attempted-extortion",
    "unauthorised-access-state-system",
    "fraudulent-data-introduction",
    "system-obstruction",
    "organised-gang",
)
YEARS = tuple(range(2015, 2026))
YEAR_WEIGHTS = (1, 1, 2, 3, 4, 6, 9, 10, 10, 9, 6)

# ---------------------------------------------------------------------------------------------
# Texts (French headlines and descriptions, English descriptions and comments); some carry
# quotes, backslashes, line breaks and characters outside the BMP to exercise escaping.
# ---------------------------------------------------------------------------------------------

HEADLINES_FIRST = (
    "Cyberattaque : {name} contraint de fonctionner en mode dégradé",
    "{city} : {name} visé par une attaque informatique",
    "Rançongiciel : {name} refuse de payer la rançon",
    "« Nous sommes revenus au papier » : {name} paralysé par une cyberattaque",
    'Le "plan blanc" déclenché à {name} après une cyberattaque',
    "\N{LARGE RED CIRCLE} {name} : les urgences réorientées après une cyberattaque",
    "Piratage informatique à {name} : les données de patients en danger ?",
    "{name} victime d'une cyberattaque, la direction porte plainte",
)
HEADLINES_LATER = (
    "Un mois après la cyberattaque, {name} se relève lentement",
    "Cyberattaque de {name} : une enquête ouverte par le parquet",
    "Fuite de données : {records} dossiers de {name} publiés en ligne",
    "Après l'attaque de {name}, l'ANSSI appelle à la vigilance",
    "{name} : « l'activité reprend progressivement »",
    "Cyberattaques à l'hôpital : {name}, énième victime",
)
RESOLVED_COMMENTS = (
    'Resolved from "dans la nuit de dimanche à lundi" and the article\'s date.',
    'Resolved from "la semaine dernière" relative to the publication date.',
    'Resolved from the article\'s date: the attack was "en cours depuis mardi".',
    'Month inferred from "cet été"; the day is not given.',
)
IMPACT_COMMENTS = (
    "Staff went back to paper records.",
    "Patients were redirected to neighbouring facilities.",
    'Appointments were cancelled "until further notice".',
    "Only the most urgent procedures were kept.",
)
EXPOSURE_COMMENTS = (
    "The attackers published a sample on their leak site.",
    "Files listed under \\\\srv-dpi\\export\\ on the leak site.",
    "Data sold on a forum; the sample covers several years.",
)


# ---------------------------------------------------------------------------------------------
# Reference organisations
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Organisation:
    """What attacks need to know about an organisation once its quads are written."""

    term: str
    name: str
    kind: str
    departement: Departement | None = None
    domain: str = ""
    operator: Organisation | None = None
    facilities: list[Organisation] = field(default_factory=list)


@dataclass(slots=True)
class AttackRecord:
    """What later attacks need to relate to an earlier one."""

    term: str
    year: int
    region: str


class QuadWriter:
    """Streams quads, graph by graph, to a text file; counts them.

    Each call writes a batch of ``"s p o"`` triples into one graph; identical triples of a batch
    are written once, so no quad is ever duplicated.
    """

    def __init__(self, stream: TextIO, flush_every: int = 2048) -> None:
        self.stream = stream
        self.count = 0
        self._pending: list[str] = []
        self._flush_every = flush_every

    def write(self, graph: str, triples: Iterable[str]) -> None:
        tail = f" {graph} .\n"
        unique = dict.fromkeys(triples)
        self.count += len(unique)
        self._pending.append(tail.join(unique) + tail)
        if len(self._pending) >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        self.stream.write("".join(self._pending))
        self._pending.clear()


class Generator:
    """The state of one run: a random stream, the organisations, the attacks so far."""

    def __init__(self, writer: QuadWriter, quads: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.out = writer
        self.target_quads = quads
        scale = quads / 1_000_000
        self.n_facilities = max(60, round(4_000 * scale))
        self.n_groups = max(6, round(120 * scale))
        self.n_vendors = max(8, round(200 * scale))
        self._slugs: dict[str, int] = {}
        self._finess = 0
        self.facilities: list[Organisation] = []
        self.facility_cum: list[float] = []
        self.operators: list[Organisation] = []
        self.vendors: list[tuple[Organisation, list[str]]] = []
        self.vendor_cum: list[float] = []
        self.threat_actors: list[str] = []
        self.national_publishers: list[Organisation] = []
        self.regional_publishers: dict[str, list[Organisation]] = {}
        self.ars: dict[str, str] = {}
        self.regulators: dict[str, str] = {}
        self.prosecutors: dict[str, str] = {}
        self.j3 = ""
        self.national_services: list[str] = []
        self.regional_services: dict[str, list[str]] = {}
        self.attacks: list[AttackRecord] = []
        self.by_vendor: dict[str, list[AttackRecord]] = {}
        self.by_operator: dict[str, list[AttackRecord]] = {}
        self.by_target: dict[str, list[AttackRecord]] = {}
        self.source_count = 0
        self.conflicts = 0

    # -- helpers ------------------------------------------------------------------------------

    def unique_slug(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``… when already taken."""
        n = self._slugs.get(base, 0) + 1
        self._slugs[base] = n
        return base if n == 1 else f"{base}-{n}"

    def pick(self, items: Sequence[T], cum: Sequence[float]) -> T:
        return items[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    def commune(self) -> str:
        rng = self.rng
        return rng.choice(COMMUNE_HEADS) + rng.choice(COMMUNE_TAILS)

    def address(self, term: str, city: str, dep: Departement) -> list[str]:
        node = term[:-1] + "#address>"
        return [
            f"{term} {P_ADDRESS} {node}",
            f"{node} {A} {C_ADDRESS}",
            f"{node} {P_LOCALITY} {plain(city)}",
            f"{node} {P_DEPARTEMENT} {plain(dep.name)}",
            f"{node} {P_DEPARTEMENT_CODE} {plain(dep.code)}",
            f"{node} {P_REGION} {plain(dep.region)}",
            f'{node} {P_COUNTRY} "FR"',
        ]

    # -- the reference graph of organisations ----------------------------------------------------

    def organisations(self) -> None:
        rng = self.rng
        write = self.out.write
        g = G_ORGANISATIONS

        # regulators and authorities
        national = (
            (
                "cnil",
                "Commission nationale de l'informatique et des libertés",
                "CNIL",
                "data-protection-authority",
            ),
            (
                "anssi",
                "Agence nationale de la sécurité des systèmes d'information",
                "ANSSI",
                "cybersecurity-agency",
            ),
            ("dgs", "Direction générale de la santé", "DGS", "health-directorate"),
            ("ans", "Agence du numérique en santé", "ANS", "digital-health-agency"),
            ("ministere-sante", "Ministère de la Santé", "Ministry of Health", "ministry"),
            ("cert-sante", "CERT Santé", "CERT Santé", "digital-health-agency"),
        )
        for slug, name, label_en, kind in national:
            term = resource("regulator", slug)
            self.regulators[slug] = term
            triples = [
                f"{term} {A} {C_REGULATOR}",
                f"{term} {P_NAME} {fr(name)}",
                f"{term} {LABEL} {fr(name)}",
                f"{term} {LABEL} {en(label_en)}",
                f"{term} {P_AUTHORITY_KIND} {concept('authority-kind', kind)}",
            ]
            if slug == "cert-sante":
                triples.append(f"{term} {P_PARENT} {resource('regulator', 'ans')}")
            write(g, triples)
        for region, code in REGION_CAPITALS.items():
            dep = DEPARTEMENT_BY_CODE[code]
            name = f"Agence régionale de santé {region}"
            term = resource("regulator", "ars-" + slugify(region))
            self.ars[region] = term
            triples = [
                f"{term} {A} {C_REGULATOR}",
                f"{term} {P_NAME} {fr(name)}",
                f"{term} {LABEL} {fr('ARS ' + region)}",
                f"{term} {LABEL} {en('Regional Health Agency ' + region)}",
                f"{term} {P_AUTHORITY_KIND} {concept('authority-kind', 'regional-health-agency')}",
                f"{term} {P_PARENT} {self.regulators['ministere-sante']}",
            ]
            write(g, triples + self.address(term, dep.prefecture, dep))
        prosecutor_kind = concept("authority-kind", "prosecutor-office")
        for dep in DEPARTEMENTS:
            slug = f"parquet-{slugify(dep.prefecture)}-{dep.code.lower()}"
            term = resource("authority", slug)
            self.prosecutors[dep.code] = term
            write(
                g,
                [
                    f"{term} {A} {C_PROSECUTOR}",
                    f"{term} {P_NAME} {fr('Parquet de ' + dep.prefecture)}",
                    f"{term} {P_AUTHORITY_KIND} {prosecutor_kind}",
                ],
            )
        self.j3 = resource("authority", "parquet-paris-j3")
        write(
            g,
            [
                f"{self.j3} {A} {C_PROSECUTOR}",
                f"{self.j3} {P_NAME} {fr('Section J3 (cybercriminalité) du parquet de Paris')}",
                f"{self.j3} {P_AUTHORITY_KIND} {prosecutor_kind}",
                f"{self.j3} {P_PARENT} {self.prosecutors['75']}",
            ],
        )
        police = concept("authority-kind", "police-service")
        gendarmerie = concept("authority-kind", "gendarmerie-service")
        for slug, name, kind in (
            ("c3n", "Centre de lutte contre les criminalités numériques (C3N)", gendarmerie),
            ("ofac", "Office anti-cybercriminalité (OFAC)", police),
            ("bl2c", "Brigade de lutte contre la cybercriminalité (BL2C)", police),
        ):
            term = resource("authority", slug)
            self.national_services.append(term)
            write(
                g,
                [
                    f"{term} {A} {C_INVESTIGATING}",
                    f"{term} {P_NAME} {fr(name)}",
                    f"{term} {P_AUTHORITY_KIND} {kind}",
                ],
            )
        for region, code in REGION_CAPITALS.items():
            city = DEPARTEMENT_BY_CODE[code].prefecture
            services = []
            for prefix, name, kind in (
                ("sr", f"Section de recherches de {city}", gendarmerie),
                ("dipj", f"Direction interrégionale de police judiciaire de {city}", police),
            ):
                term = resource("authority", f"{prefix}-{slugify(city)}")
                services.append(term)
                write(
                    g,
                    [
                        f"{term} {A} {C_INVESTIGATING}",
                        f"{term} {P_NAME} {fr(name)}",
                        f"{term} {P_AUTHORITY_KIND} {kind}",
                    ],
                )
            self.regional_services[region] = services

        # publishers: national ones, then two per region
        for name, domain in NATIONAL_PUBLISHERS:
            self.national_publishers.append(self.publisher(name, domain))
        for region in REGIONS:
            slug = slugify(region)
            self.regional_publishers[region] = [
                self.publisher(f"La Gazette – {region}", f"gazette-{slug}.example"),
                self.publisher(f"L'Écho {region}", f"echo-{slug}.example"),
            ]

        # threat actors
        for name in THREAT_ACTORS:
            term = resource("threat-actor", slugify(name))
            self.threat_actors.append(term)
            write(g, [f"{term} {A} {C_THREAT_ACTOR}", f"{term} {P_NAME} {plain(name)}"])

        # operators: one territory group per département, then private groups
        ght: dict[str, Organisation] = {}
        for dep in DEPARTEMENTS:
            name = f"Groupement hospitalier de territoire {dep.name}"
            term = resource("organisation", self.unique_slug("ght-" + slugify(dep.name)))
            op = Organisation(term, name, "ght", dep)
            ght[dep.code] = op
            self.operators.append(op)
        groups: list[Organisation] = []
        labs: list[Organisation] = []
        for i in range(self.n_groups):
            dep = rng.choice(DEPARTEMENTS)
            surname = SURNAMES[i % len(SURNAMES)]
            home = DEPARTEMENTS[i % len(DEPARTEMENTS)]
            if i % 3 == 2:
                name = f"Réseau de laboratoires {surname} {home.name}"
                target_list = labs
            else:
                name = f"Groupe Santé {surname} {home.prefecture}"
                target_list = groups
            term = resource("organisation", self.unique_slug(slugify(name)))
            op = Organisation(term, name, "group", dep)
            target_list.append(op)
            self.operators.append(op)

        # facilities
        deps_cum = list(
            accumulate(3.0 if d.code in BIG_DEPARTEMENTS else 1.0 for d in DEPARTEMENTS)
        )
        kinds = list(FACILITY_KINDS)
        kinds_cum = list(accumulate(float(w) for _, w in FACILITY_KINDS.values()))
        facility_weights = {
            "hospital": 3.0,
            "university-hospital": 4.0,
            "clinic": 1.5,
            "medical-laboratory": 1.0,
            "rehabilitation-centre": 0.5,
            "health-centre": 0.5,
        }
        facility_cum = 0.0
        for _ in range(self.n_facilities):
            dep = self.pick(DEPARTEMENTS, deps_cum)
            kind = self.pick(kinds, kinds_cum)
            city = self.commune()
            name = self.facility_name(kind, city)
            slug = self.unique_slug(slugify(name))
            term = resource("facility", slug)
            operator: Organisation | None = None
            roll = rng.random()
            if kind in ("hospital", "university-hospital"):
                operator = ght[dep.code] if roll < 0.75 else None
            elif kind == "medical-laboratory":
                operator = rng.choice(labs) if roll < 0.7 and labs else None
            elif roll < 0.55 and groups:
                operator = rng.choice(groups)
            facility = Organisation(term, name, kind, dep, operator)
            if operator is not None:
                operator.facilities.append(facility)
            self.facilities.append(facility)
            facility_cum += facility_weights[kind]
            self.facility_cum.append(facility_cum)
            self._finess += 1
            finess = f"{dep.code[:2].replace('A', '0').replace('B', '0')}{self._finess:07d}"
            triples = [
                f"{term} {A} {C_FACILITY}",
                f"{term} {A} {_schema(FACILITY_KINDS[kind][0])}",
                f"{term} {P_NAME} {fr(name)}",
                f"{term} {LABEL} {fr(name)}",
                f"{term} {P_FACILITY_KIND} {concept('facility-kind', kind)}",
                f"{term} {P_FINESS} {plain(finess)}",
            ]
            if operator is not None:
                triples.append(f"{term} {P_OPERATED_BY} {operator.term}")
            if roll < 0.3:
                qid = rng.randrange(1_000_000, 130_000_000)
                triples.append(f"{term} {SAME_AS} <http://www.wikidata.org/entity/Q{qid}>")
            if roll > 0.6:
                triples.append(f"{term} {P_URL} {any_uri('https://www.' + slug + '.example/')}")
            write(g, triples + self.address(term, city, dep))

        for op in self.operators:
            assert op.departement is not None
            triples = [
                f"{op.term} {A} {C_OPERATOR}",
                f"{op.term} {P_NAME} {fr(op.name)}",
                f"{op.term} {LABEL} {fr(op.name)}",
            ]
            if op.facilities and rng.random() < 0.5:
                held = len(op.facilities) + rng.randrange(4)
                triples.append(f"{op.term} {P_ESTABLISHMENTS} {integer(held)}")
            write(g, triples + self.address(op.term, op.departement.prefecture, op.departement))

        # vendors (Zipf weights: a few are involved in many attacks) and their products
        combos = [h + t for h in VENDOR_HEADS for t in VENDOR_TAILS]
        rng.shuffle(combos)
        vendor_cum = 0.0
        for i in range(self.n_vendors):
            base = combos[i % len(combos)]
            form = VENDOR_FORMS[(i // len(combos)) % len(VENDOR_FORMS)]
            rounds = i // (len(combos) * len(VENDOR_FORMS))
            name = base + form + (f" {rounds + 1}" if rounds else "")
            term = resource("vendor", self.unique_slug(slugify(name)))
            dep = self.pick(DEPARTEMENTS, deps_cum)
            vendor = Organisation(term, name, "vendor", dep)
            triples = [
                f"{term} {A} {C_VENDOR}",
                f"{term} {P_NAME} {fr(name)}",
                f"{term} {LABEL} {fr(name)}",
            ]
            products = []
            for kind in rng.sample(PRODUCT_KINDS, rng.randint(1, 3)):
                pname = f"{base} {kind}"
                pterm = resource("product", self.unique_slug(slugify(pname)))
                products.append(pterm)
                triples += [f"{pterm} {A} {C_PRODUCT}", f"{pterm} {P_NAME} {fr(pname)}"]
            self.vendors.append((vendor, products))
            vendor_cum += 1.0 / (i + 1) ** 1.1
            self.vendor_cum.append(vendor_cum)
            write(g, triples + self.address(term, self.commune(), dep))

    def publisher(self, name: str, domain: str) -> Organisation:
        term = resource("publisher", self.unique_slug(slugify(name)))
        org = Organisation(term, name, "publisher", domain=domain)
        self.out.write(
            G_ORGANISATIONS,
            [
                f"{term} {A} {C_PUBLISHER}",
                f"{term} {P_NAME} {fr(name)}",
                f"{term} {P_URL} {any_uri('https://www.' + domain + '/')}",
            ],
        )
        return org

    def facility_name(self, kind: str, city: str) -> str:
        rng = self.rng
        if kind == "university-hospital":
            return f"Centre hospitalier universitaire de {city}"
        if kind == "hospital":
            return rng.choice(
                (
                    f"Centre hospitalier de {city}",
                    f"Centre hospitalier intercommunal de {city}",
                    f"Hôpital {rng.choice(SAINTS)} de {city}",
                )
            )
        if kind == "clinic":
            return rng.choice(
                (
                    f"Clinique {rng.choice(CLINIC_PLACES)} de {city}",
                    f"Polyclinique de {city}",
                    f"Clinique {rng.choice(SAINTS)} de {city}",
                )
            )
        if kind == "medical-laboratory":
            return f"Laboratoire d'analyses médicales {rng.choice(SURNAMES)} de {city}"
        if kind == "rehabilitation-centre":
            return f"Centre de rééducation fonctionnelle de {city}"
        return rng.choice(
            (
                f"Centre de santé {rng.choice(SAINTS)} de {city}",
                f"Maison de santé pluriprofessionnelle de {city}",
            )
        )

    # -- attacks and their sources --------------------------------------------------------------

    def run(self) -> None:
        self.organisations()
        while self.out.count < self.target_quads or not self.attacks:
            if self.rng.random() < 0.005 and self.attacks:
                self.aggregate()
            else:
                self.attack()
        self.out.flush()

    def new_source(
        self, region: str | None, published: date, precision: str, minutes: int
    ) -> tuple[str, str, Organisation, str]:
        """Slug, term, publisher and publication literal of a new source."""
        rng = self.rng
        if region is not None and rng.random() < 0.55:
            publisher = rng.choice(self.regional_publishers[region])
        else:
            publisher = rng.choice(self.national_publishers)
        self.source_count += 1
        slug = f"{slugify(publisher.name)}-{published.isoformat()}-{self.source_count:x}"
        return (
            slug,
            resource("source", slug),
            publisher,
            date_literal(date_lexical(published, precision, minutes), precision),
        )

    def source_record(
        self,
        slug: str,
        term: str,
        publisher: Organisation,
        headline: str,
        published: str,
        precision: str,
        about: str,
        mentions: Sequence[str],
    ) -> None:
        """The bibliographic record of a source, in ``graph/reference/sources``."""
        rng = self.rng
        q = term[:-1] + "#date-1>"
        triples = [
            f"{term} {A} {C_SOURCE}",
            f"{term} {P_HEADLINE} {fr(headline)}",
            f"{term} {P_PUBLISHER} {publisher.term}",
            f"{term} {P_PUBLISHED} {published}",
            f"{term} {P_DATE_QUALIFICATION} {q}",
            f"{q} {A} {C_DATE_QUALIFICATION}",
            f"{q} {P_QUALIFIED_PROPERTY} {Q_PUBLISHED}",
            f"{q} {P_DATE_VALUE} {published}",
            f"{q} {P_DATE_PRECISION} {concept('date-precision', precision)}",
            f"{q} {P_DATE_STATUS} {concept('date-status', 'stated')}",
            f'{term} {P_LANGUAGE} "fr"',
            f"{term} {P_ABOUT} {about}",
        ]
        if rng.random() < 0.6:
            author = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            triples.append(f"{term} {P_AUTHOR} {plain(author)}")
        if rng.random() < 0.85:
            url = f"https://www.{publisher.domain}/actualites/{slug}.html"
            triples.append(f"{term} {P_URL} {any_uri(url)}")
        if rng.random() < 0.12:
            agency = self.national_publishers[rng.randrange(AGENCY_COUNT)]
            if agency is not publisher:
                triples.append(f"{term} {P_RELAYS} {agency.term}")
        for other in mentions:
            triples.append(f"{term} {P_MENTIONS} {other}")
        self.out.write(G_SOURCES, triples)

    def source_graph(self, slug: str, source: str, triples: list[str]) -> None:
        graph = f"<{GRAPH}source/{slug}>"
        triples += [
            f"{graph} {A} {C_SOURCE_GRAPH}",
            f"{graph} {A} {C_BUNDLE}",
            f"{graph} {P_DERIVED_FROM} {source}",
        ]
        self.out.write(graph, triples)

    def date_claim(
        self, attack: str, n: int, prop: str, literal: str, precision: str, resolved: bool
    ) -> list[str]:
        """A date statement and its ``#date-{n}`` qualification."""
        return self.dated(attack, f"{attack[:-1]}#date-{n}>", prop, literal, precision, resolved)

    def dated(
        self, node: str, q: str, prop: str, literal: str, precision: str, resolved: bool
    ) -> list[str]:
        """A date statement of ``node`` and its qualification ``q``, as the records loader
        writes them (for an attack, an authority's action, an investigation)."""
        triples = [
            f"{node} {prop} {literal}",
            f"{node} {P_DATE_QUALIFICATION} {q}",
            f"{q} {A} {C_DATE_QUALIFICATION}",
            f"{q} {P_QUALIFIED_PROPERTY} {prop}",
            f"{q} {P_DATE_VALUE} {literal}",
            f"{q} {P_DATE_PRECISION} {concept('date-precision', precision)}",
            f"{q} {P_DATE_STATUS} {concept('date-status', 'resolved' if resolved else 'stated')}",
        ]
        if resolved:
            triples.append(f"{q} {COMMENT} {en(self.rng.choice(RESOLVED_COMMENTS))}")
        return triples

    def related(
        self, region: str, vendor: str | None, operator: str | None, target: str
    ) -> str | None:
        """An earlier attack this one may relate to: same target, operator, vendor or region."""
        rng = self.rng
        for pool in (
            self.by_target.get(target),
            self.by_operator.get(operator or ""),
            self.by_vendor.get(vendor or ""),
        ):
            if pool:
                return rng.choice(pool[-50:]).term
        recent = self.attacks[-300:]
        candidates = [a for a in recent if a.region == region]
        if candidates:
            return rng.choice(candidates).term
        return None

    def attack(self) -> None:
        rng = self.rng
        random_ = rng.random

        # when, what, whom
        year = YEARS[bisect.bisect_right(_YEAR_CUM, random_() * _YEAR_CUM[-1])]
        start = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        if start > _LAST_DAY:
            start = _LAST_DAY - timedelta(days=rng.randrange(120))
        minutes = rng.randrange(1440)
        precision = rng.choices(PRECISIONS, (15, 55, 22, 8))[0]
        kind = ATTACK_KINDS[bisect.bisect_right(_KIND_CUM, random_() * _KIND_CUM[-1])][0]
        kinds = [kind]
        if kind == "ransomware" and random_() < 0.25:
            kinds.append("data-exfiltration")

        vendor: Organisation | None = None
        products: list[str] = []
        if random_() < 0.18:
            vendor, products = self.pick(self.vendors, self.vendor_cum)
        roll = random_()
        affected: list[Organisation] = []
        if roll < 0.03 and vendor is not None:
            targets = [vendor]
            affected = rng.sample(self.facilities, min(len(self.facilities), rng.randint(2, 6)))
            if kind == "ransomware":
                kinds = ["data-exfiltration"]
        elif roll < 0.10:
            op = rng.choice(self.operators)
            targets = [op]
            affected = op.facilities[:6]
        else:
            targets = [self.pick(self.facilities, self.facility_cum)]
            if roll > 0.97 and targets[0].operator is not None:
                siblings = [f for f in targets[0].operator.facilities if f is not targets[0]]
                if siblings:
                    targets.append(rng.choice(siblings))
        main = targets[0]
        assert main.departement is not None
        dep = main.departement
        region = dep.region

        slug = self.unique_slug(f"{slugify(main.name)[:60].rstrip('-')}-{year}")
        attack = resource("attack", slug)
        name = main.name
        month_fr = MONTHS_FR[start.month - 1]
        month_en = MONTHS_EN[start.month - 1]
        label_fr = fr(f"Cyberattaque contre {name} ({month_fr} {year})")
        label_en = en(f"Cyberattack on {name} ({month_en} {year})")

        # sources: one to five; ~2 % of the attacks get two conflicting start dates
        n_sources = rng.choices((1, 2, 3, 4, 5), (45, 30, 14, 7, 4))[0]
        conflict = random_() < 0.02
        if conflict:
            n_sources = max(2, n_sources)
            self.conflicts += 1
        graphs: list[list[str]] = [[] for _ in range(n_sources)]
        common = [
            f"{attack} {A} {C_ATTACK}",
            f"{attack} {LABEL} {label_fr}",
            f"{attack} {LABEL} {label_en}",
        ]
        common += [f"{attack} {P_ATTACK_KIND} {concept('attack-kind', k)}" for k in kinds]
        common += [f"{attack} {P_TARGET} {t.term}" for t in targets]
        for triples in graphs:
            triples += common

        first = graphs[0]
        description = (
            f"{name}, à {self.city_of(main)} ({dep.name}), a subi une attaque "
            f"informatique en {month_fr} {year}."
        )
        if random_() < 0.1:
            description += "\nLa direction a déclenché une cellule de crise « par précaution »."
        first.append(f"{attack} {P_DESCRIPTION} {fr(description)}")
        first.append(
            f"{attack} {P_DESCRIPTION} "
            f"{en(f'{name} ({dep.name}) was hit by a cyberattack in {month_en} {year}.')}"
        )

        # start date: stated by the first source, repeated or left out by the others
        start_literal = date_literal(date_lexical(start, precision, minutes), precision)
        resolved = random_() < 0.3
        first += self.date_claim(attack, 1, P_START, start_literal, precision, resolved)
        later = range(2 if conflict else 1, n_sources)
        for i in later:
            if random_() < 0.6:
                graphs[i] += self.date_claim(attack, 1, P_START, start_literal, precision, False)
        date_n = 1
        if conflict:
            date_n += 1
            shift = timedelta(days=rng.randrange(35, 150))
            other = start + shift if start + shift <= _LAST_DAY else start - shift
            other_precision = rng.choice(("day", "month"))
            other_literal = date_literal(date_lexical(other, other_precision), other_precision)
            graphs[1] += self.date_claim(
                attack, date_n, P_START, other_literal, other_precision, True
            )
        if random_() < 0.15:
            date_n += 1
            disclosed = start + timedelta(days=rng.randrange(1, 60))
            where = graphs[rng.randrange(n_sources)]
            where += self.date_claim(
                attack,
                date_n,
                P_DISCLOSURE,
                date_literal(disclosed.isoformat(), "day"),
                "day",
                False,
            )

        def somewhere() -> list[list[str]]:
            """One source, sometimes two, that state a part."""
            chosen = [graphs[rng.randrange(n_sources)]]
            if n_sources > 1 and random_() < 0.25:
                second = graphs[rng.randrange(n_sources)]
                if second is not chosen[0]:
                    chosen.append(second)
            return chosen

        # impacts
        n_impacts = rng.choices((0, 1, 2, 3, 4), (15, 35, 28, 15, 7))[0]
        if kind in ("data-leak", "credential-sale"):
            n_impacts = min(n_impacts, 1)
        services = rng.choices(SERVICES, SERVICE_WEIGHTS, k=n_impacts)
        for n, service in enumerate(dict.fromkeys(services), start=1):
            node = f"{attack[:-1]}#impact-{n}>"
            effect = rng.choices(EFFECTS, EFFECT_WEIGHTS)[0]
            part = [
                f"{attack} {P_IMPACT} {node}",
                f"{node} {A} {C_IMPACT}",
                f"{node} {P_SERVICE} {concept('service', service)}",
                f"{node} {P_EFFECT} {concept('effect', effect)}",
            ]
            if main.facilities and random_() < 0.6:
                part.append(f"{node} {P_AT_FACILITY} {rng.choice(main.facilities).term}")
            if service in ("emergency", "samu", "surgery", "intensive-care") and random_() < 0.5:
                part.append(f"{node} {P_PATIENTS} {integer(rng.randint(1, 120))}")
                part.append(
                    f"{node} {P_TRANSFERRED_TO} "
                    f"{self.pick(self.facilities, self.facility_cum).term}"
                )
            if random_() < 0.3:
                part.append(f"{node} {COMMENT} {en(rng.choice(IMPACT_COMMENTS))}")
            for triples in somewhere():
                triples += part

        # data exposure
        if (
            "data-exfiltration" in kinds
            or kind in ("data-leak", "credential-sale")
            or (random_() < 0.1)
        ):
            node = f"{attack[:-1]}#exposure>"
            part = [
                f"{attack} {P_EXPOSURE} {node}",
                f"{node} {A} {C_EXPOSURE}",
                f"{node} {P_EXFILTRATED} {boolean(kind != 'data-leak' or random_() < 0.3)}",
                f"{node} {P_PUBLISHED_ONLINE} {boolean(random_() < 0.45)}",
            ]
            if random_() < 0.75:
                part.append(f"{node} {P_RECORDS} {integer(int(10 ** rng.uniform(2, 6.7)))}")
            categories = (
                ["login-credentials"]
                if kind == "credential-sale"
                else rng.sample(DATA_CATEGORIES, rng.randint(1, 6))
            )
            part += [f"{node} {P_CATEGORY} {concept('data-category', c)}" for c in categories]
            if random_() < 0.2:
                first_year = year - rng.randint(1, 8)
                part.append(f"{node} {P_PERIOD_START} {date_literal(str(first_year), 'year')}")
                part.append(f"{node} {P_PERIOD_END} {date_literal(str(year), 'year')}")
            if main.kind == "vendor" or random_() < 0.03:
                part.append(f"{node} {P_SOURCE_COUNT} {integer(rng.randint(2, 40))}")
            if random_() < 0.25:
                part.append(f"{node} {COMMENT} {en(rng.choice(EXPOSURE_COMMENTS))}")
            for triples in somewhere():
                triples += part

        # ransom demand
        if kind == "ransomware" and random_() < 0.3:
            node = f"{attack[:-1]}#ransom>"
            amount = round(10 ** rng.uniform(4, 7.2), -3)
            part = [
                f"{attack} {P_RANSOM} {node}",
                f"{node} {A} {C_MONEY}",
                f'{node} {P_VALUE} "{int(amount)}"{_DECIMAL}',
                f'{node} {P_CURRENCY} "{"USD" if random_() < 0.7 else "EUR"}"',
            ]
            for triples in somewhere():
                triples += part
        if kind == "ransomware" and random_() < 0.35:
            actor = self.threat_actors[min(int(rng.expovariate(0.35)), len(self.threat_actors) - 1)]
            for triples in somewhere():
                triples.append(f"{attack} {P_THREAT_ACTOR} {actor}")

        # vendor and software
        if vendor is not None:
            part = [f"{attack} {P_VENDOR} {vendor.term}"]
            if products and random_() < 0.5:
                part.append(f"{attack} {P_SOFTWARE} {rng.choice(products)}")
            for triples in somewhere():
                triples += part

        # affected organisations, crisis cell
        if affected:
            part = [f"{attack} {P_AFFECTED} {f.term}" for f in affected]
            part.append(f"{attack} {P_AFFECTED_COUNT} {integer(len(affected) + len(targets))}")
            first += part
        if random_() < 0.2:
            first.append(f"{attack} {P_CRISIS_CELL} {TRUE}")

        # authority actions
        n_actions = rng.choices((0, 1, 2, 3), (45, 30, 18, 7))[0]
        for n in range(1, n_actions + 1):
            node = f"{attack[:-1]}#action-{n}>"
            who = random_()
            if who < 0.35:
                authority, action = (
                    self.ars[region],
                    rng.choice(("notified", "mobilised", "made-statement")),
                )
            elif who < 0.55:
                authority, action = self.regulators["cnil"], rng.choice(("notified", "reported"))
            elif who < 0.8:
                authority, action = (
                    self.regulators["anssi"],
                    rng.choice(("mobilised", "investigated-on-site")),
                )
            elif who < 0.92:
                authority, action = self.prosecutors[dep.code], "opened-investigation"
            else:
                authority, action = (
                    self.regulators["ministere-sante"],
                    rng.choice(("made-statement", "no-comment")),
                )
            part = [
                f"{attack} {P_ACTION} {node}",
                f"{node} {A} {C_ACTION}",
                f"{node} {P_AUTHORITY} {authority}",
                f"{node} {P_ACTION_KIND} {concept('authority-action', action)}",
            ]
            if random_() < 0.4:
                when = start + timedelta(days=rng.randrange(0, 10))
                day = date_literal(when.isoformat(), "day")
                part += self.dated(node, f"{node[:-1]}-date>", P_START, day, "day", False)
            for triples in somewhere():
                triples += part

        # investigation
        if random_() < 0.15:
            investigation = resource("investigation", slug)
            inquiry = rng.choice(("preliminary-inquiry", "unspecified"))
            opened_by = self.j3 if random_() < 0.6 else self.prosecutors[dep.code]
            part = [
                f"{attack} {P_INVESTIGATION} {investigation}",
                f"{investigation} {A} {C_INVESTIGATION}",
                f"{investigation} {P_OPENED_BY} {opened_by}",
                f"{investigation} {P_CONCERNS} {attack}",
                f"{investigation} {P_INVESTIGATION_KIND} {concept('investigation-kind', inquiry)}",
                f"{investigation} {P_COMPLAINT_BY} {main.term}",
            ]
            part += [
                f"{investigation} {P_OFFENCE} {concept('offence', o)}"
                for o in rng.sample(OFFENCES, rng.randint(1, 3))
            ]
            service = (
                rng.choice(self.national_services)
                if random_() < 0.6
                else rng.choice(self.regional_services[region])
            )
            part.append(f"{investigation} {P_INVESTIGATED_BY} {service}")
            if random_() < 0.5:
                when = start + timedelta(days=rng.randrange(1, 20))
                day = date_literal(when.isoformat(), "day")
                q = f"{investigation[:-1]}#date>"
                part += self.dated(investigation, q, P_START, day, "day", False)
            for triples in somewhere():
                triples += part

        # related incidents (stated by a source that also mentions the other attack)
        mentions: list[list[str]] = [[] for _ in range(n_sources)]
        if self.attacks and random_() < 0.2:
            other = self.related(
                region,
                vendor.term if vendor else None,
                main.operator.term if main.operator else None,
                main.term,
            )
            if other is not None:
                i = rng.randrange(n_sources)
                graphs[i].append(f"{attack} {P_RELATED} {other}")
                mentions[i].append(other)

        # write the sources: bibliographic records, then their graphs
        record_region = None if main.kind == "vendor" else region
        published = start
        for i in range(n_sources):
            if i == 0:
                published = start + timedelta(days=rng.randrange(0, 6))
            else:
                published = min(published + timedelta(days=rng.randrange(0, 60)), _LAST_SOURCE)
            pub_precision = "minute" if random_() < 0.2 else "day"
            s_slug, s_term, publisher, s_date = self.new_source(
                record_region, published, pub_precision, rng.randrange(360, 1380)
            )
            template = rng.choice(HEADLINES_FIRST if i == 0 else HEADLINES_LATER)
            records = f"{rng.randrange(1, 900) * 1000:,}".replace(",", "\N{NO-BREAK SPACE}")
            headline = template.format(name=name, city=self.city_of(main), records=records)
            self.source_record(
                s_slug, s_term, publisher, headline, s_date, pub_precision, attack, mentions[i]
            )
            self.source_graph(s_slug, s_term, graphs[i])

        record = AttackRecord(attack, year, region)
        self.attacks.append(record)
        self.by_target.setdefault(main.term, []).append(record)
        if main.operator is not None:
            self.by_operator.setdefault(main.operator.term, []).append(record)
        if vendor is not None:
            self.by_vendor.setdefault(vendor.term, []).append(record)

    def aggregate(self) -> None:
        """An article reporting a yearly count of attacks (``sc:IncidentAggregate``)."""
        rng = self.rng
        year = rng.choice(YEARS[:-1])
        slug = self.unique_slug(f"attaques-etablissements-de-sante-{year}")
        term = resource("attack", slug)
        count = rng.randint(10, 600)
        published = date(year + 1, rng.randint(1, 12), rng.randint(1, 28))
        s_slug, s_term, publisher, s_date = self.new_source(None, published, "day", 0)
        pool = [a for a in self.attacks[-400:] if a.year == year]
        mentions = [a.term for a in rng.sample(pool, min(len(pool), 3))]
        triples = [
            f"{term} {A} {C_AGGREGATE}",
            f"{term} {LABEL} {fr(f'Attaques contre les établissements de santé en {year}')}",
            f"{term} {LABEL} {en(f'Attacks on care facilities in {year}')}",
            f"{term} {P_INCIDENT_COUNT} {integer(count)}",
            f"{term} {P_DESCRIPTION} "
            f"{fr(f'{count} attaques signalées contre des établissements de santé en {year}.')}",
            f"{term} {P_ATTACK_KIND} {concept('attack-kind', 'unknown')}",
        ]
        triples += self.date_claim(term, 1, P_START, date_literal(str(year), "year"), "year", False)
        triples += [f"{term} {P_RELATED} {m}" for m in mentions]
        self.source_record(
            s_slug,
            s_term,
            publisher,
            f"{count} cyberattaques contre des hôpitaux en {year}",
            s_date,
            "day",
            term,
            mentions,
        )
        self.source_graph(s_slug, s_term, triples)

    @staticmethod
    def city_of(org: Organisation) -> str:
        """The commune in a facility's name (``… de {city}``), else its prefecture."""
        if org.kind in FACILITY_KINDS and " de " in org.name:
            return org.name.rsplit(" de ", 1)[1]
        return org.departement.prefecture if org.departement else "Paris"


_YEAR_CUM = list(accumulate(float(w) for w in YEAR_WEIGHTS))
_KIND_CUM = list(accumulate(float(w) for _, w in ATTACK_KINDS))
_LAST_DAY = date(2025, 10, 31)  # last start date of an attack
_LAST_SOURCE = date(2025, 11, 20)  # last publication date of a source


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def generate(path: Path, quads: int = 1_000_000, seed: int = 7) -> int:
    """Write about ``quads`` quads of synthetic santecyber data to ``path`` as N-Quads.

    The reference graph of organisations is written in full first (about 6 % of the quads, and
    never under about 3,000 quads, however small ``quads``); then attacks and their sources
    until ``quads`` is reached, so the result is at most a few dozen quads over. Returns the
    exact number written (all distinct quads). The same ``quads`` and ``seed`` always give the
    same bytes.
    """
    if quads < 1:
        raise ValueError("quads must be positive")
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream:
        writer = QuadWriter(stream)
        Generator(writer, quads, seed).run()
    return writer.count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write synthetic santecyber N-Quads for the benchmarks."
    )
    parser.add_argument("out", type=Path, help="the N-Quads file to write")
    parser.add_argument(
        "--quads",
        type=int,
        default=1_000_000,
        help="about how many quads to write (default: 1000000)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    count = generate(args.out, args.quads, args.seed)
    elapsed = time.perf_counter() - started
    print(f"{count} quads written to {args.out} in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
