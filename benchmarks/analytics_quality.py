"""Benchmark: asset quality by unit and month from raw snapshots: npldesk, DuckDB SQL, pandas.

Asset quality by organisation unit for every month, classification included: npldesk against
one hand-written DuckDB query and against plain pandas.

Not a test. Run it on a quiet machine (the full size takes a while and wants the cores):

    python benchmarks/analytics_quality.py [--loans 1000000] [--months 24] [--work DIR]
                                           [--repeat 1]

What it measures. From the imported raw snapshots of a synthetic store (``huaibei`` book,
``--loans`` opening loans over ``--months`` month-ends from 2018-01; built once and cached under
``--work``), the figures of ``docs/figures.md`` §2 for every organisation unit (rolled up the
tree: a unit includes every unit below it; every unit appears, zeros where it holds nothing)
and every month: loans, balance, npl_balance, npl_loans, balance by final class,
overdue_balance, dpd90_balance. The final class is the full cn-2023 classification of §1 (DPD
ladder, impaired, restructured in observation, reported grade as a floor, non-retail contagion,
six-month probation). Five implementations, each in a fresh child process on the same store:

- ``npldesk``: a fresh copy of the store without derived data, an ``Analytics`` session on
  DuckDB, every month classified (``ensure_classified``: month by month, materialised as derived
  Parquet) and ``asset_quality_by_month`` by unit over the span (``Analytics.figures_span``);
- ``npldesk-warm``: the same child on the copy the ``npldesk`` run left behind, its months
  already classified (as a store is after its first question); when ``npldesk`` is not among
  the implementations run, a copy is classified once first, untimed;
- ``duckdb``: ONE hand-written DuckDB SQL query over the snapshot Parquet files the manifest
  names (``SQL_FIGURES`` below: window functions over each loan's history for probation);
- ``pandas``: plain pandas reading each month's Parquet (money as int64 fen, exact), carrying
  per-loan state from month to month by hand, groupby by unit;
- ``pandas-whole``: plain pandas with the whole tape in one frame, each loan's history taken
  by ``groupby`` over loan and month (shifts, cumulative maxima), as the query does it.

Before it reports any time it checks that all of them gave identical figures, exactly (decimal
money), for every month and unit; if they differ it prints the differences, compares npldesk's
classified snapshots with the query's classification loan by loan, and exits with status 1.
Output: progress on stderr, the JSON result on stdout, a markdown table on stderr, both also
kept under ``--work``/results. Times include each child's interpreter start and imports; the
``compute`` seconds (from after the imports) are reported too. Before each run its store's
files are read once, untimed, so that every run starts with its input in the page cache, after
a pause (``--settle``, 30 s), every other round in reverse order: on this machine a run right
after the 13 GB pandas ran up to half as slow again, with CPU stolen by the host.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import common

FIGURES = (
    "loans",
    "balance",
    "npl_balance",
    "npl_loans",
    "normal_balance",
    "special_mention_balance",
    "substandard_balance",
    "doubtful_balance",
    "loss_balance",
    "overdue_balance",
    "dpd90_balance",
)
SCRIPT = str(Path(__file__).resolve())
COUNTS = frozenset({"loans", "npl_loans"})
IMPLEMENTATIONS = ("npldesk", "npldesk-warm", "duckdb", "pandas", "pandas-whole")

# docs/figures.md §1 with the cn-2023 defaults: grace 0, DPD 90/270/360, observation 12 months,
# restructured floor special_mention, contagion share 10 %, probation 6 months.
SQL_CLASSIFY = """
WITH RECURSIVE
raw AS (
    SELECT
        as_of, loan_id, borrower_id, borrower_type, org_unit,
        principal_balance AS bal,
        days_past_due AS dpd,
        status = 'active' AS on_book,
        year(as_of) * 12 + month(as_of) AS m,
        -- 1. floor from the loan, 2. the reported grade as a floor on top
        greatest(
            CASE WHEN days_past_due > 360 THEN 4 WHEN days_past_due > 270 THEN 3
                 WHEN days_past_due > 90 THEN 2 WHEN days_past_due > 0 THEN 1 ELSE 0 END,
            CASE WHEN credit_impaired THEN 2 ELSE 0 END,
            -- calendar months, day clamped to the month's end; the anniversary is outside
            CASE WHEN restructured AND as_of < restructure_date + INTERVAL 12 MONTH
                 THEN 1 ELSE 0 END,
            coalesce(list_position(
                ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'], reported_class
            ) - 1, 0)
        ) AS base
    FROM read_parquet($files)
),
-- 3. contagion from base classes; only borrowers with a non-retail loan need their sums
non_retail AS (
    SELECT DISTINCT as_of, borrower_id FROM raw WHERE borrower_type = 'non_retail'
),
borrower AS (
    SELECT as_of, borrower_id,
        coalesce(sum(bal) FILTER (WHERE on_book AND base >= 2), 0) AS npl_bal,
        coalesce(sum(bal) FILTER (WHERE on_book), 0) AS book_bal,
        bool_or(on_book AND base >= 2) AS any_npl
    FROM raw SEMI JOIN non_retail USING (as_of, borrower_id)
    GROUP BY as_of, borrower_id
),
classed AS (
    SELECT raw.*,
        greatest(raw.base, CASE
            WHEN NOT (raw.on_book AND raw.borrower_type = 'non_retail') THEN 0
            WHEN b.npl_bal > b.book_bal * 0.10 THEN 2
            WHEN b.any_npl THEN 1
            ELSE 0 END) AS c
    FROM raw LEFT JOIN borrower b USING (as_of, borrower_id)
),
flagged AS (
    SELECT *,
        on_book AND c >= 2 AS hard,
        on_book AND dpd = 0 AND c < 2 AS clean
    FROM classed
),
-- 4. probation: the last hard-NPL month so far, and the months that complete a run of six
-- clean rows in six consecutive calendar months (a month without a row breaks the run)
history AS (
    SELECT *,
        max(CASE WHEN hard THEN m END) OVER so_far AS last_hard,
        CASE WHEN clean
                  AND count(*) FILTER (WHERE clean) OVER six = 6
                  AND m - min(m) OVER six = 5
             THEN m END AS completes
    FROM flagged
    WINDOW so_far AS (PARTITION BY loan_id ORDER BY as_of ROWS UNBOUNDED PRECEDING),
           six AS (PARTITION BY loan_id ORDER BY as_of ROWS 5 PRECEDING)
),
-- 5. held when hard NPL before and no run completed since the last hard-NPL month
classified AS (
    SELECT *,
        CASE WHEN on_book THEN
            CASE WHEN NOT hard AND last_hard IS NOT NULL
                      AND coalesce(max(completes) OVER so_far, 0) < last_hard
                 THEN greatest(c, 2) ELSE c END
        END AS final_rank
    FROM history
    WINDOW so_far AS (PARTITION BY loan_id ORDER BY as_of ROWS UNBOUNDED PRECEDING)
)
"""

SQL_FIGURES = (
    SQL_CLASSIFY
    + """,
org AS (SELECT code, parent_code FROM read_parquet($org)),
tree(org_unit, unit) AS (  -- each unit with itself and every unit above it
    SELECT code, code FROM org
    UNION ALL
    SELECT tree.org_unit, org.parent_code
    FROM tree JOIN org ON org.code = tree.unit
    WHERE org.parent_code IS NOT NULL
),
by_unit AS (
    SELECT as_of, org_unit,
        count(*) AS loans,
        sum(bal) AS balance,
        sum(bal) FILTER (WHERE final_rank >= 2) AS npl_balance,
        count(*) FILTER (WHERE final_rank >= 2) AS npl_loans,
        sum(bal) FILTER (WHERE final_rank = 0) AS normal_balance,
        sum(bal) FILTER (WHERE final_rank = 1) AS special_mention_balance,
        sum(bal) FILTER (WHERE final_rank = 2) AS substandard_balance,
        sum(bal) FILTER (WHERE final_rank = 3) AS doubtful_balance,
        sum(bal) FILTER (WHERE final_rank = 4) AS loss_balance,
        sum(bal) FILTER (WHERE dpd >= 1) AS overdue_balance,
        sum(bal) FILTER (WHERE dpd > 90) AS dpd90_balance
    FROM classified
    WHERE on_book
    GROUP BY as_of, org_unit
),
months AS (SELECT DISTINCT as_of FROM raw)
SELECT months.as_of, tree.unit,
"""
    + ",\n".join(f"    coalesce(sum(by_unit.{f}), 0) AS {f}" for f in FIGURES)
    + """
FROM months CROSS JOIN tree
LEFT JOIN by_unit ON by_unit.as_of = months.as_of AND by_unit.org_unit = tree.org_unit
GROUP BY months.as_of, tree.unit
ORDER BY months.as_of, tree.unit
"""
)


# -- the implementations (each runs in its own child process) -----------------------


def _write_rows(out: Path, rows: list[dict[str, Any]], clock: common.ChildClock) -> None:
    out.write_text(
        json.dumps({"rows": rows, "compute_seconds": clock.total(), "steps": clock.steps}),
        encoding="utf-8",
    )


def child_npldesk(store_path: Path, out: Path) -> None:
    from npldesk.analytics.backend import connect
    from npldesk.analytics.org import rollup_table
    from npldesk.analytics.quality import asset_quality_by_month
    from npldesk.analytics.session import Analytics
    from npldesk.tape.org import load_org
    from npldesk.tape.store import Store

    clock = common.ChildClock()
    store = Store(store_path)
    session = Analytics(store=store, engine=connect("duckdb"), progress=common.say)
    months = session.months()
    session.figures(months[-1])  # every month, from the raw snapshots
    clock.step("classify")
    rollup = rollup_table(load_org(store))
    table = asset_quality_by_month(session.figures_span(months), by="org_unit", rollup=rollup)
    rows = [
        {"as_of": row["as_of"].isoformat(), "unit": row["key"]} | {f: str(row[f]) for f in FIGURES}
        for row in session.rows(table)
    ]
    clock.step("quality")
    _write_rows(out, rows, clock)


def child_duckdb(store_path: Path, out: Path) -> None:
    import duckdb

    clock = common.ChildClock()
    files, org = common.raw_files(store_path)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    result = con.execute(SQL_FIGURES, {"files": files, "org": org})
    names = [d[0] for d in result.description]
    rows = []
    for record in result.fetchall():
        row = dict(zip(names, record, strict=True))
        rows.append(
            {"as_of": row["as_of"].isoformat(), "unit": row["unit"]}
            | {f: str(row[f]) for f in FIGURES}
        )
    clock.step("query")
    _write_rows(out, rows, clock)


PANDAS_COLUMNS = [
    "as_of",
    "loan_id",
    "borrower_id",
    "borrower_type",
    "org_unit",
    "principal_balance",
    "days_past_due",
    "reported_class",
    "restructured",
    "restructure_date",
    "credit_impaired",
    "status",
]
CLASS_RANK = {"normal": 0, "special_mention": 1, "substandard": 2, "doubtful": 3, "loss": 4}


def _pandas_rollup(org_file: str) -> tuple[Any, list[str]]:
    """(``org_unit``, ``unit``) pairs, each unit with itself and every unit above it; units."""
    import pandas as pd

    org = pd.read_parquet(org_file)
    parents = dict(zip(org["code"], org["parent_code"], strict=True))
    pairs = []
    for code in org["code"]:
        unit: str | None = code
        while unit is not None and not pd.isna(unit):
            pairs.append((code, unit))
            unit = parents.get(unit)
    return pd.DataFrame(pairs, columns=["org_unit", "unit"]), sorted(org["code"])


def _pandas_base(df: Any, as_of: Any) -> tuple[Any, Any, Any, Any]:
    """Balance in fen, DPD, on-book flag and the base rank (DPD ladder, impaired, restructured
    in observation, reported grade as a floor) of every row; ``as_of`` per row."""
    import numpy as np
    import pandas as pd

    bal = (df["principal_balance"] * 100).astype("int64").to_numpy()  # exact fen
    dpd = df["days_past_due"].astype("int64").to_numpy()
    on_book = (df["status"] == "active").to_numpy(dtype=bool)
    impaired = df["credit_impaired"].fillna(False).to_numpy(dtype=bool)
    restructured = df["restructured"].fillna(False).to_numpy(dtype=bool)
    observed = np.zeros(len(df), dtype=bool)
    if restructured.any():
        dates = pd.to_datetime(df["restructure_date"][restructured].astype("datetime64[s]"))
        anniversary = dates + pd.DateOffset(months=12)  # day clamped to the month's end
        # NaT (no restructure date) compares False
        observed[restructured] = as_of[restructured] < anniversary.to_numpy()
    reported = np.zeros(len(df), dtype=np.int64)
    for name, rank in CLASS_RANK.items():
        reported[(df["reported_class"] == name).fillna(False).to_numpy(dtype=bool)] = rank
    dpd_rank = np.select([dpd > 360, dpd > 270, dpd > 90, dpd > 0], [4, 3, 2, 1], 0)
    base = np.maximum.reduce([dpd_rank, np.where(impaired, 2, 0), observed * 1, reported])
    return bal, dpd, on_book, base


def _pandas_contagion(df: Any, keys: list[str], bal: Any, on_book: Any, base: Any) -> Any:
    """Base ranks raised by non-retail contagion; a borrower is ``keys`` (its id, and the
    month when several months are in the frame). Share > 10 % ⇔ 10 · npl > book, in fen."""
    import numpy as np
    import pandas as pd

    non_retail = (df["borrower_type"] == "non_retail").fillna(False).to_numpy(dtype=bool)
    if not non_retail.any():
        return base
    borrower = df[keys]
    # Only the borrowers with a non-retail loan need their sums.
    wanted = borrower[non_retail].drop_duplicates()
    members = (
        pd.MultiIndex.from_frame(borrower).isin(pd.MultiIndex.from_frame(wanted))
        if len(keys) > 1
        else borrower[keys[0]].isin(wanted[keys[0]]).to_numpy(dtype=bool)
    )
    base_npl = on_book & (base >= 2)
    frame = (
        borrower[members]
        .reset_index(drop=True)
        .assign(
            npl=np.where(base_npl, bal, 0)[members],
            book=np.where(on_book, bal, 0)[members],
            any=base_npl[members].astype(np.int64),
        )
    )
    sums = frame.groupby(keys)[["npl", "book", "any"]].transform("sum")
    pulled = np.zeros(len(df), dtype=np.int64)
    pulled[members] = np.where(
        sums["npl"].to_numpy() * 10 > sums["book"].to_numpy(),
        2,
        np.where(sums["any"].to_numpy() > 0, 1, 0),
    )
    return np.maximum(base, np.where(on_book & non_retail, pulled, 0))


def _pandas_figures(keys: dict[str, Any], bal: Any, dpd: Any, final: Any, on_book: Any) -> Any:
    """The §2 figures of the on-book rows, summed per ``keys`` (unit, and month when given)."""
    import numpy as np
    import pandas as pd

    npl = final >= 2
    figures = pd.DataFrame(
        {
            **keys,
            "loans": 1,
            "balance": bal,
            "npl_balance": np.where(npl, bal, 0),
            "npl_loans": npl.astype(np.int64),
            **{f"{name}_balance": np.where(final == r, bal, 0) for name, r in CLASS_RANK.items()},
            "overdue_balance": np.where(dpd >= 1, bal, 0),
            "dpd90_balance": np.where(dpd > 90, bal, 0),
        }
    )[on_book]
    return figures.groupby(list(keys)).sum()


def _pandas_row(as_of: str, unit: str, values: Any) -> dict[str, Any]:
    row = {"as_of": as_of, "unit": unit}
    for f in FIGURES:
        amount = int(values[f])
        row[f] = str(amount) if f in COUNTS else str(Decimal(amount).scaleb(-2))
    return row


def child_pandas(store_path: Path, out: Path, dump: Path | None = None) -> None:
    """Month by month, each loan's probation state carried from the month before."""
    import numpy as np
    import pandas as pd

    clock = common.ChildClock()
    files, org_file = common.raw_files(store_path)
    rollup, units = _pandas_rollup(org_file)

    state: pd.DataFrame | None = None  # per loan: hard_seen, released, run, m, active
    rows: list[dict[str, Any]] = []
    dumped = []
    for path in files:
        df = pd.read_parquet(path, columns=PANDAS_COLUMNS, dtype_backend="pyarrow")
        as_of = pd.Timestamp(df["as_of"].iloc[0])
        m = as_of.year * 12 + as_of.month
        bal, dpd, on_book, base = _pandas_base(df, np.full(len(df), as_of.to_datetime64()))
        c = _pandas_contagion(df, ["borrower_id"], bal, on_book, base)

        # probation, carried from the loan's previous row (a missing month breaks the run)
        hard = on_book & (c >= 2)
        clean = on_book & (dpd == 0) & ~hard
        ids = df["loan_id"].astype(str).to_numpy()
        if state is None:
            p_hard_seen = np.zeros(len(df), dtype=bool)
            p_released = np.zeros(len(df), dtype=bool)
            p_run = np.zeros(len(df), dtype=np.int64)
        else:
            previous = state.reindex(ids)
            consecutive = (previous["m"].to_numpy() == m - 1) & (
                previous["active"].fillna(False).to_numpy(dtype=bool)
            )
            p_hard_seen = previous["hard_seen"].fillna(False).to_numpy(dtype=bool)
            p_released = previous["released"].fillna(False).to_numpy(dtype=bool)
            p_run = np.where(consecutive, previous["run"].fillna(0).to_numpy(), 0).astype(np.int64)
        run = np.where(hard, 0, np.where(clean, p_run + 1, 0))
        hard_seen = hard | p_hard_seen
        released = np.where(hard, False, p_released | (run >= 6))
        held = on_book & hard_seen & ~released & ~hard
        final = np.where(held, np.maximum(c, 2), c)
        current = pd.DataFrame(
            {"hard_seen": hard_seen, "released": released, "run": run, "m": m, "active": on_book},
            index=pd.Index(ids, name="loan_id"),
        )
        state = current if state is None else pd.concat([state[~state.index.isin(ids)], current])
        if dump is not None:
            dumped.append(
                pd.DataFrame({"as_of": as_of.date(), "loan_id": ids, "final_rank": final})[on_book]
            )

        # asset quality by unit, rolled up the tree
        own = _pandas_figures(
            {"org_unit": df["org_unit"].astype(str).to_numpy()}, bal, dpd, final, on_book
        )
        rolled = rollup.merge(own, left_on="org_unit", right_index=True, how="left")
        rolled = rolled.drop(columns="org_unit").fillna(0).groupby("unit").sum()
        rolled = rolled.reindex(units, fill_value=0)
        label = as_of.date().isoformat()
        rows += [_pandas_row(label, unit, values) for unit, values in rolled.iterrows()]
        common.say(f"pandas: {as_of.date()} done")
    clock.step("loop")
    if dump is not None:
        pd.concat(dumped).to_parquet(dump)
    _write_rows(out, rows, clock)


def child_pandas_whole(store_path: Path, out: Path) -> None:
    """The whole tape in one frame, each loan's history by ``groupby`` over loan and month,
    as the hand-written query does it with window functions (no state carried by hand)."""
    import numpy as np
    import pandas as pd

    clock = common.ChildClock()
    files, org_file = common.raw_files(store_path)
    rollup, units = _pandas_rollup(org_file)
    df = pd.concat(
        [pd.read_parquet(p, columns=PANDAS_COLUMNS, dtype_backend="pyarrow") for p in files],
        ignore_index=True,
    )
    clock.step("read")
    as_of = pd.to_datetime(df["as_of"].astype("datetime64[s]"))
    df["m"] = (as_of.dt.year * 12 + as_of.dt.month).astype("int64")
    bal, dpd, on_book, base = _pandas_base(df, as_of.to_numpy())
    c = _pandas_contagion(df, ["m", "borrower_id"], bal, on_book, base)
    clock.step("base and contagion")

    # probation over each loan's rows in month order: the last hard-NPL month so far, and the
    # months that end six clean rows in six consecutive calendar months
    hard = on_book & (c >= 2)
    clean = on_book & (dpd == 0) & ~hard
    history = pd.DataFrame(
        {"loan": df["loan_id"], "m": df["m"], "hard": hard, "clean": clean}
    ).sort_values(["loan", "m"])
    by_loan = history.groupby("loan", sort=False)
    last_hard = history["m"].where(history["hard"], 0).groupby(history["loan"], sort=False).cummax()
    completes = history["clean"].copy()
    for k in range(1, 6):
        completes &= by_loan["clean"].shift(k, fill_value=False).astype(bool)
    completes &= (history["m"] - by_loan["m"].shift(5)).eq(5)
    completed = history["m"].where(completes, 0).groupby(history["loan"], sort=False).cummax()
    held_sorted = (~history["hard"]) & (last_hard > 0) & (completed < last_hard)
    held = held_sorted.sort_index().to_numpy(dtype=bool) & on_book
    final = np.where(held, np.maximum(c, 2), c)
    clock.step("probation")

    own = _pandas_figures(
        {"as_of": df["m"].to_numpy(), "org_unit": df["org_unit"].astype(str).to_numpy()},
        bal,
        dpd,
        final,
        on_book,
    ).reset_index()
    rolled = rollup.merge(own, on="org_unit", how="inner").drop(columns="org_unit")
    rolled = rolled.groupby(["as_of", "unit"]).sum()
    labels = {d.year * 12 + d.month: d.isoformat() for d in df["as_of"].unique()}
    months = sorted(labels)
    rolled = rolled.reindex(pd.MultiIndex.from_product([months, units]), fill_value=0)
    rows = [_pandas_row(labels[m], unit, values) for (m, unit), values in rolled.iterrows()]
    clock.step("quality")
    _write_rows(out, rows, clock)


CHILDREN = {
    "npldesk": child_npldesk,
    "npldesk-warm": child_npldesk,
    "duckdb": child_duckdb,
    "pandas": child_pandas,
    "pandas-whole": child_pandas_whole,
}


# -- checking that they agree --------------------------------------------------------


def figures_of(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Decimal]]:
    return {(r["as_of"], r["unit"]): {f: Decimal(r[f]) for f in FIGURES} for r in rows}


def differences(
    reference: dict[tuple[str, str], dict[str, Decimal]],
    other: dict[tuple[str, str], dict[str, Decimal]],
) -> list[str]:
    found = []
    for key in sorted(set(reference) | set(other)):
        if key not in other or key not in reference:
            found.append(f"{key}: only in {'the reference' if key in reference else 'the other'}")
            continue
        for f in FIGURES:
            if reference[key][f] != other[key][f]:
                found.append(f"{key[0]} {key[1]} {f}: {reference[key][f]} vs {other[key][f]}")
    return found


def diagnose(store: Path, copy: Path, work: Path) -> None:
    """Loan by loan: npldesk's classified snapshots (in ``copy``) against the query's and
    pandas' classification; prints the first loans that differ with their history."""
    import duckdb

    files, _ = common.raw_files(store)
    manifest = json.loads((copy / "manifest.json").read_text())
    derived: dict[str, Any] = next(iter(manifest.get("derived", {}).values()), {})
    classified = [str(copy / derived[k]["files"]["classified"]) for k in sorted(derived)]
    dump = work / "pandas-loans.parquet"
    common.say("diagnosis: running pandas again with a per-loan dump")
    common.run_child(
        [SCRIPT, "--child", "pandas", str(store), str(work / "pandas-diag.json"), str(dump)],
        cwd=work,
    )
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "CREATE TEMP TABLE query AS SELECT as_of, loan_id, final_rank FROM ("
        + SQL_CLASSIFY
        + " SELECT * FROM classified) WHERE on_book",
        {"files": files},
    )
    con.execute(
        "CREATE TEMP TABLE npldesk AS SELECT as_of, loan_id, final_rank "
        "FROM read_parquet($f) WHERE status = 'active'",
        {"f": classified},
    )
    con.execute(f"CREATE TEMP TABLE pandas AS SELECT * FROM read_parquet('{dump}')")
    for left, right in (("npldesk", "query"), ("pandas", "query")):
        rows = con.execute(
            f"SELECT coalesce(l.as_of, r.as_of) AS as_of, coalesce(l.loan_id, r.loan_id) AS loan, "
            f"l.final_rank AS {left}, r.final_rank AS {right} FROM {left} l FULL JOIN {right} r "
            "ON l.as_of = r.as_of AND l.loan_id = r.loan_id "
            "WHERE l.final_rank IS DISTINCT FROM r.final_rank ORDER BY 2, 1"
        ).fetchall()
        print(f"\n{left} vs {right}: {len(rows)} loan-month(s) differ", file=sys.stderr)
        for row in rows[:20]:
            print(f"  {row}", file=sys.stderr)
        if rows:
            loan = rows[0][1]
            history = con.execute(
                "SELECT as_of, status, days_past_due, reported_class, credit_impaired, "
                "restructured, restructure_date, borrower_id, borrower_type, principal_balance "
                "FROM read_parquet($files) WHERE loan_id = $loan ORDER BY as_of",
                {"files": files, "loan": loan},
            ).fetchall()
            print(f"  history of {loan}:", file=sys.stderr)
            for row in history:
                print(f"    {row}", file=sys.stderr)


# -- the benchmark ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000, help="opening loans")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--work", type=Path, default=None, help="cache and results folder")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each implementation")
    parser.add_argument(
        "--only",
        default=",".join(IMPLEMENTATIONS),
        help="run only these (comma-separated); the check then compares those run",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="pause before each run, seconds: the machine recovers from the run before (after "
        "the 13 GB pandas the next run was half as slow again, with CPU stolen by the host)",
    )
    parser.add_argument("--interval", type=float, default=0.5, help="memory sampling, seconds")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, store, out, *rest = args.child
        if name == "pandas" and rest:
            child_pandas(Path(store), Path(out), Path(rest[0]))
        else:
            CHILDREN[name](Path(store), Path(out))
        return

    chosen = [n for n in args.only.split(",") if n]
    unknown = set(chosen) - set(IMPLEMENTATIONS)
    if unknown:
        parser.error(f"unknown implementation(s): {', '.join(sorted(unknown))}")
    work = (args.work or common.default_work()).resolve()
    machine = common.machine()
    book = common.synthetic_store(work, args.loans, args.months)
    runs_dir = common.runs_folder(work, book)
    copy = runs_dir / "npldesk-store"

    if "npldesk-warm" in chosen and "npldesk" not in chosen:
        # the warm runs read classified snapshots: classify the copy once, untimed
        common.say("classifying a copy of the store for the warm runs (not timed)")
        common.run_child(
            [SCRIPT, "--child", "npldesk", str(common.fresh_copy(book.path, copy)), os.devnull],
            cwd=runs_dir,
        )
    runs: dict[str, list[common.ChildRun]] = {name: [] for name in chosen}
    for attempt in range(1, args.repeat + 1):  # interleaved: all see the same machine state
        # Every other round in reverse order: no implementation always runs right after the
        # same one (the run after the 13 GB pandas ran slower, see --settle).
        for name in chosen if attempt % 2 else chosen[::-1]:
            store = book.path
            if name == "npldesk":
                store = common.fresh_copy(book.path, copy)
            elif name == "npldesk-warm":
                store = copy  # as the npldesk run (or the untimed one) left it: classified
            common.say(f"run {attempt}/{args.repeat}: {name}")
            time.sleep(args.settle)
            common.warm_cache(store)
            out = runs_dir / f"{name}.json"
            run = common.run_child(
                [SCRIPT, "--child", name, str(store), str(out)],
                report=out,
                cwd=runs_dir,
                interval=args.interval,
            )
            common.say(f"  {name}: {run.seconds:.1f} s, peak RSS {run.tree_peak_rss_mib:.0f} MiB")
            runs[name].append(run)

    # The figures of every run must be identical, month by month and unit by unit.
    reference_name = "duckdb" if "duckdb" in chosen else chosen[0]
    reference = figures_of(runs[reference_name][0].report["rows"])
    problems: list[str] = []
    for name in chosen:
        for index, run in enumerate(runs[name]):
            found = differences(reference, figures_of(run.report["rows"]))
            problems += [f"{name} run {index + 1} vs {reference_name}: {d}" for d in found]
    months = sorted({key[0] for key in reference})
    units = sorted({key[1] for key in reference})
    if problems:
        print(f"THE IMPLEMENTATIONS DISAGREE ({len(problems)} figure(s)):", file=sys.stderr)
        for problem in problems[:40]:
            print(f"  {problem}", file=sys.stderr)
        if {"npldesk", "duckdb"} <= set(chosen):
            diagnose(book.path, copy, runs_dir)
        raise SystemExit(1)
    common.say(
        f"checked: {len(chosen)} implementation(s) agree exactly on {len(FIGURES)} figures × "
        f"{len(units)} units × {len(months)} months"
    )

    summary: dict[str, dict[str, Any]] = {}
    for name, measured in runs.items():
        summary[name] = {
            "seconds_median": round(common.median([r.seconds for r in measured]), 2),
            "seconds_all": [round(r.seconds, 2) for r in measured],
            "compute_seconds_median": round(
                common.median([r.report["compute_seconds"] for r in measured]), 2
            ),
            "steps": measured[-1].report["steps"],
            "peak_rss_mib_max": round(max(r.tree_peak_rss_mib for r in measured)),
            "own_peak_rss_mib_max": round(max(r.peak_rss_mib for r in measured)),
        }

    def ratio(a: str, b: str, key: str) -> float | None:
        if a not in summary or b not in summary or not summary[b][key]:
            return None
        return round(summary[a][key] / summary[b][key], 3)

    # The targets: npldesk from raw (classification included) against the query; and npldesk,
    # from raw and from its classified snapshots, against each pandas implementation.
    comparisons: list[tuple[str, str, str, str, float, bool]] = [
        ("npldesk", "duckdb", "seconds_median", "time", 1.5, True)
    ]
    for npl in ("npldesk", "npldesk-warm"):
        for pandas in ("pandas", "pandas-whole"):
            comparisons.append((pandas, npl, "seconds_median", "time", 20, False))
            comparisons.append((npl, pandas, "peak_rss_mib_max", "peak memory", 0.1, True))
    ratios: dict[str, float | None] = {}
    targets: dict[str, dict[str, Any]] = {}
    target_rows = []
    for a, b, key, what, limit, at_most in comparisons:
        value = ratio(a, b, key)
        if value is None:
            continue
        name = f"{a}_{'time' if what == 'time' else 'memory'}_over_{b}".replace("-", "_")
        ratios[name] = value
        verdict = common.verdict(value, limit, at_most=at_most)
        targets[name] = {"at_most" if at_most else "at_least": limit, "verdict": verdict}
        target_rows.append(
            [f"{a} {what} / {b}", f"{'≤' if at_most else '≥'} {limit}", value, verdict]
        )
    result = {
        "benchmark": "analytics_quality",
        "loans": args.loans,
        "months": args.months,
        "store": book.describe(),
        "checked": {
            "identical": True,
            "units": len(units),
            "months": len(months),
            "figures": list(FIGURES),
        },
        "machine": machine,
        **summary,
        "ratios": ratios,
        "targets": targets,
    }
    labels = {
        "npldesk": "npldesk from raw (ensure_classified + asset_quality_by_month)",
        "npldesk-warm": "npldesk-warm: the same on its classified snapshots",
        "duckdb": "one hand-written DuckDB query",
        "pandas": "pandas, month by month, state carried by hand",
        "pandas-whole": "pandas-whole: the whole tape in one frame, groupby per loan",
    }
    table = common.markdown_table(
        ["implementation", "median s", "compute s", "peak RSS MiB"],
        [
            [
                labels[n],
                summary[n]["seconds_median"],
                summary[n]["compute_seconds_median"],
                summary[n]["peak_rss_mib_max"],
            ]
            for n in chosen
        ],
    )
    markdown = (
        f"Asset quality by unit, every month, classification from raw: {args.loans:,} opening "
        f"loans × {args.months} months ({book.rows:,} rows), {len(units)} units; figures "
        f"identical in all. {machine['cores']} cores, load {machine['load_average_at_start']}"
        f".\n\n{table}\n\n"
        + common.markdown_table(["ratio", "target", "measured", "verdict"], target_rows)
    )
    common.publish("analytics_quality", result, markdown, work)


if __name__ == "__main__":
    main()
