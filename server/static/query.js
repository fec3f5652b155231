// The query page: runs the editor's query through POST /sparql and shows the answer as a table.
// Everything taken from a result goes into the page as text (textContent), never as markup.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const T = data.text;
  const BASE = "https://w3id.org/santecyber/";
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const MAX_ROWS = 1000;
  const FORMATS = {
    table: [["JSON", "json", "json"], ["XML", "xml", "xml"], ["CSV", "csv", "csv"], ["TSV", "tsv", "tsv"]],
    graph: [["Turtle", "turtle", "ttl"], ["N-Triples", "nt", "nt"], ["JSON-LD", "jsonld", "jsonld"], ["RDF/XML", "rdfxml", "rdf"]],
  };
  const $ = (id) => document.getElementById(id);
  const form = $("query-form"), editor = $("query"), picker = $("examples");
  const question = $("question"), status = $("status"), errorBox = $("error");
  const downloads = $("downloads"), results = $("results"), share = $("share");
  const examples = Object.fromEntries(data.examples.map((e) => [e.name, e]));
  const prefixes = Object.entries(data.prefixes).sort((a, b) => b[1].length - a[1].length);
  const fill = (s, values) => s.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function shortName(iri) {
    for (const [prefix, ns] of prefixes) {
      if (iri.startsWith(ns) && iri.length > ns.length) return prefix + ":" + iri.slice(ns.length);
    }
    return iri;
  }

  // Our IRIs resolve on this host: https://w3id.org/santecyber/id/x -> /id/x here.
  function iriNode(iri) {
    if (!/^https?:\/\//i.test(iri)) return el("span", { class: "iri" }, iri);
    const href = iri.startsWith(BASE) ? "/" + iri.slice(BASE.length) : iri;
    return el("a", { class: "iri", href, title: iri }, shortName(iri));
  }

  function termNode(t) {
    if (t.type === "uri") return iriNode(t.value);
    if (t.type === "bnode") return el("span", { class: "bnode" }, "_:" + t.value);
    if (t.type === "triple") {
      const span = el("span", { class: "triple" }, "<< ");
      const v = t.value;
      for (const part of [v.subject, v.predicate, v.object]) span.append(termNode(part), " ");
      span.append(">>");
      return span;
    }
    const span = el("span", { class: "literal" });
    span.append(el("span", { class: "value" }, t.value));
    if (t["xml:lang"]) span.append(el("span", { class: "lang" }, "@" + t["xml:lang"]));
    else if (t.datatype && t.datatype !== XSD + "string") {
      span.append(el("span", { class: "datatype", title: t.datatype }, shortName(t.datatype)));
    }
    return span;
  }

  function table(columns, rows) {
    const tbl = el("table", { id: "results-table" });
    const head = tbl.createTHead().insertRow();
    for (const [name, label] of columns) head.append(el("th", { scope: "col", "data-var": name }, label));
    const body = tbl.createTBody();
    for (const row of rows.slice(0, MAX_ROWS)) {
      const tr = body.insertRow();
      for (const [name] of columns) {
        const td = tr.insertCell();
        if (row[name]) td.append(termNode(row[name]));
      }
    }
    return tbl;
  }

  // N-Triples, one triple a line, as SPARQL JSON terms (for CONSTRUCT and DESCRIBE).
  const NT_TERM = String.raw`<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?`;
  const NT_LINE = new RegExp(String.raw`^\s*(${NT_TERM})\s+(${NT_TERM})\s+(${NT_TERM})\s*\.\s*$`);
  const NT_ESCAPES = { t: "\t", b: "\b", n: "\n", r: "\r", f: "\f" };
  const unescapeNT = (s) =>
    s.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u, U, c) =>
      u || U ? String.fromCodePoint(parseInt(u || U, 16)) : NT_ESCAPES[c] ?? c);
  function ntTerm(s) {
    if (s[0] === "<") return { type: "uri", value: unescapeNT(s.slice(1, -1)) };
    if (s[0] === "_") return { type: "bnode", value: s.slice(2) };
    const m = /^"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?$/.exec(s);
    const term = { type: "literal", value: unescapeNT(m[1]) };
    if (m[2]) term["xml:lang"] = m[2];
    if (m[3]) term.datatype = m[3];
    return term;
  }
  function parseNTriples(text) {
    const rows = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.trim().startsWith("#")) continue;
      const m = NT_LINE.exec(line);
      if (m) rows.push({ subject: ntTerm(m[1]), predicate: ntTerm(m[2]), object: ntTerm(m[3]) });
      else rows.push({ subject: { type: "literal", value: line } });
    }
    return rows;
  }

  function pageUrl(query) {
    const params = new URLSearchParams({ query });
    const lang = new URLSearchParams(location.search).get("lang");
    if (lang) params.set("lang", lang);
    return "/?" + params;
  }

  function showDownloads(query, kind) {
    downloads.replaceChildren(T.download);
    for (const [label, format, extension] of FORMATS[kind]) {
      const href = "/sparql?" + new URLSearchParams({ query, format });
      downloads.append(" ", el("a", { href, download: "santecyber-results." + extension }, label));
    }
    downloads.hidden = false;
  }

  function showError(message, line, column) {
    errorBox.replaceChildren(el("strong", {}, T.error + " "), message);
    if (line) {
      errorBox.append(el("span", { class: "position" }, " (" + fill(T.at, { line, column }) + ")"));
      const lines = editor.value.split("\n");
      let offset = Math.max(0, (column || 1) - 1);
      for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
      editor.setSelectionRange(offset, offset + 1);
    }
    errorBox.hidden = false;
    downloads.hidden = true;
    status.textContent = "";
  }

  let controller = null;
  async function run() {
    const query = editor.value;
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    errorBox.hidden = true;
    downloads.hidden = true;
    results.replaceChildren();
    status.textContent = T.running;
    form.setAttribute("aria-busy", "true");
    share.href = pageUrl(query);
    share.hidden = false;
    history.replaceState(null, "", pageUrl(query));
    const started = performance.now();
    let response, body;
    try {
      response = await fetch("/sparql", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          // SELECT/ASK answer in SPARQL JSON; CONSTRUCT/DESCRIBE in N-Triples, which we read
          // line by line (a graph asked as JSON would come back as JSON-LD).
          Accept: "application/n-triples, application/sparql-results+json;q=0.9",
        },
        body: new URLSearchParams({ query }),
        signal,
      });
      body = await response.text();
    } catch (error) {
      if (!signal.aborted) showError(T.network);
      return;
    } finally {
      if (!signal.aborted) form.removeAttribute("aria-busy");
    }
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      let info;
      try {
        info = JSON.parse(body);
      } catch {
        info = { error: body || response.statusText };
      }
      showError(response.status + " — " + info.error, info.line, info.column);
      return;
    }
    try {
      show(query, response, body, ms);
    } catch (error) {
      showError(String(error));
    }
  }

  function show(query, response, body, ms) {
    const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
    let count, columns, rows;
    if (type === "application/n-triples") {
      rows = parseNTriples(body);
      columns = [["subject", "subject"], ["predicate", "predicate"], ["object", "object"]];
      count = fill(T.triples, { n: rows.length, ms });
      showDownloads(query, "graph");
    } else {
      const json = JSON.parse(body);
      showDownloads(query, "table");
      if (typeof json.boolean === "boolean") {
        results.append(el("p", { class: "boolean", id: "boolean" }, json.boolean ? T.true : T.false));
        status.textContent = ms + " ms";
        return;
      }
      rows = json.results.bindings;
      columns = json.head.vars.map((v) => [v, "?" + v]);
      count = fill(T.rows, { n: rows.length, ms });
    }
    const notes = [count];
    if (rows.length > MAX_ROWS) notes.push(fill(T.shown, { shown: MAX_ROWS }));
    if (response.headers.get("X-Santecyber-Truncated")) notes.push(T.truncated);
    status.textContent = notes.join(" ");
    results.append(rows.length ? table(columns, rows) : el("p", {}, T.empty));
  }

  picker.addEventListener("change", () => {
    const example = examples[picker.value];
    question.textContent = example ? example.question : "";
    if (example) {
      editor.value = example.text;
      run();
    }
  });
  editor.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      run();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  for (const example of data.examples) {
    if (example.text === editor.value) {
      picker.value = example.name;
      question.textContent = example.question;
    }
  }
  if (data.run) run();
})();
