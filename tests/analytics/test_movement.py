"""NPL movement (docs/figures.md §3) on hand-built tapes, on DuckDB and on PySpark: every line
of the table, group moves, exits in the old group, periods as sums of months, and the identity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import ibis
import pytest

from npldesk.analytics import Analytics
from npldesk.analytics.groups import resolve_grouping
from npldesk.analytics.movement import (
    GROUP_LINES,
    LINES,
    identity_holds,
    npl_movement_step,
)
from npldesk.core.errors import UsageError
from npldesk.core.months import month_range
from npldesk.core.rules import RuleParams
from npldesk.reports import figures as reports
from npldesk.tape.org import load_org
from tests.tape_factory import loan_row


def quality_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report's JSON document (what ``--format json`` prints)."""
    return reports.quality_report(*args, **kwargs).as_json()


def movement_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report's JSON document (what ``--format json`` prints)."""
    return reports.movement_report(*args, **kwargs).as_json()


NOV = date(2019, 11, 30)
DEC = date(2019, 12, 31)
APR = date(2019, 4, 30)
# One clean month releases an upgraded loan, so an upgrade fits in a two-month tape.
QUICK_RELEASE = RuleParams(probation_months=1)


def performing(n: int, as_of: date, balance: str, **overrides: Any) -> dict[str, str]:
    return loan_row(
        n, as_of, principal_balance=balance, days_past_due=0, reported_class="", **overrides
    )


def npl(n: int, as_of: date, balance: str, dpd: int = 100, **overrides: Any) -> dict[str, str]:
    return loan_row(
        n,
        as_of,
        principal_balance=balance,
        days_past_due=dpd,
        overdue_principal="1.00",
        reported_class="",
        **overrides,
    )


def terminal(n: int, as_of: date, status: str, exit_amount: str = "", **overrides: Any):
    return loan_row(
        n,
        as_of,
        principal_balance="0.00",
        status=status,
        exit_amount=exit_amount,
        reported_class="",
        **overrides,
    )


def money(document_lines: dict[str, Any]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in document_lines.items() if k in GROUP_LINES}


def zeros(**lines: str) -> dict[str, str]:
    return dict.fromkeys(LINES, "0.00") | lines


def line_tape() -> list[dict[str, str]]:
    """One loan per line of the §3 table, November to December 2019."""
    return [
        performing(1, NOV, "10000.00"),
        npl(1, DEC, "10000.00"),  # inflow
        npl(2, NOV, "50000.00"),
        npl(2, DEC, "45000.00", 130),  # cash (paid down)
        npl(3, NOV, "20000.00"),
        npl(3, DEC, "21000.00", 130),  # increase (capitalised)
        npl(4, NOV, "30000.00"),
        performing(4, DEC, "28000.00"),  # upgrade, cash
        npl(12, NOV, "10000.00"),
        performing(12, DEC, "10500.00"),  # upgrade, increase
        npl(5, NOV, "40000.00"),
        terminal(5, DEC, "written_off", "35000.00"),
        npl(6, NOV, "25000.00"),
        terminal(6, DEC, "transferred", "25000.00"),
        npl(7, NOV, "60000.00"),
        terminal(7, DEC, "foreclosed", "50000.00"),
        npl(8, NOV, "15000.00"),
        terminal(8, DEC, "repaid"),
        npl(9, NOV, "12000.00"),  # no row in December: unexplained
        performing(10, NOV, "99000.00"),
        performing(10, DEC, "98000.00"),  # never NPL
        performing(11, NOV, "7000.00"),
        terminal(11, DEC, "written_off", "7000.00"),
    ]


def test_every_line_of_the_movement_table(make_session):
    session = make_session(line_tape(), QUICK_RELEASE)
    document = movement_report(session, DEC)
    assert (document["from"], document["to"], document["period"]) == (
        "2019-11-30",
        "2019-12-31",
        "month",
    )
    assert document["total"] == {
        "opening": "262000.00",
        "inflow": "10000.00",
        "increase": "1500.00",  # 1000 (L3) + 500 (L12)
        "cash": "37000.00",  # 5000 + 2000 + 5000 (write-off rest) + 0 + 10000 + 15000
        "upgrade": "38500.00",  # 28000 + 10500
        "write_off": "35000.00",
        "transfer": "25000.00",
        "foreclosure": "50000.00",
        "unexplained": "12000.00",
        "closing": "76000.00",
    }
    assert document["identity_holds"] is True and document["rows"] == []
    assert [s["as_of"] for s in document["snapshots"]] == ["2019-11-30", "2019-12-31"]
    # Opening and closing are the NPL balances of the two snapshots.
    nov = quality_report(session, NOV)["total"]["npl_balance"]
    dec = quality_report(session, DEC)["total"]["npl_balance"]
    assert (nov, dec) == ("262000.00", "76000.00")


def test_the_step_function_whole_book(make_session):
    session = make_session(line_tape(), QUICK_RELEASE)
    step = npl_movement_step(session.classified(NOV), session.classified(DEC), by=None)
    (row,) = session.rows(step)
    assert row["key"] is None
    assert row["moved_in"] == row["moved_out"] == Decimal("0.00")
    assert row["cash"] == Decimal("37000.00") and identity_holds(money(row))


def move_tape() -> list[dict[str, str]]:
    return [
        # M1: NPL in HB0101, on book in HB0201 in December, paid down by 1000.
        npl(1, NOV, "10000.00", org_unit="HB0101", product="consumer"),
        npl(1, DEC, "9000.00", 130, org_unit="HB0201", product="business"),
        # M2: NPL in HB0102, written off in December on a row that names HB0201.
        npl(2, NOV, "20000.00", org_unit="HB0102"),
        terminal(2, DEC, "written_off", "18000.00", org_unit="HB0201"),
        # M3: NPL in HB0101, moves to HB0102 and is upgraded there.
        npl(3, NOV, "5000.00", org_unit="HB0101"),
        performing(3, DEC, "5000.00", org_unit="HB0102"),
        # M4: performing in HB0101, NPL in HB0201 after the move: inflow in the new unit.
        performing(4, NOV, "7000.00", org_unit="HB0101"),
        npl(4, DEC, "7000.00", org_unit="HB0201"),
        # M5: NPL in HB0201, no row in December.
        npl(5, NOV, "3000.00", org_unit="HB0201"),
    ]


def test_group_moves_and_exits_in_the_old_group(make_session):
    session = make_session(move_tape(), QUICK_RELEASE)
    document = movement_report(session, DEC, by="org_unit")
    rows = {r["key"]: {k: v for k, v in r.items() if k in GROUP_LINES} for r in document["rows"]}
    moves = {"moved_in": "0.00", "moved_out": "0.00"}
    assert rows["HB0101"] == zeros(opening="15000.00") | moves | {"moved_out": "15000.00"}
    assert rows["HB0102"] == zeros(
        opening="20000.00", upgrade="5000.00", cash="2000.00", write_off="18000.00"
    ) | moves | {"moved_in": "5000.00"}
    assert rows["HB0201"] == zeros(
        opening="3000.00",
        inflow="7000.00",
        cash="1000.00",
        unexplained="3000.00",
        closing="16000.00",
    ) | moves | {"moved_in": "10000.00"}
    # Within the county HB01, M3 did not change group; M1 left it.
    assert rows["HB01"] == zeros(
        opening="35000.00", upgrade="5000.00", cash="2000.00", write_off="18000.00"
    ) | moves | {"moved_out": "10000.00"}
    assert rows["HB02"] == rows["HB0201"]
    # The city branch holds everything: no moves, the same lines as the whole book.
    assert rows["HB00"] == document["total"] | moves
    assert document["total"] == zeros(
        opening="38000.00",
        inflow="7000.00",
        cash="3000.00",
        upgrade="5000.00",
        write_off="18000.00",
        unexplained="3000.00",
        closing="16000.00",
    )
    assert document["identity_holds"] is True

    products = movement_report(session, DEC, by="product")
    got = {r["key"]: (r["moved_in"], r["moved_out"], r["closing"]) for r in products["rows"]}
    assert got == {
        "business": ("10000.00", "0.00", "9000.00"),
        "consumer": ("0.00", "10000.00", "7000.00"),
    }
    assert products["identity_holds"] is True


def test_the_step_function_by_unit_without_and_with_a_level(make_session):
    session = make_session(move_tape(), QUICK_RELEASE)
    grouping = resolve_grouping("org_unit", "sub_branch", load_org(session.store))
    previous, current = session.classified(NOV), session.classified(DEC)
    plain = session.rows(npl_movement_step(previous, current, by="org_unit"))
    rolled = session.rows(
        npl_movement_step(previous, current, by="org_unit", rollup=grouping.rollup())
    )
    # Sub-branches hold loans directly: rolled up or not, their lines are the same.
    assert sorted(plain, key=lambda r: r["key"]) == sorted(rolled, key=lambda r: r["key"])
    assert {r["key"] for r in rolled} == {"HB0101", "HB0102", "HB0201"}
    with pytest.raises(ValueError, match="org_unit only"):
        npl_movement_step(previous, current, by="product", rollup=grouping.rollup())


def history_tape() -> list[dict[str, str]]:
    """Thirteen month-ends (2018-12 to 2019-12), loans that turn, cure, move and leave."""
    months = list(month_range(date(2018, 12, 31), DEC))
    rows: list[dict[str, str]] = []

    def path(n: int, states: list[tuple[str, Any] | None], **common: Any) -> None:
        for as_of, state in zip(months, states, strict=False):
            if state is None:
                continue
            kind, value = state
            extra = {k: (v(as_of) if callable(v) else v) for k, v in common.items()}
            if kind == "ok":
                rows.append(performing(n, as_of, value, **extra))
            elif kind == "npl":
                rows.append(npl(n, as_of, value, **extra))
            else:
                rows.append(terminal(n, as_of, kind, value, **extra))

    ok, bad = "ok", "npl"
    # Turns NPL, pays down, cures after six clean months.
    path(
        1,
        [(ok, "50000.00")] * 2
        + [(bad, f"{48000 - 1000 * i}.00") for i in range(4)]
        + [(ok, "44000.00")] * 7,
        org_unit="HB0101",
    )
    # NPL from the start, moves county in May, written off in October.
    path(
        2,
        [(bad, "30000.00")] * 5 + [(bad, "29000.00")] * 5 + [("written_off", "25000.00")],
        org_unit=lambda m: "HB0101" if m.month == 12 or m.month < 5 else "HB0201",
        product="business",
    )
    # Missing in March (unexplained), back as NPL in April, repaid in August.
    path(
        3,
        [(bad, "8000.00")] * 3 + [None] + [(bad, "8000.00")] * 4 + [("repaid", "")],
        org_unit="HB0102",
    )
    # Performing, moves sub-branch, NPL from July, capitalised interest, transferred in Dec.
    path(
        4,
        [(ok, "12000.00")] * 7
        + [
            (bad, "12000.00"),
            (bad, "12500.00"),
            (bad, "13000.00"),
            (bad, "13000.00"),
            (bad, "13000.00"),
            ("transferred", "10000.00"),
        ],
        org_unit=lambda m: "HB0102" if m.month in (1, 2, 3, 4, 5, 6) else "HB0101",
    )
    # A household of two non-retail loans: one NPL pulls the other (contagion), foreclosed.
    for n, balance in ((5, "40000.00"), (6, "9000.00")):
        states: list[tuple[str, Any] | None] = [(ok, balance)] * 3
        states += [(bad if n == 5 else ok, balance)] * 6
        states += [("foreclosed", "30000.00")] if n == 5 else [(ok, balance)] * 4
        path(
            n,
            states,
            borrower_id="H56",
            borrower_type="non_retail",
            id_number="",
            org_unit="HB0201",
            product="business",
        )
    # Never NPL.
    path(7, [(ok, "70000.00")] * 13, org_unit="HB0101")
    return rows


@pytest.fixture
def history(make_session) -> Analytics:
    return make_session(history_tape())


def test_identity_for_every_month_and_period_of_a_year(history: Analytics):
    months = list(month_range(date(2018, 12, 31), DEC))
    grouping = resolve_grouping("org_unit", None, load_org(history.store))
    # Every monthly step, by unit and for the whole book, in one query per grouping.
    monthly: dict[tuple[date, str | None], dict[str, Decimal]] = {}
    for by, rollup in (("org_unit", grouping.rollup()), (None, None)):
        steps = [
            npl_movement_step(
                history.classified(a), history.classified(b), by=by, rollup=rollup
            ).mutate(step_to=ibis.literal(b))
            for a, b in pairwise(months)
        ]
        for row in history.rows(ibis.union(*steps, distinct=False)):
            monthly[(row["step_to"], row["key"] if by else "book")] = money(row)
    assert len([k for k in monthly if k[1] == "book"]) == 12
    broken = [key for key, lines in monthly.items() if not identity_holds(lines)]
    assert broken == []
    # Closing of each month is the NPL balance of the snapshot.
    book = {m: monthly[(m, "book")] for m in months[1:]}
    assert book[date(2019, 12, 31)]["closing"] == Decimal("9000.00")  # L6, pulled in
    assert sum(lines["unexplained"] for lines in book.values()) == Decimal("8000.00")
    assert sum(lines["write_off"] for lines in book.values()) == Decimal("25000.00")
    assert sum(lines["transfer"] for lines in book.values()) == Decimal("10000.00")
    assert sum(lines["foreclosure"] for lines in book.values()) == Decimal("30000.00")

    # The year to date is the sum of its months, line by line, in every unit.
    ytd = movement_report(history, DEC, period="ytd", by="org_unit")
    assert ytd["identity_holds"] is True and ytd["from"] == "2018-12-31"
    assert len(ytd["snapshots"]) == 13
    for row in ytd["rows"]:
        for line in GROUP_LINES:
            if line in ("opening", "closing"):
                continue
            summed = sum(
                monthly[(m, row["key"])][line] if (m, row["key"]) in monthly else Decimal(0)
                for m in months[1:]
            )
            assert Decimal(row[line]) == summed, (row["key"], line)
    for line in LINES[1:-1]:
        assert Decimal(ytd["total"][line]) == sum(b[line] for b in book.values()), line
    assert ytd["total"]["opening"] == "38000.00"  # L2 30000 + L3 8000 at 2018-12
    assert ytd["total"]["closing"] == "9000.00"

    # Any range is a period too.
    spring = movement_report(history, date(2019, 9, 30), start=date(2019, 3, 31), by="product")
    assert spring["period"] == "range" and spring["identity_holds"] is True
    for line in LINES[1:-1]:
        expected = sum(
            monthly[(m, "book")][line] for m in month_range(date(2019, 4, 30), date(2019, 9, 30))
        )
        assert Decimal(spring["total"][line]) == expected


def test_a_month_report_is_the_step_and_a_period_needs_every_month(make_session):
    rows = [npl(1, day, "1000.00") for day in (date(2019, 1, 31), date(2019, 2, 28), APR)]
    session = make_session(rows)
    february = movement_report(session, date(2019, 2, 28), by="product")
    assert february["total"] == zeros(opening="1000.00", closing="1000.00")
    with pytest.raises(UsageError, match="months missing between 2019-03 and 2019-04: 2019-03"):
        movement_report(session, APR)
    with pytest.raises(UsageError, match="2018-12"):
        movement_report(session, date(2019, 2, 28), period="ytd")
    with pytest.raises(UsageError, match=r"months missing .*: 2018-12"):
        movement_report(session, date(2019, 1, 31))
    with pytest.raises(UsageError, match="must be before"):
        movement_report(session, date(2019, 2, 28), period=None, start=date(2019, 2, 28))
    with pytest.raises(UsageError, match="unknown period 'quarter'"):
        movement_report(session, date(2019, 2, 28), period="quarter")
    with pytest.raises(UsageError, match="month 2019-05 is not imported"):
        movement_report(session, date(2019, 5, 31))
