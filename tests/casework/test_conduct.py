"""Conduct rules for collection contact: the activity service refuses a contact that breaks
one, naming the rule; a team lead's documented exception lets it through and is audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from npldesk.casework import conduct, services
from npldesk.casework.conduct import ConductParams, ConductRefused, conduct_params
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import Activity, AuditRecord, ConductException, Unit
from npldesk.core.errors import UsageError
from tests.casework.world import World, at, build_world

DAY = date(2020, 3, 2)


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


def _call(world: World, moment: datetime, **extra: object) -> Activity:
    values: dict[str, object] = {"kind": "phone", "outcome": "no_answer"}
    values.update(extra)
    return services.activity_record(
        actor=world.officer,
        case=world.case,
        occurred_at=moment,
        **values,  # type: ignore[arg-type]
    )


def test_the_fourth_attempt_in_a_day_is_refused_naming_the_rule(world: World) -> None:
    for hour in (9, 11, 14):
        _call(world, at(DAY, hour))
    with pytest.raises(ConductRefused, match="daily_attempts") as refused:
        _call(world, at(DAY, 16), kind="visit")
    assert refused.value.rule == "daily_attempts"
    assert Activity.objects.filter(case=world.case).count() == 3
    # The next day is a new day; a letter is not a contact attempt.
    _call(world, at(DAY + timedelta(days=1), 9))
    _call(world, at(DAY, 17), kind="letter", outcome="contacted")


def test_the_eleventh_attempt_in_seven_days_is_refused(world: World) -> None:
    for offset in range(5):
        _call(world, at(DAY + timedelta(days=offset), 9))
        _call(world, at(DAY + timedelta(days=offset), 10))
    with pytest.raises(ConductRefused, match="weekly_attempts"):
        _call(world, at(DAY + timedelta(days=6), 9))
    # A week after the first, two attempts have left the window.
    _call(world, at(DAY + timedelta(days=7), 9))


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False), (22, 0, False)],
)
def test_calls_and_visits_only_within_the_contact_hours(
    world: World, hour: int, minute: int, allowed: bool
) -> None:
    moment = datetime.combine(DAY, time(hour, minute))
    if allowed:
        assert _call(world, moment).occurred_on == DAY
    else:
        with pytest.raises(ConductRefused, match="contact_hours") as refused:
            _call(world, moment)
        assert "21:00" in str(refused.value)


def test_a_call_at_22_shanghai_given_in_utc_is_refused(world: World) -> None:
    utc = datetime(2020, 3, 2, 14, 0, tzinfo=ZoneInfo("UTC"))  # 22:00 in Shanghai
    with pytest.raises(ConductRefused, match="contact_hours"):
        _call(world, utc)
    recorded = _call(world, datetime(2020, 3, 2, 2, 0, tzinfo=ZoneInfo("UTC")))  # 10:00
    assert recorded.occurred_on == DAY


def test_a_call_or_visit_needs_its_time_a_letter_may_give_its_day(world: World) -> None:
    with pytest.raises(ConductRefused, match="contact_hours"):
        services.activity_record(
            actor=world.officer, case=world.case, kind="phone", occurred_on=DAY, outcome="contacted"
        )
    letter = services.activity_record(
        actor=world.officer, case=world.case, kind="letter", occurred_on=DAY, outcome="contacted"
    )
    assert letter.occurred_at is None


def test_collection_contact_with_a_third_party_is_refused_locating_is_not(world: World) -> None:
    with pytest.raises(ConductRefused, match="third_party") as refused:
        _call(world, at(DAY), party="third_party", purpose="collection", outcome="contacted")
    assert refused.value.rule == "third_party"
    located = _call(world, at(DAY), party="third_party", purpose="locating", outcome="contacted")
    assert (located.party, located.purpose) == ("third_party", "locating")
    guarantor = _call(world, at(DAY, 11), party="guarantor", kind="guarantor_contact")
    assert guarantor.party == "guarantor"


def test_a_lead_exception_lets_the_contact_through_and_is_audited(world: World) -> None:
    for hour in (9, 11, 14):
        _call(world, at(DAY, hour))
    exception = services.conduct_exception_grant(
        actor=world.lead,
        case=world.case,
        starts_on=DAY,
        days=7,
        reason="the borrower asked to be called after his night shift",
    )
    assert exception.ends_on == DAY + timedelta(days=6)
    audit = AuditRecord.objects.get(action="conduct_exception_grant")
    assert audit.actor == world.lead
    assert audit.case_id == world.case.pk
    late = _call(world, at(DAY, 22), outcome="contacted")
    fourth = _call(world, at(DAY, 15))
    assert late.conduct_exception == exception == fourth.conduct_exception
    recorded = AuditRecord.objects.filter(action="activity_record", object_id=str(late.pk)).get()
    assert recorded.after["activity"]["conduct_exception_id"] == exception.pk
    # The exception ends after its seventh day.
    with pytest.raises(ConductRefused, match="contact_hours"):
        _call(world, at(DAY + timedelta(days=7), 22))


def test_an_exception_is_a_team_leads_for_at_most_seven_days_with_a_reason(world: World) -> None:
    grant = services.conduct_exception_grant
    with pytest.raises(AccessDenied):
        grant(actor=world.officer, case=world.case, starts_on=DAY, days=1, reason="r")
    with pytest.raises(InvalidAction, match="1 to 7 days"):
        grant(actor=world.lead, case=world.case, starts_on=DAY, days=8, reason="r")
    with pytest.raises(InvalidAction, match="reason"):
        grant(actor=world.lead, case=world.case, starts_on=DAY, days=3, reason="  ")
    assert not ConductException.objects.exists()


def test_the_rules_are_configurable_and_bad_settings_are_named() -> None:
    params = conduct_params(
        {"conduct": {"contact_start": "09:00", "daily_attempts": 5, "enabled": True}}
    )
    assert params.contact_start == time(9) and params.daily_attempts == 5
    assert conduct_params({}) == ConductParams()
    off = conduct_params({"conduct": {"enabled": False}})
    conduct.check(
        conduct.Contact(
            "phone", datetime(2020, 1, 1, 23), date(2020, 1, 1), "third_party", "collection"
        ),
        earlier=[date(2020, 1, 1)] * 20,
        params=off,
    )
    for bad, named in [
        ({"daily_attempts": 0}, "daily_attempts"),
        ({"contact_end": "late"}, "contact_end"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"contact_start": "22:00"}, "contact_start"),
        ({"curfew": True}, "curfew"),
    ]:
        with pytest.raises(UsageError, match=named):
            conduct_params({"conduct": bad})
