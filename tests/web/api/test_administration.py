"""The API's administration: people, roles, units, teams and members, for administrators only,
through the services (checked against the administrator's units, versioned, audited)."""

from __future__ import annotations

from npldesk.casework.models import AuditRecord, Person, Team
from tests.casework.world import World
from tests.casework.world import person as staff


def _actions(before: int) -> list[str]:
    return [r.action for r in AuditRecord.objects.order_by("id")[before:]]


def test_an_administrator_creates_and_changes_a_person(world: World, api_for) -> None:
    api = api_for(world.admin)
    before = AuditRecord.objects.count()
    body = {"username": "wang", "name": "王五", "roles": ["officer"], "units": ["HB01"]}
    created = api.post("/people", body)
    assert created.status_code == 201, created.content
    answer = created.json()
    assert answer["roles"] == ["officer"] and answer["units"] == ["HB01"]
    assert Person.objects.get(user__username="wang").user.check_password(answer["password"])
    assert _actions(before) == ["person_create"]
    assert "password" not in api.get("/people/wang").json()

    changed = api.send("patch", "/people/wang", {"version": 1, "roles": ["team_lead"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["roles"] == ["team_lead"] and changed.json()["version"] == 2
    stale = api.send("patch", "/people/wang", {"version": 1, "active": False})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert Person.objects.get(user__username="wang").active
    assert api.post("/people", body).status_code == 422  # the username exists


def test_a_unit_outside_the_administrators_is_refused(world: World, api_for) -> None:
    local = staff("admin", world.units["HB01"])
    api = api_for(local)
    body = {"username": "li", "name": "李四", "roles": ["officer"], "units": ["HB02"]}
    assert api.post("/people", body).status_code == 403
    assert [u["code"] for u in api.get("/units").json()["items"]] == ["HB01", "HB0101"]
    assert api.get(f"/people/{world.outsider.user.username}").status_code == 404


def test_roles_units_and_teams(world: World, api_for) -> None:
    api = api_for(world.admin)
    roles = api.get("/roles").json()["items"]
    assert {"code": "officer", "label": "Loan officer"} in roles
    units = api.get("/units").json()["items"]
    assert units[0] == {"code": "HB", "name": "Unit HB", "parent": None, "level": units[0]["level"]}
    team = {
        "code": "T1",
        "name": "clearing",
        "kind": "clearing_team",
        "leader": world.lead.user.username,
        "units": ["HB01"],
        "active_from": "2020-01-01",
    }
    created = api.post("/teams", team)
    assert created.status_code == 201, created.content
    assert created.json()["members"] == [] and created.json()["version"] == 1
    members = [world.officer.user.username, world.officer2.user.username]
    answer = api.send("put", "/teams/T1/members", {"version": 1, "members": members})
    assert answer.status_code == 200, answer.content
    assert answer.json()["members"] == sorted(members)
    assert set(Team.objects.get(code="T1").members.all()) == {world.officer, world.officer2}
    # Someone outside the team's area may not join it: refused, nothing changed.
    outside = api.send(
        "put", "/teams/T1/members", {"version": 2, "members": [world.outsider.user.username]}
    )
    assert outside.status_code in (404, 422), outside.content
    listed = api.get("/teams").json()["items"]
    assert [t["code"] for t in listed] == ["T1"] and listed[0]["version"] == 2


def test_only_administrators(world: World, api_for) -> None:
    for role in ("officer", "lead", "leader", "finance"):
        api = api_for(getattr(world, role))
        for path in ("/roles", "/units", "/teams", f"/people/{world.officer.user.username}"):
            response = api.get(path)
            assert response.status_code == 403, (role, path)
            assert response["Content-Type"] == "application/problem+json"
        body = {"username": "x", "name": "x", "roles": ["officer"], "units": ["HB01"]}
        assert api.post("/people", body).status_code == 403
