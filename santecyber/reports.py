"""Validation reports: text, JSON, Turtle, JUnit XML, SARIF 2.1.0, GitHub workflow commands.

Every format is a function ``render_<format>(outcome, fail_on) -> str`` over a
:class:`~santecyber.validation.ValidationOutcome` whose results carry their locations. The keys
and shapes of each format are documented in docs/validation.md. ``shapes_markdown`` writes
docs/shapes.md from the shapes (``python -m santecyber.reports docs/shapes.md``).
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from santecyber import __version__
from santecyber.errors import Location
from santecyber.namespaces import SCS, SH
from santecyber.validation import (
    SEVERITIES,
    ShapeInfo,
    ShapeResult,
    ValidationOutcome,
    bind_prefixes,
    named_shapes,
    severity_rank,
)

NO_LOCATION = "(no location)"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"Violation": "error", "Warning": "warning", "Info": "note"}
GITHUB_COMMANDS = {"Violation": "error", "Warning": "warning", "Info": "notice"}
INFORMATION_URI = "https://w3id.org/santecyber/"


#: what ``shown`` writes as ``\uXXXX``: C0 controls but tab and newline (ESC starts terminal
#: escape sequences; XML 1.0 forbids them), DEL, C1 controls, the bidi embeddings, overrides
#: and isolates (they reorder what is displayed), and U+FFFE, U+FFFF (not XML characters)
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def shown(text: str) -> str:
    """``text`` with characters that act on a terminal or break XML written as ``\\uXXXX``: a
    report quotes values from the data as they are, which may hold any character.

    >>> print(shown("bad\\x01 label\\x1b[31m"))
    bad\\u0001 label\\u001B[31m
    """
    return _HIDDEN.sub(lambda match: f"\\u{ord(match[0]):04X}", text)


def failing(result: ShapeResult, fail_on: str) -> bool:
    """Whether a result is at or above the ``--fail-on`` severity (violation|warning|info).

    >>> from santecyber.validation import ShapeResult
    >>> r = ShapeResult("Warning", "<x>", None, None, "m", "scs:S", "sh:X")
    >>> failing(r, "violation"), failing(r, "warning"), failing(r, "info")
    (False, True, True)
    """
    return severity_rank(result.severity) <= severity_rank(fail_on.capitalize())


def counts(outcome: ValidationOutcome) -> dict[str, int]:
    return {s.lower(): sum(r.severity == s for r in outcome.results) for s in SEVERITIES}


def summary(outcome: ValidationOutcome, fail_on: str) -> str:
    found = counts(outcome)
    failed = sum(failing(r, fail_on) for r in outcome.results)
    verdict = f"FAILED: {failed} at or above {fail_on}" if failed else "passed"
    verdict += f" (--fail-on {fail_on})"
    return (
        f"{found['violation']} violation(s), {found['warning']} warning(s), "
        f"{found['info']} info: {verdict}"
    )


def shape_title(result: ShapeResult, shapes: dict[str, ShapeInfo]) -> str:
    info = shapes.get(result.shape_node)
    return info.label if info and info.label else result.shape


def _by_shape(outcome: ValidationOutcome) -> dict[str, ShapeInfo]:
    return {info.iri: info for info in outcome.shapes}


def _sort_key(result: ShapeResult) -> tuple:
    place = result.location or Location(NO_LOCATION)
    return (place.file, severity_rank(result.severity), place.line, place.column, result.focus)


# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------


def render_text(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    """Grouped by file, then severity: line, focus node, value found, what was expected, shape."""
    shapes = _by_shape(outcome)
    lines: list[str] = []
    groups: dict[str, dict[str, list[ShapeResult]]] = defaultdict(lambda: defaultdict(list))
    for result in sorted(outcome.results, key=_sort_key):
        file = result.location.file if result.location else NO_LOCATION
        groups[file][result.severity].append(result)
    for file, by_severity in groups.items():
        lines.append(file)
        for severity, results in by_severity.items():
            lines.append(f"  {severity} ({len(results)})")
            for r in results:
                place = r.location
                at = f"line {place.line}" if place and place.line else "line ?"
                if place and place.column:
                    at += f":{place.column}"
                path = f" {r.path}" if r.path else ""
                lines.append(f"    {at}: {r.focus}{path}")
                if r.value is not None:
                    lines.append(f"      found:    {r.value}")
                lines.append(f"      expected: {r.message}")
                lines.append(f"      shape:    {r.shape} ({shape_title(r, shapes)})")
    lines.append(summary(outcome, fail_on))
    return shown("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------------------------

JSON_FORMAT_VERSION = 1


def result_record(result: ShapeResult, shapes: dict[str, ShapeInfo]) -> dict[str, object]:
    place = result.location
    return {
        "file": place.file if place else None,
        "line": place.line if place and place.line else None,
        "column": place.column if place and place.column else None,
        "severity": result.severity.lower(),
        "focus": result.focus_node,
        "path": result.path,
        "value": result.value,
        "message": result.message,
        "shape": result.shape,
        "shape_label": shape_title(result, shapes),
        "constraint": result.constraint,
    }


def render_json(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    shapes = _by_shape(outcome)
    document = {
        "format_version": JSON_FORMAT_VERSION,
        "conforms": outcome.conforms,
        "fail_on": fail_on,
        "passed": not any(failing(r, fail_on) for r in outcome.results),
        "counts": counts(outcome),
        "results": [result_record(r, shapes) for r in sorted(outcome.results, key=_sort_key)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# turtle
# ---------------------------------------------------------------------------------------------


def render_turtle(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    """The sh:ValidationReport itself, with the project's prefixes."""
    return bind_prefixes(outcome.report).serialize(format="turtle")


# ---------------------------------------------------------------------------------------------
# junit
# ---------------------------------------------------------------------------------------------


def _one_line(result: ShapeResult) -> str:
    place = str(result.location) if result.location else NO_LOCATION
    path = f" {result.path}" if result.path else ""
    found = f" (found {result.value})" if result.value is not None else ""
    return f"{place}: {result.severity}: {result.focus}{path}: {result.message}{found}"


def _all_shapes(outcome: ValidationOutcome) -> list[ShapeInfo]:
    """The named shapes, plus any shape that reported a result without being named."""
    shapes = list(outcome.shapes)
    known = {info.iri for info in shapes}
    for result in outcome.results:
        if result.shape_node not in known:
            known.add(result.shape_node)
            shapes.append(ShapeInfo(result.shape_node, result.shape, "", "", result.severity))
    return shapes


def render_junit(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    """One testcase per shape; a shape with results at or above ``fail_on`` fails."""
    by_shape: dict[str, list[ShapeResult]] = defaultdict(list)
    for result in sorted(outcome.results, key=_sort_key):
        by_shape[result.shape_node].append(result)
    shapes = _all_shapes(outcome)
    failures = sum(any(failing(r, fail_on) for r in by_shape[s.iri]) for s in shapes)
    root = ET.Element(
        "testsuites", name="santecyber validate", tests=str(len(shapes)), failures=str(failures)
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name="SHACL shapes",
        tests=str(len(shapes)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for info in shapes:
        case = ET.SubElement(suite, "testcase", classname="shapes", name=info.name)
        results = by_shape[info.iri]
        serious = [r for r in results if failing(r, fail_on)]
        minor = [r for r in results if not failing(r, fail_on)]
        if serious:
            first = serious[0]
            failure = ET.SubElement(
                case,
                "failure",
                type=first.severity,
                message=f"{len(serious)} result(s): {info.label or info.name}",
            )
            failure.text = "\n".join(_one_line(r) for r in serious)
        if minor:
            ET.SubElement(case, "system-out").text = "\n".join(_one_line(r) for r in minor)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + shown(ET.tostring(root, "unicode")) + "\n"


# ---------------------------------------------------------------------------------------------
# sarif
# ---------------------------------------------------------------------------------------------


def repository_root(start: Path | None = None) -> Path:
    """The git work tree holding ``start`` (default: the working directory), else ``start``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def artifact_uri(file: str, root: Path) -> tuple[str, bool]:
    """A location's file as a URI relative to ``root`` when below it (and whether it is)."""
    if "://" in file:
        return file, False
    path = (Path.cwd() / file).resolve()
    try:
        return path.relative_to(root).as_posix(), True
    except ValueError:
        return path.as_uri(), False


def render_sarif(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    """SARIF 2.1.0: rules are the shapes; results carry level and the record's file and line."""
    root = repository_root()
    shapes = _all_shapes(outcome)
    index = {info.iri: i for i, info in enumerate(shapes)}
    rules = []
    for info in shapes:
        rule: dict[str, object] = {
            "id": info.name,
            "defaultConfiguration": {"level": SARIF_LEVELS.get(info.severity, "error")},
        }
        if info.label:
            rule["shortDescription"] = {"text": info.label}
        if info.message:
            rule["fullDescription"] = {"text": info.message}
        if info.iri.startswith("http"):
            rule["helpUri"] = info.iri
        rules.append(rule)
    results = []
    for r in sorted(outcome.results, key=_sort_key):
        path = f" {r.path}" if r.path else ""
        found = f" (found {r.value})" if r.value is not None else ""
        entry: dict[str, object] = {
            "ruleId": r.shape,
            "ruleIndex": index[r.shape_node],
            "level": SARIF_LEVELS[r.severity],
            "message": {"text": f"{r.focus}{path}: {r.message}{found}"},
            "properties": {
                "focusNode": r.focus_node,
                "resultPath": r.path,
                "value": r.value,
                "constraint": r.constraint,
            },
        }
        if r.location:
            uri, relative = artifact_uri(r.location.file, root)
            artifact: dict[str, object] = {"uri": uri}
            if relative:
                artifact["uriBaseId"] = "%SRCROOT%"
            physical: dict[str, object] = {"artifactLocation": artifact}
            if r.location.line:
                region: dict[str, int] = {"startLine": r.location.line}
                if r.location.column:
                    region["startColumn"] = r.location.column
                physical["region"] = region
            entry["locations"] = [{"physicalLocation": physical}]
        results.append(entry)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "santecyber validate",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# github
# ---------------------------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""
    shapes = _by_shape(outcome)
    lines = []
    for r in sorted(outcome.results, key=_sort_key):
        properties = []
        if r.location and "://" not in r.location.file:
            uri, relative = artifact_uri(r.location.file, repository_root())
            properties.append(f"file={_escape_property(uri if relative else r.location.file)}")
            if r.location.line:
                properties.append(f"line={r.location.line}")
                if r.location.column:
                    properties.append(f"col={r.location.column}")
        properties.append(f"title={_escape_property(f'{r.shape} {shape_title(r, shapes)}')}")
        path = f" {r.path}" if r.path else ""
        found = f" (found {r.value})" if r.value is not None else ""
        message = f"{r.focus}{path}: {r.message}{found}"
        command = GITHUB_COMMANDS[r.severity]
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(message)}")
    lines.append(summary(outcome, fail_on))
    return shown("\n".join(lines) + "\n")


RENDERERS: dict[str, Callable[[ValidationOutcome, str], str]] = {
    "text": render_text,
    "json": render_json,
    "turtle": render_turtle,
    "junit": render_junit,
    "sarif": render_sarif,
    "github": render_github,
}


# ---------------------------------------------------------------------------------------------
# docs/shapes.md
# ---------------------------------------------------------------------------------------------

WORDS = {"Violation": "required", "Warning": "expected (warning)", "Info": "noted (info)"}


#: how shape_targets says what is not a class, in English (docs/shapes.md, the /shapes page)
TARGET_WORDS = {
    "subjects": "subjects of",
    "objects": "objects of",
    "sparql": "nodes found by a SPARQL target",
}


def shape_targets(
    shapes: Graph, shape: URIRef, words: Mapping[str, str] = TARGET_WORDS
) -> list[str]:
    """What a shape applies to, in ``words``."""
    name = shapes.namespace_manager.normalizeUri
    found = [name(c) for c in shapes.objects(shape, SH.targetClass)]
    found += [f"{words['subjects']} {name(p)}" for p in shapes.objects(shape, SH.targetSubjectsOf)]
    found += [f"{words['objects']} {name(p)}" for p in shapes.objects(shape, SH.targetObjectsOf)]
    found += [name(n) for n in shapes.objects(shape, SH.targetNode)]
    for target in shapes.objects(shape, SH.target):
        # a SPARQL target names the classes it selects among (scs:selectsAmong) for people
        among = [name(c) for c in shapes.objects(target, SCS.selectsAmong)]
        found += among or [words["sparql"]]
    if (shape, RDF.type, RDFS.Class) in shapes:
        found.append(name(shape))
    return sorted(found)


def shapes_markdown(shapes: Graph) -> str:
    """docs/shapes.md: for each class (or target), what is required and what is expected."""
    bind_prefixes(shapes)
    infos = {info.iri: info for info in named_shapes(shapes)}
    by_target: dict[str, list[ShapeInfo]] = defaultdict(list)
    for iri, info in infos.items():
        for target in shape_targets(shapes, URIRef(iri)) or ["(no target)"]:
            by_target[target].append(info)

    def order(target: str) -> tuple[int, str]:
        return (target.startswith(("subjects", "objects", "nodes")), target)

    lines = [
        "# What the shapes check",
        "",
        "Generated from `shapes/*.ttl` by `python -m santecyber.reports docs/shapes.md`; do not",
        "edit by hand (`tests/test_reports.py` fails when this file is out of date).",
        f"{len(infos)} shapes. *Required*: a Violation, `santecyber validate` fails.",
        "*Expected*: a Warning (fails only with `--fail-on warning`). *Noted*: Info.",
        "",
    ]
    for target in sorted(by_target, key=order):
        lines += [f"## {target}", "", "| shape | | what |", "|---|---|---|"]
        for info in sorted(by_target[target], key=lambda i: (severity_rank(i.severity), i.name)):
            what = info.message.replace("|", "\\|")
            lines.append(f"| `{info.name}` {info.label} | {WORDS[info.severity]} | {what} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Write docs/shapes.md (or the path given) from shapes/*.ttl."""
    from santecyber.validation import parse_files, shape_files

    args = sys.argv[1:] if argv is None else argv
    text = shapes_markdown(parse_files(shape_files()))
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
