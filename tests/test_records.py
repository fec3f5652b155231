"""The curated-records loader: real records load; broken ones are reported at file:line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import run_cli

from santecyber.build import compile_graph
from santecyber.errors import InputError
from santecyber.loaders.ontology import load_ontology, parse_turtle
from santecyber.loaders.records import load_records, read_records
from santecyber.namespaces import resource
from santecyber.paths import DATA_DIR, ROOT
from santecyber.sparql import run_query
from santecyber.store import BuildDirectory

INCIDENT = "incidents/2023-06-chu-rennes.yaml"


def line_of(path: Path, text: str) -> int:
    """1-based number of the first line of ``path`` that contains ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def replace_once(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` by ``new``; returns the line where it was."""
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path}"
    line = content[: content.index(old)].count("\n") + 1
    path.write_text(content.replace(old, new, 1), encoding="utf-8")
    return line


def problems(data: Path) -> list[str]:
    _, vocabulary = load_ontology()
    with pytest.raises(InputError) as caught:
        load_records(data, vocabulary)
    return [str(p) for p in caught.value.problems]


def test_every_incident_file_becomes_an_incident_in_the_store(built: BuildDirectory) -> None:
    files = sorted(p.stem for p in (DATA_DIR / "incidents").glob("*.yaml"))
    store, _ = built.open_current()
    result = run_query(
        store,
        "SELECT DISTINCT ?i WHERE { { ?i a sc:Attack } UNION { ?i a sc:IncidentAggregate } }",
    )
    slugs = sorted(row["i"].value.rsplit("/", 1)[-1] for row in result.value)
    assert slugs == files


def test_every_source_has_a_named_graph_derived_from_it(built: BuildDirectory) -> None:
    records = read_records(DATA_DIR)
    store, _ = built.open_current()
    rows = run_query(
        store, "SELECT ?g ?s WHERE { GRAPH ?g { ?g a sc:SourceGraph ; prov:wasDerivedFrom ?s } }"
    ).value
    derived = {row["s"].value.rsplit("/", 1)[-1] for row in rows}
    assert derived == set(records.sources)


def test_same_records_give_byte_identical_nquads() -> None:
    first, second = compile_graph(), compile_graph()
    assert first.nquads == second.nquads
    lines = first.nquads.decode().splitlines()
    assert lines == sorted(lines)


def test_conflicting_claims_stay_in_their_own_source_graphs(built: BuildDirectory) -> None:
    corbeil = resource("attack", "2022-08-corbeil-essonnes")
    store, _ = built.open_current()
    rows = run_query(
        store,
        f"SELECT DISTINCT ?g ?d WHERE {{ GRAPH ?g {{ <{corbeil}> schema:startDate ?d }} }}",
    ).value
    claims = {(row["g"].value.rsplit("/", 1)[-1], row["d"].value) for row in rows}
    assert len({d for _, d in claims}) >= 2, claims
    assert len({g for g, _ in claims}) >= 2, claims


def test_unknown_key_is_reported_at_its_line(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, "crisis_cell: true", "crisis_cell: true\ncolour: red")
    found = problems(data_copy)
    assert any(
        f"{INCIDENT}:{line + 1}" in p and "colour" in p and "unknown key" in p for p in found
    ), found


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("crisis_cell: true", "crisis_cell: perhaps"),
        # no guessing: quoted numbers, floats and yes/no words are typos, not values
        ("crisis_cell: true", 'crisis_cell: "yes"'),
        ("crisis_cell: true", "crisis_cell: 1"),
        ("record_count: null", 'record_count: "123"'),
        ("record_count: null", "record_count: 12.0"),
    ],
)
def test_wrong_type_is_reported_at_its_line(data_copy: Path, old: str, new: str) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, old, new)
    key = old.split(":")[0]
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line}" in p and key in p for p in found), found


@pytest.mark.parametrize(
    ("where", "old", "new", "expected"),
    [
        # what the build could not turn into RDF: a traceback, exit 1 (CI's "violations")
        ("sources.yaml", "url: https://www.20minutes.fr/", "url: http://exa<mple>.com/", "IRI"),
        ("sources.yaml", "url: https://www.20minutes.fr/", "url: http://[::1/", "IRI"),
        # any script's digits matched \d: "２０２３" got past check, then broke the build
        (INCIDENT, 'value: "2023-06-21"', 'value: "２０２３-06-21"', "is not a date"),
        ("organisations/facilities.yaml", '_code: "35"', '_code: "３５"', "departement_code"),
        # facts of one kind of record, given to another
        ("organisations/vendors.yaml", "kind: vendor", "kind: vendor\n  facility_kind: hospital",
         "facility_kind is only for facility"),
        (INCIDENT, "\ncount: null", "\ncount: 5", "count is only for aggregate"),
        (INCIDENT, "ransom: null", 'ransom: {amount: "1000", currency: EUR}', "write a number"),
    ],
)  # fmt: skip
def test_a_value_the_build_cannot_take_is_reported_at_its_line(
    data_copy: Path, where: str, old: str, new: str, expected: str
) -> None:
    line = replace_once(data_copy / where, old, new) + new.count("\n")
    found = problems(data_copy)
    assert any(f"{where}:{line}:" in p and expected in p for p in found), found


def test_a_dated_action_says_how_its_date_was_obtained(data_copy: Path) -> None:
    """An authority's action (or an investigation) with a date says whether a source gives it
    whole or it was resolved, like an incident's dates: it is qualified the same way."""
    path = data_copy / "incidents" / "2022-12-ch-versailles.yaml"
    line = line_of(path, "authority: ministere-sante")
    replace_once(path, "    date_status: stated", "    # date_status: stated")
    found = problems(data_copy)
    assert any(
        f"2022-12-ch-versailles.yaml:{line}:" in p and "needs date_status" in p for p in found
    )
    replace_once(path, "    # date_status: stated", "    date_status: stated")
    replace_once(path, '    date: "2022-12-04"', "    date: null")
    found = problems(data_copy)
    assert any("date_status without a date" in p for p in found), found
    # a wrong date is one error, not a second about its status
    replace_once(path, "    date: null\n    date_status", '    date: "2022-13-04"\n    date_status')
    found = problems(data_copy)
    assert any("'2022-13-04' is not a date that exists" in p for p in found), found
    assert not any("without a date" in p for p in found), found


def test_an_investigation_is_opened_or_directed_by_an_office_not_both(data_copy: Path) -> None:
    path = data_copy / "incidents" / "2022-12-ch-versailles.yaml"
    line = replace_once(
        path,
        "    opened_by: parquet-paris",
        "    opened_by: parquet-paris\n    directed_by: parquet-paris",
    )
    found = problems(data_copy)
    assert any(f":{line + 1}:" in p and "not both" in p for p in found), found


def test_dated_actions_are_qualified_in_the_store(built: BuildDirectory) -> None:
    store, _ = built.open_current()
    rows = list(
        run_query(
            store,
            """SELECT ?fact ?status WHERE {
                 { ?fact a sc:AuthorityAction } UNION { ?fact a sc:Investigation }
                 ?fact schema:startDate ?date ; sc:dateQualification ?q .
                 ?q sc:qualifiedProperty schema:startDate ; sc:dateValue ?date ;
                    sc:dateStatus ?status .
               }""",
        ).value
    )
    dated = sum(
        text.count('\n    date: "')
        for text in map(Path.read_text, (DATA_DIR / "incidents").glob("*.yaml"))
    )
    assert len(rows) == dated > 0
    assert {row["status"].value.rsplit("/", 1)[-1] for row in rows} == {"stated", "resolved"}


def test_yaml_nested_too_deeply_is_reported_not_a_traceback(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    path.write_text(path.read_text(encoding="utf-8") + "extra: " + "[" * 400 + "]" * 400 + "\n")
    found = problems(data_copy)
    assert any(f"{INCIDENT}:" in p and "nested too deeply" in p for p in found), found


def test_a_fifo_in_the_ontology_is_named_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "vocab.ttl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        parse_turtle(fifo)


def test_an_empty_folder_variable_means_the_default_folder() -> None:
    """An unset CI variable passed on as SANTECYBER_BUILD= made a build write into the
    working directory; the server's own setting read it apart, and still did."""
    code = (
        "from santecyber import paths, config; "
        "print(paths.BUILD_DIR, paths.DATA_DIR, paths.SHAPES_DIR, config.ServerConfig().build_dir)"
    )
    empty = {name: "" for name in ("SANTECYBER_BUILD", "SANTECYBER_DATA", "SANTECYBER_SHAPES")}
    run = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **empty}, capture_output=True, text=True
    )
    build, data, shapes = (str(ROOT / name) for name in ("build", "data", "shapes"))
    assert run.stdout.split() == [build, data, shapes, build]


def test_a_fact_cites_only_its_incidents_sources(data_copy: Path) -> None:
    """Another incident's article stating this one's date is a mistake, not a source."""
    path = data_copy / INCIDENT
    other = "rfi-2022-12-versailles"
    assert other not in path.read_text(encoding="utf-8")
    line = replace_once(
        path, "    status: resolved\n", f"    status: resolved\n    sources: [{other}]\n"
    )
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line + 1}" in p and other in p for p in found), found


def test_files_that_would_be_skipped_are_reported(data_copy: Path) -> None:
    """A contributor's incident saved as .yml, or put in a subfolder, is not silently lost."""
    renamed = (data_copy / INCIDENT).with_suffix(".yml")
    (data_copy / INCIDENT).rename(renamed)
    (data_copy / "organisations" / "more").mkdir()
    found = problems(data_copy)
    assert any(str(Path(INCIDENT).with_suffix(".yml")) in p and "*.yaml" in p for p in found)
    assert any("organisations/more" in p and "*.yaml" in p for p in found), found


@pytest.mark.parametrize(
    ("escape", "code"),
    [("\\0", "U+0000"), ("\\e[31m", "U+001B"), ("\\x85", "U+0085"), ("\\u202e", "U+202E"),
     ("\\u2066", "U+2066"), ("\\r", "U+000D")],
)  # fmt: skip
def test_control_characters_in_text_are_refused(data_copy: Path, escape: str, code: str) -> None:
    """YAML escapes let NUL, terminal escapes and bidi overrides into published labels."""
    label = "  fr: Cyberattaque contre le CHU de Rennes (juin 2023)"
    line = replace_once(data_copy / INCIDENT, label, f'  fr: "Cyber{escape}attaque"')
    done = run_cli("check", "--data", data_copy)
    assert done.returncode == 2, done.stdout
    assert f"{INCIDENT}:{line}:" in done.stderr and "label.fr" in done.stderr, done.stderr
    assert code in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_tabs_and_newlines_in_text_are_kept(data_copy: Path) -> None:
    label = "  fr: Cyberattaque contre le CHU de Rennes (juin 2023)"
    replace_once(data_copy / INCIDENT, label, '  fr: "Cyber\\tattaque\\ncontre le CHU"')
    done = run_cli("check", "--data", data_copy)
    assert done.returncode == 0, done.stderr


def test_an_incident_related_to_itself_is_an_error(data_copy: Path) -> None:
    line = replace_once(data_copy / INCIDENT, "related: []", "related: [2023-06-chu-rennes]")
    done = run_cli("check", "--data", data_copy)
    assert done.returncode == 2, done.stdout
    assert f"{INCIDENT}:{line}:" in done.stderr and "itself" in done.stderr, done.stderr


@pytest.mark.parametrize("value", ["2021-02-23T25:00", "2021-02-30T21:27", "2021-02-23 21:27:61"])
def test_impossible_minute_is_reported_like_an_impossible_day(data_copy: Path, value: str) -> None:
    """Datetime's own messages ("second must be in 0..59") were shown for minute precision."""
    line = replace_once(data_copy / INCIDENT, 'value: "2023-06-21"', f'value: "{value}"')
    done = run_cli("check", "--data", data_copy)
    assert done.returncode == 2, done.stdout
    assert f"{INCIDENT}:{line}:" in done.stderr, done.stderr
    assert f"'{value}' is not a date and time that exists" in done.stderr, done.stderr
    assert "must be in" not in done.stderr and "out of range" not in done.stderr


@pytest.mark.parametrize("where", ["organisations/x.yaml", "redirects.yaml", "sources.yaml"])
def test_a_fifo_among_the_records_is_named_not_read(data_copy: Path, where: str) -> None:
    """Reading a FIFO blocks until something writes to it: `check` hung for ever."""
    (data_copy / where).unlink(missing_ok=True)
    os.mkfifo(data_copy / where)
    done = run_cli("check", "--data", data_copy, timeout=60)
    assert done.returncode == 2, done.stdout
    assert f"{where}: not a regular file" in done.stderr, done.stderr


def test_a_folder_named_like_a_record_is_named(data_copy: Path) -> None:
    (data_copy / "organisations" / "x.yaml").mkdir()
    done = run_cli("check", "--data", data_copy)
    assert done.returncode == 2, done.stdout
    assert "organisations/x.yaml: is a directory" in done.stderr, done.stderr


def test_redirects_are_checked_against_the_graph_at_their_lines(data_copy: Path) -> None:
    """`check` reads redirects.yaml too: a redirect must not hide a live resource, must lead
    somewhere, and every problem names its line."""
    entries = {
        "id/facility/chu-rennes: id/facility/chu-brest": "a redirect would hide it",
        "id/facility/gone: id/facility/nowhere": "not in the graph",
        "elsewhere: id/facility/chu-rennes": "not one of our IRIs",
    }
    path = data_copy / "redirects.yaml"
    path.write_text("\n".join(entries) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        compile_graph(data_copy)
    found = [str(p) for p in caught.value.problems]
    for line, (entry, reason) in enumerate(entries.items(), 1):
        assert any(f"redirects.yaml:{line}:" in p and reason in p for p in found), (entry, found)


def test_impossible_date_is_reported_at_its_line(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, 'value: "2023-06-21"', 'value: "2023-02-30"')
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line}" in p and "2023-02-30" in p for p in found), found


def test_unquoted_impossible_date_is_reported_too(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, 'value: "2023-06-21"', "value: 2023-13-01")
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line}" in p and "2023-13-01" in p for p in found), found


def test_date_in_the_future_is_an_error(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, 'value: "2023-06-21"', 'value: "2999-01-01"')
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line}" in p and "future" in p for p in found), found


def test_reference_to_a_missing_slug_is_reported_at_its_line(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, "targets: [chu-rennes]", "targets: [chu-nowhere]")
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line}" in p and "chu-nowhere" in p for p in found), found
    # it names the folder that was read (--data), not the project's data/
    wanted = f"({data_copy / 'organisations'}/)"
    assert any(p.endswith(wanted) for p in found), found


def test_unknown_concept_is_reported_with_the_known_ones(data_copy: Path) -> None:
    path = data_copy / INCIDENT
    line = replace_once(path, "effect: interrupted", "effect: melted")
    found = problems(data_copy)
    assert any(f"{INCIDENT}:{line}" in p and "melted" in p and "unaffected" in p for p in found), (
        found
    )


def test_yaml_syntax_error_names_the_line(data_copy: Path) -> None:
    path = data_copy / "sources.yaml"
    line = replace_once(path, "language: fr", "language: [fr")
    found = problems(data_copy)
    assert any(p.startswith("sources.yaml:") or "sources.yaml:" in p for p in found), found
    reported = next(p for p in found if "sources.yaml:" in p)
    assert int(reported.split("sources.yaml:")[1].split(":")[0]) >= line


def test_duplicate_slug_names_both_places(data_copy: Path) -> None:
    facilities = data_copy / "organisations" / "facilities.yaml"
    content = facilities.read_text(encoding="utf-8")
    facilities.write_text(
        content + "\n- slug: chu-rennes\n  kind: facility\n  name: Copie\n"
        "  facility_kind: hospital\n",
        encoding="utf-8",
    )
    found = problems(data_copy)
    first = line_of(facilities, "slug: chu-rennes")
    assert any("already used" in p and f"facilities.yaml:{first}" in p for p in found), found


def test_all_problems_are_reported_at_once(data_copy: Path) -> None:
    replace_once(data_copy / INCIDENT, "effect: interrupted", "effect: melted")
    replace_once(data_copy / "sources.yaml", "language: fr", "langage: fr")
    found = problems(data_copy)
    assert any("melted" in p for p in found) and any("langage" in p for p in found), found


def test_a_category_is_in_every_record_or_in_some_not_both(data_copy: Path) -> None:
    path = data_copy / "incidents/2021-02-lab-data-leak.yaml"
    line = replace_once(path, "    - blood-group\n", "    - blood-group\n    - name\n")
    found = problems(data_copy)
    assert any(
        f"2021-02-lab-data-leak.yaml:{line + 1}" in p and "already in categories" in p
        for p in found
    ), found


def test_some_records_categories_stay_apart_in_the_graph(store: ox.Store) -> None:
    query = """PREFIX sc: <https://w3id.org/santecyber/ontology#>
    SELECT ?property (COUNT(?category) AS ?n) WHERE {
      <https://w3id.org/santecyber/id/attack/2021-02-lab-data-leak#exposure> ?property ?category
      FILTER(?property IN (sc:dataCategory, sc:partialDataCategory))
    } GROUP BY ?property"""
    counts = {
        row["property"].value.rsplit("#", 1)[1]: int(row["n"].value) for row in store.query(query)
    }
    assert counts == {"dataCategory": 5, "partialDataCategory": 7}  # "parfois": seven of twelve
