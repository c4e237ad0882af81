from decimal import Decimal

import pytest

from npldesk.core.money import MoneyError, format_money, money, round_half_up


def test_money_keeps_exact_fen():
    assert money("29570000.1") == Decimal("29570000.10")
    assert money(Decimal("0.01")) + money("0.02") == Decimal("0.03")
    assert money(5) == Decimal("5.00")


@pytest.mark.parametrize("bad", [0.1, "1.001", "abc", "NaN", "Infinity", "10000000000000000.00"])
def test_money_refuses_what_would_lose_fen(bad):
    with pytest.raises(MoneyError):
        money(bad)


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        ("0.005", 2, "0.01"),
        ("-0.005", 2, "-0.01"),  # ties away from zero, negative values too
        ("0.0064995", 6, "0.006500"),
        ("0.0064994", 6, "0.006499"),
        ("2.675", 2, "2.68"),
    ],
)
def test_round_half_up(value, places, shown):
    assert str(round_half_up(Decimal(value), places)) == shown


def test_format_money_is_a_decimal_string():
    assert format_money(Decimal("29570000")) == "29570000.00"
    assert format_money(None) is None
