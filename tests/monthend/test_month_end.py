"""``npldesk month-end``: one run of the steps after an import, each step recorded; a failed
step stops the run and the next run resumes from it; a run done is not run again. In-process
on the test database (SQLite or PostgreSQL, whichever the run uses)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from npldesk.casework import selectors, services
from npldesk.casework.choices import PromiseState
from npldesk.casework.models import (
    AuditRecord,
    Case,
    Promise,
    ReminderDelivery,
    ReminderPack,
    Run,
    RunStep,
)
from npldesk.core.errors import DataError
from npldesk.monthend import STEPS
from tests.casework.factories import PersonFactory, case_with_loan
from tests.cli.conftest import make_home
from tests.conftest import tree_state
from tests.tape_factory import ORG_ROWS, loan_row

pytestmark = pytest.mark.usefixtures("on_casework")

TODAY = "2020-02-10"


def _npl(n: int, as_of: str, balance: str, **overrides: Any) -> dict[str, str]:
    values = {
        "principal_balance": balance,
        "overdue_principal": balance,
        "days_past_due": "120" if as_of.startswith("2019") else "150",
        "reported_class": "substandard",
    }
    return loan_row(n, date.fromisoformat(as_of), **(values | overrides))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Three months: B000001 NPL throughout, B000002 NPL and repaid in January, B000003
    performing."""
    rows = []
    for as_of in ("2019-11-30", "2019-12-31"):
        rows += [
            _npl(1, as_of, "80000.00"),
            _npl(2, as_of, "30000.00"),
            loan_row(3, date.fromisoformat(as_of)),
        ]
    rows += [
        _npl(1, "2020-01-31", "70000.00"),
        _npl(2, "2020-01-31", "0.00", status="repaid", days_past_due="0", overdue_principal="0.00"),
        loan_row(3, date(2020, 1, 31)),
    ]
    return make_home(tmp_path, rows)


class Undo(Exception):
    """Raised to roll back what a block wrote to the database."""


def casework_state() -> list[tuple[Any, ...]]:
    """Every case by household (case numbers come from a sequence a rollback does not undo)."""
    return sorted(
        (
            c.household.borrower_id, c.kind, c.state, c.segment, c.strategy, c.tier,
            c.deadline, c.npl_balance, c.balance, c.opened_on, c.closed_on, c.close_reason,
        )
        for c in Case.objects.select_related("household")
    )  # fmt: skip


def reminders_state() -> dict[str, Any]:
    """Every unit's pack of risk reminders (sections and counts) and who has it."""
    return {
        pack.unit.code: {
            "as_of": pack.as_of,
            "built_on": pack.built_on,
            "counts": pack.counts,
            "sections": pack.sections,
            "people": sorted(d.person.user.get_username() for d in pack.deliveries.all()),
        }
        for pack in ReminderPack.objects.select_related("unit").prefetch_related(
            "deliveries__person__user"
        )
    }


# The one line of a report that says when it was made: the run stamps its reports with the
# judge's day (so that a step redone writes the same file), a command with the clock.
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


# §8 (casework) as the run reads it, from the test database; the command reads this home as
# tape-only (it has no database file of its own: casework is the test database) and says so.
_CASEWORK_SECTION = re.compile(r"<h2>8\. .*?(?=<div class=\"keep\"><h2>9\.|<h2>9\.)", re.S)


def report_html(path: Path) -> str:
    text = _WHEN.sub("WHEN", path.read_text(encoding="utf-8"))
    return _CASEWORK_SECTION.sub("CASEWORK", text)


def separate_commands(
    cli: Any, month: str, reports: Path | None = None
) -> tuple[list[tuple[Any, ...]], dict[str, Any], dict[str, Any]]:
    """The cases, the plan and the reminders after the separate commands in order, rolled back
    after; with ``reports``, each unit's monthly report written there as HTML."""
    try:
        with transaction.atomic():
            for command in (
                ("cases", "sync", "--as-of", month),
                ("cases", "judge", "--today", TODAY),
            ):
                code, _, err = cli(*command)
                assert code == 0, err
            if reports is not None:
                reports.mkdir(exist_ok=True)
                for unit in ORG_ROWS:
                    out = reports / f"report-{unit['code']}-{month}.html"
                    code, _, err = cli(
                        "report", "monthly", "--as-of", month, "--unit", unit["code"],
                        "--format", "html", "--out", str(out),
                    )  # fmt: skip
                    assert code == 0, err
            code, _, err = cli("report", "reminders", "--as-of", month, "--today", TODAY)
            assert code == 0, err
            code, out, err = cli("plan", "--as-of", month, "--by", "org_unit", "--format", "json")
            assert code == 0, err
            state = (
                casework_state(),
                without_pipeline_warning(json.loads(out)),
                reminders_state(),
            )
            raise Undo
    except Undo:
        pass
    assert not Case.objects.exists()
    assert not ReminderPack.objects.exists()
    return state


def without_pipeline_warning(document: dict[str, Any]) -> dict[str, Any]:
    """The plan without its warning on the pipeline: in these tests the home has no database
    file of its own (casework is the test database), so ``npldesk plan`` reads the home as
    tape-only while the run reads the (empty) pipeline; both levers are 0."""
    kept = [w for w in document["warnings"] if not w.endswith("pipeline levers are 0")]
    return document | {"warnings": kept}


def plan_document(home: Path, month: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (home / "runs" / f"month-end-{month}" / "plan.json").read_text(encoding="utf-8")
    )
    return without_pipeline_warning(document)


def test_the_run_ends_as_the_separate_commands_and_a_second_run_writes_nothing(
    cli, home: Path, tmp_path: Path
):
    separate = tmp_path / "separate"
    expected_cases, expected_plan, expected_reminders = separate_commands(
        cli, "2020-01", reports=separate
    )

    code, out, err = cli("month-end", "--as-of", "2020-01", "--today", TODAY, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["ran"] == ["classify", "sync", "judge", "plan", "report", "reminders"]
    assert [s["state"] for s in document["steps"]] == ["done"] * 6
    assert document["steps"][1]["counts"]["months"] == ["2020-01"]
    assert casework_state() == expected_cases
    assert plan_document(home, "2020-01") == expected_plan
    assert (home / "runs" / "month-end-2020-01" / "plan.json").stat().st_mode & 0o077 == 0
    # The report of the bank and every unit, as `npldesk report monthly` writes it.
    kept = home / "runs" / "month-end-2020-01" / "reports"
    for unit in ORG_ROWS:
        name = f"report-{unit['code']}-2020-01"
        assert report_html(kept / f"{name}.html") == report_html(separate / f"{name}.html")
        assert (
            json.loads((kept / f"{name}.json").read_text(encoding="utf-8"))["unit"]["code"]
            == (unit["code"])
        )
        assert (kept / f"{name}.html").stat().st_mode & 0o077 == 0
    # The reminders, as `npldesk report reminders` delivers them.
    assert reminders_state() == expected_reminders
    assert set(expected_reminders) == {u["code"] for u in ORG_ROWS}

    records, files = AuditRecord.objects.count(), tree_state(home)
    steps = list(RunStep.objects.values())
    code, out, err = cli("month-end", "--as-of", "2020-01", "--today", "2020-03-01")
    assert code == 0, err
    assert "already done: nothing to run" in out
    assert AuditRecord.objects.count() == records
    assert tree_state(home) == files
    assert list(RunStep.objects.values()) == steps


def test_a_failed_step_stops_the_run_and_the_next_run_resumes_from_it(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch
):
    expected_cases, expected_plan, _ = separate_commands(cli, "2020-01")

    # The sync's input, the month's loans read from the tape, is unreadable this time.
    def unreadable(*args: Any, **kwargs: Any) -> Any:
        raise DataError("the snapshot of 2020-01 cannot be read")

    monkeypatch.setattr("npldesk.casework.sync.loans_for_sync", unreadable)
    code, out, err = cli("month-end", "--as-of", "2020-01", "--today", TODAY)
    assert code == 1
    assert "month-end 2020-01 stopped at step sync: the snapshot of 2020-01 cannot be read" in err
    assert "again to resume from sync" in err
    assert "Traceback" not in err
    assert not Case.objects.exists()
    run = Run.objects.get()
    assert run.state == "failed"
    assert {s.name: s.state for s in run.steps.all()} == {"classify": "done", "sync": "failed"}
    code, out, _ = cli("runs", "show", "2020-01")
    assert code == 0 and "stopped at step sync" in out

    monkeypatch.undo()
    # The undo took the suite's English away too (tests/conftest.py): the home speaks it again.
    monkeypatch.setenv("NPLDESK_LANGUAGE", "en")
    code, out, err = cli(
        "month-end", "--as-of", "2020-01", "--today", "2020-12-31", "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["ran"] == ["sync", "judge", "plan", "report", "reminders"]
    # The resumed run judges as of the day the run started with, not the one given now.
    assert document["parameters"]["today"] == TODAY
    assert {s["step"]: s["attempts"] for s in document["steps"]} == {
        "classify": 1, "sync": 2, "judge": 1, "report": 1, "reminders": 1, "plan": 1,
    }  # fmt: skip
    assert casework_state() == expected_cases
    assert plan_document(home, "2020-01") == expected_plan
    code, out, _ = cli("runs", "list", "--format", "json")
    assert code == 0
    (listed,) = json.loads(out)["runs"]
    assert listed["state"] == "done" and listed["as_of"] == "2020-01"
    assert "month-end 2020-01: done at" in listed["summary"]


def test_a_month_not_imported_starts_no_run(cli):
    code, _, err = cli("month-end", "--as-of", "2020-05")
    assert code == 2
    assert "2020-05 is not imported" in err
    assert not Run.objects.exists()


def test_steps_join_the_run_by_registration_in_order():
    assert [step.name for step in STEPS] == [
        "classify", "sync", "judge", "plan", "report", "reminders",
    ]  # fmt: skip
    # The report writes files; the reminders send e-mail after each pack's own transaction.
    assert [step.in_transaction for step in STEPS] == [False, True, True, False, False, False]


def test_who_may_see_the_runs(cli, units):
    code, _, err = cli("month-end", "--as-of", "2019-12", "--today", TODAY)
    assert code == 0, err
    system = selectors.system_actor()
    assert selectors.latest_month_end_run(system) is not None
    leader = PersonFactory(roles=["leader"], units=[units["HB"]], user__password="!")
    officer = PersonFactory(roles=["officer"], units=[units["HB01"]], user__password="!")
    assert selectors.latest_month_end_run(leader) == Run.objects.get()
    assert selectors.latest_month_end_run(officer) is None


def test_the_daily_judge_breaks_yesterdays_promise_and_puts_it_first_in_the_worklist(cli, units):
    """The morning after the grace of a promise ended, the judge (the worker's 02:00 run, or
    `npldesk cases judge` from cron) turns it to broken and the officer finds it on top."""
    morning = date(2020, 3, 10)
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]], user__password="!")
    far = morning + timedelta(days=300)
    quiet = case_with_loan(units["HB0101"], owner=officer, deadline=far, last_contact_on=morning)
    other = case_with_loan(units["HB0101"], owner=officer, deadline=far, last_contact_on=morning)
    promised = case_with_loan(units["HB0101"], owner=officer, deadline=far, last_contact_on=morning)

    from npldesk.casework.config import casework_settings

    grace_days = casework_settings().params.promise_grace_days
    # The grace ended the day before yesterday: yesterday was the first day the promise stood
    # broken, and nothing has judged it since.
    due = morning - timedelta(days=2 + grace_days)
    services.activity_record(
        actor=officer, case=promised, kind="letter", occurred_on=due - timedelta(days=5),
        outcome="promise", promise_amount=Decimal("5000.00"), promise_due_on=due,
    )  # fmt: skip

    code, _, err = cli("cases", "judge", "--today", (morning - timedelta(days=2)).isoformat())
    assert code == 0, err
    assert Promise.objects.get().state == PromiseState.PENDING
    before = list(selectors.worklist(officer, today=morning - timedelta(days=2)))
    # Two days before, the promise is pending and merely falling due.
    assert selectors.worklist_reason(before[0]) == "promise_due"

    code, _, err = cli("cases", "judge", "--today", morning.isoformat())
    assert code == 0, err
    assert Promise.objects.get().state == PromiseState.BROKEN
    listed = list(selectors.worklist(officer, today=morning))
    assert listed[0].number == promised.number
    assert selectors.worklist_reason(listed[0]) == "broken_promise"
    assert {c.number for c in listed[1:]} == {quiet.number, other.number}


def test_reminders_killed_halfway_resume_and_deliver_nothing_twice(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch
):
    """The reminders step stops after some packs were delivered (a kill, or a failure); the
    run resumed delivers the rest, and no unit's pack twice."""
    code, _, err = cli("cases", "sync", "--as-of", "2019-12")
    assert code == 0, err
    units = {u.code: u for u in selectors.units_visible(selectors.system_actor())}
    people = [
        PersonFactory(roles=["officer"], units=[units[code]], user__password="!")
        for code in ("HB0101", "HB01", "HB00")
    ]
    original = services.reminder_pack_deliver
    delivered: list[str] = []

    def dies_on_the_third(**kwargs: Any) -> Any:
        if len(delivered) == 2:
            raise DataError("the worker was stopped")
        delivered.append(kwargs["unit"].code)
        return original(**kwargs)

    monkeypatch.setattr(services, "reminder_pack_deliver", dies_on_the_third)
    code, _, err = cli("month-end", "--as-of", "2020-01", "--today", TODAY)
    assert code == 1 and "stopped at step reminders" in err
    assert ReminderPack.objects.count() == 2
    monkeypatch.undo()

    code, out, err = cli("month-end", "--as-of", "2020-01", "--today", TODAY, "--format", "json")
    assert code == 0, err
    counts = next(s for s in json.loads(out)["steps"] if s["step"] == "reminders")["counts"]
    assert (counts["packs"], counts["skipped"]) == (len(ORG_ROWS) - 2, 2)
    assert ReminderPack.objects.count() == len(ORG_ROWS)
    assert AuditRecord.objects.filter(action="reminder_pack_deliver").count() == len(ORG_ROWS)
    assert sorted(ReminderDelivery.objects.values_list("person_id", "pack__unit__code")) == sorted(
        zip((p.pk for p in people), ("HB0101", "HB01", "HB00"), strict=True)
    )
