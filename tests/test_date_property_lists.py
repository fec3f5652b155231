"""The shapes spell out their lists of date properties: keep every list in step with the model.

SHACL Core has no way to name a list once (``sh:targetSubjectsOf``, ``sh:alternativePath`` and
``sh:in`` take terms; a SPARQL constraint's ``VALUES`` and ``IN`` too), so shapes/*.ttl repeats
the date properties in about a dozen places, messages included. This test finds each run of two
or more date properties in the shapes and requires it to be one of the four sets below, which
follow from the loader's own table: adding a date property to the records makes every list
that lacks it fail here, with its file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest

from loaders.record_schema import DateClaim
from loaders.records import DATE_PROPERTIES
from santecyber.validation import shape_files

SCHEMA = "http://schema.org/"
SC = "https://w3id.org/santecyber/ontology#"
#: the dates of an incident, as records claim them
INCIDENT_DATES = frozenset(term.value for term in DATE_PROPERTIES.values())
#: the dates that must be qualified: an incident's, plus a source's publication
QUALIFIED_DATES = INCIDENT_DATES | {SCHEMA + "datePublished"}
#: every date of the model (the period of exposed data too)
MODEL_DATES = QUALIFIED_DATES | {SC + "dataPeriodStart", SC + "dataPeriodEnd"}
#: the dates plus the qualification's copy of one, all typed at their precision
TYPED_DATES = MODEL_DATES | {SC + "dateValue"}
ALLOWED = {
    INCIDENT_DATES: "incident dates",
    QUALIFIED_DATES: "qualified dates",
    MODEL_DATES: "model dates",
    TYPED_DATES: "typed dates",
}
NAMESPACES = {"schema:": SCHEMA, "<http://schema.org/": SCHEMA, "sc:": SC, f"<{SC}": SC}


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri)[-1]


def _token_pattern() -> re.Pattern[str]:
    names = "|".join(sorted(map(local_name, TYPED_DATES)))
    prefixes = "|".join(re.escape(prefix) for prefix in NAMESPACES)
    return re.compile(rf"(?P<prefix>{prefixes})?\b(?P<name>{names})\b>?")


TOKEN = _token_pattern()
SEPARATOR = re.compile(r"[\s,]*")  # what may stand between two members of one list


@dataclass(frozen=True)
class DateList:
    """A run of date properties written one after another in a shapes file."""

    where: str
    iris: frozenset[str]


def _iri(match: re.Match[str]) -> str:
    """A token's IRI; a bare name (in a message) is looked up among the model's dates."""
    name = match["name"]
    if match["prefix"]:
        return NAMESPACES[match["prefix"]] + name
    return next(iri for iri in TYPED_DATES if local_name(iri) == name)


def date_lists(path: Path) -> list[DateList]:
    text = path.read_text(encoding="utf-8")
    found: list[DateList] = []
    run: list[re.Match[str]] = []

    def close() -> None:
        if len(run) > 1:
            line = text.count("\n", 0, run[0].start()) + 1
            found.append(DateList(f"{path.name}:{line}", frozenset(map(_iri, run))))
        run.clear()

    for match in TOKEN.finditer(text):
        if run and not SEPARATOR.fullmatch(text, run[-1].end(), match.start()):
            close()
        run.append(match)
    close()
    return found


def test_every_list_of_date_properties_in_the_shapes_is_a_whole_set() -> None:
    lists = [found for path in shape_files() for found in date_lists(path)]
    # The scan must see the lists it guards: targets, paths, sh:in, VALUES, IN and messages.
    assert len(lists) >= 12, [found.where for found in lists]
    wrong = {
        found.where: sorted(map(local_name, found.iris))
        for found in lists
        if found.iris not in ALLOWED
    }
    assert not wrong, f"date lists that are not one of {sorted(ALLOWED.values())}: {wrong}"
    assert {ALLOWED[found.iris] for found in lists} == set(ALLOWED.values())


def test_records_claim_exactly_the_loaders_dates() -> None:
    claims = get_args(DateClaim.model_fields["property"].annotation)
    assert set(claims) == set(DATE_PROPERTIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "VALUES ?p { schema:startDate sc:detectionDate }",
            {SCHEMA + "startDate", SC + "detectionDate"},
        ),
        ("(startDate, datePublished)", {SCHEMA + "startDate", SCHEMA + "datePublished"}),
        (
            f"<{SC}dataPeriodStart>,\n    <{SC}dataPeriodEnd>",
            {SC + "dataPeriodStart", SC + "dataPeriodEnd"},
        ),
    ],
)
def test_the_scan_reads_each_way_shapes_write_a_list(
    tmp_path: Path, text: str, expected: set[str]
) -> None:
    path = tmp_path / "shape.ttl"
    path.write_text(f"sh:path schema:endDate .\n{text} ;\nsh:path sc:dateValue .", encoding="utf-8")
    assert [found.iris for found in date_lists(path)] == [frozenset(expected)]
