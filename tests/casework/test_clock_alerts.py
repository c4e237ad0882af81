"""The clocks of legal cases as the reminders read them: ``selectors.clock_alerts`` lists the
enforcement clocks (from the judgment's dates, stopped by an enforcement application) and
typed limitation dates that run out within N days, at 60 and 30 days and on expiry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from npldesk.casework import selectors, services
from npldesk.casework.choices import Strategy
from npldesk.casework.clocks import calendar_from_config
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Case, LegalCase, Unit
from npldesk.core.errors import UsageError
from tests.casework.world import World, build_world


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


def _judged(world: World, *, effective: date, due: date | None) -> LegalCase:
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    world.case.refresh_from_db()
    legal_case = services.legal_case_open(
        actor=world.legal,
        case=world.case,
        court="Xiangshan District Court",
        claim_amount=Decimal("100000.00"),
        opened_on=date(2020, 2, 1),
    )
    return services.legal_case_advance(
        actor=world.legal,
        legal_case=legal_case,
        version=legal_case.version,
        stage="judgment",
        entered_on=effective,
        judgment_effective_on=effective,
        performance_due_on=due,
    )


def test_the_enforcement_clock_alerts_at_60_and_30_days_and_on_expiry(world: World) -> None:
    _judged(world, effective=date(2020, 6, 1), due=date(2020, 6, 30))
    # Two years from 30 June 2020: Friday 30 June 2022.
    assert selectors.clock_alerts(world.legal, today=date(2022, 4, 1)) == []
    (due_60,) = selectors.clock_alerts(world.legal, today=date(2022, 5, 1))
    assert (due_60.clock, due_60.state, due_60.days_left) == ("enforcement", "due_60", 60)
    assert due_60.last_day == date(2022, 6, 30) and due_60.anchor_reason == "performance_due"
    (due_30,) = selectors.clock_alerts(world.lead, today=date(2022, 6, 1))
    assert due_30.state == "due_30" and due_30.case_number == world.case.number
    (expired,) = selectors.clock_alerts(world.legal, today=date(2022, 7, 1))
    assert expired.state == "expired"
    # A wider window for the reminders; nothing for a person who cannot see the case.
    assert selectors.clock_alerts(world.legal, today=date(2022, 3, 1), within_days=121)
    assert selectors.clock_alerts(world.outsider, today=date(2022, 6, 1)) == []


def test_an_enforcement_application_stops_the_clock(world: World) -> None:
    legal_case = _judged(world, effective=date(2020, 6, 1), due=None)
    services.legal_case_advance(
        actor=world.legal,
        legal_case=legal_case,
        version=legal_case.version,
        stage="enforcement_applied",
        entered_on=date(2021, 1, 4),
    )
    assert selectors.clock_alerts(world.legal, today=date(2022, 7, 1)) == []


def test_a_typed_limitation_date_alerts_too(world: World) -> None:
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    world.case.refresh_from_db()
    services.legal_case_open(
        actor=world.legal,
        case=world.case,
        court="c",
        claim_amount=Decimal("1.00"),
        opened_on=date(2020, 2, 1),
        limitation_date=date(2021, 3, 1),
    )
    (alert,) = selectors.clock_alerts(world.legal, today=date(2021, 2, 1))
    assert (alert.clock, alert.state, alert.days_left) == ("limitation", "due_30", 28)


def test_the_last_date_for_performance_needs_the_effective_date(world: World) -> None:
    with pytest.raises(InvalidAction, match="effective date"):
        _judged(world, effective=date(2020, 6, 1), due=date(2020, 5, 1))


def test_the_holiday_calendar_is_data() -> None:
    calendar = calendar_from_config(
        {"clocks": {"holidays": ["2025-10-01", "2025-10-02"], "workdays": ["2025-09-28"]}}
    )
    assert calendar.next_working_day(date(2025, 10, 1)) == date(2025, 10, 3)
    assert calendar.is_working_day(date(2025, 9, 28))  # a Sunday worked
    for bad in ({"holidays": ["1 Oct"]}, {"holidays": "2025-10-01"}, {"feasts": []}):
        with pytest.raises(UsageError):
            calendar_from_config({"clocks": bad})
