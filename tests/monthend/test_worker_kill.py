"""kill -9 of ``npldesk worker`` in the middle of a month-end run, then a restart: the run
completes once and ends as an uninterrupted run, with no case twice. Real processes on a home
with its own SQLite database (the worker is a process of its own)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import make_home
from tests.conftest import clean_environment
from tests.tape_factory import loan_row

TODAY = "2020-01-10"
NPL = {
    "principal_balance": "80000.00",
    "overdue_principal": "80000.00",
    "days_past_due": "120",
    "reported_class": "substandard",
}


def npldesk(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", *args]
    done = subprocess.run(
        [*command, "--home", str(home)],
        capture_output=True,
        text=True,
        env=clean_environment() | {"NPLDESK_LANGUAGE": "en"},
        timeout=600,
    )
    assert not check or done.returncode == 0, done.stderr
    return done


def build(folder: Path) -> Path:
    rows = [
        loan_row(n, as_of, **(NPL if n % 3 == 0 else {}))
        for as_of in (date(2019, 11, 30), date(2019, 12, 31))
        for n in range(1, 61)
    ]
    home = make_home(folder, rows)
    (home / "npldesk.toml").write_text(
        (home / "npldesk.toml").read_text()
        + '\n[schedule]\njudge_at = ""\nmonth_end_on_import = false\n'
    )
    npldesk(home, "init")
    return home


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "npldesk.sqlite3", timeout=30) as db:
        return db.execute(sql).fetchall()


CASES = (
    "SELECT h.borrower_id, c.kind, c.state, c.ability, c.willingness, c.strategy, c.tier, "
    "c.deadline, c.npl_balance, c.opened_on, c.closed_on FROM casework_case c "
    "JOIN casework_household h ON h.id = c.household_id ORDER BY h.borrower_id"
)


@pytest.mark.slow
def test_a_worker_killed_in_a_month_end_run_and_restarted_completes_the_run_once(
    tmp_path: Path,
):
    uninterrupted = build(tmp_path / "a")
    npldesk(uninterrupted, "month-end", "--as-of", "2019-12", "--today", TODAY)

    home = build(tmp_path / "b")
    npldesk(home, "month-end", "--as-of", "2019-12", "--today", TODAY, "--queue")
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "worker"]
    worker = subprocess.Popen(
        [*command, "--poll", "0.2", "--home", str(home)],
        env=clean_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    try:
        # Killed as soon as the run's first step is done, in the middle of the run.
        while not query(home, "SELECT 1 FROM casework_runstep WHERE state = 'done'"):
            assert worker.poll() is None, "the worker stopped by itself"
            assert time.monotonic() < deadline, "the run's first step never finished"
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert query(home, "SELECT state FROM casework_run") == [("running",)]

    restarted = npldesk(home, "worker", "--once")
    assert "Month-end run: Done" in restarted.stdout
    assert query(home, "SELECT state, attempts FROM casework_job") == [("done", 2)]
    assert query(home, "SELECT state, attempts FROM casework_run") == [("done", 2)]
    assert query(home, CASES) == query(uninterrupted, CASES)
    assert query(home, "SELECT count(*) FROM casework_syncrun") == [(1,)]
    steps = "SELECT name, state FROM casework_runstep ORDER BY position"
    assert query(home, steps) == query(uninterrupted, steps)
    finished = "SELECT count(*) FROM casework_auditrecord WHERE action = 'run_finish'"
    assert query(home, finished) == [(1,)]
