"""Numbers for people: separators, 万元, percentages and points, half-up from exact values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from npldesk.core import numbers


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("29570000"), "29,570,000.00"),
        (Decimal("1234.565"), "1,234.57"),  # half-up
        (Decimal("-1234.565"), "-1,234.57"),  # ties away from zero
        (Decimal("-0.004"), "0.00"),  # never -0.00
        (Decimal("999.994"), "999.99"),
    ],
)
def test_money_has_separators_and_two_decimals(value: Decimal, shown: str):
    assert numbers.money(value) == shown


def test_counts_and_ten_thousands():
    assert numbers.grouped(1234567) == "1,234,567"
    assert numbers.ten_thousands(Decimal("622577415.99")) == "62,257.74"
    assert numbers.ten_thousands(Decimal("50.00")) == "0.01"  # 0.005 万元, half-up


def test_ratios_are_percentages_from_the_exact_ratio():
    # 0.006449999… would be 0.6450 % rounded to four places first and then 0.65 %: never.
    assert numbers.percent(Decimal("0.006449999")) == "0.64 %"
    assert numbers.percent(Decimal("0.00645")) == "0.65 %"
    assert numbers.percent(Decimal(58000) / Decimal(208000)) == "27.88 %"
    assert numbers.percent(Decimal("20.449")) == "2,044.90 %"


def test_changes_are_signed_percentage_points():
    assert numbers.points(Decimal("-0.0022")) == "-0.22"
    assert numbers.points(Decimal("0.00597")) == "+0.60"
    assert numbers.points(Decimal("0.00004")) == "0.00"
    assert numbers.points(Decimal("-0.00004")) == "0.00"
