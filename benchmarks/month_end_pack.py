"""Benchmark: the whole month-end pack for the last month of a store, from raw snapshots.

Not a test. Run it on a quiet machine:

    python benchmarks/month_end_pack.py [--loans 10000000] [--months 12]
                                        [--backend duckdb|pyspark] [--work DIR]

    # the PySpark figure the issue asks for:
    python benchmarks/month_end_pack.py --backend pyspark --loans 1000000 --months 24

What it measures: one fresh child process that, on a fresh copy of a synthetic store without
derived data (``huaibei`` book, ``--loans`` opening loans over ``--months`` month-ends from
2018-01, built once and cached under ``--work``), runs through npldesk's own functions:

1. classification of every month with contagion and probation (``Analytics.figures`` →
   ``ensure_classified``, materialised as derived Parquet in the copy);
2. asset quality at the last month, whole book and by organisation unit rolled up the tree,
   against the previous December when it is in the store (``quality_report``);
3. the NPL movement of the year to date (``movement_report``, whole book and by unit): from the
   December before the last month, or from the first month of the store when that December is
   not in it (the JSON says which, under ``movement_basis``);
4. the five lists at the last month against the month before (``run_list``: new-npl,
   early-warning, upgraded, top-npl, deviation), exported as CSV with personal data masked
   (``list_export`` + ``write_file``) into ``--work``/runs/pack-lists.

It reports the wall time of the whole child and its peak memory, measured two ways: the
child's own peak resident set (``ru_maxrss`` from ``os.wait4``, exact) and the peak of the
summed resident memory of the child's whole process tree, sampled from ``/proc`` every
``--interval`` seconds (so Spark's JVM, a child of the child, is counted; Java alone is given
too; a sampled peak can miss a spike shorter than the interval, and a sum of RSS counts shared
pages twice). Step times come from inside the child. Targets printed beside the figures: 10M ×
12 on DuckDB in under 3 minutes and under 8 GB; PySpark (1M × 24) is reported, no target.
The copy's files are read once before the child starts (untimed; a warm page cache).
Output: progress on stderr, the JSON result on stdout, a markdown table on stderr, both kept
under ``--work``/results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

import common

TARGET_SECONDS = 180
TARGET_BYTES = 8 * 10**9  # 8 GB
TARGET_SIZE = (10_000_000, 12)


def child_pack(
    store_path: Path, lists_dir: Path, report: Path, backend: str, memory_limit: str | None
) -> None:
    """The pack, as a bank would run it at month end, through npldesk's functions."""
    clock = common.ChildClock()
    from npldesk.analytics import backend as engines
    from npldesk.analytics.lists import LIST_NAMES, run_list
    from npldesk.analytics.session import Analytics
    from npldesk.core.months import month_label, previous_december
    from npldesk.reports.exports import list_export, write_file
    from npldesk.reports.figures import movement_report, quality_report
    from npldesk.tape.store import Store

    clock.step("imports")
    engine = engines.connect(backend, memory_limit=memory_limit)
    session = Analytics(store=Store(store_path), engine=engine, progress=common.say)
    months = session.months()
    last = months[-1]
    clock.step("connect")

    session.figures(last)  # every month, from the raw snapshots
    clock.step("classify")

    common.say("asset quality, whole book and by unit")
    quality = quality_report(session, last, by="org_unit").as_json()
    clock.step("quality")

    december = previous_december(last)
    if december in months:
        common.say(f"movement: year to date from {month_label(december)}")
        movement = movement_report(session, last, period="ytd", by="org_unit").as_json()
        basis = f"ytd from {month_label(december)} (the December before)"
    else:
        common.say(f"movement: from {month_label(months[0])} ({month_label(december)} missing)")
        movement = movement_report(session, last, start=months[0], by="org_unit").as_json()
        basis = (
            f"from {month_label(months[0])}, the first month in the store "
            f"({month_label(december)}, the December before, is not in it)"
        )
    clock.step("movement")

    lists_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name in LIST_NAMES:
        common.say(f"list {name}")
        result = run_list(session, name, last)
        export = list_export(result, pii=False)
        write_file(export, "csv", lists_dir / f"{name}-{month_label(last)}.csv")
        written[name] = len(export.rows)
    clock.step("lists")

    if backend == "pyspark" and engines._SPARK is not None:
        engines._SPARK.stop()  # the JVM's shutdown is part of the run
        clock.step("spark_stop")
    total = quality["total"]
    report.write_text(
        json.dumps(
            {
                "compute_seconds": clock.total(),
                "steps": clock.steps,
                "as_of": last.isoformat(),
                "months_classified": len(months),
                "quality_total": {
                    k: total[k]
                    for k in ("loans", "balance", "npl_balance", "npl_ratio", "npl_loans")
                },
                "quality_baseline": quality["baseline"],
                "quality_units": len(quality["rows"]),
                "movement_basis": basis,
                "movement_total": movement["total"],
                "movement_identity_holds": movement["identity_holds"],
                "list_rows": written,
                "warnings": quality["warnings"],
            },
            indent=1,
        ),
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000_000, help="opening loans")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--backend", choices=("duckdb", "pyspark"), default="duckdb")
    parser.add_argument("--work", type=Path, default=None, help="cache and results folder")
    parser.add_argument(
        "--memory-limit",
        default=None,
        help="DuckDB memory_limit for npldesk's engine (default: DuckDB's own, 80%% of RAM)",
    )
    parser.add_argument(
        "--spark-driver-memory",
        default="4g",
        help="PySpark: the driver JVM's heap (spark-submit --driver-memory); local mode runs "
        "everything in the driver (default 4g; Spark's own default is 1g)",
    )
    parser.add_argument("--interval", type=float, default=0.5, help="memory sampling, seconds")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        store, lists_dir, report, backend, limit = args.child
        child_pack(Path(store), Path(lists_dir), Path(report), backend, limit or None)
        return
    if args.months < 2:
        parser.error("the pack compares months: --months must be at least 2")

    work = (args.work or common.default_work()).resolve()
    machine = common.machine()
    book = common.synthetic_store(work, args.loans, args.months)
    runs_dir = common.runs_folder(work, book)
    copy = common.fresh_copy(book.path, runs_dir / f"pack-store-{args.backend}")
    lists_dir = runs_dir / f"pack-lists-{args.backend}"
    if lists_dir.exists():
        shutil.rmtree(lists_dir)
    report = runs_dir / f"pack-{args.backend}.json"
    env = dict(os.environ)
    if args.backend == "pyspark":
        env["PYSPARK_SUBMIT_ARGS"] = (
            f"--driver-memory {args.spark_driver_memory} "
            "--conf spark.ui.showConsoleProgress=false pyspark-shell"
        )
    common.say(f"month-end pack on {args.backend}: {args.loans:,} × {args.months}")
    common.warm_cache(copy)
    script = str(Path(__file__).resolve())
    limit = args.memory_limit or ""
    run = common.run_child(
        [script, "--child", str(copy), str(lists_dir), str(report), args.backend, limit],
        report=report,
        env=env,
        cwd=runs_dir,
        interval=args.interval,
    )
    inner = run.report
    peak_mib = run.tree_peak_rss_mib
    at_target_size = args.backend == "duckdb" and (args.loans, args.months) == TARGET_SIZE
    targets = {
        "seconds": {
            "at_most": TARGET_SECONDS,
            "verdict": common.verdict(run.seconds, TARGET_SECONDS) if at_target_size else "n/a",
        },
        "peak_rss_bytes": {
            "at_most": TARGET_BYTES,
            "verdict": common.verdict(peak_mib * common.MIB, TARGET_BYTES)
            if at_target_size
            else "n/a",
        },
        "applies_to": "duckdb, 10,000,000 × 12 (n/a at other sizes and on pyspark)",
    }
    result: dict[str, Any] = {
        "benchmark": "month_end_pack",
        "backend": args.backend,
        "loans": args.loans,
        "months": args.months,
        "store": book.describe(),
        "machine": machine,
        "seconds": run.seconds,
        "compute_seconds": inner["compute_seconds"],
        "steps": inner["steps"],
        "peak_rss_mib": peak_mib,
        "own_peak_rss_mib": run.peak_rss_mib,
        "java_peak_rss_mib": run.java_peak_rss_mib,
        "memory_measured": (
            f"peak of the summed RSS of the child's process tree, sampled every "
            f"{args.interval} s from /proc ({run.samples} samples, at most {run.processes} "
            "processes), and never below the child's own ru_maxrss from wait4"
        ),
        "duckdb_memory_limit": args.memory_limit if args.backend == "duckdb" else None,
        "spark_driver_memory": args.spark_driver_memory if args.backend == "pyspark" else None,
        "pack": {k: v for k, v in inner.items() if k not in ("compute_seconds", "steps")},
        "lists_dir": str(lists_dir),
        "targets": targets,
    }
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in inner["steps"].items())
    rows = [
        ["wall time, whole pack", f"{run.seconds:.1f} s", "< 180 s", targets["seconds"]["verdict"]],
        [
            "peak memory, process tree",
            f"{peak_mib:,.0f} MiB",
            "< 8 GB (7,629 MiB)",
            targets["peak_rss_bytes"]["verdict"],
        ],
        ["peak memory, the Python process alone", f"{run.peak_rss_mib:,.0f} MiB", "", ""],
    ]
    if args.backend == "pyspark":
        rows.append(["peak memory, Spark's JVM", f"{run.java_peak_rss_mib:,.0f} MiB", "", ""])
    markdown = (
        f"Month-end pack at {inner['as_of']} on {args.backend}: {args.loans:,} opening loans × "
        f"{args.months} months ({book.rows:,} rows). Movement {inner['movement_basis']}. "
        f"{machine['cores']} cores, load {machine['load_average_at_start']}.\n\n"
        + common.markdown_table(
            ["measure", "measured", "target (DuckDB, 10M × 12)", "verdict"], rows
        )
        + f"\n\nSteps inside the child: {steps}.\nList rows: "
        + ", ".join(f"{k} {v:,}" for k, v in inner["list_rows"].items())
    )
    common.publish(f"month_end_pack-{args.backend}", result, markdown, work)


if __name__ == "__main__":
    main()
