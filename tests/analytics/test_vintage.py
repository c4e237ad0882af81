"""Vintage curves (docs/figures.md §4) for a small cohort worked out by hand, on DuckDB and
PySpark."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest

from npldesk.analytics.migration import format_rate
from npldesk.analytics.vintage import vintage_report
from npldesk.core.errors import UsageError
from tests.analytics.conftest import month
from tests.tape_factory import loan_row

JAN, FEB, MAR, APR = (month(m) for m in ("2019-01", "2019-02", "2019-03", "2019-04"))


def row(
    n: int, as_of, originated: str, amount: str, balance: str, dpd: int = 0, **extra: Any
) -> dict[str, str]:
    return loan_row(
        n,
        as_of,
        origination_date=originated,
        original_amount=amount,
        principal_balance=balance,
        days_past_due=dpd,
        reported_class="",
        overdue_principal="1.00" if dpd else "0.00",
        **extra,
    )


def book() -> list[dict[str, str]]:
    q1_a, q1_b, q1_c, q4_a, q4_b = (
        "2019-01-15",
        "2019-02-10",
        "2019-03-31",
        "2018-11-05",
        ("2018-12-01"),
    )
    return [
        # 2019 Q1: 1000 + 3000 + 2000 lent.
        row(1, JAN, q1_a, "1000.00", "1000.00"),  # MOB 0
        row(1, FEB, q1_a, "1000.00", "900.00"),
        row(1, MAR, q1_a, "1000.00", "900.00", 95),  # MOB 2, over 90 days
        row(1, APR, q1_a, "1000.00", "0.00", status="written_off", exit_amount="900.00"),
        row(2, FEB, q1_b, "3000.00", "3000.00"),  # MOB 0 in February
        row(2, MAR, q1_b, "3000.00", "2800.00", 100),
        row(2, APR, q1_b, "3000.00", "2800.00", 130),
        row(3, MAR, q1_c, "2000.00", "2000.00"),
        row(3, APR, q1_c, "2000.00", "2000.00"),
        # 2018 Q4: originated before the first snapshot; 500 + 500 lent.
        row(4, JAN, q4_a, "500.00", "400.00", 91),  # MOB 2
        row(4, FEB, q4_a, "500.00", "0.00", status="repaid"),
        row(5, JAN, q4_b, "500.00", "500.00", 90),  # MOB 1; 90 days is not over 90
        row(5, FEB, q4_b, "500.00", "500.00", 90),
        row(5, MAR, q4_b, "500.00", "500.00"),
        row(5, APR, q4_b, "500.00", "500.00"),
    ]


def test_vintage_shares_by_hand(make_session):
    session = make_session(book())
    points = vintage_report(session)
    got = {
        (p.origination_quarter, p.mob): (
            p.loans_on_book,
            p.dpd90_balance,
            p.originated_amount,
            format_rate(p.share),
        )
        for p in points
    }
    q1, q4 = Decimal("6000.00"), Decimal("1000.00")
    assert got == {
        ("2019Q1", 0): (3, Decimal("0.00"), q1, "0.000000"),
        ("2019Q1", 1): (3, Decimal("2800.00"), q1, "0.466667"),  # loan 2 in March
        ("2019Q1", 2): (2, Decimal("3700.00"), q1, "0.616667"),  # 900 + 2800
        ("2019Q1", 3): (0, Decimal("0.00"), q1, "0.000000"),  # loan 1's write-off row
        ("2018Q4", 1): (1, Decimal("0.00"), q4, "0.000000"),
        ("2018Q4", 2): (2, Decimal("400.00"), q4, "0.400000"),
        ("2018Q4", 3): (1, Decimal("0.00"), q4, "0.000000"),  # loan 4 repaid, loan 5 current
        ("2018Q4", 4): (1, Decimal("0.00"), q4, "0.000000"),
    }
    by_key = {(p.origination_quarter, p.mob): p for p in points}
    with localcontext() as context:
        context.prec = 60
        assert by_key[("2019Q1", 1)].share == Decimal("2800.00") / Decimal("6000.00")
    assert by_key[("2019Q1", 0)].balance == Decimal("6000.00")
    assert by_key[("2019Q1", 0)].originated_loans == 3
    # A span of the store: the denominator counts the loans that appear in it only.
    late = {(p.origination_quarter, p.mob): p for p in vintage_report(session, MAR, APR)}
    assert late[("2018Q4", 3)].originated_amount == Decimal("500.00")  # loan 5 only
    assert late[("2019Q1", 1)].originated_amount == q1
    with pytest.raises(UsageError, match="must not be after"):
        vintage_report(session, APR, JAN)
