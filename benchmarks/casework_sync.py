"""Benchmark: the month-end sync (``cases_sync``) from an NPL list of 100,000 households.

Not a test. Needs a PostgreSQL server; the script creates a scratch database, migrates it,
runs, and drops it:

    python benchmarks/casework_sync.py [--households 100000]
        [--server postgres://postgres@127.0.0.1:5432] [--database npldesk_bench] [--keep]

What it measures. The rows of the sync (one or two loans per household, every household with
an NPL loan, a few units and officers) are built in memory, not read from a tape: only
``cases_sync`` is timed. Three runs on the same database:

1. first: every household and case is new (100,000 cases opened, their loans and one audit
   record each written);
2. again with the same rows: nothing changes (one run audit record and a ``SyncRun``);
3. a month later with every NPL balance changed: every case and its loans updated (one audit
   record per case).

Target (``docs/benchmarks.md``, "Casework"): each run within 60 s. Prints a JSON result on
stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import scratch_casework_database  # noqa: E402 (after the path is set)

UNITS = [("BR", None, "city")] + [
    (f"BR{c:02d}", "BR", "county") for c in range(1, 9)
]  # eight counties with four sub-branches each
UNITS += [
    (f"BR{c:02d}{s:02d}", f"BR{c:02d}", "sub_branch") for c in range(1, 9) for s in range(1, 5)
]
SUB_BRANCHES = [code for code, _, level in UNITS if level == "sub_branch"]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rows_for(households: int, *, month: int) -> list[dict[str, Any]]:
    """The sync's rows: every household NPL, every third one with a second, performing loan."""
    rows = []
    for n in range(households):
        unit = SUB_BRANCHES[n % len(SUB_BRANCHES)]
        base = Decimal(20000 + (n * 37) % 180000) - Decimal(month * 100)
        common = {
            "borrower_id": f"H{n:08d}",
            "borrower_name": f"Household {n}",
            "id_number": "340602198001010017",
            "phone": f"138{n:08d}",
            "borrower_type": "retail",
            "org_unit": unit,
            "officer_id": f"{unit}-{n % 7:02d}",
            "product": "personal_business",
            "collateral_value": Decimal("0.00"),
            "status": "active",
        }
        rows.append(
            common
            | {
                "loan_id": f"L{n:08d}-1",
                "principal_balance": base,
                "days_past_due": 100 + month * 30,
                "final_class": "substandard",
                "is_npl": True,
            }
        )
        if n % 3 == 0:
            rows.append(
                common
                | {
                    "loan_id": f"L{n:08d}-2",
                    "principal_balance": Decimal("15000.00"),
                    "days_past_due": 0,
                    "final_class": "normal",
                    "is_npl": False,
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="npldesk_bench")
    parser.add_argument("--keep", action="store_true", help="Do not drop the database afterwards")
    args = parser.parse_args()

    with scratch_casework_database(args.server, args.database, keep=args.keep):
        from npldesk.casework.selectors import system_actor
        from npldesk.casework.services import units_sync
        from npldesk.casework.sync import cases_sync

        units_sync(
            actor=system_actor(),
            org_units=[
                {"code": code, "name": code, "parent": parent, "level": level}
                for code, parent, level in UNITS
            ],
        )
        results: dict[str, Any] = {"households": args.households}
        runs = [
            ("first", date(2019, 12, 31), 0),
            ("same_snapshot", date(2019, 12, 31), 0),
            ("balances_changed", date(2020, 1, 31), 1),
        ]
        for name, as_of, month in runs:
            rows = rows_for(args.households, month=month)
            say(f"{name}: {len(rows):,} rows")
            started = time.perf_counter()
            counts = cases_sync(actor=system_actor(), as_of=as_of, loans=rows)
            seconds = time.perf_counter() - started
            say(f"{name}: {seconds:.1f} s {counts}")
            results[name] = {"seconds": round(seconds, 2), "rows": len(rows), "counts": counts}
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
