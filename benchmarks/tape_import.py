"""Benchmark: import a one-million-loan CSV snapshot, against DuckDB alone converting it.

Not a test. Run it on a quiet machine:

    python benchmarks/tape_import.py [--loans 1000000] [--repeat 3] [--work DIR]

It writes one month of the synthetic ``huaibei`` book with ``npldesk synth`` (canonical CSV),
then times, each in a fresh process so that peak memory is the process's own:

- ``duckdb``: DuckDB reading the CSV and writing Parquet (``COPY … TO … (FORMAT parquet)``),
  nothing else: the floor for any import that reads CSV and writes Parquet;
- ``npldesk``: ``npldesk tape import`` of the same file into a fresh store: checksum, every
  row rule, cross-row rules, Parquet, manifest, fsync and commit.

It prints the median wall time and the peak resident memory of each, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DUCKDB_ONLY = """
import sys, duckdb
duckdb.execute("SET enable_progress_bar = false")
duckdb.sql(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)")
"""

NPLDESK_IMPORT = """
import sys
from pathlib import Path
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.store import Store
import_files(Store(Path(sys.argv[2])), [Path(sys.argv[1])], ImportOptions(replace=True))
"""


def timed_child(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a fresh Python process running ``code``."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child replaces itself with a new interpreter
        os.execv(sys.executable, [sys.executable, "-c", code, *args])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {code.splitlines()[1]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="folder for the files (kept)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args()

    from npldesk.synth import generate
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store

    work = args.work or Path(tempfile.mkdtemp(prefix="npldesk-bench-"))
    data = work / f"synth-{args.loans}"
    if not (data / "tape" / "2018-01.csv").exists():
        started = time.perf_counter()
        generate(data, loans=args.loans, months=1, start=date(2018, 1, 31))
        print(f"synth: {args.loans:,} loans in {time.perf_counter() - started:.1f} s")
    source = data / "tape" / "2018-01.csv"
    size_mb = source.stat().st_size / 1e6
    store = Store(work / "store")
    import_org(store, data / "org_units.csv")

    figures: dict[str, list[tuple[float, float]]] = {"duckdb": [], "npldesk": []}
    for _ in range(args.repeat):  # interleaved, so both see the same machine state
        figures["duckdb"].append(timed_child(DUCKDB_ONLY, str(source), str(work / "plain.parquet")))
        figures["npldesk"].append(timed_child(NPLDESK_IMPORT, str(source), str(store.path)))

    summary = {
        name: {
            "seconds_median": round(statistics.median(t for t, _ in runs), 2),
            "seconds_all": [round(t, 2) for t, _ in runs],
            "peak_rss_mib_max": round(max(m for _, m in runs)),
        }
        for name, runs in figures.items()
    }
    ratio = summary["npldesk"]["seconds_median"] / summary["duckdb"]["seconds_median"]
    result = {
        "loans": args.loans,
        "csv_mb": round(size_mb, 1),
        "rows": store.snapshots()[0].rows,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "duckdb_version": __import__("duckdb").__version__,
        **summary,
        "time_ratio": round(ratio, 2),
    }
    print(json.dumps(result, indent=2))
    print(
        f"\n| step | median s | peak RSS MiB |\n|---|---|---|\n"
        f"| DuckDB CSV → Parquet | {summary['duckdb']['seconds_median']} | "
        f"{summary['duckdb']['peak_rss_mib_max']} |\n"
        f"| npldesk tape import | {summary['npldesk']['seconds_median']} | "
        f"{summary['npldesk']['peak_rss_mib_max']} |\n\nratio {ratio:.2f}× "
        f"({size_mb:.0f} MB CSV, {result['rows']:,} rows)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
