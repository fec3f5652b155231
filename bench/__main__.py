"""`make bench`: every figure of the project, with the peer it is compared against.

    python -m bench [--quick] [--quads N] [--load [load test options]]

--quick skips the synthetic graph (real records only). The synthetic graph is generated once
into bench/out/ (deterministic: same seed, same bytes) and reused.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pyoxigraph as ox

from bench import load, load_test, queries, validation
from bench.generate import generate
from santecyber.paths import ROOT
from santecyber.store import BuildDirectory

OUT = ROOT / "bench" / "out"


def synthetic_dump(quads: int) -> Path:
    path = OUT / f"synthetic-{quads}.nq"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        written = generate(partial, quads=quads)
        partial.rename(path)
        print(f"generated {written:,} synthetic quads in {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="real records only")
    parser.add_argument("--quads", type=int, default=1_000_000, help="synthetic graph size")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--http", action="store_true", help="also the HTTP benchmark")
    parser.add_argument("--load", action="store_true", help="also the 2-minute load test")
    args, load_options = parser.parse_known_args()
    if load_options and not args.load:
        parser.error(f"unrecognized arguments: {' '.join(load_options)}")

    real = BuildDirectory()
    if real.current_version() is None:
        raise SystemExit("no build: run `make build` first")
    synthetic = None if args.quick else synthetic_dump(args.quads)
    print("# santecyber benchmarks (medians; ratio = time / first row's time)")
    load.report(real.dump, synthetic, args.runs)

    stores = {"real records": real.open_current()[0]}
    if synthetic is not None:
        target = BuildDirectory(Path(tempfile.mkdtemp(prefix="santecyber-bench-")))
        path = target.write_store("synthetic", synthetic.read_bytes())
        stores[f"synthetic {args.quads:,}"] = ox.Store.read_only(str(path))
    queries.report(stores, args.runs)
    if synthetic is not None:  # pySHACL finishes at 100k; at 1M it is stopped at its budget
        validation.report(sorted({synthetic_dump(100_000), synthetic}))
    if args.http and synthetic is not None:  # 3 servers, ~30 min: python -m bench.http -h
        from bench.http import report as http_report
        from bench.memory import report as memory_report

        http_report(synthetic)
        memory_report(synthetic)  # peak RSS for a 10k- and a 1M-row answer, streamed or not
    if args.load:  # opt-in: 64 clients for 2 minutes (options: python -m bench.load_test -h)
        load_test.main(load_options)


if __name__ == "__main__":
    main()
