"""The named queries of queries/: each runs on the real build and gives its expected answer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from santecyber.named_queries import NamedQuery, named_queries
from santecyber.paths import QUERIES_DIR
from santecyber.sparql import run_query
from santecyber.store import BuildDirectory

QUERIES = named_queries()
HEADER_KEYS = ("title", "title-fr", "question", "question-fr")
Row = dict[str, str]


@pytest.fixture(scope="module")
def store(built: BuildDirectory) -> Iterator[ox.Store]:
    opened, _ = built.open_current()
    yield opened


def cell(term: object) -> str:
    """A term in N-Triples form ('' when unbound), so typed values compare exactly."""
    return "" if term is None else str(term)


def table(solutions: ox.QuerySolutions) -> tuple[list[str], list[list[str]]]:
    variables = [v.value for v in solutions.variables]
    return variables, [[cell(s[v]) for v in variables] for s in solutions]


def run(store: ox.Store, query: NamedQuery) -> tuple[list[str], list[list[str]]]:
    result = run_query(store, query.text)
    assert result.form == "bindings", f"{query.name} is not a SELECT query"
    return table(result.value)  # type: ignore[arg-type]


def expected(query: NamedQuery) -> tuple[list[str], list[list[str]]]:
    solutions = ox.parse_query_results(
        path=str(query.expected_path), format=ox.QueryResultsFormat.TSV
    )
    return table(solutions)  # type: ignore[arg-type]


def is_ordered(query: NamedQuery) -> bool:
    """Whether the outermost query has ORDER BY (after the last closing brace)."""
    return "ORDER BY" in query.text[query.text.rindex("}") :].upper()


def rows(store: ox.Store, name: str) -> list[Row]:
    """The rows of a named query with plain values (IRIs, lexical forms), by variable."""
    result = run_query(store, QUERIES[name].text)
    variables = [v.value for v in result.value.variables]  # type: ignore[union-attr]
    return [
        {v: "" if s[v] is None else s[v].value for v in variables}
        for s in result.value  # type: ignore[union-attr]
    ]


def test_there_is_one_query_per_competency_question() -> None:
    """The ten of the design at least, numbered from 01 without gaps (queries/README.md)."""
    numbers = sorted(int(name.split("-", 1)[0]) for name in QUERIES)
    assert numbers == list(range(1, max(11, len(numbers) + 1)))
    for name in QUERIES:
        assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*", name), name


@pytest.mark.parametrize("name", list(QUERIES))
def test_the_queries_readme_lists_each_query_as_its_header_says(name: str) -> None:
    query = QUERIES[name]
    row = f"| `{name}.rq` | {query.title} | {query.header['question']} |"
    assert row in (QUERIES_DIR / "README.md").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_has_a_header_and_an_expected_answer(name: str) -> None:
    query = QUERIES[name]
    for key in HEADER_KEYS:
        assert query.header.get(key, "").strip(), f"{query.path}: no '# {key}:' line"
    assert query.expected_path.is_file(), f"no {query.expected_path.name}"
    assert is_ordered(query), f"{query.path}: results need an ORDER BY to be deterministic"


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_gives_its_expected_answer(store: ox.Store, name: str) -> None:
    query = QUERIES[name]
    variables, got = run(store, query)
    expected_variables, want = expected(query)
    assert variables == expected_variables
    assert want, f"{query.expected_path.name} has no rows"
    if is_ordered(query):
        assert got == want
    else:
        assert sorted(got) == sorted(want)


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_declares_its_own_prefixes(store: ox.Store, name: str) -> None:
    """Without the endpoint's predeclared prefixes, as on any SPARQL endpoint."""
    query = QUERIES[name]
    solutions = store.query(query.text)
    assert table(solutions) == run(store, query)  # type: ignore[arg-type]


def test_lab_leak_vendor_is_dedalus_with_491840_records(store: ox.Store) -> None:
    [row] = rows(store, "01-lab-leak-vendor")
    assert "Dedalus" in row["vendorName"]
    assert "Dedalus" in row["vendorGroup"]
    assert row["records"] == "491840"
    assert row["publisher"] == "maville.com"
    assert row["published"].startswith("2021-02-23")
    assert "AFP" in row["relays"].split(" | ")
    # the article reports Dax alongside the leak; it states no link between them
    assert "Cyberattack on Dax Hospital (February 2021)" in row["reportedAlongside"]
    assert "Dax" not in row["linked"]


def test_every_attack_has_exactly_one_overview_row(store: ox.Store) -> None:
    attacks = {
        s["a"].value
        for s in store.query(
            "SELECT DISTINCT ?a WHERE { ?a a <https://w3id.org/santecyber/ontology#Attack> }"
        )
    }
    overview = rows(store, "02-attacks-overview")
    assert sorted(r["attack"] for r in overview) == sorted(attacks)
    corbeil = next(r for r in overview if r["attack"].endswith("/2022-08-corbeil-essonnes"))
    assert corbeil["start"] == "2022-08 (month, resolved, RFI) | 2022 (year, resolved, 20 Minutes)"
    assert corbeil["ransom"] == "10000000 USD"
    hospi = next(r for r in overview if r["attack"].endswith("/2024-10-hospi-grand-ouest"))
    assert (hospi["regions"], hospi["alsoAffectedRegions"]) == ("Bretagne", "Pays de la Loire")


def test_hospi_grand_ouest_direct_and_preventive(store: ox.Store) -> None:
    result = rows(store, "03-hospi-grand-ouest")
    by_role: dict[str, set[str]] = {}
    for row in result:
        by_role.setdefault(row["role"], set()).add(row["name"])
    assert by_role == {
        "hit directly": {"Clinique mutualiste La Sagesse"},
        "preventive degraded mode": {
            "Clinique mutualiste de l'Estuaire",
            "Clinique Jules Verne",
            "Villa Notre Dame",
            "Clinique Sud Vendée",
        },
    }
    preventive = [r for r in result if r["role"] == "preventive degraded mode"]
    assert {r["region"] for r in preventive} == {"Pays de la Loire"}
    assert {r["preventiveTotal"] for r in result} == {"8"}
    assert {r["establishmentCount"] for r in result} == {"9"}
    names = [r["name"] for r in preventive]
    assert names == sorted(names, key=str.lower)  # "l'Estuaire" before "Sud Vendée"


def test_paris_prosecutor_investigations(store: ox.Store) -> None:
    result = {r["attack"].rsplit("/", 1)[-1]: r for r in rows(store, "04-paris-investigations")}
    assert set(result) == {"2022-01-pole-sante-leonard-de-vinci", "2022-12-ch-versailles"}
    versailles = result["2022-12-ch-versailles"]
    assert versailles["kind"] == "preliminary inquiry"
    assert len(versailles["offences"].split(" | ")) == 5
    assert "attempted extortion" in versailles["offences"]
    assert versailles["investigatedBy"] == "Sous-direction de lutte contre la cybercriminalité"


def test_authorities_and_how_they_were_involved(store: ox.Store) -> None:
    found = {
        (r["attack"].rsplit("/", 1)[-1], r["authorityName"], r["role"])
        for r in rows(store, "05-authorities-involved")
    }
    assert ("2023-06-chu-rennes", "CNIL", "notified") in found
    assert ("2021-02-lab-data-leak", "CNIL", "gave no comment") in found
    assert ("2024-10-hospi-grand-ouest", "ARS Bretagne", "mobilised") in found
    assert ("2022-12-ch-versailles", "Parquet de Paris", "opened an investigation") in found


def test_timeline_is_in_date_order_with_transfers(store: ox.Store) -> None:
    result = rows(store, "06-impacts-timeline")
    dates = [r["date"] for r in result]
    assert dates == sorted(dates)
    transfers = {
        r["service"]: r["patientsTransferred"]
        for r in result
        if r["attack"].endswith("/2022-12-ch-versailles") and r["patientsTransferred"]
    }
    assert transfers == {"intensive care": "3", "neonatology": "3"}


def test_mentioned_incidents_per_article(store: ox.Store) -> None:
    mentions: dict[str, set[str]] = {}
    for row in rows(store, "07-mentioned-incidents"):
        mentions.setdefault(row["publisher"], set()).add(row["incident"].rsplit("/", 1)[-1])
    assert {"2022-08-corbeil-essonnes", "2023-03-chu-brest"} <= mentions["20 Minutes"]
    assert {"2021-02-ch-dax", "2021-02-villefranche-sur-saone"} <= mentions["maville.com"]
    assert "2022-08-corbeil-essonnes" in mentions["RFI"]
    actions = {
        row["incident"].rsplit("/", 1)[-1]: row["authorityActions"]
        for row in rows(store, "07-mentioned-incidents")
    }
    assert actions["2021-02-hospital-credentials-sale"] == "Agence du numérique en santé: reported"


def test_attacks_per_region_and_year(store: ox.Store) -> None:
    counts = {
        (r["region"], r["year"]): int(r["attacks"])
        for r in rows(store, "08-attacks-per-region-year")
    }
    assert counts[("Île-de-France", "2022")] == 2
    assert counts[("Bretagne", "2023")] == 2
    assert counts[("Bretagne", "2024")] == 1


def test_corbeil_start_date_disagreement_is_reported(store: ox.Store) -> None:
    disputed = {
        (r["publisher"], r["value"], r["otherPublisher"], r["otherValue"])
        for r in rows(store, "09-statement-sources")
        if r["attack"].endswith("/2022-08-corbeil-essonnes")
        and r["property"] == "http://schema.org/startDate"
    }
    assert disputed == {
        ("RFI", "2022-08", "20 Minutes", "2022"),
        ("20 Minutes", "2022", "RFI", "2022-08"),
    }
    result = rows(store, "09-statement-sources")
    rennes = [r for r in result if r["attack"].endswith("/2023-06-chu-rennes")]
    assert rennes and all(r["disputed"] == "false" for r in rennes)


def test_data_exposed(store: ox.Store) -> None:
    result = {r["attack"].rsplit("/", 1)[-1]: r for r in rows(store, "10-data-exposed")}
    leak = result["2021-02-lab-data-leak"]
    assert leak["records"] == "491840"
    assert "social security number" in leak["categories"].split(" | ")
    assert result["2021-02-hospital-credentials-sale"]["categories"] == "login credentials"
    assert result["2023-06-chu-rennes"]["exfiltrated"] == "true"


def test_lab_leak_query_over_http_finds_dedalus(live_server) -> None:
    with live_server.client() as client:
        response = client.get(
            "/sparql",
            params={"query": QUERIES["01-lab-leak-vendor"].text},
            headers={"Accept": "application/sparql-results+json"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    bindings = response.json()["results"]["bindings"]
    assert len(bindings) == 1
    assert "Dedalus" in bindings[0]["vendorGroup"]["value"]
    assert bindings[0]["records"]["value"] == "491840"
    assert bindings[0]["records"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"
