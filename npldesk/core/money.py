"""Money: yuan as ``decimal.Decimal`` with two places (DECIMAL(18,2) in storage). See ADR 0001."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
# DECIMAL(18,2): sixteen digits before the point.
MAX_MONEY = Decimal("9999999999999999.99")
MONEY_SQL_TYPE = "DECIMAL(18,2)"


class MoneyError(ValueError):
    """A value that cannot be an amount of yuan."""


def money(value: Decimal | int | str) -> Decimal:
    """An exact amount of yuan with two places; refuses floats and values that would lose fen."""
    if isinstance(value, float):
        raise MoneyError("money must not come from a float: pass a string or a Decimal")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    quantized = amount.quantize(FEN)
    if quantized != amount:
        raise MoneyError(f"more than two decimal places: {value!r}")
    if abs(quantized) > MAX_MONEY:
        raise MoneyError(f"out of range for DECIMAL(18,2): {value!r}")
    return quantized


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """Round for display: half-up, ties away from zero for negative values too."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(value: Decimal | None) -> str | None:
    """The decimal string written to machine-readable output (``"29570000.00"``)."""
    if value is None:
        return None
    return f"{round_half_up(value):f}"
