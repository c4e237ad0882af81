"""Benchmark: ``npldesk plan`` on a 1,000,000-loan × 24-month home, every sub-branch, 1,000
draws, from classified months (docs/planner.md; the figure goes in docs/benchmarks.md).

Not a test. The synthetic store is built (or reused) by ``common.synthetic_store``; a copy is
put in a home (no casework database: a tape-only home) and classified once, untimed, by a
child process; then ``npldesk plan --as-of <last month> --by org_unit --level sub_branch
--draws 1000 --format json`` runs in a fresh process through the command's own entry point,
measured (wall time, peak resident memory of the process tree) ``--repeat`` times.

    python benchmarks/planner.py [--loans 1000000] [--months 24] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

SCRIPT = str(Path(__file__).resolve())
TARGET_SECONDS = 30.0
TARGET_MIB = 2048.0


def child_classify(home: Path) -> None:
    """Classify every month of the home's store (what the month-end import leaves behind)."""
    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home

    session = Analytics.for_home(load_home(home))
    session.figures(session.months()[-1])


def child_plan(home: Path, out: Path, as_of: str, draws: str) -> None:
    """``npldesk plan`` as a user runs it, its JSON kept for the figure's check."""
    import contextlib
    import io

    from npldesk.cli import run

    clock = common.ChildClock()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run(
            ["plan", "--as-of", as_of, "--by", "org_unit", "--level", "sub_branch",
             "--draws", draws, "--format", "json", "--home", str(home)]
        )  # fmt: skip
    if code != 0:
        raise SystemExit(code)
    document = json.loads(buffer.getvalue())
    report = {
        "seconds_in_process": clock.total(),
        "rows": len(document["rows"]),
        "window_used": document["window_used"],
        "total": document["total"],
    }
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "classify":
            child_classify(Path(args.child[1]))
        else:
            child_plan(Path(args.child[1]), Path(args.child[2]), args.child[3], args.child[4])
        return

    from npldesk.home import create_home

    work = (args.work or common.default_work()).resolve()
    machine = common.machine()
    book = common.synthetic_store(work, args.loans, args.months)
    runs_dir = common.runs_folder(work, book)
    home_path = runs_dir / "planner-home"
    home, _ = create_home(home_path)
    store = home.store_path
    if not (store / "manifest.json").exists() or not json.loads(
        (store / "manifest.json").read_text(encoding="utf-8")
    ).get("derived"):
        common.fresh_copy(book.path, store)
        common.say("classifying the home's months once (not timed)")
        classified = common.run_child([SCRIPT, "--child", "classify", str(home_path)], cwd=runs_dir)
        common.say(f"classified in {classified.seconds} s")
    as_of = book.last[:7]
    runs = []
    for attempt in range(1, args.repeat + 1):
        common.say(f"run {attempt}/{args.repeat}: npldesk plan --as-of {as_of}")
        common.warm_cache(store)
        out = runs_dir / "planner.json"
        runs.append(
            common.run_child(
                [SCRIPT, "--child", "plan", str(home_path), str(out), as_of, str(args.draws)],
                report=out,
                cwd=runs_dir,
            )
        )
        time.sleep(1)
    seconds = common.median([r.seconds for r in runs])
    memory = max(r.tree_peak_rss_mib for r in runs)
    result = {
        "benchmark": "planner",
        "book": book.describe(),
        "machine": machine,
        "draws": args.draws,
        "runs": [r.__dict__ for r in runs],
        "median_seconds": seconds,
        "peak_rss_mib": memory,
        "seconds_target": TARGET_SECONDS,
        "memory_target_mib": TARGET_MIB,
        "seconds_verdict": common.verdict(seconds, TARGET_SECONDS),
        "memory_verdict": common.verdict(memory, TARGET_MIB),
    }
    markdown = common.markdown_table(
        ["command", "rows", "draws", "wall s (median)", "peak RSS MiB", "targets"],
        [
            [
                f"npldesk plan --as-of {as_of} --by org_unit --level sub_branch",
                runs[-1].report.get("rows"),
                args.draws,
                seconds,
                memory,
                f"30 s {result['seconds_verdict']}, 2 GB {result['memory_verdict']}",
            ]
        ],
    )
    common.publish("planner", result, markdown, work)


if __name__ == "__main__":
    main()
