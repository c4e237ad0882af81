"""Calibrate the ``huaibei`` synthetic profile to the article's headline (a developer tool).

    python scripts/calibrate_huaibei.py [--seed N] [--set name=value ...] [--work DIR]

Builds the 24-month book with the given profile overrides, imports it, classifies it with
``cn-2023`` and prints the 2019-12 figures against 2018-12 next to the targets: NPL balance
29.57 million and ratio 0.64 %, down 1.15 million and 0.22 points (amounts within 5 %, ratios
within 0.02 points).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import shutil
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from npldesk.analytics import Analytics, connect
from npldesk.synth import PROFILES, generate
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store

TARGET_NPL = Decimal("29570000")
TARGET_RATIO = Decimal("0.0064")
TARGET_CHANGE = Decimal("-1150000")
TARGET_RATIO_CHANGE = Decimal("-0.0022")


def headline(session: Analytics, as_of: date) -> tuple[Decimal, Decimal]:
    table = session.classified(as_of)
    on_book = table.filter(table.status == "active")
    [row] = session.rows(
        on_book.aggregate(
            balance=on_book.principal_balance.sum(),
            npl=on_book.principal_balance.sum(where=on_book.is_npl),
        )
    )
    return row["balance"], row["npl"]


def evaluate(seed: int, overrides: dict[str, object], work: Path) -> dict[str, object]:
    profile = dataclasses.replace(PROFILES["huaibei"], **overrides)  # type: ignore[arg-type]
    PROFILES["huaibei"] = profile
    if work.exists():
        shutil.rmtree(work)
    result = generate(work / "data", seed=seed, file_format="parquet")
    store = Store(work / "store")
    import_org(store, result.org_file)
    import_files(store, result.tape_files, ImportOptions())
    session = Analytics(store=store, engine=connect("duckdb"))
    balance18, npl18 = headline(session, date(2018, 12, 31))
    balance19, npl19 = headline(session, date(2019, 12, 31))
    ratio18, ratio19 = npl18 / balance18, npl19 / balance19
    change, ratio_change = npl19 - npl18, ratio19 - ratio18
    ok = (
        abs(npl19 - TARGET_NPL) <= TARGET_NPL * Decimal("0.05")
        and abs(ratio19 - TARGET_RATIO) <= Decimal("0.0002")
        and abs(change - TARGET_CHANGE) <= abs(TARGET_CHANGE) * Decimal("0.05")
        and abs(ratio_change - TARGET_RATIO_CHANGE) <= Decimal("0.0002")
    )
    return {
        "seed": seed,
        "npl_2018": str(npl18),
        "npl_2019": str(npl19),
        "balance_2019": str(balance19),
        "ratio_2018_pct": f"{ratio18 * 100:.3f}",
        "ratio_2019_pct": f"{ratio19 * 100:.3f}",
        "change": str(change),
        "ratio_change_pp": f"{ratio_change * 100:.3f}",
        "within_targets": ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[20191231])
    parser.add_argument("--set", action="append", default=[], help="profile field=python literal")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "calibrate")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = ast.literal_eval(value)
    for seed in args.seed:
        started = time.perf_counter()
        figures = evaluate(seed, overrides, args.work)
        figures["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
