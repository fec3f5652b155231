"""The build and the CLI, run as a user runs them: a subprocess, exit codes, files on disk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import run_cli

from santecyber.paths import ROOT
from santecyber.store import BuildDirectory

COMMANDS = ["build", "check", "validate", "query", "export", "serve"]


cli = run_cli


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and command in result.stdout


def test_failed_build_leaves_the_previous_store_and_dump(data_copy: Path, tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    first = cli("build", "--data", data_copy, "--build-dir", build_dir)
    assert first.returncode == 0, first.stderr
    directory = BuildDirectory(build_dir)
    version, dump = directory.current_version(), directory.dump.read_bytes()

    incident = data_copy / "incidents" / "2023-06-chu-rennes.yaml"
    text = incident.read_text(encoding="utf-8")
    line = text[: text.index("targets:")].count("\n") + 1
    incident.write_text(text.replace("targets: [chu-rennes]", "targets: [nowhere]"), "utf-8")
    second = cli("build", "--data", data_copy, "--build-dir", build_dir)

    assert second.returncode == 2
    assert f"2023-06-chu-rennes.yaml:{line}" in second.stderr and "nowhere" in second.stderr
    assert "Traceback" not in second.stderr
    assert directory.current_version() == version
    assert directory.dump.read_bytes() == dump
    store, served = directory.open_current()
    assert served == version
    named = [
        q for q in store.quads_for_pattern(None, None, None) if q.graph_name != ox.DefaultGraph()
    ]
    assert len(named) == dump.count(b"\n")


MALFORMED_SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sc: <https://w3id.org/santecyber/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
ex:Regex sh:targetClass sc:Attack ; sh:property [ sh:path rdfs:label ; sh:pattern "(" ] .
ex:Count sh:targetClass sc:Attack ; sh:property [ sh:path rdfs:label ; sh:minCount "abc" ] .
"""


def test_malformed_shapes_stop_build_and_reload_with_exit_2(
    data_copy: Path, tmp_path: Path
) -> None:
    """They gave tracebacks with exit 1, the code for "the data has violations"."""
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    bad = shapes / "zz-bad.ttl"
    bad.write_text(MALFORMED_SHAPES, encoding="utf-8")
    build_dir = tmp_path / "build"
    assert cli("build", "--data", data_copy, "--build-dir", build_dir).returncode == 0
    version = BuildDirectory(build_dir).current_version()
    env = {"SANTECYBER_SHAPES": str(shapes), "SANTECYBER_ADMIN_TOKEN": "not-used"}
    for command in (["build"], ["reload", "--build", "--url", "http://127.0.0.1:9"]):
        done = cli(*command, "--data", data_copy, "--build-dir", build_dir, env=env)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "nothing was changed" in done.stderr
        assert f"{bad}:5:" in done.stderr and "not a valid regular expression" in done.stderr
        assert f"{bad}:6:" in done.stderr and "sh:minCount" in done.stderr
        assert BuildDirectory(build_dir).current_version() == version


def test_query_command_prints_a_table_and_csv(built: BuildDirectory, tmp_path: Path) -> None:
    query = tmp_path / "attacks.rq"
    query.write_text("SELECT DISTINCT ?a WHERE { ?a a sc:Attack } ORDER BY ?a", "utf-8")
    store, _ = built.open_current()
    attack = ox.NamedNode("https://w3id.org/santecyber/ontology#Attack")
    typed = store.quads_for_pattern(None, ox.NamedNode(str(rdflib.RDF.type)), attack, None)
    expected = sorted({quad.subject.value for quad in typed})
    assert expected
    table = cli("query", query, "--build-dir", built.root)
    assert table.returncode == 0, table.stderr
    assert all(iri in table.stdout for iri in expected)
    csv = cli("query", query, "--format", "csv", "--build-dir", built.root)
    assert csv.stdout.splitlines()[1:] == expected


def test_query_command_reports_syntax_errors_at_file_line(
    built: BuildDirectory, tmp_path: Path
) -> None:
    query = tmp_path / "broken.rq"
    query.write_text("# a comment\nSELECT ?a WHERE {\n  ?a a nowhere:Attack .\n}\n", "utf-8")
    result = cli("query", query, "--build-dir", built.root)
    assert result.returncode == 2
    assert f"{query}:3:" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("nquads", "nquads"), ("trig", "trig"), ("turtle", "turtle"), ("jsonld", "json-ld")],
)
def test_export_parses_with_rdflib(
    built: BuildDirectory, tmp_path: Path, name: str, fmt: str
) -> None:
    out = tmp_path / f"export.{name}"
    result = cli("export", "--format", name, "-o", out, "--build-dir", built.root)
    assert result.returncode == 0, result.stderr
    dataset = rdflib.Dataset()
    dataset.parse(out, format=fmt)
    dump = list(ox.parse(path=str(built.dump), format=ox.RdfFormat.N_QUADS))
    merged = name in {"turtle", "jsonld"}
    expected = len({quad.triple for quad in dump}) if merged else len(dump)
    assert len(list(dataset.quads((None, None, None, None)))) == expected


EXPORT_FORMATS = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "turtle": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
}


@pytest.mark.parametrize("name", EXPORT_FORMATS)
def test_export_holds_each_statement_once(built: BuildDirectory, tmp_path: Path, name: str) -> None:
    """N-Quads held the default graph the build adds (the merge of the named graphs) beside
    them, twice the dump; Turtle and JSON-LD, which merge the graphs, repeated statements."""
    rdf_format = EXPORT_FORMATS[name]
    out = tmp_path / f"export.{name}"
    assert cli("export", "--format", name, "-o", out, "--build-dir", built.root).returncode == 0
    exported = list(ox.parse(path=str(out), format=rdf_format))
    dump = set(ox.parse(path=str(built.dump), format=ox.RdfFormat.N_QUADS))
    assert len(exported) == len(set(exported))
    if name in {"nquads", "trig"}:  # the named graphs, as the build's dump
        assert set(exported) == dump
    else:  # their merge, in the default graph
        assert set(exported) == {ox.Quad(q.subject, q.predicate, q.object) for q in dump}


@pytest.mark.parametrize("where", ["missing/x.nq", "a-folder", "", "/dev/full"])
def test_export_to_an_unwritable_path_exits_2(
    built: BuildDirectory, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    result = cli("export", "-o", where, "--build-dir", built.root.resolve(), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"--output: cannot write {where or '.'}:" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder"]  # no stray file


def test_no_sentence_is_copied_from_the_articles() -> None:
    checker = ROOT.parent / "shared" / "tools" / "check_no_copy.py"
    if not checker.exists():
        pytest.skip("../shared/tools/check_no_copy.py is not beside this checkout")
    result = subprocess.run(
        [sys.executable, str(checker)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout


# bad input anywhere: a message that says where, exit 2, never a traceback


def no_traceback_exit_2(done: subprocess.CompletedProcess[str], *said: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert all(text in done.stderr for text in said), done.stderr


def test_symbolic_link_loops_are_named(data_copy: Path, tmp_path: Path) -> None:
    (data_copy / "incidents" / "2030-loop.yaml").symlink_to("2030-loop.yaml")
    no_traceback_exit_2(cli("check", "--data", data_copy), "2030-loop.yaml")
    (tmp_path / "loop.ttl").symlink_to("loop.ttl")
    no_traceback_exit_2(cli("validate", tmp_path / "loop.ttl"), "loop.ttl")


def test_malformed_urls_are_named(tmp_path: Path) -> None:
    bad = "http://[::1"
    no_traceback_exit_2(cli("validate", bad), bad)
    no_traceback_exit_2(cli("reload", "--url", bad, env={"SANTECYBER_ADMIN_TOKEN": "x"}), bad)
    no_traceback_exit_2(cli("serve", "--store", bad), "--store")
    store = ("--store", bad, "--store-update", bad)
    no_traceback_exit_2(cli("build", *store, "--build-dir", tmp_path), "--store")


def test_a_query_file_that_is_not_utf8_is_named(built: BuildDirectory, tmp_path: Path) -> None:
    query = tmp_path / "latin1.rq"
    query.write_bytes(b'# a comment\nSELECT ?s WHERE { ?s ?p "caf\xe9" }\n')
    no_traceback_exit_2(cli("query", query, "--build-dir", built.root), f"{query}:2:29:")


def test_a_damaged_build_directory_is_named(built: BuildDirectory, tmp_path: Path) -> None:
    garbled = tmp_path / "garbled"
    shutil.copytree(built.root, garbled, symlinks=True)
    (garbled / "CURRENT").write_bytes(b"\xff\xfe")
    no_traceback_exit_2(cli("query", "02-attacks-overview", "--build-dir", garbled), "build")

    damaged = tmp_path / "damaged"
    shutil.copytree(built.root, damaged, symlinks=True)
    store = BuildDirectory(damaged).current_store_path()
    assert store is not None
    with next(store.glob("*.sst")).open("r+b") as table:
        table.truncate(10)
    for command in (["query", "02-attacks-overview"], ["export", "-o", tmp_path / "x.nq"]):
        no_traceback_exit_2(cli(*command, "--build-dir", damaged), str(store), "santecyber build")
    serve = cli("serve", "--port", "1", "--build-dir", damaged, timeout=60)
    no_traceback_exit_2(serve, str(store), "santecyber build")
    # as the messages say: a build (of the same data) writes the store again
    for directory in (garbled, damaged):
        assert cli("build", "--skip-validation", "--build-dir", directory).returncode == 0
        assert cli("query", "02-attacks-overview", "--build-dir", directory).returncode == 0


@pytest.mark.parametrize(
    ("port", "bound"), [("99999", "65535"), ("65536", "65535"), ("0", "1"), ("-1", "1")]
)
def test_serve_refuses_a_port_out_of_range(built: BuildDirectory, port: str, bound: str) -> None:
    """99999 listened on 34463 (99999 mod 65536) while announcing 99999."""
    done = cli("serve", "--port", port, "--build-dir", built.root, timeout=30)
    no_traceback_exit_2(done, "Invalid value for '--port'", f"equal to {bound}")


# smaller message and robustness problems (finding 15)


@pytest.mark.parametrize("text", ["", "\n  \n", "# only a comment\n"])
def test_an_empty_query_file_is_called_empty(
    built: BuildDirectory, tmp_path: Path, text: str
) -> None:
    """rdflib parses "" as an empty update: it was refused as "SPARQL Update … read-only"."""
    query = tmp_path / "empty.rq"
    query.write_text(text, encoding="utf-8")
    done = cli("query", query, "--build-dir", built.root)
    no_traceback_exit_2(done, f"{query}:", "empty query")
    assert "Update" not in done.stderr


def test_a_query_file_that_is_missing_or_a_folder_is_named(
    built: BuildDirectory, tmp_path: Path
) -> None:
    (tmp_path / "folder.rq").mkdir()
    for name, said in (("nope.rq", "no such file"), ("folder.rq", "is a directory")):
        done = cli("query", tmp_path / name, "--build-dir", built.root)
        no_traceback_exit_2(done, f"{tmp_path / name}: {said}")
        assert "no query named" not in done.stderr


def test_an_update_in_a_query_file_names_the_file(built: BuildDirectory, tmp_path: Path) -> None:
    query = tmp_path / "update.rq"
    query.write_text("INSERT DATA { <x:a> <x:b> <x:c> }\n", encoding="utf-8")
    done = cli("query", query, "--build-dir", built.root)
    no_traceback_exit_2(done, f"{query}: SPARQL Update", "read-only")
    assert "this endpoint" not in done.stderr


def test_a_query_file_with_a_byte_order_mark_runs(built: BuildDirectory, tmp_path: Path) -> None:
    query = tmp_path / "bom.rq"
    query.write_bytes(b"\xef\xbb\xbf# title: attacks\nASK { ?a a sc:Attack }\n")
    done = cli("query", query, "--build-dir", built.root)
    assert done.returncode == 0 and done.stdout == "true\n", done.stderr


def test_rdf_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """pyoxigraph took the mark for a term: "﻿ is not a valid subject", the mark invisible."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_bytes(b"\xef\xbb\xbf" + (ROOT / "shapes" / "common.ttl").read_bytes())
    data = tmp_path / "data.nt"
    data.write_bytes(b"\xef\xbb\xbf<http://e.org/a> <http://e.org/b> <http://e.org/c> .\n")
    done = cli("validate", "--shapes", shapes, data)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("0 violation(s)"), done.stdout


def test_ontology_turtle_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """ontology/ is the checkout's own (no option names another): its loader, on a copy."""
    from santecyber.loaders.ontology import load_ontology

    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    effect = ontology / "vocab" / "effect.ttl"
    effect.write_bytes(b"\xef\xbb\xbf" + effect.read_bytes())
    assert len(load_ontology(ontology)[0]) == len(load_ontology()[0])


@pytest.mark.parametrize("command", [["build"], ["query", "02-attacks-overview"], ["serve"]])
def test_an_empty_build_dir_is_refused(tmp_path: Path, command: list[str]) -> None:
    """An unset variable (--build-dir "$BUILD") built into the working directory."""
    done = cli(*command, "--build-dir", "", cwd=tmp_path, timeout=60)
    no_traceback_exit_2(done, "'--build-dir'", "empty")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_a_file_goes_is_called_a_folder(tmp_path: Path) -> None:
    """It said "no such file" of a folder that is there."""
    (tmp_path / "dir.ttl").mkdir()
    for args in (["dir.ttl"], ["--shapes", "dir.ttl"], ["--changed", "dir.ttl"]):
        done = cli("validate", *args, cwd=tmp_path)
        no_traceback_exit_2(done, "dir.ttl: is a directory")
