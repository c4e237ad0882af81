"""The clocks that run against the bank (``docs/casework-rules.md``, "Clocks"), free of Django
and the database: limitation (诉讼时效) per loan and the time to apply for enforcement
(申请执行期限) per judgment, computed from the dated events that start, restart and interrupt
them.

- A period is counted from the day after its anchor day (Civil Code art. 201): its last day is
  the anchor's corresponding day ``years`` later (art. 202; 29 February falls on 28 February).
- Limitation: three years; the anchor is the loan's maturity (or last instalment's due) date,
  or a recorded acceleration if earlier. A receipted demand, the debtor's acknowledgement or a
  partial payment on or before the last day moves the anchor to its day (art. 195); a filing
  stops the clock until the proceedings end, and the end day is the new anchor. An event after
  the clock ran out does not revive it.
- Enforcement: two years from the judgment's last date for performance, or its effective date
  when it sets none (Civil Procedure Law art. 250); interrupted and restarted alike.
- A last day that is not a working day moves to the next working day (art. 203): Saturdays and
  Sundays rest unless the calendar lists them as make-up working days, and the calendar's
  public holidays rest; the calendar is data the bank keeps.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable

LIMITATION_YEARS = 3
ENFORCEMENT_YEARS = 2
GUARANTEE_MONTHS = 6
ALERT_DAYS = (60, 30)


class Event(StrEnum):
    """What happened, as the clocks see it."""

    DEMAND = "demand"  # a receipted demand delivered to the debtor
    ACKNOWLEDGEMENT = "acknowledgement"
    PARTIAL_PAYMENT = "partial_payment"
    FILING = "filing"  # a lawsuit, arbitration or enforcement application: the clock stops
    PROCEEDINGS_END = "proceedings_end"  # the clock runs again from this day


RESTARTS = frozenset({Event.DEMAND, Event.ACKNOWLEDGEMENT, Event.PARTIAL_PAYMENT})


class ClockState(StrEnum):
    RUNNING = "running"
    DUE_60 = "due_60"  # 60 days or fewer left
    DUE_30 = "due_30"  # 30 days or fewer left
    EXPIRED = "expired"
    INTERRUPTED = "interrupted"  # proceedings under way: the clock does not run


@dataclass(frozen=True)
class Calendar:
    """Rest days beyond the weekend (public holidays) and weekend days worked (调休)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day.weekday() < 5 or day in self.workdays

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def add_years(day: date, years: int) -> date:
    """The corresponding day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Clock:
    """Where a clock stands on a day: its last day (None while interrupted), what last set it
    going, and its state."""

    anchor: date
    anchor_reason: str
    last_day: date | None
    state: ClockState
    days_left: int | None


def last_day(anchor: date, years: int, calendar: Calendar) -> date:
    return calendar.next_working_day(add_years(anchor, years))


def run_clock(
    *,
    anchor: date,
    anchor_reason: str,
    years: int,
    events: Iterable[tuple[date, Event]],
    as_of: date,
    calendar: Calendar = Calendar(),
) -> Clock:
    """The clock started on ``anchor`` after the events up to ``as_of`` (later ones are not
    yet known). Events on one day apply in the order filing, proceedings' end, restarts."""
    order = {Event.FILING: 0, Event.PROCEEDINGS_END: 1}
    known = sorted(
        ((day, kind) for day, kind in events if day <= as_of),
        key=lambda e: (e[0], order.get(e[1], 2)),
    )
    reason = anchor_reason
    interrupted = False
    for day, kind in known:
        if day < anchor and not interrupted:
            continue  # before the clock started: nothing to restart
        if interrupted:
            if kind == Event.PROCEEDINGS_END:
                interrupted, anchor, reason = False, day, str(kind)
            continue
        if day > last_day(anchor, years, calendar):
            break  # ran out: nothing revives it
        if kind == Event.FILING:
            interrupted, reason = True, str(kind)
        elif kind in RESTARTS:
            anchor, reason = day, str(kind)
    if interrupted:
        return Clock(anchor, reason, None, ClockState.INTERRUPTED, None)
    end = last_day(anchor, years, calendar)
    left = (end - as_of).days
    return Clock(anchor, reason, end, state_for(left), left)


def state_for(days_left: int) -> ClockState:
    if days_left < 0:
        return ClockState.EXPIRED
    if days_left <= ALERT_DAYS[1]:
        return ClockState.DUE_30
    if days_left <= ALERT_DAYS[0]:
        return ClockState.DUE_60
    return ClockState.RUNNING


def limitation(
    *,
    maturity: date,
    events: Iterable[tuple[date, Event]],
    as_of: date,
    accelerated_on: date | None = None,
    calendar: Calendar = Calendar(),
) -> Clock:
    """A loan's limitation clock: three years from maturity (or an earlier acceleration)."""
    anchor, reason = maturity, "maturity"
    if accelerated_on is not None and accelerated_on < maturity:
        anchor, reason = accelerated_on, "acceleration"
    return run_clock(
        anchor=anchor,
        anchor_reason=reason,
        years=LIMITATION_YEARS,
        events=events,
        as_of=as_of,
        calendar=calendar,
    )


def enforcement(
    *,
    effective_on: date,
    performance_due_on: date | None,
    events: Iterable[tuple[date, Event]],
    as_of: date,
    calendar: Calendar = Calendar(),
) -> Clock:
    """A judgment's enforcement clock: two years from its last date for performance, or from
    its effective date when it sets none."""
    if performance_due_on is not None:
        anchor, reason = performance_due_on, "performance_due"
    else:
        anchor, reason = effective_on, "judgment_effective"
    return run_clock(
        anchor=anchor,
        anchor_reason=reason,
        years=ENFORCEMENT_YEARS,
        events=events,
        as_of=as_of,
        calendar=calendar,
    )


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day when it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


def guarantee(*, due_on: date, as_of: date, calendar: Calendar = Calendar()) -> Clock:
    """A guarantor's guarantee period when the contract sets none: six months from the main
    debt's due date (Civil Code art. 692). Nothing restarts it: a guarantor not claimed
    against by its last day is released."""
    end = calendar.next_working_day(add_months(due_on, GUARANTEE_MONTHS))
    left = (end - as_of).days
    return Clock(due_on, "maturity", end, state_for(left), left)


def calendar_from_config(config: Mapping[str, Any]) -> Calendar:
    """The ``[clocks]`` table of ``npldesk.toml``: ``holidays`` and ``workdays`` (make-up
    working days on a weekend), lists of ISO dates; a bad one is a ``UsageError``."""
    section = config.get("clocks", {})
    if not isinstance(section, Mapping):
        raise UsageError(
            translatable("npldesk.toml [clocks]: a table of settings, not a single value")
        )
    lists: dict[str, frozenset[date]] = {}
    for name, value in section.items():
        where = f"npldesk.toml [clocks] {name}"
        if name not in ("holidays", "workdays"):
            raise UsageError(
                translatable("npldesk.toml [clocks]: unknown setting {name!r}", name=name)
            )
        if not isinstance(value, list):
            raise UsageError(
                translatable("{where}: a list of dates, not {value!r}", where=where, value=value)
            )
        days = set()
        for item in value:
            if isinstance(item, date):
                days.add(item)
                continue
            try:
                days.add(date.fromisoformat(str(item)))
            except ValueError:
                raise UsageError(
                    translatable(
                        "{where}: a date such as 2025-10-01, not {item!r}", where=where, item=item
                    )
                ) from None
        lists[name] = frozenset(days)
    return Calendar(**lists)
