"""``npldesk cases``: sync, list, show, judge and reconcile as a user meets them, mistakes as
messages and exit codes. In-process through ``run`` on the test database (SQLite or
PostgreSQL, whichever the run uses)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from npldesk.casework.models import AuditRecord, Case
from npldesk.cli import run
from tests.cli.conftest import make_home
from tests.tape_factory import loan_row, write_csv


def _npl(n: int, as_of: str, balance: str, **overrides: Any) -> dict[str, str]:
    values = {
        "principal_balance": balance,
        "overdue_principal": balance,
        "days_past_due": "120" if as_of.startswith("2019") else "150",
        "reported_class": "substandard",
    }
    return loan_row(n, date.fromisoformat(as_of), **(values | overrides))


# Every test runs the commands on the test database (tests/cli/conftest.py).
pytestmark = pytest.mark.usefixtures("on_casework")


@pytest.fixture
def cli_user() -> str:
    return "ops"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """December and January: B000001 NPL both months; B000002 NPL, repaid in January;
    B000003 performing."""
    rows = [
        _npl(1, "2019-12-31", "80000.00"),
        _npl(2, "2019-12-31", "30000.00"),
        loan_row(3, date(2019, 12, 31)),
        _npl(1, "2020-01-31", "70000.00"),
        _npl(2, "2020-01-31", "0.00", status="repaid", days_past_due="0", overdue_principal="0.00"),
        loan_row(3, date(2020, 1, 31)),
    ]
    return make_home(tmp_path, rows)


def test_sync_opens_updates_and_closes_and_a_second_run_changes_nothing(cli):
    code, out, err = cli("cases", "sync", "--as-of", "2019-12")
    assert code == 0, err
    assert "opened 2 (early warning 0)" in out
    assert Case.objects.filter(closed_on__isnull=True).count() == 2
    code, out, _ = cli("cases", "sync", "--as-of", "2019-12")
    assert code == 0
    assert "opened 0" in out and "unchanged 2" in out
    records = AuditRecord.objects.count()
    code, out, _ = cli("cases", "sync", "--as-of", "2020-01", "--format", "json")
    document = json.loads(out)
    assert document["closed"] == {"repaid": 1}
    assert document["updated"] == 2
    assert AuditRecord.objects.count() == records + 3  # two cases and the run


def test_a_sync_after_a_skipped_month_replays_it_and_a_month_not_imported_stops_it(
    cli, home: Path, tmp_path: Path
):
    def month(as_of: str) -> None:
        rows = [
            _npl(1, as_of, "60000.00"),
            loan_row(3, __import__("datetime").date.fromisoformat(as_of)),
        ]
        tape = write_csv(tmp_path / f"{as_of}.csv", rows)
        assert run(["tape", "import", str(tape), "--home", str(home)]) == 0

    cli("cases", "sync", "--as-of", "2019-12")
    month("2020-02-29")
    code, out, err = cli("cases", "sync", "--as-of", "2020-02", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert [m["as_of"] for m in document["months"]] == ["2020-01-31", "2020-02-29"]
    assert document["months"][0]["closed"] == {"repaid": 1}
    repaid = Case.objects.get(number="B000002-1")
    assert (repaid.closed_on.isoformat(), repaid.close_reason) == ("2020-01-31", "repaid")
    month("2020-04-30")
    code, out, err = cli("cases", "sync", "--as-of", "2020-04")
    assert code == 2
    assert "last synced from 2020-02" in err and "2020-03 is not imported" in " ".join(err.split())
    assert "Traceback" not in err + out
    assert Case.objects.get(number="B000001-1").synced_as_of.isoformat() == "2020-02-29"


def test_list_as_json_in_the_shape_of_cli_md_and_filters(cli):
    cli("cases", "sync", "--as-of", "2019-12")
    code, out, _ = cli("cases", "list", "--format", "json")
    assert code == 0
    cases = json.loads(out)["cases"]
    assert [c["case_id"] for c in cases] == ["B000001-1", "B000002-1"]
    assert set(cases[0]) == {
        "case_id",
        "household",
        "kind",
        "state",
        "segment",
        "strategy",
        "tier",
        "deadline",
        "owner",
        "team",
        "npl_balance",
    }
    assert cases[0]["npl_balance"] == "80000.00"
    assert cases[0]["household"] == "B000001"
    assert cases[0]["deadline"] == "2020-03-31"
    cli("cases", "sync", "--as-of", "2020-01")
    code, out, _ = cli("cases", "list", "--state", "resolved", "--format", "csv")
    assert out.splitlines()[0].startswith("case_id,household,kind,state")
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["B000002-1"]
    code, out, _ = cli("cases", "list", "--unit", "HB02", "--format", "json")
    assert json.loads(out)["cases"] == []
    code, out, _ = cli("cases", "list")
    assert code == 0 and "B000001-1" in out


def test_show_a_case_in_full_with_personal_data_masked(cli):
    cli("cases", "sync", "--as-of", "2019-12")
    code, out, _ = cli("cases", "show", "B000001-1", "--format", "json")
    assert code == 0
    document = json.loads(out)
    person = document["household_detail"]
    assert person["masked"] is True
    assert person["id_number"].startswith("340603") and "*" in person["id_number"]
    assert person["phones"] == "138****0000"
    assert [loan["loan_id"] for loan in document["loans"]] == ["L000001"]
    for key in ("latest_investigation", "plan", "activities", "promises", "repayment_plans"):
        assert key in document
    assert document["legal_cases"] == [] and document["recoveries"] == []
    code, out, _ = cli("cases", "show", "B000001-1")
    assert code == 0 and "340603198502150022" not in out and "L000001" in out


def test_show_with_pii_unmasks_and_records_the_view(cli):
    cli("cases", "sync", "--as-of", "2019-12")
    before = AuditRecord.objects.filter(action="personal_data_view").count()
    code, out, _ = cli("cases", "show", "B000001-1", "--format", "json", "--pii")
    assert code == 0
    person = json.loads(out)["household_detail"]
    assert (person["masked"], person["id_number"]) == (False, "340603198502150022")
    views = AuditRecord.objects.filter(action="personal_data_view")
    assert views.count() == before + 1
    assert (views.last().actor_name, views.last().case.number) == ("system:ops", "B000001-1")


def test_judge_and_reconcile(cli):
    cli("cases", "sync", "--as-of", "2019-12")
    code, out, _ = cli("cases", "judge", "--today", "2020-01-10")
    assert code == 0 and "rules run as of 2020-01-10" in out
    cli("cases", "sync", "--as-of", "2020-01")
    code, out, _ = cli("cases", "reconcile", "--as-of", "2020-01", "--format", "json")
    assert code == 0
    document = json.loads(out)
    # Nothing was entered in casework: the tape's cash (10,000 paid down, 30,000 repaid) shows
    # as the difference.
    assert document["totals"]["tape_cash"] == "40000.00"
    assert document["totals"]["difference"] == "-40000.00"
    code, out, _ = cli("cases", "reconcile", "--as-of", "2020-01")
    assert code == 0 and "difference -40,000.00 over 2 household(s)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cases", "sync", "--as-of", "2020-05"], "2020-05 is not imported"),
        (["cases", "sync", "--as-of", "May"], "--as-of"),
        (["cases", "show", "NOPE-1"], "no case NOPE-1"),
        (["cases", "list", "--state", "sleeping"], "--state 'sleeping'"),
        (["cases", "list", "--unit", "ZZ"], "--unit 'ZZ'"),
        (["cases", "list", "--owner", "nobody"], "--owner 'nobody'"),
        (["cases", "judge", "--today", "2020-02-30"], "--today"),
        (["cases", "reconcile", "--as-of", "2019-12"], "2019-11, which is not imported"),
    ],
)
def test_mistakes_are_messages_not_tracebacks(cli, argv: list[str], message: str):
    code, out, err = cli(*argv)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err + out


def test_a_fresh_process_sets_django_up_before_reading_cases(tmp_path: Path):
    """The commands import casework only after Django is set up on the home (in-process tests
    run with Django already set up, so this takes a process of its own)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-c", "from npldesk.cli import main; main()"]
    home = str(tmp_path / "fresh")
    assert subprocess.run([*command, "init", "--home", home], env=env, timeout=300).returncode == 0
    listed = subprocess.run(
        [*command, "cases", "list", "--format", "json", "--home", home],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"cases": []}


def _staff(cli, username: str, role: str, unit: str) -> None:
    code, _, err = cli("users", "add", username, "--name", username, "--role", role, "--unit", unit)
    assert code == 0, err


def test_as_a_person_their_roles_and_scope_apply(cli):
    cli("cases", "sync", "--as-of", "2019-12")
    _staff(cli, "lead-hb01", "team_lead", "HB01")
    _staff(cli, "officer-hb02", "officer", "HB02")
    listed = json.loads(cli("cases", "list", "--as", "lead-hb01", "--format", "json")[1])
    assert [c["case_id"] for c in listed["cases"]] == ["B000001-1", "B000002-1"]
    code, out, _ = cli("cases", "list", "--as", "officer-hb02", "--format", "json")
    assert (code, json.loads(out)) == (0, {"cases": []})
    code, _, err = cli("cases", "show", "B000001-1", "--as", "officer-hb02")
    assert code == 2 and "no case B000001-1 that you may see" in err
    as_lead = ("--as", "lead-hb01")
    code, out, _ = cli("cases", "show", "B000001-1", "--pii", "--format", "json", *as_lead)
    assert code == 0 and json.loads(out)["household_detail"]["masked"] is False
    view = AuditRecord.objects.filter(action="personal_data_view").last()
    assert view.actor_name == "lead-hb01"
    code, _, err = cli("cases", "judge", "--as", "officer-hb02", "--today", "2020-01-10")
    assert code == 3 and "officer-hb02 may not sync" in " ".join(err.split())
    code, _, err = cli("cases", "list", "--as", "nobody")
    assert code == 2 and "--as 'nobody': no such user" in err


def test_the_command_line_acts_as_the_system_actor(cli):
    cli("cases", "sync", "--as-of", "2019-12")
    run = AuditRecord.objects.get(action="cases_sync_run")
    assert (run.actor.user.username, run.actor_name) == ("system", "system:ops")
    assert cli("cases", "list", "--as", "system", "--format", "json")[0] == 0


def test_list_by_team(cli):
    from npldesk.casework import services
    from npldesk.casework.models import Person

    cli("cases", "sync", "--as-of", "2019-12")
    _staff(cli, "lead-hb01", "team_lead", "HB01")
    code, _, err = cli(
        "teams", "add", "CT1", "--name", "Clearing team 1", "--kind", "clearing_team",
        "--leader", "lead-hb01", "--unit", "HB01",
    )  # fmt: skip
    assert code == 0, err
    lead = Person.objects.get(user__username="lead-hb01")
    case = Case.objects.get(number="B000002-1")
    services.case_assign(
        actor=lead, case=case, version=case.version, owner=None, team=lead.teams_led.get(),
        reason="to the clearing team",
    )  # fmt: skip
    code, out, _ = cli("cases", "list", "--team", "CT1", "--format", "json")
    assert code == 0
    assert [(c["case_id"], c["team"]) for c in json.loads(out)["cases"]] == [("B000002-1", "CT1")]
    code, _, err = cli("cases", "list", "--team", "NOPE")
    assert code == 2 and "--team 'NOPE': no such team" in err


def test_a_casework_refusal_is_said_in_the_homes_language(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("cases", "sync", "--as-of", "2019-12")
    _staff(cli, "lead-hb01", "team_lead", "HB01")
    again = ("users", "add", "lead-hb01", "--name", "x", "--role", "officer", "--unit", "HB01")
    monkeypatch.setenv("NPLDESK_LANGUAGE", "zh-hans")
    code, _, err = cli(*again)
    assert code == 2 and "用户 lead-hb01 已存在" in err and "exists" not in err
    monkeypatch.setenv("NPLDESK_LANGUAGE", "en")
    code, _, err = cli(*again)
    assert code == 2 and "user lead-hb01 exists" in err and "已存在" not in err
