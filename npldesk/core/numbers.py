"""Numbers for people (``docs/language.md``): money with thousands
separators, ratios as percentages, changes in percentage points, money in 万元.

Every figure is rounded half-up from its exact value, once, when it is shown (docs/figures.md §6);
machine-readable output keeps the exact decimal strings instead. Standard library only.
"""

from __future__ import annotations

from decimal import Decimal

from npldesk.core.money import round_half_up

PERCENT_PLACES = 2
TEN_THOUSAND = Decimal(10_000)


def grouped(value: Decimal | int, places: int = 2) -> str:
    """``value`` half-up to ``places`` with thousands separators; never ``-0.00``."""
    if isinstance(value, int):
        return f"{value:,}"
    shown = round_half_up(value, places)
    if shown == 0:
        shown = shown.copy_abs()
    return f"{shown:,.{places}f}"


def money(value: Decimal) -> str:
    """Yuan with separators and two decimals: ``29,570,000.00``."""
    return grouped(value, 2)


def ten_thousands(value: Decimal) -> str:
    """Yuan in 万元 (ten thousands) with separators and two decimals: ``2,957.00``."""
    return grouped(value / TEN_THOUSAND, 2)


def percent(ratio: Decimal, places: int = PERCENT_PLACES) -> str:
    """A ratio as a percentage, half-up from the exact ratio: ``0.00645`` → ``0.65 %``."""
    return f"{grouped(ratio * 100, places)} %"


def points(change: Decimal, places: int = PERCENT_PLACES) -> str:
    """A change of a ratio in percentage points, signed: ``-0.0022`` → ``-0.22``."""
    shown = grouped(change * 100, places)
    return shown if shown.startswith("-") or Decimal(shown.replace(",", "")) == 0 else f"+{shown}"
