"""On the demo home, ``npldesk month-end --as-of 2019-12`` ends with the same cases, plan and
risk reminders as the separate commands run in order, and a second run writes nothing. Each
side on its own copy of the session's demo home (the fixture is shared and never changed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import tree_state
from tests.monthend.test_worker_kill import CASES, npldesk, query

TODAY = "2020-01-15"
# Every unit's pack and who has it.
PACKS = (
    "SELECT u.code, p.as_of, p.built_on, p.counts, p.sections, "
    "(SELECT group_concat(d.person_id) FROM (SELECT person_id FROM casework_reminderdelivery "
    "WHERE pack_id = p.id ORDER BY person_id) d) "
    "FROM casework_reminderpack p JOIN casework_unit u ON u.id = p.unit_id ORDER BY u.code"
)


@pytest.mark.slow
def test_the_demo_month_end_equals_the_separate_commands_and_runs_once(
    demo_home: Path, tmp_path: Path
):
    separate = Path(shutil.copytree(demo_home, tmp_path / "separate"))
    run = Path(shutil.copytree(demo_home, tmp_path / "run"))

    npldesk(separate, "cases", "sync", "--as-of", "2019-12")
    npldesk(separate, "cases", "judge", "--today", TODAY)
    npldesk(separate, "report", "reminders", "--as-of", "2019-12", "--today", TODAY)
    plan = npldesk(separate, "plan", "--as-of", "2019-12", "--by", "org_unit", "--format", "json")

    done = npldesk(run, "month-end", "--as-of", "2019-12", "--today", TODAY, "--format", "json")
    assert json.loads(done.stdout)["ran"] == [
        "classify", "sync", "judge", "plan", "report", "reminders",
    ]  # fmt: skip
    assert query(run, CASES) == query(separate, CASES)
    assert query(run, PACKS) == query(separate, PACKS)
    assert query(run, PACKS)
    kept = run / "runs" / "month-end-2019-12" / "plan.json"
    assert json.loads(kept.read_text(encoding="utf-8")) == json.loads(plan.stdout)

    records = query(run, "SELECT count(*) FROM casework_auditrecord")
    files = tree_state(run)
    again = npldesk(run, "month-end", "--as-of", "2019-12", "--today", "2020-02-01")
    assert "already done" in again.stdout
    assert query(run, "SELECT count(*) FROM casework_auditrecord") == records
    assert tree_state(run) == files
