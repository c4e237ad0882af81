"""Administration at ``/admin/``: admins only, people of their units, each change one audited
service call, a new person's first password shown once and never recorded."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import authenticate
from django.test import Client, RequestFactory

from npldesk.casework.models import AuditRecord, Person, Team
from tests.casework.factories import PersonFactory, TeamFactory
from tests.casework.world import World

Sign = Callable[[Person], Client]


def test_only_admins_have_administration(world: World, client_for: Sign) -> None:
    for person in (world.officer, world.lead, world.finance, world.leader, world.legal):
        assert client_for(person).get("/admin/").status_code == 404
        assert 'href="/admin/"' not in client_for(person).get("/worklist/").content.decode()
    response = client_for(world.admin).get("/admin/")
    assert response.status_code == 200 and 'href="/admin/"' in response.content.decode()
    assert world.officer.user.username in response.content.decode()


def test_people_outside_the_admins_units_are_not_found(world: World, client_for: Sign) -> None:
    county_admin = PersonFactory(roles=["admin"], units=[world.units["HB02"]], user__password="!")
    client = client_for(county_admin)
    assert world.officer.user.username not in client.get("/admin/").content.decode()
    assert client.get(f"/admin/people/{world.officer.user.username}/").status_code == 404


def test_a_person_is_created_with_a_first_password_shown_once(
    world: World, client_for: Sign
) -> None:
    before = AuditRecord.objects.count()
    response = client_for(world.admin).post(
        "/admin/people/",
        {"username": "wang.li", "name": "王丽", "roles": ["officer"], "units": ["HB0101"]},
    )
    assert [r.action for r in AuditRecord.objects.order_by("id")[before:]] == ["person_create"]
    password = response.context["password"]
    assert password in response.content.decode()
    created = Person.objects.get(user__username="wang.li")
    assert created.roles == ["officer"] and [u.code for u in created.units.all()] == ["HB0101"]
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="wang.li", password=password) is not None
    assert password not in str(AuditRecord.objects.order_by("-id").first().after)
    assert password not in client_for(world.admin).get("/admin/").content.decode()


def test_roles_change_and_a_person_is_deactivated_through_one_service_call(
    world: World, client_for: Sign
) -> None:
    target = world.officer
    before = AuditRecord.objects.count()
    client_for(world.admin).post(
        f"/admin/people/{target.user.username}/",
        {"version": target.version, "roles": ["officer", "legal"], "units": ["HB01"]},
    )
    assert [r.action for r in AuditRecord.objects.order_by("id")[before:]] == ["person_update"]
    target.refresh_from_db()
    assert sorted(target.roles) == ["legal", "officer"] and not target.active


def test_a_stale_form_gets_the_conflict_message(world: World, client_for: Sign) -> None:
    target = world.officer
    Person.objects.filter(pk=target.pk).update(version=target.version + 1)
    before = AuditRecord.objects.count()
    response = client_for(world.admin).post(
        f"/admin/people/{target.user.username}/",
        {"version": target.version, "roles": ["legal"], "units": ["HB01"], "active": "on"},
        follow=True,
    )
    assert "changed by someone else" in response.content.decode()
    target.refresh_from_db()
    assert target.roles == ["officer"]
    assert AuditRecord.objects.count() == before


def test_a_team_is_created_and_its_members_set_through_the_services(
    world: World, client_for: Sign
) -> None:
    client = client_for(world.admin)
    before = AuditRecord.objects.count()
    client.post(
        "/admin/teams/",
        {
            "code": "HB01-X",
            "name": "清收二组",
            "kind": "clearing_team",
            "leader": world.lead.user.username,
            "units": ["HB01"],
            "active_from": "2026-01-01",
        },
    )
    team = Team.objects.get(code="HB01-X")
    assert team.leader_id == world.lead.pk
    page = client.get("/admin/teams/HB01-X/")
    response = client.post(
        "/admin/teams/HB01-X/",
        {"version": team.version, "members": [world.officer.user.username]},
    )
    assert response.status_code == 302
    assert [m.pk for m in team.members.all()] == [world.officer.pk]
    assert [r.action for r in AuditRecord.objects.order_by("id")[before:]] == [
        "team_create",
        "team_set_members",
    ]
    assert world.officer2.user.username in page.content.decode()


def test_who_may_not_join_is_refused_with_the_reason_and_a_stale_form_conflicts(
    world: World, client_for: Sign
) -> None:
    team = TeamFactory(code="HB01-Y", leader=world.lead, units=[world.units["HB01"]])
    client = client_for(world.admin)
    finance = client.post(
        "/admin/teams/HB01-Y/",
        {"version": team.version, "members": [world.finance.user.username]},
        follow=True,
    )
    assert finance.status_code == 200 and team.members.count() == 0  # not a choice: no case work
    stale = client.post(
        "/admin/teams/HB01-Y/",
        {"version": team.version + 5, "members": [world.officer.user.username]},
        follow=True,
    )
    assert "changed by someone else" in stale.content.decode()
    assert team.members.count() == 0
    assert client_for(world.lead).get("/admin/teams/").status_code == 404


def test_the_policy_table_is_shown_read_only_to_admins(world: World, client_for: Sign) -> None:
    from npldesk.casework.config import casework_settings

    response = client_for(world.admin).get("/admin/policy/")
    assert response.status_code == 200
    assert list(response.context["rows"]) == list(casework_settings().policy)
    assert client_for(world.admin).post("/admin/policy/").status_code == 405
    assert client_for(world.leader).get("/admin/policy/").status_code == 404
