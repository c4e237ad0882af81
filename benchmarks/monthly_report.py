"""Benchmark: the monthly report as PDF for the bank and every county branch of a
1,000,000-loan × 24-month home, from classified months (docs/reports.md; target under 30 s; the
figure goes in docs/benchmarks.md).

Not a test. The synthetic store is built (or reused) by ``common.synthetic_store``; a copy is
put in a home (tape only: no casework database, so §8 says there is none) and, untimed, as the
month-end run leaves it: every month classified and the month's plan by unit kept under the
home (``planner.plan.stored_plan_path``: what the planner's month-end step writes). Then one
fresh process, as the month-end would make the reports, opens one analytics session and writes
``report-<UNIT>-<MONTH>.pdf`` for the bank and each county branch through the report builder
(the tree's quality and movement made once, ``tree_figures``) and the PDF renderer: measured
(wall time, peak resident memory of the process tree, the builder's and the renderer's seconds
per report) ``--repeat`` times.

    python benchmarks/monthly_report.py [--loans 1000000] [--months 24] [--repeat 1]
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


def child_prepare(home: Path) -> None:
    """Classify every month and keep the last month's plan by unit, as the month-end run does."""
    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home
    from npldesk.planner.pipeline import no_pipeline
    from npldesk.planner.plan import PlanRequest, plan_report, stored_plan_path

    session = Analytics.for_home(load_home(home))
    as_of = session.months()[-1]
    session.figures(as_of)
    document = plan_report(
        session, PlanRequest(as_of=as_of, by="org_unit"), no_pipeline("tape-only home")
    )
    path = stored_plan_path(home, as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def child_reports(home: Path, out: Path, folder: Path) -> None:
    """The bank's and every county branch's report as PDF, in one process on one session."""
    from datetime import UTC, datetime

    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home
    from npldesk.planner.plan import stored_plan
    from npldesk.reports.monthly import monthly_report, tree_figures
    from npldesk.reports.monthly_render import write_pdf
    from npldesk.tape.org import load_org

    clock = common.ChildClock()
    loaded = load_home(home)
    session = Analytics.for_home(loaded)
    as_of = session.months()[-1]
    plan = stored_plan(home, as_of)
    assert plan is not None, "the home's plan of the month is missing"
    units = load_org(session.store)
    bank = next(u for u in units if u.parent_code is None)
    counties = [u for u in units if u.parent_code == bank.code]
    clock.step("open")
    tree = tree_figures(session, as_of)
    clock.step("tree_figures")
    timings = []
    for unit in [bank, *counties]:
        started = time.perf_counter()
        report = monthly_report(
            session,
            as_of,
            unit=unit.code,
            generated_by="benchmark",
            generated_at=datetime.now(UTC),
            plan=plan,
            tree=tree,
        )
        built = time.perf_counter()
        target = folder / f"report-{unit.code}-{as_of:%Y-%m}.pdf"
        write_pdf(report, target)
        done = time.perf_counter()
        timings.append(
            {
                "unit": unit.code,
                "build_seconds": round(built - started, 3),
                "pdf_seconds": round(done - built, 3),
                "pdf_bytes": target.stat().st_size,
                "npl_balance": str(report.headline.npl_balance),
                "outlook_rows": 0 if report.outlook is None else len(report.outlook.rows),
            }
        )
    report_json = {
        "seconds_in_process": clock.total(),
        "steps": clock.steps,
        "reports": timings,
        "as_of": as_of.isoformat(),
    }
    out.write_text(json.dumps(report_json, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "prepare":
            child_prepare(Path(args.child[1]))
        else:
            child_reports(Path(args.child[1]), Path(args.child[2]), Path(args.child[3]))
        return

    from npldesk.home import create_home

    work = (args.work or common.default_work()).resolve()
    machine = common.machine()
    book = common.synthetic_store(work, args.loans, args.months)
    runs_dir = common.runs_folder(work, book)
    home_path = runs_dir / "report-home"
    home, _ = create_home(home_path)
    store = home.store_path
    prepared = home_path / "runs" / f"month-end-{book.last[:7]}" / "plan.json"
    if not prepared.exists():
        common.fresh_copy(book.path, store)
        common.say("classifying the months and keeping the month's plan (not timed)")
        done = common.run_child([SCRIPT, "--child", "prepare", str(home_path)], cwd=runs_dir)
        common.say(f"prepared in {done.seconds} s")
    pdfs = runs_dir / "reports"
    pdfs.mkdir(exist_ok=True)
    runs = []
    for attempt in range(1, args.repeat + 1):
        common.say(f"run {attempt}/{args.repeat}: the bank's and every county's report (PDF)")
        common.warm_cache(store)
        out = runs_dir / "monthly-report.json"
        load = [round(x, 2) for x in __import__("os").getloadavg()]
        run = common.run_child(
            [SCRIPT, "--child", "reports", str(home_path), str(out), str(pdfs)],
            report=out,
            cwd=runs_dir,
        )
        run.report["load_average_at_start"] = load
        runs.append(run)
        time.sleep(1)
    seconds = common.median([r.seconds for r in runs])
    memory = max(r.tree_peak_rss_mib for r in runs)
    reports = runs[-1].report["reports"]
    result = {
        "benchmark": "monthly_report",
        "book": book.describe(),
        "machine": machine,
        "runs": [r.__dict__ for r in runs],
        "median_seconds": seconds,
        "peak_rss_mib": memory,
        "seconds_target": TARGET_SECONDS,
        "seconds_verdict": common.verdict(seconds, TARGET_SECONDS),
    }
    markdown = common.markdown_table(
        ["reports (PDF)", "load at start", "wall s (median)", "build s", "PDF s", "peak RSS MiB"],
        [
            [
                f"bank + {len(reports) - 1} county branches, {runs[-1].report['as_of'][:7]}",
                runs[-1].report["load_average_at_start"],
                seconds,
                round(sum(r["build_seconds"] for r in reports), 1),
                round(sum(r["pdf_seconds"] for r in reports), 1),
                memory,
            ]
        ],
    )
    common.publish("monthly_report", result, markdown, work)


if __name__ == "__main__":
    main()
