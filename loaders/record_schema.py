"""The shape of curated records (docs/records.md), as pydantic models.

Models only check each value's type and form; references between records (slugs, concepts)
are checked by ``santecyber.loaders.records`` once every file is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import pyoxigraph as ox
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
#: C0 controls but tab and newline, DEL, C1 controls, bidi embeddings, overrides and isolates
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _no_control_characters(text: str) -> str:
    """Refuse characters that YAML escapes (``"\\e[31m"``, ``"\\u202e"``) let into a record:
    published as they are, they would act on a terminal or reorder what a page shows."""
    if found := CONTROL_CHARACTERS.search(text):
        raise PydanticCustomError(
            "control_character",
            "the control character U+{code} is not allowed (a tab and a new line are)",
            {"code": f"{ord(found[0]):04X}"},
        )
    return text


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    AfterValidator(_no_control_characters),
]


def _an_iri(text: str) -> str:
    """Refuse what RDF cannot hold as an IRI (``<``, ``{``, an unclosed ``[::1``…), which
    would have stopped the build with a traceback."""
    try:
        ox.NamedNode(text)
    except ValueError as error:
        reason = {"reason": str(error)}
        raise PydanticCustomError("iri", "not a valid IRI: {reason}", reason) from None
    return text


Url = Annotated[
    str,
    StringConstraints(pattern=r"^https?://\S+$"),
    AfterValidator(_no_control_characters),
    AfterValidator(_an_iri),
]
#: strict: a quoted "123" or a 12.0 is a typo to report, not a number to guess
Count = Annotated[int, Field(ge=0, strict=True)]
Flag = Annotated[bool, Field(strict=True)]  # "yes", "off" or 1 are not booleans here

_DATE_FORMS: list[tuple[str, str, str]] = [
    # (precision, regex, strptime format used to prove the date exists)
    # [0-9], not \d: Python's and pydantic's \d take any script's digits ("２０２３")
    ("minute", r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?", ""),
    ("day", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "%Y-%m-%d"),
    ("month", r"[0-9]{4}-[0-9]{2}", "%Y-%m"),
    ("year", r"[0-9]{4}", "%Y"),
]


@dataclass(frozen=True)
class PartialDate:
    """A date at the precision a source gives: minute, day, month or year.

    >>> PartialDate.parse("2023-06")
    PartialDate(value='2023-06', precision='month')
    >>> PartialDate.parse("2021-02-23 21:27").value
    '2021-02-23T21:27:00'
    """

    value: str  # lexical form of the matching XSD type
    precision: Literal["minute", "day", "month", "year"]

    @classmethod
    def parse(cls, raw: object) -> PartialDate:
        if isinstance(raw, PartialDate):
            return raw
        if isinstance(raw, datetime):
            return cls(raw.strftime("%Y-%m-%dT%H:%M:%S"), "minute")
        if isinstance(raw, date):
            return cls(raw.isoformat(), "day")
        text = str(raw).strip()
        for precision, pattern, fmt in _DATE_FORMS:
            if re.fullmatch(pattern, text):
                if precision == "minute":
                    try:
                        stamp = datetime.fromisoformat(text.replace(" ", "T"))
                    except ValueError:  # "second must be in 0..59": say it as for a day
                        raise ValueError(f"{text!r} is not a date and time that exists") from None
                    return cls(stamp.strftime("%Y-%m-%dT%H:%M:%S"), "minute")
                try:
                    datetime.strptime(text, fmt)
                except ValueError:
                    raise ValueError(f"{text!r} is not a date that exists") from None
                return cls(text, precision)  # type: ignore[arg-type]
        raise ValueError(
            f"{text!r} is not a date: write YYYY-MM-DDTHH:MM, YYYY-MM-DD, YYYY-MM or YYYY"
        )

    @property
    def earliest(self) -> date:
        """First day the date can stand for, to compare dates of mixed precision."""
        parts = [int(p) for p in self.value[:10].split("-")]
        return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _partial_date(raw: object) -> PartialDate:
    try:
        return PartialDate.parse(raw)
    except ValueError as error:  # datetime's own messages are terse: keep ours
        raise ValueError(str(error)) from None


Date = Annotated[PartialDate, BeforeValidator(_partial_date)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Localised(Record):
    fr: Text
    en: Text | None = None


class Cited(Record):
    """A fact that may name the sources stating it (default: its incident's sources)."""

    sources: list[Slug] = []


class Attributed(Cited):
    """A part of an incident the source may report as someone's claim, or as unconfirmed."""

    #: the organisation whose word the source reports ("selon le ministre", "d'après le groupe")
    according_to: Slug | None = None
    #: true when the source puts it conditionally or unconfirmed ("dépendrait", "selon une
    #: source judiciaire"); say whose word it is in according_to when the source names them
    hedged: Flag | None = None
    note: Text | None = None


class Source(Record):
    slug: Slug
    title: Text
    publisher: Slug
    author: Text | None = None
    published: Date
    published_note: Text | None = None
    url: Url | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] = "fr"
    relays: list[Slug] = []
    note: Text | None = None


OrganisationKind = Literal[
    "facility",
    "organisation",
    "vendor",
    "product",
    "regulator",
    "authority",
    "publisher",
    "threat-actor",
]


#: fields that only some kinds of organisation take (docs/records.md)
ONLY_FOR_KINDS: dict[str, tuple[str, ...]] = {
    "facility_kind": ("facility",),
    "operator": ("facility",),
    "authority_kind": ("regulator", "authority"),
    "vendor": ("product",),
}


def only_for(field: str, value: object, given: str | None, kinds: Sequence[str]) -> object:
    """``value``, unless set on a record whose kind or type ``given`` is not one of ``kinds``
    (it would be published as a fact of the wrong kind of thing)."""
    if value is not None and given is not None and given not in kinds:
        raise PydanticCustomError(
            "wrong_kind",
            "{field} is only for {kinds} records (this one: {given})",
            {"field": field, "kinds": " and ".join(kinds), "given": given},
        )
    return value


DepartementCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{2,3}|2[AB])$")]


class Organisation(Cited):
    slug: Slug
    kind: OrganisationKind
    name: Text
    label: Localised | None = None
    facility_kind: Slug | None = None
    authority_kind: Slug | None = None
    operator: Slug | None = None
    parent: Slug | None = None
    vendor: Slug | None = None
    city: Text | None = None
    departement: Text | None = None
    departement_code: DepartementCode | None = None
    region: Text | None = None
    finess: Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")] | None = None
    wikidata: Annotated[str, StringConstraints(pattern=r"^Q[0-9]+$")] | None = None
    url: Url | None = None
    establishment_count: Count | None = None
    note: Text | None = None

    @field_validator(*ONLY_FOR_KINDS)
    @classmethod
    def _for_its_kind(cls, value: object, info: ValidationInfo) -> object:
        field = info.field_name or ""
        return only_for(field, value, info.data.get("kind"), ONLY_FOR_KINDS[field])


#: stated: a source gives the date whole; resolved: completed from the article's own date (a
#: weekday, a day without its year) or from other reports, said how in a note
DateStatus = Literal["stated", "resolved"]


class DateClaim(Cited):
    property: Literal["start", "detection", "disclosure", "data-release", "end"]
    value: Date
    status: DateStatus
    note: Text | None = None


class Dated(Attributed):
    """A fact with an optional date, which then says how it was obtained (``date_status``)."""

    date: Date | None = None
    date_status: Annotated[DateStatus | None, Field(validate_default=True)] = None
    date_note: Text | None = None  # how a resolved date was worked out

    @field_validator("date_status", "date_note")
    @classmethod
    def _given_with_its_date(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "date" not in info.data:  # the date itself is wrong: that error says it all
            return value
        dated = info.data["date"] is not None
        if info.field_name == "date_status" and dated and value is None:
            raise PydanticCustomError(
                "date_status",
                "a date needs date_status: stated (a source gives it whole) or resolved"
                " (completed from the article's date; say how in date_note)",
            )
        if value is not None and not dated:
            raise PydanticCustomError(
                "without_date", "{field} without a date", {"field": info.field_name}
            )
        return value


class Impact(Attributed):
    service: Slug
    effect: Slug
    facility: Slug | None = None
    operator: Slug | None = None  # unnamed establishments of this operator felt it
    patients_transferred: Count | None = None
    transferred_to: list[Slug] = []
    redirected_to: list[Slug] = []  # patients told to go there, no organised transfer


class DataExposure(Attributed):
    exfiltrated: Flag | None = None
    record_count: Count | None = None
    categories: list[Slug] = []  # in every record (or the source does not say otherwise)
    categories_in_some: list[Slug] = []  # in some records only ("parfois")
    period_start: Date | None = None
    period_end: Date | None = None
    source_count: Count | None = None
    published_online: Flag | None = None


def _written_as_a_number(raw: object) -> object:
    """A quoted "1000" is a typo to report, as for counts, not a number to guess."""
    if isinstance(raw, str | bool):
        raise PydanticCustomError("number", "write a number, not {raw!r}", {"raw": raw})
    return raw


class Ransom(Attributed):
    amount: Annotated[Decimal, BeforeValidator(_written_as_a_number), Field(gt=0)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Response(Dated):
    authority: Slug
    action: Slug


class Investigation(Dated):
    slug: Slug
    opened_by: Slug | None = None
    directed_by: Slug | None = None  # the office in charge, when not said to have opened it
    kind: Slug = "unspecified"
    offences: list[Slug] = []
    investigated_by: list[Slug] = []
    complaint_by: list[Slug] = []

    @field_validator("directed_by")
    @classmethod
    def _when_not_opened_by(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("opened_by") is not None:
            raise PydanticCustomError(
                "directed_by",
                "directed_by is for an office not said to have opened the investigation:"
                " give opened_by or directed_by, not both",
            )
        return value


class KindClaim(Cited):
    """An attack kind that only some of the incident's sources state."""

    kind: Slug


def _kind_claim(raw: object) -> object:
    return {"kind": raw} if isinstance(raw, str) else raw


Kind = Annotated[KindClaim, BeforeValidator(_kind_claim)]


class Incident(Cited):
    slug: Slug
    type: Literal["attack", "aggregate"] = "attack"
    kinds: list[Kind] = []  # a slug, or {kind: slug, sources: [...]}
    label: Localised
    description: Localised | None = None
    targets: list[Slug] = []
    affected: list[Slug] = []
    mentioned_in: list[Slug] = []
    crisis_cell: Flag | None = None
    dates: list[DateClaim] = []
    impacts: list[Impact] = []
    data_exposure: DataExposure | None = None
    ransom: Ransom | None = None
    vendors: list[Slug] = []
    software: list[Slug] = []
    threat_actor: Slug | None = None
    related: list[Slug] = []
    responses: list[Response] = []
    investigations: list[Investigation] = []
    count: Count | None = None
    affected_count: Count | None = None
    note: Text | None = None

    @field_validator("count")
    @classmethod
    def _aggregates_only(cls, value: object, info: ValidationInfo) -> object:
        return only_for("count", value, info.data.get("type"), ("aggregate",))
