"""The browser query page at ``/``: served HTML (httpx) and the page after its script ran
(Debian's chromium, headless), checked against what the store answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode

import browser  # tests/browser.py: installs chromium when missing
import pyoxigraph as ox
import pytest
from html_tree import Node, parse_html

from santecyber.named_queries import named_queries
from santecyber.namespaces import BASE, sparql_prefixes
from santecyber.query_policy import QuerySyntaxError
from santecyber.sparql import run_query

FALLBACK_QUERY = """PREFIX sc: <https://w3id.org/santecyber/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?attack ?label WHERE { ?attack a sc:Attack ; rdfs:label ?label } ORDER BY ?attack ?label
"""


def editor_text(page: Node) -> str:
    """The editor's content: an HTML parser drops the newline that opens a textarea."""
    return page.by_id("query").text().removeprefix("\n")


# --- chromium (tests/browser.py) ---------------------------------------------------------


@pytest.fixture()
def devtools() -> Iterator[browser.DevTools]:
    session = browser.DevTools()
    yield session
    session.close()


# --- expectations from the store ----------------------------------------------------------


def browser_query() -> str:
    """The text of queries/01-*.rq, or a plain SELECT of attacks and labels."""
    firsts = [q for name, q in named_queries().items() if name.startswith("01-")]
    return firsts[0].text if firsts else FALLBACK_QUERY


def expected_cell(term: ox.NamedNode | ox.Literal | ox.BlankNode | None) -> tuple[str, str | None]:
    """(shown value, link) the page should render for a term; our IRIs link to this host."""
    if term is None:
        return ("", None)
    if isinstance(term, ox.NamedNode):
        iri = term.value
        return ("", "/" + iri.removeprefix(BASE) if iri.startswith(BASE) else iri)
    if isinstance(term, ox.Literal):
        return (term.value, None)
    return ("_:", None)


def rendered_cell(td: Node) -> tuple[str, str | None]:
    links = td.all("a", class_="iri")
    if links:
        return ("", links[0].attrs["href"])
    values = td.all("span", class_="value")
    if values:
        return (values[0].text(), None)
    return ("_:" if td.all("span", class_="bnode") else "", None)


# --- the served page ----------------------------------------------------------------------


def test_page_offers_prefixes_and_named_queries(live_server):
    with live_server.client() as client:
        response = client.get("/", params={"lang": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse_html(response.text)
    assert page.all("html")[0].attrs["lang"] == "en"
    assert editor_text(page) == sparql_prefixes() + "\n"
    assert page.all("label", **{"for": "query"})
    queries = named_queries()
    assert queries, "queries/ holds no named query"
    options = page.by_id("examples").all("option")
    assert [o.attrs["value"] for o in options[1:]] == list(queries)
    data = json.loads(page.by_id("page-data").text())
    for (name, query), option, example in zip(
        queries.items(), options[1:], data["examples"], strict=True
    ):
        assert option.text() == query.header.get("title", name)
        assert example["text"] == query.text
        assert example["question"] == query.header.get("question", "")
    # the site links in the header lead somewhere
    with live_server.client() as client:
        for link in page.all("header")[0].all("a"):
            assert client.get(link.attrs["href"]).status_code == 200, link.attrs["href"]
    # every asset is ours: no other site is asked for anything
    for node in page.iter():
        for attribute in ("src", "href"):
            target = node.attrs.get(attribute, "")
            assert not target.startswith(("http:", "https:", "//")), target


def test_page_speaks_french_or_english(live_server):
    with live_server.client() as client:
        french = parse_html(client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).text)
        english = parse_html(client.get("/", headers={"Accept-Language": "en-GB, fr;q=0.5"}).text)
    assert french.all("html")[0].attrs["lang"] == "fr"
    assert english.all("html")[0].attrs["lang"] == "en"
    assert french.by_id("run").text() == "Exécuter"
    assert english.by_id("run").text() == "Run"
    for name, query in named_queries().items():
        title_fr = query.header.get("title-fr") or query.header.get("title", name)
        assert title_fr in [o.text() for o in french.by_id("examples").all("option")]


def test_query_parameter_prefills_the_editor(live_server):
    query = 'SELECT * WHERE { ?s ?p "<b>&" } LIMIT 1\n'
    with live_server.client() as client:
        response = client.get("/", params={"query": query})
    page = parse_html(response.text)
    assert editor_text(page) == query
    assert json.loads(page.by_id("page-data").text())["run"] is True
    assert "<b>&" not in response.text.split("<textarea", 1)[1].split("</textarea>")[0]


def test_sparql_without_query_shows_the_page_to_browsers(live_server):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    with live_server.client() as client:
        response = client.get("/sparql", headers={"Accept": accept, "Accept-Language": "en"})
        head = client.head("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse_html(response.text)
    assert editor_text(page) == sparql_prefixes() + "\n"
    assert page.by_id("run").text() == "Run"
    assert head.status_code == 200


# --- the page in a browser ----------------------------------------------------------------


@pytest.mark.browser
def test_browser_runs_shared_query_and_shows_the_store_answer(live_server, store, artifacts):
    query = browser_query()
    result = run_query(store, query)
    assert result.form == "bindings"
    variables = [v.value for v in result.value.variables]
    expected = sorted(
        tuple(expected_cell(solution[v]) for v in variables) for solution in result.value
    )
    assert expected, "the browser query has no answer in the store"

    url = f"{live_server.url}/?{urlencode({'query': query, 'lang': 'en'})}"
    page = parse_html(browser.dump_dom(url))
    assert page.by_id("error").attrs.get("hidden") is not None, page.by_id("error").text()
    table = page.by_id("results-table")
    assert [th.attrs["data-var"] for th in table.all("th")] == variables
    rows = table.all("tbody")[0].all("tr")
    shown = sorted(tuple(rendered_cell(td) for td in tr.all("td")) for tr in rows)
    assert shown == expected
    local = sorted({href for row in shown for _, href in row if href and href.startswith("/id/")})
    assert local
    with live_server.client() as client:  # our IRIs resolve on this host
        for href in local:
            assert client.get(href, headers={"Accept": "text/html"}).status_code == 200, href
    assert page.by_id("status").text().startswith(f"{len(expected)} row(s)")
    share = page.by_id("share")
    assert share.attrs.get("hidden") is None
    path, _, shared = share.attrs["href"].partition("?")
    assert (path, parse_qs(shared)) == ("/", {"query": [query], "lang": ["en"]})
    named = [q for q in named_queries().values() if q.text == query]
    if named:  # the picker shows which named query this is, with its question
        assert page.by_id("question").text() == named[0].header["question"]

    # each download link answers in its format with the same rows
    links = page.by_id("downloads").all("a")
    assert [a.text() for a in links] == ["JSON", "XML", "CSV", "TSV"]
    media_types = [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ]
    with live_server.client() as client:
        for link, media_type in zip(links, media_types, strict=True):
            response = client.get(link.attrs["href"])
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].split(";")[0] == media_type
        answer = client.get(links[0].attrs["href"]).json()
    assert len(answer["results"]["bindings"]) == len(expected)

    browser.screenshot(url, artifacts / "query-page.png", height=1100)


@pytest.mark.browser
def test_browser_shows_syntax_errors_with_their_position(live_server, store, artifacts):
    query = (
        sparql_prefixes()
        + "\nSELECT ?attack WHERE {\n  ?attack a sc:Attack ; sc:target ?x ?y .\n}\n"
    )
    with pytest.raises(QuerySyntaxError) as raised:
        run_query(store, query)
    line, column = raised.value.line, raised.value.column
    assert line > 0

    url = f"{live_server.url}/?{urlencode({'query': query, 'lang': 'fr'})}"
    page = parse_html(browser.dump_dom(url))
    error = page.by_id("error")
    assert error.attrs.get("hidden") is None
    assert "400" in error.text() and "SPARQL" in error.text()
    assert f"ligne {line}, colonne {column}" in error.text()
    assert not page.all(id="results-table")
    browser.screenshot(url, artifacts / "query-page-error.png", height=800)


@pytest.mark.browser
def test_browser_shows_construct_results_as_triples(live_server, store):
    query = (
        "PREFIX sc: <https://w3id.org/santecyber/ontology#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "CONSTRUCT { ?attack rdfs:label ?label } "
        "WHERE { ?attack a sc:Attack ; rdfs:label ?label FILTER(LANG(?label) = 'fr') }"
    )
    result = run_query(store, query)
    expected = sorted(
        (
            ("", "/" + t.subject.value.removeprefix(BASE)),
            ("", t.predicate.value),
            (t.object.value, None),
        )
        for t in result.value
    )
    assert expected

    page = parse_html(browser.dump_dom(f"{live_server.url}/?{urlencode({'query': query})}"))
    table = page.by_id("results-table")
    assert [th.attrs["data-var"] for th in table.all("th")] == [
        "subject",
        "predicate",
        "object",
    ]
    rows = table.all("tbody")[0].all("tr")
    assert sorted(tuple(rendered_cell(td) for td in tr.all("td")) for tr in rows) == expected
    assert all(lang.text() == "@fr" for lang in table.all("span", class_="lang"))
    formats = [a.text() for a in page.by_id("downloads").all("a")]
    assert formats == ["Turtle", "N-Triples", "JSON-LD", "RDF/XML"]


RESULT_ROWS = "document.querySelectorAll('#results-table tbody tr').length"
ANSWERED = "!document.getElementById('error').hidden || !!document.querySelector('#results-table')"


@pytest.mark.browser
def test_ctrl_enter_runs_the_editor_query(live_server, store, devtools):
    query = FALLBACK_QUERY
    expected = len(list(run_query(store, query).value))
    devtools.open(live_server.url + "/?lang=en")
    assert devtools.evaluate("document.getElementById('results').childElementCount") == 0
    devtools.evaluate(
        f"(() => {{ const e = document.getElementById('query'); e.value = {json.dumps(query)};"
        " e.focus(); })()"
    )
    devtools.press_ctrl_enter()
    devtools.wait_for("!!document.querySelector('#results-table')")
    assert devtools.evaluate(RESULT_ROWS) == expected
    assert devtools.evaluate("new URLSearchParams(location.search).get('query')") == query

    def run_with_keyboard(text: str) -> None:
        devtools.evaluate(
            f"(() => {{ const e = document.getElementById('query'); e.value = {json.dumps(text)};"
            " e.focus(); document.getElementById('results').replaceChildren(); })()"
        )
        devtools.press_ctrl_enter()
        devtools.wait_for(ANSWERED + " || !!document.getElementById('boolean')")

    ask = "ASK { ?attack a sc:Attack ; sc:target ?facility }"
    run_with_keyboard(ask)
    shown = devtools.evaluate("document.getElementById('boolean').textContent")
    assert shown == str(bool(run_query(store, ask).value)).lower()

    run_with_keyboard("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert devtools.evaluate("document.getElementById('error').hidden") is False
    message = devtools.evaluate("document.getElementById('error').textContent")
    assert "403" in message and "SERVICE" in message
    assert devtools.evaluate("document.getElementById('downloads').hidden") is True


@pytest.mark.browser
def test_picking_each_named_query_shows_its_answer(live_server, store, devtools):
    queries = named_queries()
    assert queries
    devtools.open(live_server.url + "/?lang=fr")
    for name, query in queries.items():
        result = run_query(store, query.text)
        devtools.evaluate(
            "(() => { document.getElementById('results').replaceChildren();"
            " document.getElementById('error').hidden = true;"
            " const picker = document.getElementById('examples');"
            f" picker.value = {json.dumps(name)};"
            " picker.dispatchEvent(new Event('change', { bubbles: true })); })()"
        )
        devtools.wait_for(ANSWERED + " || !!document.getElementById('boolean')")
        assert devtools.evaluate("document.getElementById('error').hidden"), devtools.evaluate(
            "document.getElementById('error').textContent"
        )
        assert devtools.evaluate("document.getElementById('query').value") == query.text
        question = query.header.get("question-fr") or query.header.get("question", "")
        assert devtools.evaluate("document.getElementById('question').textContent") == question
        if result.form == "boolean":
            shown = devtools.evaluate("document.getElementById('boolean').textContent")
            assert shown == ("vrai" if bool(result.value) else "faux"), name
        else:
            assert devtools.evaluate(RESULT_ROWS) == len(list(result.value)), name
