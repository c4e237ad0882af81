"""The legal desk's board: legal cases by stage, hearings, stalls and expiring dates, shown to
the legal desk of the units only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from npldesk.casework.models import LegalCase, Person
from tests.casework.factories import PersonFactory, case_with_loan
from tests.casework.legal_board_world import tape_with_maturities
from tests.casework.world import World

Sign = Callable[[Person], Client]


def _legal_case(world: World, case: object, **dates: object) -> LegalCase:
    legal: LegalCase = LegalCase.objects.create(
        case=case,
        holder=world.legal,
        court="Xiangshan court",
        claim_amount=Decimal("90000.00"),
        stage="filed",
        **{"stage_since": timezone.localdate(), **dates},
    )
    return legal


def test_the_board_sorts_legal_cases_into_hearings_stalls_and_clocks(
    world: World, client_for: Sign
) -> None:
    today = timezone.localdate()
    hearing = _legal_case(world, world.case, next_hearing_on=today + timedelta(days=10))
    stalled = _legal_case(
        world,
        case_with_loan(world.units["HB0101"], strategy="trace_and_litigate"),
        stage_since=today - timedelta(days=120),
        next_hearing_on=today + timedelta(days=45),  # beyond the calendar's 30 days
    )
    clock = _legal_case(
        world,
        case_with_loan(world.units["HB0101"], strategy="trace_and_litigate"),
        limitation_date=today + timedelta(days=20),
        seizure_expiry_date=today + timedelta(days=200),  # beyond the 60 days shown
    )
    response = client_for(world.legal).get("/legal/")
    assert response.status_code == 200
    board = response.context["board"]
    assert [item.pk for item in board.hearings] == [hearing.pk]
    assert [item.pk for item in board.stalled] == [stalled.pk]
    assert [(c.legal_case.pk, c.kind) for c in board.clocks] == [(clock.pk, "limitation")]
    assert board.by_stage == [("filed", 3)]
    text = response.content.decode()
    assert hearing.case.number in text and "Xiangshan court" in text


def test_legal_cases_outside_the_desks_units_are_not_on_it(world: World, client_for: Sign) -> None:
    _legal_case(world, case_with_loan(world.units["HB0201"], strategy="trace_and_litigate"))
    mine = _legal_case(world, world.case)
    county_desk = PersonFactory(roles=["legal"], units=[world.units["HB01"]], user__password="!")
    board = client_for(county_desk).get("/legal/").context["board"]
    assert [item.pk for item in board.cases] == [mine.pk]  # HB02's case is not in HB01's sight


def test_only_the_legal_desk_has_the_board(world: World, client_for: Sign) -> None:
    for person in (world.officer, world.lead, world.finance, world.leader, world.admin):
        assert client_for(person).get("/legal/").status_code == 404
        assert 'href="/legal/"' not in client_for(person).get("/worklist/").content.decode()
    assert 'href="/legal/"' in client_for(world.legal).get("/worklist/").content.decode()


def test_the_board_reads_in_chinese(world: World, client_for: Sign) -> None:
    _legal_case(world, world.case)
    client = client_for(world.legal)
    client.cookies["django_language"] = "zh-hans"
    text = client.get("/legal/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "法务" in text


def _last_day(day: date) -> date:
    """``day``, or the first day after it that a clock can end on exactly: a weekday (no
    holidays are set here) that every year has (not 29 February)."""
    while day.weekday() >= 5 or (day.month, day.day) == (2, 29):
        day += timedelta(days=1)
    return day


@pytest.fixture
def clocked(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[LegalCase, date]]:
    """Three legal cases, opened in this order, whose loans' limitation runs out about a year
    from today, in about 30 days, and about ten days ago; each with that last day. The first
    has a judgment whose enforcement deadline is about 20 days away."""
    monkeypatch.setenv("NPLDESK_HOME", str(tmp_path))
    today = timezone.localdate()
    found: dict[str, tuple[LegalCase, date]] = {}
    maturities: dict[str, tuple[date, bool]] = {}
    for name, days in (("later", 370), ("soon", 30), ("expired", -10)):
        last_day = _last_day(today + timedelta(days=days))
        loan_id = f"L-{name}"
        maturities[loan_id] = (last_day.replace(year=last_day.year - 3), True)
        case = case_with_loan(world.units["HB0101"], loan_id=loan_id, strategy="trace_and_litigate")
        found[name] = (_legal_case(world, case), last_day)
    tape_with_maturities(tmp_path, maturities)
    deadline = _last_day(today + timedelta(days=20))
    LegalCase.objects.filter(pk=found["later"][0].pk).update(
        stage="judgment", judgment_effective_on=deadline.replace(year=deadline.year - 2)
    )
    found["deadline"] = (found["later"][0], deadline)
    return found


def _order(response: HttpResponse) -> list[int]:
    return [row.legal_case.pk for row in response.context["board"].rows]  # type: ignore[attr-defined]


def test_the_board_shows_each_cases_limitation_and_enforcement_deadline_flagged(
    world: World, client_for: Sign, clocked: dict[str, tuple[LegalCase, date]]
) -> None:
    today = timezone.localdate()
    (later, later_day), (soon, soon_day), (expired, expired_day), (_, deadline) = clocked.values()
    client = client_for(world.legal)
    client.cookies["django_language"] = "en"  # the home's default is Chinese
    response = client.get("/legal/")
    rows = response.context["board"].rows
    # Soonest limitation first: the one that ran out, then the one within 90 days.
    assert _order(response) == [expired.pk, soon.pk, later.pk]
    assert [(row.limitation.clock.last_day, row.limitation_flag) for row in rows] == [
        (expired_day, "expired"),
        (soon_day, "soon"),
        (later_day, ""),
    ]
    assert [
        (row.enforcement and row.enforcement.last_day, row.enforcement_flag) for row in rows
    ] == [
        (None, ""),
        (None, ""),
        (deadline, "soon"),
    ]
    text = response.content.decode()
    table = text[text.index('id="all-h"') :]
    assert f'{expired_day.isoformat()}</time> <span class="flag alert">expired</span>' in table
    assert f'<span class="flag warn">days left: {(soon_day - today).days}</span>' in table
    assert f'<span class="muted">days left: {(later_day - today).days}</span>' in table
    assert deadline.isoformat() in table and "L-soon" in table
    assert table.index(expired.case.number) < table.index(soon.case.number)
    assert 'href="?order=limitation#all-h" aria-current="page"' in table


def test_the_desk_orders_the_board_by_enforcement_deadline_or_case_number(
    world: World, client_for: Sign, clocked: dict[str, tuple[LegalCase, date]]
) -> None:
    later, soon, expired = (clocked[name][0].pk for name in ("later", "soon", "expired"))
    client = client_for(world.legal)
    assert _order(client.get("/legal/?order=enforcement")) == [later, soon, expired]
    by_case = client.get("/legal/?order=case")
    assert _order(by_case) == [later, soon, expired]
    assert 'href="?order=case#all-h" aria-current="page"' in by_case.content.decode()
    assert _order(client.get("/legal/?order=whatever")) == [expired, soon, later]


def test_the_clocks_read_in_chinese(
    world: World, client_for: Sign, clocked: dict[str, tuple[LegalCase, date]]
) -> None:
    client = client_for(world.legal)
    client.cookies["django_language"] = "zh-hans"
    text = client.get("/legal/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    table = text[text.index('id="all-h"') :]
    for words in ("诉讼时效", "申请执行期限", "已到期", "剩余", "诉讼时效最近的在前"):
        assert words in table, words
