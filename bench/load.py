"""Build and load figures: our build against pyoxigraph's bulk load and rdflib's parser.

On the real records, "our build" is the whole path of `santecyber build` without SHACL
(records → quads → sorted N-Quads → on-disk store, switched to); on the synthetic graph, which
is N-Quads already, it is the store-writing step every build takes (BuildDirectory.write_store:
bulk load on disk, flush, atomic switch). The peers load the same N-Quads: pyoxigraph's
in-memory bulk_load, and rdflib's Dataset parser (rdflib's Graph would drop the named graphs).
"""

from __future__ import annotations

from pathlib import Path

from bench.measure import Figure, print_table, timed

OUR_BUILD = """
import tempfile
from santecyber.build import compile_graph
from santecyber.store import BuildDirectory
target = BuildDirectory(__import__("pathlib").Path(tempfile.mkdtemp()))
"""


def real_data(dump: Path, runs: int) -> list[Figure]:
    figures = [
        timed(
            "santecyber build (records → store, no SHACL)",
            OUR_BUILD,
            "c = compile_graph(); target.write_store(c.version, c.nquads); "
            "target.publish(c.version, c.nquads)",
            "c.quad_count",
            runs,
        ),
        timed(
            "santecyber validate (pySHACL, real records)",
            "from santecyber.build import compile_graph, validate_compiled\nc = compile_graph()",
            "o = validate_compiled(c)",
            "len(c.record_quads)",
            runs,
        ),
    ]
    return figures + peers(dump, runs)


def peers(dump: Path, runs: int) -> list[Figure]:
    path = repr(str(dump))
    return [
        timed(
            "pyoxigraph Store().bulk_load (in memory)",
            "import pyoxigraph as ox",
            f"s = ox.Store(); s.bulk_load(path={path}, format=ox.RdfFormat.N_QUADS)",
            "len(s)",
            runs,
        ),
        timed(
            "rdflib Dataset.parse (nquads)",
            "import rdflib",
            f"d = rdflib.Dataset(); d.parse({path}, format='nquads')",
            "sum(1 for _ in d.quads((None, None, None, None)))",
            runs,
        ),
    ]


def synthetic(dump: Path, runs: int) -> list[Figure]:
    path = repr(str(dump))
    ours = timed(
        "santecyber store writer (on disk, switched)",
        OUR_BUILD + f"data = open({path}, 'rb').read()",
        "p = target.write_store('bench', data); target.publish('bench', data)",
        "data.count(b'\\n')",
        runs,
    )
    return [ours, *peers(dump, runs)]


def report(real_dump: Path, synthetic_dump: Path | None, runs: int) -> None:
    figures = real_data(real_dump, runs)
    print_table(f"Load, real records ({figures[0].count} quads)", figures, "quads", figures[0])
    if synthetic_dump is not None:
        figures = synthetic(synthetic_dump, 1)
        print_table(
            f"Load, synthetic graph ({figures[0].count:,} quads)", figures, "quads", figures[0]
        )
