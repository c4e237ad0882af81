"""The legal desk's board: legal cases by stage, hearings, stalls and expiring dates, shown to
the legal desk of the units only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from npldesk.casework.models import LegalCase, Person
from tests.casework.factories import PersonFactory, case_with_loan
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
