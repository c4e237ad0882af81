"""The clocks (limitation, enforcement, guarantee period): examples from the rules, and
property tests of restart, expiry and the 60/30-day alerts over random event sequences against
a plain day-by-day reference."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from npldesk.casework.clocks import (
    Calendar,
    ClockState,
    Event,
    add_years,
    enforcement,
    guarantee,
    limitation,
)

SPRING = Calendar(
    holidays=frozenset(date(2023, 1, 21) + timedelta(days=n) for n in range(7)),
    workdays=frozenset({date(2023, 1, 28), date(2023, 1, 29)}),
)


def test_limitation_runs_three_years_from_the_day_after_maturity() -> None:
    clock = limitation(maturity=date(2020, 3, 10), events=[], as_of=date(2022, 1, 1))
    assert clock.last_day == date(2023, 3, 10)  # a Friday
    assert clock.state == ClockState.RUNNING and clock.anchor_reason == "maturity"


def test_a_partial_payment_restarts_it_an_event_after_expiry_does_not() -> None:
    events = [(date(2021, 6, 1), Event.PARTIAL_PAYMENT)]
    clock = limitation(maturity=date(2020, 3, 10), events=events, as_of=date(2022, 1, 1))
    assert clock.last_day == date(2024, 6, 3)  # 1 June 2024 is a Saturday
    assert clock.anchor_reason == "partial_payment"
    late = [(date(2023, 3, 13), Event.ACKNOWLEDGEMENT)]
    expired = limitation(maturity=date(2020, 3, 10), events=late, as_of=date(2023, 4, 1))
    assert expired.state == ClockState.EXPIRED and expired.last_day == date(2023, 3, 10)


def test_a_filing_interrupts_and_the_end_of_proceedings_restarts() -> None:
    events = [(date(2021, 1, 4), Event.FILING), (date(2022, 5, 5), Event.PROCEEDINGS_END)]
    during = limitation(maturity=date(2020, 3, 10), events=events, as_of=date(2022, 1, 1))
    assert during.state == ClockState.INTERRUPTED and during.last_day is None
    after = limitation(maturity=date(2020, 3, 10), events=events, as_of=date(2022, 6, 1))
    assert after.last_day == date(2025, 5, 5) and after.anchor_reason == "proceedings_end"


def test_an_acceleration_before_maturity_starts_the_clock() -> None:
    clock = limitation(
        maturity=date(2022, 3, 10),
        accelerated_on=date(2020, 1, 21),
        events=[],
        as_of=date(2022, 12, 1),
        calendar=SPRING,
    )
    # 21 January 2023 is in the Spring Festival: the next working day is Saturday the 28th.
    assert clock.last_day == date(2023, 1, 28)
    assert clock.state == ClockState.DUE_60 and clock.days_left == 58


def test_enforcement_two_years_from_the_last_date_for_performance_or_effect() -> None:
    due = enforcement(
        effective_on=date(2021, 5, 1),
        performance_due_on=date(2021, 5, 31),
        events=[],
        as_of=date(2023, 5, 10),
    )
    assert due.last_day == date(2023, 5, 31) and due.state == ClockState.DUE_30
    plain = enforcement(
        effective_on=date(2021, 5, 1), performance_due_on=None, events=[], as_of=date(2023, 5, 3)
    )
    assert plain.last_day == date(2023, 5, 1) and plain.state == ClockState.EXPIRED


def test_29_february_ends_on_28_february() -> None:
    assert add_years(date(2020, 2, 29), 3) == date(2023, 2, 28)


# -- the reference: walk the calendar one day at a time -------------------------------------


def _corresponding(day: date, years: int) -> date:
    """The same month and day ``years`` later, or the month's last day when it has none."""
    number = day.day
    while True:
        try:
            return date(day.year + years, day.month, number)
        except ValueError:
            number -= 1


def _rest(day: date, calendar: Calendar) -> bool:
    if day in calendar.holidays:
        return True
    return day.isoweekday() in (6, 7) and day not in calendar.workdays


def _reference(
    anchor: date, years: int, events: list[tuple[date, Event]], as_of: date, cal: Calendar
) -> tuple[str, date | None]:
    """State and last day, by stepping through every day from the anchor to ``as_of``."""

    def end_of(start: date) -> date:
        end = _corresponding(start, years)
        while _rest(end, cal):
            end += timedelta(days=1)
        return end

    by_day: dict[date, list[Event]] = {}
    for day, kind in events:
        by_day.setdefault(day, []).append(kind)
    stopped = False
    end = end_of(anchor)
    day = anchor
    while day <= as_of:
        todays = by_day.get(day, [])
        if not stopped and day > end:
            return "expired", end
        if Event.FILING in todays and not stopped:
            stopped = True
        if stopped and Event.PROCEEDINGS_END in todays:
            stopped = False
            end = end_of(day)
        elif (
            not stopped
            and any(
                k in todays for k in (Event.DEMAND, Event.ACKNOWLEDGEMENT, Event.PARTIAL_PAYMENT)
            )
            and day >= anchor
        ):
            end = end_of(day)
        day += timedelta(days=1)
    if stopped:
        return "interrupted", None
    return ("expired" if end < as_of else "open"), end


START = date(2019, 1, 1)
days = st.integers(min_value=0, max_value=365 * 8).map(lambda n: START + timedelta(days=n))
holiday_sets = st.frozensets(days, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    maturity=days,
    events=st.lists(st.tuples(days, st.sampled_from(list(Event))), max_size=8),
    as_of=days,
    holidays=holiday_sets,
    workdays=st.frozensets(days, max_size=10),
)
def test_limitation_agrees_with_the_day_by_day_reference(
    maturity: date,
    events: list[tuple[date, Event]],
    as_of: date,
    holidays: frozenset[date],
    workdays: frozenset[date],
) -> None:
    cal = Calendar(holidays=holidays, workdays=workdays)
    clock = limitation(maturity=maturity, events=events, as_of=as_of, calendar=cal)
    state, end = _reference(maturity, 3, events, as_of, cal)
    assert clock.last_day == end
    if state == "interrupted":
        assert clock.state == ClockState.INTERRUPTED
    elif state == "expired":
        assert clock.state == ClockState.EXPIRED
    else:
        assert clock.state != ClockState.EXPIRED and clock.days_left == (end - as_of).days


def _alert_state(days_left: int) -> ClockState:
    """The alerts by hand: 60 days or fewer, 30 days or fewer, and past the last day."""
    if days_left < 0:
        return ClockState.EXPIRED
    if days_left <= 30:
        return ClockState.DUE_30
    if days_left <= 60:
        return ClockState.DUE_60
    return ClockState.RUNNING


@settings(max_examples=150, deadline=None)
@given(
    effective=days,
    performance_due=st.one_of(st.none(), days),
    events=st.lists(st.tuples(days, st.sampled_from(list(Event))), max_size=8),
    as_of=days,
    holidays=holiday_sets,
)
def test_enforcement_agrees_with_the_day_by_day_reference_and_alerts_at_60_and_30_days(
    effective: date,
    performance_due: date | None,
    events: list[tuple[date, Event]],
    as_of: date,
    holidays: frozenset[date],
) -> None:
    cal = Calendar(holidays=holidays)
    clock = enforcement(
        effective_on=effective,
        performance_due_on=performance_due,
        events=events,
        as_of=as_of,
        calendar=cal,
    )
    anchor = performance_due if performance_due is not None else effective
    state, end = _reference(anchor, 2, events, as_of, cal)
    assert clock.last_day == end
    if state == "interrupted":
        assert clock.state == ClockState.INTERRUPTED and clock.days_left is None
    else:
        assert end is not None and clock.days_left == (end - as_of).days
        assert clock.state == _alert_state(clock.days_left)


@settings(max_examples=150, deadline=None)
@given(
    maturity=days,
    events=st.lists(st.tuples(days, st.sampled_from(list(Event))), max_size=8),
    as_of=days,
)
def test_what_last_set_the_clock_going_is_the_last_event_that_moved_it(
    maturity: date, events: list[tuple[date, Event]], as_of: date
) -> None:
    clock = limitation(maturity=maturity, events=events, as_of=as_of)
    if clock.anchor_reason == "maturity":
        assert clock.anchor == maturity
    else:
        # The anchor is the day of a known event of that kind, on or after maturity.
        kind = Event(clock.anchor_reason)
        assert (clock.anchor, kind) in events or kind == Event.FILING
        assert maturity <= clock.anchor <= as_of


@settings(max_examples=150, deadline=None)
@given(due=days, as_of=days, holidays=holiday_sets)
def test_the_guarantee_period_is_six_months_to_the_next_working_day_and_never_restarts(
    due: date, as_of: date, holidays: frozenset[date]
) -> None:
    cal = Calendar(holidays=holidays)
    period = guarantee(due_on=due, as_of=as_of, calendar=cal)
    # By hand: the same day six months on (or that month's last), then day by day to a
    # working day.
    month = due.month + 6
    year, month = due.year + (month - 1) // 12, (month - 1) % 12 + 1
    number = due.day
    while True:
        try:
            end = date(year, month, number)
            break
        except ValueError:
            number -= 1
    while _rest(end, cal):
        end += timedelta(days=1)
    assert period.last_day == end
    assert period.anchor == due and period.anchor_reason == "maturity"
    assert period.state == _alert_state((end - as_of).days)
