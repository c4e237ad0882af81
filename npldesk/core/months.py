"""Month arithmetic on month-end dates: snapshots are named by the last day of their month."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

from npldesk.core.i18n import translatable

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class MonthError(ValueError):
    """A month given in a form npldesk does not accept."""


# Loan books live in these years; a month outside them is a typo (0000-01, 9999-12), and
# month arithmetic around it would leave the calendar Python can hold.
FIRST_YEAR = 1900
LAST_YEAR = 2199


def _check_year(text: str, year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise MonthError(
            translatable(
                "{text!r} is out of range: months run from {first}-01 to {last}-12",
                text=text,
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def is_month_end(day: date) -> bool:
    return day == month_end(day)


def parse_month(text: str) -> date:
    """``"2019-12"`` (or a month-end date ``"2019-12-31"``) → ``date(2019, 12, 31)``."""
    text = text.strip()
    match = _MONTH_RE.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise MonthError(translatable("{text!r} is not a month: expected YYYY-MM", text=text))
        _check_year(text, year)
        return month_end(date(year, month, 1))
    match = _DATE_RE.match(text)
    if match:
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError as exc:
            raise MonthError(translatable("{text!r} is not a date", text=text)) from exc
        _check_year(text, day.year)
        if not is_month_end(day):
            raise MonthError(
                translatable("{text!r} is not a month-end date: expected YYYY-MM", text=text)
            )
        return day
    raise MonthError(translatable("{text!r} is not a month: expected YYYY-MM", text=text))


def month_label(day: date) -> str:
    """``date(2019, 12, 31)`` → ``"2019-12"``."""
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: date, months: int) -> date:
    """Move by calendar months, the day clamped to the target month's end (Jan 31 + 1 → Feb 28)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def shift_month_end(as_of: date, months: int) -> date:
    """The month-end ``months`` months away from the month-end ``as_of``."""
    return month_end(add_months(date(as_of.year, as_of.month, 1), months))


def previous_month_end(as_of: date) -> date:
    return shift_month_end(as_of, -1)


def previous_december(as_of: date) -> date:
    """The default baseline: the December before ``as_of``'s year (2019-12-31 → 2018-12-31)."""
    return date(as_of.year - 1, 12, 31)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start``'s month to ``end``'s month (negative if earlier)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def month_range(start: date, end: date) -> Iterator[date]:
    """Every month-end from ``start``'s month to ``end``'s month, both included."""
    for offset in range(months_between(start, end) + 1):
        yield shift_month_end(month_end(start), offset)
