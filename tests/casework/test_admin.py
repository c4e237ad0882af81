"""The Django admin, through HTTP as a browser would: scoped to the administrator's units,
read-only, and closed to everyone else."""

from __future__ import annotations

import pytest
from django.test import Client

from npldesk.casework.models import Unit
from tests.casework.factories import PersonFactory, TeamFactory

pytestmark = pytest.mark.django_db


def signed_in(roles: list[str], unit: Unit) -> Client:
    person = PersonFactory(roles=roles, units=[unit])
    person.user.is_staff = True
    person.user.save()
    client = Client()
    client.force_login(person.user)
    return client


def test_an_administrator_sees_the_teams_of_their_units_only(units: dict[str, Unit]) -> None:
    own = TeamFactory(code="OWN01")
    own.units.set([units["HB0101"]])
    other = TeamFactory(code="OTHER1")
    other.units.set([units["HB0201"]])
    page = signed_in(["admin"], units["HB01"]).get("/django-admin/casework/team/")
    assert page.status_code == 200
    assert b"OWN01" in page.content
    assert b"OTHER1" not in page.content


def test_the_admin_is_read_only(units: dict[str, Unit]) -> None:
    team = TeamFactory(code="OWN02")
    team.units.set([units["HB0101"]])
    client = signed_in(["admin"], units["HB01"])
    assert client.get("/django-admin/casework/team/add/").status_code == 403
    change = client.post(f"/django-admin/casework/team/{team.pk}/change/", {"name": "renamed"})
    assert change.status_code == 403 or b"renamed" not in change.content
    team.refresh_from_db()
    assert team.name != "renamed"
    assert (
        client.post(f"/django-admin/casework/team/{team.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


@pytest.mark.parametrize("role", ["officer", "team_lead", "leader", "risk_analyst"])
def test_other_roles_cannot_open_it(units: dict[str, Unit], role: str) -> None:
    assert signed_in([role], units["HB01"]).get("/django-admin/casework/team/").status_code == 403
