"""The job queue and ``npldesk worker``: a job queued, claimed under a lease, run and finished;
one job at a time per kind; a job whose worker was killed is claimed again and ends once; the
schedule's judgement and month-end run, with a clock. On the test database (SQLite or
PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from npldesk.casework import selectors, services
from npldesk.casework.errors import AccessDenied
from npldesk.casework.models import Case, Job, Run, SyncRun
from npldesk.casework.services.jobs import LEASE
from npldesk.home import load_home
from npldesk.monthend import worker as worker_module
from npldesk.monthend.worker import Schedule, enqueue_tape_import, run_next, schedule_jobs
from npldesk.tape.store import Store
from tests.casework.factories import PersonFactory
from tests.conftest import tree_state
from tests.monthend.test_month_end import casework_state
from tests.tape_factory import loan_row, write_csv

pytestmark = pytest.mark.usefixtures("on_casework")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    from tests.cli.conftest import make_home

    npl = {
        "principal_balance": "80000.00", "overdue_principal": "80000.00",
        "days_past_due": "120", "reported_class": "substandard",
    }  # fmt: skip
    rows = [
        row
        for as_of in (date(2019, 11, 30), date(2019, 12, 31))
        for row in (loan_row(1, as_of, **npl), loan_row(2, as_of))
    ]
    return make_home(tmp_path, rows)


def system() -> Any:
    return selectors.system_actor()


def january(tmp_path: Path, **overrides: Any) -> Path:
    rows = [loan_row(1, date(2020, 1, 31), **overrides), loan_row(2, date(2020, 1, 31))]
    return write_csv(tmp_path / "upload.csv", rows)


def test_an_uploaded_month_is_imported_by_the_worker(home: Path, tmp_path: Path, units):
    analyst = PersonFactory(roles=["risk_analyst"], units=[units["HB"]], user__password="!")
    loaded = load_home(home)
    upload = january(tmp_path).read_bytes()
    job = enqueue_tape_import(loaded, actor=analyst, name="../Jan 2020.csv", chunks=[upload])
    kept = home / str(job.parameters["file"])
    assert kept.parent.parent == home / "uploads" and kept.name == "Jan_2020.csv"
    assert kept.stat().st_mode & 0o077 == 0
    assert (job.state, job.attempts) == ("queued", 0)

    done = run_next(loaded, actor=system(), worker="w1", heartbeat=None)
    assert done is not None and done.pk == job.pk
    assert (done.state, done.attempts, done.error) == ("done", 1, "")
    assert done.result["snapshots"][0]["as_of"] == "2020-01-31"
    assert date(2020, 1, 31) in Store(loaded.store_path).months()
    assert selectors.job_get(analyst, job.pk) == done
    assert run_next(loaded, actor=system(), worker="w1", heartbeat=None) is None


def test_an_upload_with_bad_rows_fails_with_its_problems_and_imports_nothing(
    home: Path, tmp_path: Path
):
    loaded = load_home(home)
    before = tree_state(loaded.store_path)
    bad = january(tmp_path, principal_balance="eighty thousand").read_bytes()
    job = enqueue_tape_import(loaded, actor=system(), name="jan.csv", chunks=[bad])
    failed = run_next(loaded, actor=system(), worker="w1", heartbeat=None)
    assert failed is not None and failed.pk == job.pk
    assert failed.state == "failed" and failed.error
    problems = failed.result["problems"]
    assert problems and problems[0]["column"] == "principal_balance"
    assert failed.result["problem_total"] >= 1
    assert tree_state(loaded.store_path) == before


def test_one_job_of_a_kind_at_a_time_and_a_killed_workers_job_is_claimed_again(home: Path):
    loaded = load_home(home)
    actor = system()
    first = services.job_enqueue(actor=actor, kind="judge", parameters={"today": "2020-01-05"})
    second = services.job_enqueue(actor=actor, kind="judge", parameters={"today": "2020-01-06"})
    now = timezone.now()
    claimed = services.job_claim(actor=actor, job=first, worker="killed", now=now)
    assert claimed.lease_until == now + LEASE
    # The first job's worker holds its lease: the second judge waits.
    assert run_next(loaded, actor=actor, worker="w2", heartbeat=None, now=now) is None
    # The killed worker never renews its lease; once it runs out, the first job is taken again.
    later = now + LEASE + timedelta(seconds=1)
    again = run_next(loaded, actor=actor, worker="w2", heartbeat=None, now=later)
    assert again is not None and again.pk == first.pk
    assert (again.state, again.attempts, again.worker) == ("done", 2, "w2")
    assert again.result == {"today": "2020-01-05", "changed": 0}
    then = run_next(loaded, actor=actor, worker="w2", heartbeat=None, now=later)
    assert then is not None and then.pk == second.pk and then.state == "done"


def test_a_month_end_job_killed_halfway_resumes_and_completes_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    loaded = load_home(home)
    actor = system()
    parameters = {"as_of": "2019-12-31", "today": "2020-01-10"}
    job = services.job_enqueue(actor=actor, kind="month_end", parameters=parameters)
    now = timezone.now()
    services.job_claim(actor=actor, job=job, worker="killed", now=now)

    # The worker dies while the planner runs, after the sync and the judgement committed.
    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("npldesk.monthend.steps.plan_report", killed)
    with pytest.raises(KeyboardInterrupt):
        worker_module.month_end(
            worker_module.JobContext(home=loaded, job=job, actor=actor, progress=lambda *a: None)
        )
    monkeypatch.undo()
    run = Run.objects.get()
    assert run.state == "running"
    assert {s.name: s.state for s in run.steps.all()} == {
        "classify": "done", "sync": "done", "judge": "done", "plan": "running",
    }  # fmt: skip
    cases = casework_state()

    later = now + LEASE + timedelta(seconds=1)
    done = run_next(loaded, actor=actor, worker="w2", heartbeat=None, now=later)
    assert done is not None and (done.state, done.attempts) == ("done", 2), done.error
    assert done.result["ran"] == ["plan", "report", "reminders"]
    run.refresh_from_db()
    assert (run.state, run.attempts) == ("done", 2)
    assert casework_state() == cases
    assert SyncRun.objects.count() == 1 and Case.objects.count() == 1


def test_the_schedule_queues_the_daily_judgement_and_the_new_months_run_with_a_clock(home: Path):
    loaded = load_home(home)
    actor = system()
    shanghai = ZoneInfo("Asia/Shanghai")
    schedule = Schedule(judge_at=(2, 0), month_end_on_import=True)
    night = datetime(2020, 1, 10, 1, 59, tzinfo=shanghai)
    with timezone.override(shanghai):
        (month_end,) = schedule_jobs(loaded, schedule, actor=actor, now=night)
        assert (month_end.kind, month_end.parameters["as_of"]) == ("month_end", "2019-12-31")
        (judge,) = schedule_jobs(loaded, schedule, actor=actor, now=night + timedelta(minutes=1))
        assert (judge.kind, judge.parameters) == ("judge", {"today": "2020-01-10"})
        assert schedule_jobs(loaded, schedule, actor=actor, now=night + timedelta(hours=5)) == []
        assert schedule_jobs(loaded, schedule, actor=actor, now=night + timedelta(days=1)) == []
        next_night = night + timedelta(days=1, minutes=1)
        (tomorrow,) = schedule_jobs(loaded, schedule, actor=actor, now=next_night)
        assert tomorrow.parameters == {"today": "2020-01-11"}
    assert Job.objects.count() == 3


def test_the_schedule_comes_from_the_home(home: Path):
    config = home / "npldesk.toml"
    config.write_text(
        config.read_text() + '\n[schedule]\njudge_at = "03:30"\nmonth_end_on_import = false\n'
    )
    assert Schedule.of(load_home(home)) == Schedule(judge_at=(3, 30), month_end_on_import=False)
    config.write_text(config.read_text().replace('"03:30"', '"25:00"'))
    with pytest.raises(Exception, match="judge_at = '25:00' is not a time"):
        Schedule.of(load_home(home))


def test_who_may_queue_and_follow_jobs(units):
    officer = PersonFactory(roles=["officer"], units=[units["HB01"]], user__password="!")
    analyst = PersonFactory(roles=["risk_analyst"], units=[units["HB"]], user__password="!")
    with pytest.raises(AccessDenied):
        services.job_enqueue(actor=officer, kind="month_end", parameters={})
    job = services.job_enqueue(actor=analyst, kind="judge", parameters={})
    assert list(selectors.jobs_visible(officer)) == []
    assert list(selectors.jobs_visible(analyst)) == [job]


def test_the_worker_command_runs_the_queue_once(cli, home: Path):
    config = home / "npldesk.toml"
    config.write_text(config.read_text() + '\n[schedule]\njudge_at = ""\n')
    code, out, err = cli("worker", "--once")
    assert code == 0, err
    assert " Month-end run: Done" in out and "worker stopped: 1 job(s) run" in out
    assert Run.objects.get().state == "done"
