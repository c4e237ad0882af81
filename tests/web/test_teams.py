"""The team board: who sees it, members' load, cases to place, bulk reassignment, the plan
queue, and its query count."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from npldesk.casework.models import AuditRecord, Case, Person, Team, Unit
from tests.casework.factories import PersonFactory, TeamFactory, case_with_loan
from tests.casework.world import World, propose_plan

Sign = Callable[[Person], Client]
BASELINES = json.loads((Path(__file__).parent / "query_counts.json").read_text())


@pytest.fixture
def team(world: World) -> Team:
    """HB01's clearing team: led by the world's lead, the case's officer a member."""
    team: Team = TeamFactory(
        code="HB01-CT", leader=world.lead, members=[world.officer], units=[world.units["HB01"]]
    )
    return team


def test_a_lead_sees_the_board_with_members_load_and_cases_without_team(
    world: World, team: Team, client_for: Sign
) -> None:
    response = client_for(world.lead).get("/teams/HB01-CT/")
    assert response.status_code == 200
    board = response.context["board"]
    load = {m.person.pk: m for m in board.members}
    assert load[world.officer.pk].open_cases == 1
    assert load[world.officer.pk].overdue == 1  # the world's case is long past its deadline
    assert load[world.lead.pk].open_cases == 0
    assert [c.number for c in board.unassigned] == [world.case.number]  # owner, but no team
    text = response.content.decode()
    assert world.officer.name in text and world.case.number in text


def test_a_team_outside_the_leads_units_and_a_role_without_the_board_are_not_found(
    world: World, team: Team, client_for: Sign
) -> None:
    assert client_for(world.outsider).get("/teams/HB01-CT/").status_code == 404
    assert client_for(world.lead).get("/teams/NO-SUCH/").status_code == 404
    for person in (world.officer, world.finance, world.legal, world.admin):
        assert client_for(person).get("/teams/").status_code == 404
        assert client_for(person).get("/teams/HB01-CT/").status_code == 404
    listing = client_for(world.outsider).get("/teams/").content.decode()
    assert "HB01-CT" not in listing


def test_the_navigation_shows_the_board_to_leads_only(
    world: World, team: Team, client_for: Sign
) -> None:
    assert 'href="/teams/"' in client_for(world.lead).get("/worklist/").content.decode()
    assert 'href="/teams/"' not in client_for(world.officer).get("/worklist/").content.decode()


def test_bulk_reassignment_is_one_service_call_with_its_audit_records(
    world: World, team: Team, client_for: Sign
) -> None:
    second = case_with_loan(world.units["HB0101"])
    before = AuditRecord.objects.count()
    response = client_for(world.lead).post(
        "/teams/HB01-CT/reassign/",
        {
            "cases": [f"{world.case.number}:{world.case.version}", f"{second.number}:1"],
            "owner": world.officer.user.username,
            "team": "HB01-CT",
            "reason": "rebalance",
        },
        follow=True,
    )
    assert response.status_code == 200
    for case in Case.objects.filter(pk__in=[world.case.pk, second.pk]):
        assert (case.owner_id, case.team_id) == (world.officer.pk, team.pk)
    added = AuditRecord.objects.order_by("id")[before:]
    assert [r.action for r in added] == [
        "case_reassign_bulk",
        "case_reassign_bulk",
        "case_reassign_bulk_run",
    ]
    assert all(r.actor_id == world.lead.pk for r in added)


def test_a_stale_board_gets_the_conflict_message_and_changes_nothing(
    world: World, team: Team, client_for: Sign
) -> None:
    stale = world.case.version
    Case.objects.filter(pk=world.case.pk).update(version=stale + 1)  # edited in another tab
    before = AuditRecord.objects.count()
    response = client_for(world.lead).post(
        "/teams/HB01-CT/reassign/",
        {
            "cases": [f"{world.case.number}:{stale}"],
            "owner": world.lead.user.username,
            "team": "HB01-CT",
            "reason": "rebalance",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Not saved" in text or "未保存" in text
    assert "changed by someone else" in text
    assert world.fresh().owner_id == world.officer.pk and world.fresh().team_id is None
    assert AuditRecord.objects.count() == before


def test_a_case_outside_the_leads_scope_cannot_be_slipped_into_the_batch(
    world: World, team: Team, client_for: Sign
) -> None:
    foreign = case_with_loan(world.units["HB0201"])
    response = client_for(world.lead).post(
        "/teams/HB01-CT/reassign/",
        {"cases": [f"{foreign.number}:1"], "team": "HB01-CT", "reason": "x"},
    )
    assert response.status_code == 404
    assert Case.objects.get(pk=foreign.pk).team_id is None


def test_the_plan_queue_says_who_decides_next_and_what_waits_for_the_reader(
    world: World, team: Team, client_for: Sign
) -> None:
    Case.objects.filter(pk=world.case.pk).update(team=team)
    world.case.refresh_from_db()
    plan = propose_plan(world)
    lead_view = client_for(world.lead).get("/teams/").context["plans"]
    assert [(p.plan.pk, p.proposed_by.pk, p.yours) for p in lead_view] == [
        (plan.pk, world.officer.pk, True)
    ]
    other = client_for(world.lead2).get("/teams/")
    assert [(p.decider.pk, p.yours) for p in other.context["plans"]] == [(world.lead.pk, False)]
    assert world.lead.name in other.content.decode()
    board = client_for(world.lead).get("/teams/HB01-CT/").content.decode()
    assert f"/cases/{world.case.number}/" in board


def _board_queries(units: dict[str, Unit], size: int) -> int:
    lead = PersonFactory(roles=["team_lead"], units=[units["HB01"]], user__password="!")
    members = [
        PersonFactory(roles=["officer"], units=[units["HB01"]], user__password="!")
        for _ in range(2)
    ]
    team = TeamFactory(code="Q", leader=lead, members=members, units=[units["HB01"]])
    for n in range(size):
        case_with_loan(
            units["HB0101"],
            owner=members[n % 2],
            team=team if n % 3 else None,
            deadline=date(2020, 1, 31),
        )
    client = Client()
    client.force_login(lead.user, backend="npldesk.web.accounts.backends.StaffBackend")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/teams/Q/")
    assert response.status_code == 200
    assert len(response.context["board"].overdue) + len(response.context["board"].unassigned) > 0
    return len(queries)


@pytest.mark.parametrize("size", [2, 20])
def test_the_board_asks_the_same_number_of_queries_for_2_and_for_20_cases(
    units: dict[str, Unit], size: int
) -> None:
    assert _board_queries(units, size) == BASELINES["team_board"]
