"""/shapes on the live server: the shapes a build checked its records with, in every RDF
format, and as a page on which each shape IRI (the helpUri of a SARIF rule) has its section."""

from __future__ import annotations

import hashlib
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

from conftest import FORMATS, LiveServer, run_cli, start_server, stop_server
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from santecyber.namespaces import BASE
from santecyber.paths import ROOT
from santecyber.validation import load_shapes, named_shapes, shape_files

# a rule that every record passes, and one that every facility breaks
EXTRA_SHAPE = """
@prefix scs: <https://w3id.org/santecyber/shapes#> .
@prefix sc: <https://w3id.org/santecyber/ontology#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

scs:{name} a sh:NodeShape ;
    rdfs:label "{label}" ;
    sh:message "{label}." ;
    sh:targetClass sc:CareFacility ;
    sh:property [ sh:path rdfs:label ; sh:maxCount {most} ] .
"""


class Sections(HTMLParser):
    """The ``id`` of each ``<section>`` of a page, with the text inside it."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.current: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.current = dict(attrs).get("id") or ""
            self.text[self.current] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.text[self.current] += data


def served_graph(body: bytes, rdflib_format: str) -> Graph:
    dataset = Dataset()
    dataset.parse(data=body, format=rdflib_format)
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def shape_sections(server: LiveServer, lang: str = "en") -> dict[str, str]:
    with server.client() as client:
        page = client.get("/shapes", params={"lang": lang}, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert page.headers["content-location"] == "/shapes.html"
    return Sections(page.text).text


def test_shapes_are_served_as_the_build_checked_them(live_server: LiveServer) -> None:
    expected = load_shapes(shape_files())
    assert len(expected) > 500
    with live_server.client() as client:
        for extension, (media_type, rdflib_format) in FORMATS.items():
            for url, headers in (("/shapes", {"Accept": media_type}), (f"/shapes.{extension}", {})):
                response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, media_type, response.text)
                assert response.headers["content-type"].split(";")[0] == media_type
                assert f'<{BASE}shapes>; rel="canonical"' in response.headers["link"]
                got = served_graph(response.content, rdflib_format)
                assert isomorphic(got, expected), f"{url} as {media_type}: not the shapes"
                revalidate = {**headers, "If-None-Match": response.headers["etag"]}
                again = client.get(url, headers=revalidate)
                assert again.status_code == 304, url
                assert again.content == b""
        # the downloads page points at them, with the figures of the index, which are those
        # of /shapes.ttl: the published file itself
        index = client.get("/dumps/index.json").json()
        downloads = client.get("/dumps/", headers={"Accept": "text/html"}).text
        assert 'href="/shapes.ttl"' in downloads
        assert index["shapes"]["sha256"] in downloads
        assert index["shapes"]["statements"] == len(expected)
        turtle = client.get("/shapes.ttl").content
        assert len(turtle) == index["shapes"]["size"]
        assert hashlib.sha256(turtle).hexdigest() == index["shapes"]["sha256"]
        refused = client.get("/shapes", headers={"Accept": "image/png"})
        assert refused.status_code == 406
        assert "text/turtle" in refused.text
        assert client.get("/shapes.png").status_code == 404


def test_every_rule_of_a_sarif_report_lands_on_its_section(live_server: LiveServer) -> None:
    run = run_cli("validate", "--format", "sarif")
    assert run.returncode == 0, run.stderr
    rules = json.loads(run.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) == len(named_shapes(load_shapes(shape_files())))
    sections = shape_sections(live_server)
    for rule in rules:
        document, _, anchor = rule["helpUri"].partition("#")
        assert document == BASE + "shapes", rule
        assert anchor in sections, f"{rule['helpUri']}: no section with that id"
        text = " ".join(sections[anchor].split())
        assert rule["id"] in text
        assert " ".join(rule["fullDescription"]["text"].split()) in text
    french = shape_sections(live_server, "fr")
    assert french.keys() == sections.keys()
    assert "obligatoire" in french["FrenchLabel"]
    assert "required" in sections["FrenchLabel"]
    # what a shape applies to is said in the page's language too
    by_subject = [anchor for anchor, text in sections.items() if "subjects of " in text]
    assert by_subject
    assert all("sujets de " in french[a] and "subjects of" not in french[a] for a in by_subject)


def test_each_build_serves_its_own_shapes_and_a_failed_one_changes_nothing(
    tmp_path: Path,
) -> None:
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    environment = {"SANTECYBER_SHAPES": str(shapes)}
    build_dir = tmp_path / "build"

    def build() -> int:
        return run_cli("build", "--build-dir", build_dir, env=environment).returncode

    def published() -> str:
        return json.loads((build_dir / "dumps" / "index.json").read_text())["shapes"]["sha256"]

    assert build() == 0
    first = published()
    assert build() == 0
    assert published() == first, "the same shapes give the same bytes (and ETag)"
    server = start_server(build_dir, tmp_path / "server.log")
    try:
        before = shape_sections(server)
        assert "EveryFacilityNamed" not in before
        # a shape every record passes: the next build serves it, no restart
        passing = EXTRA_SHAPE.format(name="EveryFacilityNamed", label="At most 2 labels", most=2)
        (shapes / "extra.ttl").write_text(passing, encoding="utf-8")
        assert build() == 0
        after = shape_sections(server)
        assert after.keys() == before.keys() | {"EveryFacilityNamed"}
        assert "At most 2 labels" in after["EveryFacilityNamed"]
        # a shape every facility breaks: the build fails, and the served shapes stay
        failing = EXTRA_SHAPE.format(name="NoFacilityLabel", label="No label", most=0)
        (shapes / "extra.ttl").write_text(failing, encoding="utf-8")
        changed = published()
        assert changed != first
        assert build() == 1
        assert shape_sections(server).keys() == after.keys()
        assert published() == changed
    finally:
        stop_server(server)


def test_a_build_that_skips_broken_shapes_publishes_none_and_answers_404(tmp_path: Path) -> None:
    """--skip-validation does not fail on shapes that do not load (it did not use them before
    shapes were published); such a build has no shapes to serve: a clear 404, not a 500."""
    build_dir = tmp_path / "build"
    missing = {"SANTECYBER_SHAPES": str(tmp_path / "no-shapes")}
    built = run_cli("build", "--build-dir", build_dir, "--skip-validation", env=missing)
    assert built.returncode == 0, built.stderr
    assert "shapes" not in json.loads((build_dir / "dumps" / "index.json").read_text())
    server = start_server(build_dir, tmp_path / "server.log")
    try:
        with server.client() as client:
            for path in ("/shapes", "/shapes.ttl", "/shapes.html"):
                response = client.get(path)
                assert response.status_code == 404, path
                assert "the build in service published no shapes" in response.text
    finally:
        stop_server(server)
