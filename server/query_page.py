"""The browser query page at ``/``: an editor, the named queries, results as a table.

The page is plain HTML with one small script (static/query.js) that runs the query through
``POST /sparql``; nothing is loaded from other sites. ``install_query_page`` wires it into the
app: the ``/`` route and ``app.state.query_page`` (used by ``GET /sparql`` when a browser asks
for HTML without a query); ``/static`` is served by the linked-data router.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from santecyber import __version__
from santecyber.named_queries import NamedQuery, named_queries
from santecyber.namespaces import PREFIXES, sparql_prefixes
from santecyber.server.linked_data import LinkedDataRoute
from santecyber.server.negotiation import negotiate_language

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
LANGUAGES = ("fr", "en")

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

#: interface text, by language; keys ending in ``_js`` are also handed to the script
UI_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Requêtes SPARQL — santecyber",
        "heading": "Interroger le graphe",
        "intro": "Cyberattaques contre la santé en France : écrivez une requête SPARQL "
        "ou partez d'un exemple.",
        "examples": "Requêtes d'exemple",
        "choose": "— choisir —",
        "editor": "Requête",
        "run": "Exécuter",
        "shortcut": "Ctrl+Entrée pour exécuter",
        "results": "Résultats",
        "endpoint": "Point d'accès SPARQL 1.1 :",
        "site_nav": "Site",
        "attacks": "Attaques",
        "browse": "Parcourir",
        "dumps": "Exports",
        "other_language": "English",
        "running_js": "Exécution…",
        "rows_js": "{n} ligne(s) en {ms} ms",
        "triples_js": "{n} triplet(s) en {ms} ms",
        "shown_js": "{shown} premières affichées : téléchargez pour tout voir.",
        "truncated_js": "Résultats tronqués par le serveur.",
        "empty_js": "Aucun résultat.",
        "error_js": "Erreur",
        "at_js": "ligne {line}, colonne {column}",
        "true_js": "vrai",
        "false_js": "faux",
        "download_js": "Télécharger :",
        "share_js": "Lien vers cette requête",
        "network_js": "Le serveur ne répond pas.",
    },
    "en": {
        "title": "SPARQL queries — santecyber",
        "heading": "Query the graph",
        "intro": "Cyberattacks on French healthcare: write a SPARQL query or start from an "
        "example.",
        "examples": "Example queries",
        "choose": "— choose —",
        "editor": "Query",
        "run": "Run",
        "shortcut": "Ctrl+Enter to run",
        "results": "Results",
        "endpoint": "SPARQL 1.1 endpoint:",
        "site_nav": "Site",
        "attacks": "Attacks",
        "browse": "Browse",
        "dumps": "Dumps",
        "other_language": "Français",
        "running_js": "Running…",
        "rows_js": "{n} row(s) in {ms} ms",
        "triples_js": "{n} triple(s) in {ms} ms",
        "shown_js": "First {shown} shown: download to see them all.",
        "truncated_js": "Results truncated by the server.",
        "empty_js": "No results.",
        "error_js": "Error",
        "at_js": "line {line}, column {column}",
        "true_js": "true",
        "false_js": "false",
        "download_js": "Download:",
        "share_js": "Link to this query",
        "network_js": "The server does not answer.",
    },
}


def describe_query(query: NamedQuery, lang: str) -> dict[str, str]:
    """What the picker shows of a named query, in ``lang`` (the other language as fallback)."""
    header = query.header

    def pick(key: str) -> str:
        french, english = header.get(f"{key}-fr"), header.get(key)
        first, second = (french, english) if lang == "fr" else (english, french)
        return first or second or ""

    return {
        "name": query.name,
        "title": pick("title") or query.name,
        "question": pick("question"),
        "text": query.text,
    }


def render_query_page(request: Request) -> Response:
    """The query page; ``?query=`` pre-fills the editor (and the script runs it)."""
    lang = negotiate_language(request, LANGUAGES)
    text = UI_TEXT[lang]
    query = request.query_params.get("query")
    examples = [describe_query(q, lang) for q in named_queries().values()]
    other = "en" if lang == "fr" else "fr"
    switch = {"lang": other, **({"query": query} if query else {})}
    html = _environment.get_template("query.html").render(
        lang=lang,
        other_lang=other,
        switch_params=switch,
        text=text,
        script_text={k.removesuffix("_js"): v for k, v in text.items() if k.endswith("_js")},
        query=query if query is not None else sparql_prefixes() + "\n",
        run_now=bool(query),
        examples=examples,
        prefixes=PREFIXES,
        version=__version__,
    )
    return HTMLResponse(html, headers={"Vary": "Accept, Accept-Language"})


def query_page_router() -> APIRouter:
    """The ``/`` route (answering OPTIONS and refusing near-miss paths as the linked data does)."""
    router = APIRouter(route_class=LinkedDataRoute)

    @router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def query_page(request: Request) -> Response:
        return render_query_page(request)

    return router


def install_query_page(app: FastAPI) -> None:
    """Serve the page at ``/`` and offer it to /sparql (its script and styles are served
    under ``/static`` by the linked-data router, with the site's stylesheet)."""
    app.state.query_page = render_query_page
    app.include_router(query_page_router())
