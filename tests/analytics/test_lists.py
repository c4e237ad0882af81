"""The loan lists (docs/figures.md §5) on hand-built tapes, on DuckDB and on PySpark."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from npldesk.analytics import Analytics, connect
from npldesk.analytics.lists import (
    LIST_COLUMNS,
    LIST_NAMES,
    PERSONAL_COLUMNS,
    deviations,
    early_warning,
    list_columns,
    new_npl,
    run_list,
    top_npl,
    upgraded,
)
from npldesk.core.errors import UsageError
from npldesk.core.rules import RuleParams
from npldesk.tape.schema import PERSONAL_COLUMNS as TAPE_PERSONAL_COLUMNS
from tests.analytics.conftest import build_store
from tests.tape_factory import loan_row

SEP, OCT, NOV, DEC = date(2019, 9, 30), date(2019, 10, 31), date(2019, 11, 30), date(2019, 12, 31)


def loan(n: int, as_of: date, balance: str = "10000.00", **overrides: Any) -> dict[str, str]:
    """A loan row with a balance of its own (the factory's rows all hold 80000.00)."""
    return loan_row(n, as_of, principal_balance=balance, **overrides)


def exit_row(n: int, as_of: date, status: str, **overrides: Any) -> dict[str, str]:
    """A terminal row: the loan leaves the books this month."""
    return loan_row(n, as_of, principal_balance="0.00", status=status, **overrides)


def history(n: int, balance: str, dpds: dict[date, int], **overrides: Any) -> list[dict[str, str]]:
    """One loan's rows: its days past due month by month."""
    return [loan(n, m, balance, days_past_due=d, **overrides) for m, d in dpds.items()]


def three_months() -> list[dict[str, str]]:
    """October to December 2019 (probation: one clean month); each loan says what it tests."""
    return [
        # Special mention in November, NPL in December.
        *history(1, "50000.00", {OCT: 0, NOV: 30, DEC: 95}),
        # Turned NPL in November and was repaid in December: in the inflow, never in a list.
        *history(2, "60000.00", {OCT: 0, NOV: 95}),
        exit_row(2, DEC, "repaid"),
        # NPL throughout.
        *history(3, "70000.00", {OCT: 131, NOV: 161, DEC: 192}),
        # First on the books in December, credit-impaired: new against any start.
        loan(4, DEC, "40000.00", credit_impaired="true"),
        # NPL in November, clean in December: upgraded against November only.
        *history(5, "30000.00", {OCT: 0, NOV: 95, DEC: 0}),
        # NPL in November, written off in December: left the books, not upgraded.
        *history(6, "20000.00", {OCT: 0, NOV: 95}),
        exit_row(6, DEC, "written_off", exit_amount="20000.00"),
        # Graded substandard by the bank throughout.
        *history(7, "80000.00", {OCT: 0, NOV: 0, DEC: 0}, reported_class="substandard"),
        # Normal in October, NPL since November: new against October only.
        *history(9, "45000.00", {OCT: 0, NOV: 95, DEC: 125}),
        # NPL in October, clean since: upgraded in November (against October only).
        *history(10, "35000.00", {OCT: 95, NOV: 0, DEC: 0}),
    ]


def ids(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in ("loan_id", *columns)) for row in rows]


def test_new_npl_and_upgraded_against_the_month_before_and_a_chosen_start(make_session):
    session = make_session(three_months(), RuleParams(probation_months=1))

    def listed(function, start: date) -> list[dict[str, Any]]:
        return session.rows(function(session.classified(start), session.classified(DEC)))

    assert ids(listed(new_npl, NOV), "class", "previous_class") == [
        ("L000001", "substandard", "special_mention"),
        ("L000004", "substandard", None),
    ]
    # Over two months the list compares the two snapshots: L000002 turned NPL and was
    # repaid in between, so it is in the summed inflow but not here.
    assert ids(listed(new_npl, OCT), "class", "previous_class") == [
        ("L000001", "substandard", "normal"),
        ("L000009", "substandard", "normal"),
        ("L000004", "substandard", None),
    ]
    assert ids(listed(upgraded, NOV), "class", "previous_class") == [
        ("L000005", "normal", "substandard")
    ]
    assert ids(listed(upgraded, OCT), "class", "previous_class") == [
        ("L000010", "normal", "substandard")
    ]
    row = listed(new_npl, NOV)[0]
    assert tuple(row) == list_columns("new-npl")
    assert row["principal_balance"] == Decimal("50000.00")
    assert row["days_past_due"] == 95
    assert row["reasons"] == "dpd>90"
    assert (row["borrower_name"], row["id_number"], row["phone"]) == (
        "张三",
        "340603198502150022",
        "13800000000",
    )


def test_early_warning_order_ties_and_the_30_day_flag(make_session):
    rows = [
        loan(1, DEC, "10000.00", days_past_due=60),  # 31 days left: not flagged
        loan(2, DEC, "10000.00", days_past_due=61),  # 30 days left: flagged
        loan(3, DEC, "5000.00", days_past_due=90),  # 1 day left
        loan(4, DEC, "9000.00", days_past_due=90),  # 1 day left, larger: before L000003
        loan(5, DEC, "10000.00", days_past_due=61),  # ties L000002: by loan_id
        loan(6, DEC, "99000.00", days_past_due=0),  # current: not listed
        loan(7, DEC, "99000.00", days_past_due=91),  # NPL: not listed
        loan(8, DEC, "99000.00", days_past_due=5, credit_impaired="true"),  # NPL: not listed
        loan(9, DEC, "1000.00", days_past_due=1),  # 90 days left: last
    ]
    session = make_session(rows)
    listed = session.rows(early_warning(session.classified(DEC)))
    assert ids(listed, "days_past_due", "days_to_npl", "becomes_npl_within_30_days") == [
        ("L000004", 90, 1, True),
        ("L000003", 90, 1, True),
        ("L000002", 61, 30, True),
        ("L000005", 61, 30, True),
        ("L000001", 60, 31, False),
        ("L000009", 1, 90, False),
    ]
    assert [r["previous_class"] for r in listed] == [None] * 6
    assert [r["class"] for r in listed] == ["special_mention"] * 6
    assert tuple(listed[0]) == list_columns("early-warning")


def test_top_npl_households_ranked_by_npl_balance_with_ties_by_borrower(make_session):
    def household(n: int, borrower: str, balance: str, dpd: int) -> dict[str, str]:
        return loan(n, DEC, balance, days_past_due=dpd, borrower_id=borrower)

    rows = [
        household(1, "B9001", "30000.00", 95),
        household(2, "B9001", "25000.00", 120),
        household(3, "B9001", "99999.00", 0),  # performing: not in the household's NPL
        household(4, "B9002", "55000.00", 95),  # ties B9001 at 55000: after it
        household(5, "B9003", "70000.00", 300),
        household(6, "B9004", "1000.00", 95),
    ]
    session = make_session(rows)
    top3 = session.rows(top_npl(session.classified(DEC), limit=3))
    assert [
        (
            r["household_rank"],
            r["borrower_id"],
            r["loan_id"],
            r["household_npl_balance"],
            r["household_npl_loans"],
        )
        for r in top3
    ] == [
        (1, "B9003", "L000005", Decimal("70000.00"), 1),
        (2, "B9001", "L000001", Decimal("55000.00"), 2),
        (2, "B9001", "L000002", Decimal("55000.00"), 2),
        (3, "B9002", "L000004", Decimal("55000.00"), 1),
    ]
    assert top3[0]["class"] == "doubtful"
    everyone = session.rows(top_npl(session.classified(DEC)))
    assert [r["borrower_id"] for r in everyone][-1] == "B9004"
    assert tuple(everyone[0]) == list_columns("top-npl")


def test_deviations_are_reported_grades_better_than_the_final_class(make_session):
    rows = [
        loan(1, DEC, "10000.00", days_past_due=95, reported_class="normal"),
        loan(2, DEC, "10000.00", days_past_due=30, reported_class="special_mention"),
        loan(3, DEC, "10000.00", days_past_due=30, reported_class="normal"),
        loan(4, DEC, "10000.00", days_past_due=0, reported_class="doubtful"),
        loan(5, DEC, "10000.00", days_past_due=95, reported_class=""),  # no grade to compare
        loan(6, DEC, "10000.00", days_past_due=280, reported_class="normal"),
    ]
    session = make_session(rows)
    listed = session.rows(deviations(session.classified(DEC)))
    assert ids(listed, "reported_class", "class") == [
        ("L000006", "normal", "doubtful"),
        ("L000001", "normal", "substandard"),
        ("L000003", "normal", "special_mention"),
    ]
    assert tuple(listed[0]) == list_columns("deviation")


@pytest.mark.slow
def test_duckdb_and_pyspark_give_identical_rows_and_types(tmp_path: Path):
    rows = [
        *history(1, "10000.00", {NOV: 0, DEC: 95}),
        *history(2, "20000.00", {NOV: 95, DEC: 0}),
        *history(3, "30000.00", {NOV: 30, DEC: 65}, reported_class="normal"),
    ]
    results = {}
    for name in ("duckdb", "pyspark"):
        session = Analytics(
            store=build_store(tmp_path / name, rows),
            engine=connect(name),
            params=RuleParams(probation_months=1),
        )
        results[name] = {
            list_name: [
                {k: (type(v).__name__, str(v)) for k, v in row.items()}
                for row in run_list(session, list_name, DEC).rows
            ]
            for list_name in LIST_NAMES
        }
    assert results["duckdb"] == results["pyspark"]
    assert all(results["duckdb"][name] for name in LIST_NAMES)


# -- run_list: months and options (DuckDB only: nothing here depends on the engine) -----


@pytest.fixture
def duckdb_session(tmp_path: Path) -> Analytics:
    rows = [
        *history(1, "10000.00", {OCT: 0, NOV: 0, DEC: 95}),
        *history(2, "20000.00", {OCT: 0, NOV: 0, DEC: 70}),
    ]
    return Analytics(store=build_store(tmp_path, rows), engine=connect("duckdb"))


def test_run_list_defaults_to_the_month_before_and_names_its_snapshots(duckdb_session):
    result = run_list(duckdb_session, "new-npl", DEC)
    assert (result.start, result.rule_set, result.limit) == (NOV, "cn-2023", None)
    assert [r["loan_id"] for r in result.rows] == ["L000001"]
    assert [s["as_of"] for s in result.lineage] == ["2019-11-30", "2019-12-31"]
    assert all(len(s["sha256"]) == 64 and s["source"] == "tape.csv" for s in result.lineage)
    chosen = run_list(duckdb_session, "early-warning", DEC, start=OCT)
    assert chosen.start == OCT and chosen.rows[0]["previous_class"] == "normal"
    assert run_list(duckdb_session, "top-npl", DEC).limit == 20


def test_without_the_month_before_only_the_comparing_lists_fail(duckdb_session):
    warning = run_list(duckdb_session, "early-warning", OCT)
    assert warning.start is None and warning.lineage[0]["as_of"] == "2019-10-31"
    with pytest.raises(UsageError, match=r"compares 2019-10 with 2019-09, which is not imported"):
        run_list(duckdb_session, "new-npl", OCT)
    with pytest.raises(UsageError, match="2019-09"):
        run_list(duckdb_session, "upgraded", OCT)


@pytest.mark.parametrize(
    ("name", "as_of", "options", "message"),
    [
        ("new-npl", DEC, {"start": DEC}, "must be a month before 2019-12"),
        ("new-npl", NOV, {"start": DEC}, "must be a month before 2019-11"),
        ("new-npl", DEC, {"start": SEP}, "start month 2019-09 is not imported"),
        ("new-npl", date(2020, 1, 31), {}, "month 2020-01 is not imported"),
        ("bad-loans", DEC, {}, "unknown list 'bad-loans'; known: new-npl, early-warning"),
        ("new-npl", DEC, {"limit": 5}, "limit applies to top-npl only"),
        ("top-npl", DEC, {"limit": 0}, "at least 1"),
    ],
)
def test_run_list_refuses_what_it_cannot_answer(duckdb_session, name, as_of, options, message):
    with pytest.raises(UsageError, match=message):
        run_list(duckdb_session, name, as_of, **options)


def test_the_lists_carry_every_personal_column_of_the_tape():
    assert set(PERSONAL_COLUMNS) == set(TAPE_PERSONAL_COLUMNS)
    for name in LIST_NAMES:
        assert list_columns(name)[: len(LIST_COLUMNS)] == LIST_COLUMNS


def test_eu_npe_early_warning_follows_the_rule_set_threshold(tmp_path: Path):
    params = replace(RuleParams(name="eu-npe", probation_months=3), substandard_dpd=60)
    session = Analytics(
        store=build_store(tmp_path, [loan(1, DEC, days_past_due=31)]),
        engine=connect("duckdb"),
        params=params,
    )
    row = run_list(session, "early-warning", DEC).rows[0]
    assert (row["days_to_npl"], row["becomes_npl_within_30_days"]) == (30, True)
