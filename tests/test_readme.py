"""The README's examples run and answer what the README says."""

from __future__ import annotations

import re

from santecyber.paths import ROOT
from santecyber.sparql import run_query
from santecyber.store import BuildDirectory

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_shows_the_two_commands_first() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.DOTALL)
    assert (
        first_block and "make serve" in first_block.group(1) and "make test" in first_block.group(1)
    )


def test_first_query_answers_the_table_below_it(built: BuildDirectory) -> None:
    query = re.search(r"```sparql\n(.*?)```", README, re.DOTALL)
    assert query
    table = README[query.end() :].split("\n\n")[1]
    expected = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]
    ]
    store, _ = built.open_current()
    result = run_query(store, query.group(1))
    rows = [[row[v.value].value for v in result.value.variables] for row in result.value]
    assert rows == expected
