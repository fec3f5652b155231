"""The HTML pages on the live server, read back as a DOM and checked against the store: French
and English, facts with their sources, conflicting claims, timelines, links in and out, the
index with its chart, schema.org JSON-LD; and chromium's rendering of a few of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import browser
import pyoxigraph as ox
import pytest
from conftest import LiveServer, start_server, stop_server
from html_tree import Node, parse_html

from santecyber.namespaces import BASE
from santecyber.store import BuildDirectory

SC = BASE + "ontology#"
SCHEMA = "http://schema.org/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"


def squash(text: str) -> str:
    return " ".join(text.split())


# --- the store ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(built: BuildDirectory) -> Iterator[ox.Store]:
    memory = ox.Store()
    memory.bulk_load(input=built.dump.read_bytes(), format=ox.RdfFormat.N_QUADS)
    yield memory


def rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    result = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def label(store: ox.Store, iri: str, lang: str) -> str:
    found = rows(
        store,
        f"""SELECT ?l WHERE {{ <{iri}> <{RDFS_LABEL}>|<{SKOS_PREF}> ?l
        FILTER(LANG(?l) = "{lang}") }}""",
    )
    assert found, f"no {lang} label for {iri}"
    return found[0]["l"]


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE) :]


def page(client: object, iri: str, lang: str = "fr") -> Node:
    response = client.get(path_of(iri), headers={"Accept": "text/html"}, params={"lang": lang})  # type: ignore[attr-defined]
    assert response.status_code == 200, iri
    return parse_html(response.text)


# --- languages ------------------------------------------------------------------------------


def test_pages_speak_french_and_english(live_server: LiveServer, store: ox.Store) -> None:
    iri = f"{BASE}id/facility/chu-rennes"
    with live_server.client() as client:
        cases = [
            ({"Accept-Language": "en-GB,en;q=0.9"}, {}, "en"),
            ({"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}, {}, "fr"),
            ({}, {}, "fr"),
            ({"Accept-Language": "fr"}, {"lang": "en"}, "en"),
            ({"Accept-Language": "en"}, {"lang": "fr"}, "fr"),
            ({"Accept-Language": "de, en;q=0.5"}, {}, "en"),
        ]
        for headers, params, lang in cases:
            response = client.get(
                path_of(iri), headers={"Accept": "text/html", **headers}, params=params
            )
            assert response.status_code == 200
            assert response.headers["content-language"] == lang
            assert "Accept-Language" in response.headers["vary"]
            document = parse_html(response.text)
            assert document.first("html").attrs["lang"] == lang
            assert squash(document.first("h1").text()) == label(store, iri, lang)
            switch = [a for a in document.all("a") if a.attrs.get("hreflang")]
            other = "en" if lang == "fr" else "fr"
            assert switch and switch[0].attrs["href"].endswith(f"?lang={other}")


def test_text_in_another_language_is_marked(live_server: LiveServer, store: ox.Store) -> None:
    """English notes on a French page carry lang="en", so they are read as English."""
    attack = f"{BASE}id/attack/2024-10-hospi-grand-ouest"
    notes = rows(
        store,
        f"""SELECT DISTINCT ?note WHERE {{
        ?part <http://www.w3.org/2000/01/rdf-schema#comment> ?note
        FILTER(STRSTARTS(STR(?part), "{attack}#") && LANG(?note) = "en") }}""",
    )
    assert notes
    with live_server.client() as client:
        document = page(client, attack, "fr")
    marked = {squash(node.text()) for node in document.all(lang="en")}
    for row in notes:
        assert squash(row["note"]) in marked


def test_links_keep_the_chosen_language(live_server: LiveServer) -> None:
    with live_server.client() as client:
        document = page(client, f"{BASE}id/attack/2024-10-hospi-grand-ouest", "en")
    local = [
        a.attrs["href"]
        for a in document.first("main").all("a")
        if a.attrs.get("href", "").startswith(("/id/", "/graph/", "/vocab/"))
        and not urlsplit(a.attrs["href"]).path.endswith(
            (".ttl", ".nt", ".jsonld", ".rdf", ".trig", ".nq")
        )
    ]
    assert len(local) > 10
    assert all("lang=en" in urlsplit(href).query for href in local), local


@pytest.mark.parametrize(
    ("path", "status"),
    [("/void", 200), ("/dumps/", 200), ("/id/facility/", 200), ("/id/facility/nope", 404)],
)
def test_the_language_switch_and_the_menu_stay_on_the_page(
    live_server: LiveServer, path: str, status: int
) -> None:
    """The other language of a page is that page (the VoID, dumps and 404 pages once
    switched to /id/), and every link of the menu keeps the language."""
    with live_server.client() as client:
        response = client.get(path, headers={"Accept": "text/html"}, params={"lang": "en"})
    assert response.status_code == status
    document = parse_html(response.text)
    switch = [a for a in document.all("a") if a.attrs.get("hreflang") == "fr"]
    assert [a.attrs["href"] for a in switch] == [f"{path}?lang=fr"]
    menu = [a.attrs["href"] for a in document.first("nav").all("a") if a not in switch]
    assert len(menu) > 4 and all("lang=en" in urlsplit(href).query for href in menu), menu


# --- facts, sources, conflicts, timelines ---------------------------------------------------


def publishers_by_graph(store: ox.Store) -> dict[str, str]:
    found = rows(
        store,
        f"""SELECT ?g ?name WHERE {{
        GRAPH ?g {{ ?g <http://www.w3.org/ns/prov#wasDerivedFrom> ?source }}
        ?source <{SCHEMA}publisher>/<{SCHEMA}name> ?name }}""",
    )
    return {row["g"]: row["name"] for row in found}


def test_conflicting_start_dates_shown_side_by_side(
    live_server: LiveServer, store: ox.Store
) -> None:
    """Corbeil-Essonnes: each start-date claim with the sources that make it."""
    attack = f"{BASE}id/attack/2022-08-corbeil-essonnes"
    publishers = publishers_by_graph(store)
    claims: dict[str, set[str]] = {}
    for row in rows(
        store, f"SELECT ?d ?g WHERE {{ GRAPH ?g {{ <{attack}> <{SCHEMA}startDate> ?d }} }}"
    ):
        claims.setdefault(row["d"], set()).add(publishers[row["g"]])
    assert len(claims) == 2  # the records keep both claims
    with live_server.client() as client:
        for lang in ("fr", "en"):
            document = page(client, attack, lang)
            conflict_rows = document.all("tr", class_="conflict")
            assert len(conflict_rows) == 1
            shown = {}
            for claim in conflict_rows[0].all("div", class_="claim"):
                value = squash(claim.first("p", class_="claim-value").text())
                names = {squash(a.text()) for a in claim.first("ul", class_="sources").all("a")}
                shown[value] = names
            for value, names in claims.items():
                assert value in shown
                assert names <= shown[value], (value, shown[value])


def test_every_fact_names_its_source(live_server: LiveServer, store: ox.Store) -> None:
    attacks = [r["a"] for r in rows(store, f"SELECT DISTINCT ?a WHERE {{ ?a a <{SC}Attack> }}")]
    publishers = publishers_by_graph(store)
    with live_server.client() as client:
        for attack in attacks:
            document = page(client, attack)
            facts = document.first("table", class_="facts")
            for row in facts.first("tbody").all("tr"):
                assert row.all("ul", class_="sources"), (attack, squash(row.text()))
            graphs = {
                r["g"]
                for r in rows(
                    store, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{attack}> ?p ?o }} }}"
                )
            }
            text = squash(facts.text())
            for graph in graphs & set(publishers):
                assert publishers[graph] in text, (attack, graph)


def test_attacks_show_a_timeline_with_precision(live_server: LiveServer, store: ox.Store) -> None:
    found = rows(
        store,
        # the attack's own dates, and those of its parts (an authority's action)
        f"""SELECT ?a ?q ?value ?precision WHERE {{
        ?a a <{SC}Attack> .
        {{ ?a <{SC}dateQualification> ?q }}
        UNION {{ ?a ?has ?part . ?part <{SC}dateQualification> ?q
                FILTER(STRSTARTS(STR(?part), CONCAT(STR(?a), "#"))) }}
        ?q <{SC}dateValue> ?value ; <{SC}datePrecision> ?precision }}""",
    )
    assert found
    expected: dict[str, set[tuple[str, str, str]]] = {}
    for row in found:
        expected.setdefault(row["a"], set()).add(
            (row["q"], row["value"], label(store, row["precision"], "en"))
        )
    with live_server.client() as client:
        for attack, dates in expected.items():
            document = page(client, attack, "en")
            timeline = document.first("ol", class_="timeline")
            entries = [squash(li.text()) for li in timeline.children if isinstance(li, Node)]
            assert len(entries) == len(dates), attack
            for _, value, precision in dates:
                assert any(e.startswith(value) and f"Precision: {precision}" in e for e in entries)


def test_links_to_a_part_land_on_it(live_server: LiveServer, store: ox.Store) -> None:
    """Every link to ``page#part`` (a date, an address…) finds an element with that id on
    the page; dates on the timeline once had none, so their links landed at the top."""
    subjects = rows(store, "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }")
    documents = {path_of(r["s"].split("#")[0]) for r in subjects if r["s"].startswith(BASE)}
    fragments: dict[str, set[str]] = {}  # page path → the ids links ask for
    ids: dict[str, set[str]] = {}
    with live_server.client() as client:
        for path in sorted(documents):
            response = client.get(path, headers={"Accept": "text/html"}, params={"lang": "en"})
            if response.status_code != 200:  # graphs and the ontology: not all are pages
                continue
            document = parse_html(response.text)
            ids[path] = {node.attrs["id"] for node in document.all() if "id" in node.attrs}
            for link in document.all("a"):
                target = urlsplit(link.attrs.get("href", ""))
                if target.fragment and target.path in documents:
                    fragments.setdefault(target.path, set()).add(target.fragment)
    assert any(f.startswith("date-") for found in fragments.values() for f in found)
    missing = {p: found - ids.get(p, set()) for p, found in fragments.items()}
    missing = {p: found for p, found in missing.items() if found}
    assert not missing, missing


def test_facilities_operators_vendors_link_both_ways(
    live_server: LiveServer, store: ox.Store
) -> None:
    pairs = {
        "target": rows(store, f"SELECT ?from ?to WHERE {{ ?from <{SC}target> ?to }}"),
        "operatedBy": rows(store, f"SELECT ?from ?to WHERE {{ ?from <{SC}operatedBy> ?to }}"),
        "involvedVendor": rows(
            store, f"SELECT ?from ?to WHERE {{ ?from <{SC}involvedVendor> ?to }}"
        ),
        "publisher": rows(store, f"SELECT ?from ?to WHERE {{ ?from <{SCHEMA}publisher> ?to }}"),
    }
    assert all(pairs.values()), pairs
    pages: dict[str, set[str]] = {}
    with live_server.client() as client:
        for links in pairs.values():
            for row in links:
                for iri in (row["from"], row["to"]):
                    if iri not in pages:
                        pages[iri] = page(client, iri).links()
    for name, links in pairs.items():
        for row in links:
            assert path_of(row["to"]) in pages[row["from"]], (name, row)
            assert path_of(row["from"]) in pages[row["to"]], (name, row)


def test_a_source_page_shows_everything_it_states(live_server: LiveServer, store: ox.Store) -> None:
    sources = [r["s"] for r in rows(store, f"SELECT ?s WHERE {{ ?s a <{SC}Source> }}")]
    assert len(sources) >= 5
    with live_server.client() as client:
        for source in sources:
            stated = rows(
                store,
                f"""SELECT DISTINCT ?s ?o WHERE {{ GRAPH ?g {{
                ?g <http://www.w3.org/ns/prov#wasDerivedFrom> <{source}> . ?s ?p ?o }} }}""",
            )
            document = page(client, source, "en")
            section = document.first("h2", id="statements")
            assert section is not None
            links = document.links()
            cards = {path_of(r["s"]) for r in stated if r["s"].startswith(BASE)}
            assert cards <= links, cards - links
            headline = rows(store, f"SELECT ?h WHERE {{ <{source}> <{SCHEMA}headline> ?h }}")[0]
            assert squash(headline["h"]) in squash(document.first("body").text())


def test_every_page_embeds_schema_org_json_ld(live_server: LiveServer, store: ox.Store) -> None:
    kinds = {
        f"{BASE}id/facility/chu-rennes": "Hospital",
        f"{BASE}id/attack/2023-06-chu-rennes": "Event",
        f"{BASE}id/source/20minutes-2023-06-22-chu-rennes": "NewsArticle",
        f"{BASE}id/publisher/20-minutes": "NewsMediaOrganization",
        f"{BASE}id/regulator/cnil": "GovernmentOrganization",
        f"{BASE}vocab/attack-kind/ransomware": "DefinedTerm",
    }
    with live_server.client() as client:
        for iri, schema_type in kinds.items():
            document = page(client, iri, "fr")
            scripts = document.all("script")
            assert len(scripts) == 1 and scripts[0].attrs["type"] == "application/ld+json"
            data = json.loads(scripts[0].text())
            assert data["@context"] == "https://schema.org"
            assert data["@type"] == schema_type, iri
            assert data["@id"] == iri
            assert data["name"] == squash(document.first("h1").text())
            assert document.first("html").attrs["lang"] == "fr"
    started = rows(
        store, f"SELECT ?d WHERE {{ <{BASE}id/attack/2023-06-chu-rennes> <{SCHEMA}startDate> ?d }}"
    )
    with live_server.client() as client:
        data = json.loads(
            page(client, f"{BASE}id/attack/2023-06-chu-rennes").first("script").text()
        )
    assert data["startDate"] in {r["d"] for r in started}
    targets = rows(
        store,
        f"""SELECT ?t WHERE {{ <{BASE}id/attack/2023-06-chu-rennes> <{SC}target> ?t }}""",
    )
    assert {place["@id"] for place in data["location"]} == {r["t"] for r in targets}
    address = rows(
        store,
        f"""SELECT ?city ?region WHERE {{ <{BASE}id/facility/chu-rennes> <{SCHEMA}address> ?a .
        ?a <{SCHEMA}addressLocality> ?city ; <{SC}region> ?region }}""",
    )[0]
    with live_server.client() as client:
        facility = page(client, f"{BASE}id/facility/chu-rennes").first("script").text()
    assert json.loads(facility)["address"]["addressLocality"] == address["city"]
    assert json.loads(facility)["address"]["addressRegion"] == address["region"]


def test_every_other_page_embeds_json_ld_too(live_server: LiveServer) -> None:
    expected = {
        "/id/": "Dataset",
        "/id/facility/": "CollectionPage",
        "/void": "WebPage",
        "/dumps/": "CollectionPage",
        "/id/facility/no-such-place": "WebPage",
    }
    with live_server.client() as client:
        for path, schema_type in expected.items():
            response = client.get(path, headers={"Accept": "text/html"})
            document = parse_html(response.text)
            scripts = document.all("script")
            assert len(scripts) == 1 and scripts[0].attrs["type"] == "application/ld+json"
            data = json.loads(scripts[0].text())
            assert data["@context"] == "https://schema.org" and data["@type"] == schema_type
            assert document.first("html").attrs["lang"] in ("fr", "en")
            assert document.first("h1").text().strip()
        dataset = json.loads(parse_html(client.get("/id/").text).first("script").text())
        assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
        downloads = [d["contentUrl"] for d in dataset["distribution"]]
        assert f"{live_server.url}/dumps/santecyber.nq.gz" in downloads
        for url in downloads:
            assert client.head(url).status_code == 200


# --- index pages ----------------------------------------------------------------------------


def test_index_has_a_timeline_and_a_chart_by_year_and_region(
    live_server: LiveServer, store: ox.Store
) -> None:
    attacks = rows(store, f"SELECT DISTINCT ?a WHERE {{ ?a a <{SC}Attack> }}")
    dated = rows(
        store,
        f"""SELECT ?a (MIN(SUBSTR(STR(?d), 1, 4)) AS ?year) WHERE {{
        ?a a <{SC}Attack> ; <{SCHEMA}startDate>|<{SC}disclosureDate>|<{SC}detectionDate> ?d }}
        GROUP BY ?a""",
    )
    per_year: dict[str, int] = {}
    for row in dated:
        per_year[row["year"]] = per_year.get(row["year"], 0) + 1
    with live_server.client() as client:
        response = client.get("/id/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    document = parse_html(response.text)
    links = document.links()
    for row in attacks:
        assert path_of(row["a"]) in links
    svg = document.first("svg")
    counted: dict[str, int] = {}
    for rect in svg.all("rect"):
        title = squash(rect.first("title").text())  # "2023 — Bretagne: 2"
        year = title.split(" ")[0]
        counted[year] = counted.get(year, 0) + int(title.rsplit(":", 1)[1])
    assert counted == per_year
    years = {squash(h.text()) for h in document.all("h3")}
    assert set(per_year) <= years


def test_kind_lists_name_every_resource(live_server: LiveServer, store: ox.Store) -> None:
    with live_server.client() as client:
        for kind, cls in (
            ("facility", "CareFacility"),
            ("source", "Source"),
            ("vendor", "SoftwareVendor"),
        ):
            expected = {
                path_of(r["s"]) for r in rows(store, f"SELECT ?s WHERE {{ ?s a <{SC}{cls}> }}")
            }
            response = client.get(f"/id/{kind}/")
            assert response.status_code == 200
            assert expected and expected <= parse_html(response.text).links()
        assert client.get("/id/no-such-kind/").status_code == 404
        schemes = {
            path_of(r["s"])
            for r in rows(
                store,
                "SELECT ?s WHERE { ?s a <http://www.w3.org/2004/02/skos/core#ConceptScheme> }",
            )
        }
        assert len(schemes) >= 10
        assert schemes <= parse_html(client.get("/vocab/").text).links()
        graphs = {path_of(r["g"]) for r in rows(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")}
        assert graphs and graphs <= parse_html(client.get("/graph/").text).links()
        assert client.get("/graph/", headers={"Accept": "text/turtle"}).status_code == 406


# --- paginated index pages ------------------------------------------------------------------

CROWD = 230  # more than two pages of 100 in every listing below
CAP = 50  # the crowded server's SANTECYBER_MAX_RESULTS
HOSTILE_LABEL = '<script>alert("page")</script>'


def crowded_nquads() -> bytes:
    """CROWD facilities (some with the same label, one hostile), CROWD attacks with dates, each
    stated in a source graph of its own: listings of two pages and more."""
    lines = []
    for n in range(CROWD):
        graph = f"<{BASE}graph/source/crowd-{n:03d}>"
        facility = f"<{BASE}id/facility/crowd-{n:03d}>"
        attack = f"<{BASE}id/attack/2020-01-crowd-{n:03d}>"
        name = HOSTILE_LABEL if n == 7 else f"Centre {n % 50}"  # ties broken by IRI
        lines += [
            f"{facility} <{RDF_TYPE}> <{SC}CareFacility> {graph} .",
            f"{facility} <{RDFS_LABEL}> {json.dumps(name)}@fr {graph} .",
            f"{attack} <{RDF_TYPE}> <{SC}Attack> {graph} .",
            f'{attack} <{RDFS_LABEL}> "Attaque {n}"@fr {graph} .',
            f'{attack} <{SCHEMA}startDate> "20{10 + n % 12}-0{1 + n % 9}-01" {graph} .',
        ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("crowded-build")
    nquads = crowded_nquads()
    directory = BuildDirectory(root)
    directory.write_store("crowded", nquads)
    directory.publish("crowded", nquads)
    # a result cap below the crowd: analysts' queries are cut at it, the pages list everything
    server = start_server(root, root / "server.log", {"SANTECYBER_MAX_RESULTS": str(CAP)})
    yield server
    stop_server(server)


def test_the_result_cap_cuts_queries_not_pages(crowded_server: LiveServer) -> None:
    query = f"SELECT ?f WHERE {{ ?f a <{SC}CareFacility> }}"
    with crowded_server.client() as client:
        answer = client.get("/sparql", params={"query": query, "format": "json"})
    assert answer.headers["x-santecyber-truncated"] == "true"
    assert len(answer.json()["results"]["bindings"]) == CAP < CROWD


def listed(page: Node, path_prefix: str) -> list[str]:
    """The resources a listing page links to, in page order (not the navigation)."""
    main = page.first("main")
    found = [urlsplit(a.attrs["href"]).path for a in main.all("a")]
    return [path for path in found if path.startswith(path_prefix) and path != path_prefix]


@pytest.mark.parametrize(
    ("listing", "prefix", "member"),
    [
        ("/id/facility/", "/id/facility/", "/id/facility/crowd-{n:03d}"),
        ("/id/attack/", "/id/attack/", "/id/attack/2020-01-crowd-{n:03d}"),
        ("/graph/", "/graph/", "/graph/source/crowd-{n:03d}"),
    ],
)
def test_index_pages_are_cut_into_pages_that_cover_everything_once(
    crowded_server: LiveServer, listing: str, prefix: str, member: str
) -> None:
    expected = {member.format(n=n) for n in range(CROWD)}
    pages: list[list[str]] = []
    with crowded_server.client() as client:
        url: str | None = listing + "?lang=en"
        while url is not None:
            response = client.get(url, headers={"Accept": "text/html"})
            assert response.status_code == 200, response.text
            document = parse_html(response.text)
            pages.append(listed(document, prefix))
            number = len(pages)
            pager = squash(document.first("nav", class_="pager").text())
            first, last = (number - 1) * 100 + 1, min(CROWD, number * 100)
            assert f"Page {number} of 3 — {first} to {last} of {CROWD}" in pager
            heads = {link.attrs["rel"]: link.attrs["href"] for link in document.all("link")}
            header = response.headers["link"]
            url = heads.get("next")
            assert (url is None) == (number == 3)
            if url is not None:
                assert f'<{url}>; rel="next"' in header
                assert document.first("a", rel="next").attrs["href"] == url
            assert "lang=en" in heads["last"] and "page=3" in heads["last"]
            switch = document.first("a", hreflang="fr").attrs["href"]  # same page, in French
            assert switch == listing + ("?lang=fr" if number == 1 else f"?page={number}&lang=fr")
        again = client.get(listing + "?page=2&lang=en", headers={"Accept": "text/html"})
    assert [len(page) for page in pages] == [100, 100, CROWD - 200]
    assert set(pages[0]).isdisjoint(pages[1]) and set(pages[1]).isdisjoint(pages[2])
    assert set(pages[0]) | set(pages[1]) | set(pages[2]) == expected
    assert listed(parse_html(again.text), prefix) == pages[1]  # the same slice every time


def test_index_pages_keep_hostile_labels_as_text(crowded_server: LiveServer) -> None:
    with crowded_server.client() as client:
        pages = [client.get(f"/id/facility/?page={n}").text for n in (1, 2, 3)]
    assert not any("<script>alert" in page for page in pages)
    escaped = "&lt;script&gt;alert(&#34;page&#34;)&lt;/script&gt;"
    assert sum(page.count(escaped) for page in pages) == 1


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "", "4", "99999999999"])
def test_a_page_that_is_not_one_is_400_naming_the_parameter(
    crowded_server: LiveServer, value: str
) -> None:
    with crowded_server.client() as client:
        for listing in ("/id/facility/", "/graph/", "/id/"):
            response = client.get(listing, params={"page": value})
            assert response.status_code == 400, (listing, value)
            assert "parameter 'page'" in response.text
        twice = client.get("/graph/?page=1&page=2")
        huge = client.get("/graph/?page=9999999999")
        past = client.get("/graph/?page=4")
    assert twice.status_code == 400 and "more than once" in twice.text
    # a number too large is one, past the end: said so, not "not a page number"
    assert huge.status_code == 400 and "page 9999999999 is past the last page" in huge.text
    assert past.status_code == 400 and "page 4 is past the last page, 3" in past.text


def test_the_index_timeline_is_paginated_with_the_whole_chart(crowded_server: LiveServer) -> None:
    with crowded_server.client() as client:
        first, second = (
            parse_html(client.get("/id/", params={"page": n, "lang": "en"}).text) for n in (1, 2)
        )
    shown = [listed(page, "/id/attack/") for page in (first, second)]
    assert [len(links) for links in shown] == [100, 100]
    assert set(shown[0]).isdisjoint(shown[1])
    for page in (first, second):  # the chart counts every attack, on every page
        titles = [squash(rect.first("title").text()) for rect in page.first("svg").all("rect")]
        assert sum(int(title.rsplit(":", 1)[1]) for title in titles) == CROWD
        assert len(page.first("svg").all("line")) <= 10  # a few ticks, whatever the counts


# --- nothing from other sites --------------------------------------------------------------


def test_no_page_loads_assets_from_another_site(live_server: LiveServer) -> None:
    """FastAPI's /docs and /redoc pull Swagger UI and ReDoc from a CDN (blank under our own
    CSP, and against the rule of no asset from another site): they are off; the OpenAPI
    document itself stays."""
    with live_server.client() as client:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            response = client.get(path, headers={"Accept": "text/html"})
            assert response.status_code == 404, path
            assert "cdn." not in response.text and "<script" not in response.text
        schema = client.get("/openapi.json")
        assert schema.status_code == 200
        assert schema.headers["content-type"].startswith("application/json")
        assert "/sparql" in schema.json()["paths"]
        for path in ("/", "/id/", "/void", "/dumps/", "/id/facility/chu-rennes"):
            page = client.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 200, path
            tree = parse_html(page.text)
            assets = [node.attrs.get("src") for node in tree.all("script") + tree.all("img")]
            assets += [node.attrs.get("href") for node in tree.all("link", rel="stylesheet")]
            assert all(not a or (a[0] == "/" and a[:2] != "//") for a in assets), (path, assets)


# --- chromium -------------------------------------------------------------------------------


@pytest.mark.browser
def test_pages_render_in_chromium(
    live_server: LiveServer, store: ox.Store, artifacts: Path
) -> None:
    browser.require_chromium()
    shots = {
        "linked-data-attack-corbeil-en": (f"{BASE}id/attack/2022-08-corbeil-essonnes", "en"),
        "linked-data-facility-rennes-fr": (f"{BASE}id/facility/chu-rennes", "fr"),
    }
    for name, (iri, lang) in shots.items():
        url = f"{live_server.url}{path_of(iri)}.html?lang={lang}"
        rendered = parse_html(browser.dump_dom(url))
        assert squash(rendered.first("h1").text()) == label(store, iri, lang)
        assert rendered.first("html").attrs["lang"] == lang
        browser.screenshot(url, artifacts / f"{name}.png")
    index = parse_html(browser.dump_dom(f"{live_server.url}/id/?lang=en"))
    assert squash(index.first("h1").text()).startswith("santecyber")
    assert index.first("svg").all("rect")
    browser.screenshot(f"{live_server.url}/id/?lang=en", artifacts / "linked-data-index-en.png")
