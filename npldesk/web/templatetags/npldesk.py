"""Template filters that show numbers and words as ``docs/language.md`` says people read them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from django import template
from django.utils.translation import get_language, gettext

from npldesk.core import numbers
from npldesk.reports.labels import (
    PRODUCT_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    TRACKING_LABELS,
    WORKLIST_REASON_LABELS,
)
from npldesk.reports.labels import label as report_label

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """Yuan with thousands separators and two decimals: 1,260,000.00."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


@register.filter
def wan(value: Any) -> str:
    """Money in 万元 (two decimals) where Chinese tables compare units; yuan in English."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value))
    if (get_language() or "").startswith("zh"):
        shown = (amount / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{shown:,.2f}"
    return money(amount)


@register.filter
def percent(value: Any) -> str:
    """A ratio as a percentage with two decimals, half-up from the exact ratio: 0.64 %."""
    if value is None or value == "":
        return "—"
    shown = (Decimal(str(value)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{shown} %"


@register.filter
def label(value: Any, choices: Any) -> str:
    """The translated label of a code from a ``TextChoices`` class (the code if unknown)."""
    text = _labels_of(choices).get(value)
    if text is not None:
        return str(text)
    return "" if value is None else str(value)


@cache
def _labels_of(choices: Any) -> dict[Any, Any]:
    # Code → lazy label, once per class: ``choices`` builds a new list on every call, and a
    # list page asks for a label per row and column. The lazy label is said when shown.
    return dict(getattr(choices, "choices", ()))


@register.filter
def class_label(value: str | None) -> str:
    """A loan's class (or the exit it took) in the page's language."""
    return report_label(STATE_LABELS, value) or "—"


@register.filter
def product_label(value: str | None) -> str:
    """A loan product in the page's language (a product without a label by its code)."""
    return report_label(PRODUCT_LABELS, value)


@register.filter
def reason_label(value: str | None) -> str:
    """Why a case is on the worklist, in the page's language."""
    return report_label(WORKLIST_REASON_LABELS, value)


@register.filter
def status_label(value: str | None) -> str:
    """A loan's tape status: on the books, or how it left them."""
    return report_label(STATUS_LABELS, value) or "—"


@register.filter
def points(value: Any) -> str:
    """A change of a ratio in percentage points, signed, half-up: +0.22."""
    if value is None or value == "":
        return "—"
    return numbers.points(Decimal(str(value)))


@register.simple_tag
def money_unit() -> str:
    """The unit of the money a table compares units in: 万元 in Chinese, yuan otherwise."""
    if (get_language() or "").startswith("zh"):
        return gettext("(10,000 yuan)")
    return gettext("(yuan)")


@register.filter
def verdict(value: bool | None) -> str:
    """The double-reduction verdict in words."""
    if value is None:
        return gettext("no baseline")
    return gettext("Double reduction achieved") if value else gettext("Not achieved")


@register.filter
def count(value: Any) -> str:
    """A count with thousands separators: 1,161."""
    return "—" if value is None or value == "" else numbers.grouped(int(value))


@register.filter
def tracking(value: str | None) -> str:
    """The planner's tracking of a unit: on track, at risk or off track (no baseline: —)."""
    return report_label(TRACKING_LABELS, value) if value else "—"
