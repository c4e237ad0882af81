"""``npldesk users``, ``teams`` and ``units`` as an administrator meets them: every write through
the services (audited as the command line's user), mistakes as messages and exit codes.

In-process through ``run`` on the test database (SQLite or PostgreSQL, whichever the run uses).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import RequestFactory

from npldesk.casework.models import AuditRecord, Person, Team, Unit
from npldesk.casework.selectors import system_actor
from npldesk.cli import run
from npldesk.home import create_home

# Every test runs the commands on the test database (tests/cli/conftest.py).
pytestmark = pytest.mark.usefixtures("on_casework")


def _sign_in_request() -> HttpRequest:
    """The request a sign-in comes with (the lockout backend asks for it)."""
    return RequestFactory().post("/accounts/sign-in/")


@pytest.fixture
def cli_user() -> str:
    return "admin-cli"


@pytest.fixture
def synced(cli) -> None:
    code, _, err = cli("units", "sync")
    assert code == 0, err


def test_units_sync_adds_the_tree_once_and_is_audited(cli):
    code, out, _ = cli("units", "sync")
    assert code == 0
    assert "units: 6 added, 0 changed, 6 in all" in out
    assert Unit.objects.get(code="HB0201").path == "/HB00/HB02/HB0201/"
    assert cli("units", "sync")[1].strip() == "units: 0 added, 0 changed, 6 in all"
    record = AuditRecord.objects.filter(action="units_sync").first()
    assert record is not None and record.actor == system_actor()
    assert record.actor_name == "system:admin-cli"  # the system actor, run by admin-cli


def test_units_sync_without_an_organisation_file_says_so(tmp_path: Path, db: None, monkeypatch):
    bare = tmp_path / "bare"
    monkeypatch.setenv("NPLDESK_HOME", str(bare))
    create_home(bare)
    assert run(["units", "sync", "--home", str(bare)]) == 2
    assert not Unit.objects.exists()


def test_add_a_user_with_a_generated_password_shown_once(cli, synced):
    code, out, _ = cli(
        "users", "add", "wang", "--name", "王芳", "--role", "officer", "--role", "team_lead",
        "--unit", "HB0101", "--unit", "HB02",
    )  # fmt: skip
    assert code == 0
    password = out.split("password (shown once, not stored in clear): ")[1].split()[0]
    assert len(password) >= 16
    person = Person.objects.get(user__username="wang")
    assert person.name == "王芳" and person.roles == ["officer", "team_lead"]
    assert sorted(person.units.values_list("code", flat=True)) == ["HB0101", "HB02"]
    assert authenticate(_sign_in_request(), username="wang", password=password) == person.user
    assert password not in json.dumps(
        list(AuditRecord.objects.filter(action="person_create").values("after"))
    )
    assert cli("users", "list")[1].count(password) == 0


def test_add_a_user_with_the_password_on_stdin(cli, synced, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-secret-1\n"))
    argv = ["users", "add", "li", "--name", "李四", "--role", "legal", "--unit", "HB00"]
    code, out, _ = cli(*argv, "--password-stdin")
    assert code == 0 and "password" not in out
    assert authenticate(_sign_in_request(), username="li", password="a-long-secret-1") is not None


def test_list_users_as_json_and_update_roles_units_and_activity(cli, synced):
    cli("users", "add", "zhao", "--name", "赵六", "--role", "officer", "--unit", "HB0101")
    code, out, _ = cli(
        "users",
        "update",
        "zhao",
        "--role",
        "finance",
        "--unit",
        "HB01",
        "--inactive",
        "--department",
        "finance",
    )
    assert code == 0 and "inactive" in out
    person = Person.objects.select_related("user").get(user__username="zhao")
    assert (person.roles, person.active, person.user.is_active) == (["finance"], False, False)
    assert person.version == 2
    listed = json.loads(cli("users", "list", "--format", "json")[1])
    assert listed == {
        "users": [
            {
                "username": "zhao",
                "name": "赵六",
                "roles": ["finance"],
                "units": ["HB01"],
                "departments": ["finance"],
                "active": False,
            }
        ]
    }
    assert cli("users", "update", "zhao", "--active")[0] == 0
    assert Person.objects.get(pk=person.pk).active is True
    table = cli("users", "list")[1]
    assert "zhao" in table and "finance" in table
    assert AuditRecord.objects.filter(action="person_update").count() == 2


def test_teams_add_list_and_set_members(cli, synced):
    for username, role, unit in (
        ("lead1", "team_lead", "HB01"),
        ("off1", "officer", "HB0101"),
        ("off2", "officer", "HB0102"),
    ):
        code, _, _ = cli(
            "users", "add", username, "--name", username, "--role", role, "--unit", unit
        )
        assert code == 0
    code, out, _ = cli(
        "teams", "add", "CT01", "--name", "第一清收组", "--kind", "clearing_team",
        "--leader", "lead1", "--member", "off1", "--unit", "HB01", "--from", "2018-03-01",
    )  # fmt: skip
    assert code == 0 and "team CT01 (Clearing team) added" in out
    code, _, _ = cli(
        "teams", "add", "TF01", "--name", "党员突击队", "--kind", "task_force",
        "--leader", "lead1", "--from", "2019-01-01",
    )  # fmt: skip
    assert code == 0
    assert cli("teams", "members", "CT01", "--member", "off1", "--member", "off2")[0] == 0
    teams = json.loads(cli("teams", "list", "--format", "json")[1])["teams"]
    assert teams[0] == {
        "code": "CT01",
        "name": "第一清收组",
        "kind": "clearing_team",
        "leader": "lead1",
        "members": ["off1", "off2"],
        "units": ["HB01"],
        "active_from": "2018-03-01",
        "active_to": None,
    }
    assert (teams[1]["code"], teams[1]["members"], teams[1]["units"]) == ("TF01", [], [])
    assert Team.objects.get(code="CT01").version == 2
    assert "第一清收组" in cli("teams", "list")[1]


ADD = "users add x --name X"
TEAM = "teams add T --name T --kind task_force --leader taken"
TAKEN_USER = "users add taken --name T --role team_lead --unit HB01"
OLD_TEAM = "teams add OLD --name Old --kind clearing_team --leader taken"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (f"{ADD} --role boss --unit HB01", "unknown roles"),
        (f"{ADD} --role officer --unit ZZ", "unknown units: ZZ"),
        (f"{ADD} --role officer --unit HB01 --department spa", "unknown departments: spa"),
        ("users add taken --name X --role officer --unit HB01", "user taken exists"),
        (f"{ADD} --unit HB01", "at least one --role"),
        (f"{ADD} --role officer", "at least one --unit"),
        ("users update nobody --active", "no user 'nobody'"),
        ("users update taken", "nothing to change"),
        ("users update taken --role chief", "unknown roles"),
        ("teams add T --name T --kind squad --leader taken", "unknown team kind"),
        ("teams add T --name T --kind task_force --leader nobody", "no user 'nobody'"),
        (f"{TEAM} --from 2019-02-30", "--from: expected a day"),
        (f"{TEAM} --unit ZZ", "unknown units: ZZ"),
        ("teams add OLD --name T --kind task_force --leader taken", "team OLD exists"),
        ("teams members NOPE --member taken", "no team 'NOPE'"),
        ("teams members OLD", "--member USERNAME"),
    ],
)
def test_mistakes_are_messages_not_tracebacks(cli, synced, command: str, message: str):
    assert cli(*TAKEN_USER.split())[0] == 0
    assert cli(*OLD_TEAM.split())[0] == 0
    people, teams = Person.objects.count(), Team.objects.count()
    code, _, err = cli(*command.split())
    assert code == 2
    assert message in err and "Traceback" not in err
    assert (Person.objects.count(), Team.objects.count()) == (people, teams)


def test_password_on_stdin_must_be_given(cli, synced, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    argv = ["users", "add", "x", "--name", "X", "--role", "officer", "--unit", "HB01"]
    code, _, err = cli(*argv, "--password-stdin")
    assert code == 2 and "no password on standard input" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, _, err = cli(*argv, "--password-stdin")
    assert code == 2 and "at least 10 characters" in err
    assert not Person.objects.filter(user__username="x").exists()


def test_a_teams_leader_sets_its_members_as_themself_within_the_teams_units(cli, synced):
    for username, role, unit in (
        ("lead1", "team_lead", "HB01"),
        ("off1", "officer", "HB0101"),
        ("far", "officer", "HB02"),
        ("boss", "leader", "HB00"),
    ):
        code, _, err = cli("users", "add", username, "--name", "N", "--role", role, "--unit", unit)
        assert code == 0, err
    code, _, err = cli(
        "teams", "add", "CT01", "--name", "CT", "--kind", "clearing_team", "--leader", "lead1",
        "--unit", "HB01",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = cli("teams", "members", "CT01", "--member", "off1", "--as", "lead1")
    assert code == 0, err
    assert AuditRecord.objects.filter(action="team_set_members").get().actor_name == "lead1"
    # The lead does not see people outside their units; the system actor sees them, and the
    # rule on who may join refuses them.
    code, _, err = cli("teams", "members", "CT01", "--member", "far", "--as", "lead1")
    assert code == 2 and "no user 'far'" in err
    for outsider, message in (("far", "outside the units"), ("boss", "only officers")):
        code, _, err = cli("teams", "members", "CT01", "--member", outsider)
        assert code == 2 and message in " ".join(err.split())
    code, _, err = cli("teams", "members", "CT01", "--member", "off1", "--as", "off1")
    assert code == 3  # an officer neither leads the team nor administers
    assert [m.user.username for m in Team.objects.get(code="CT01").members.all()] == ["off1"]
