"""On the demo home, ``npldesk month-end --as-of 2019-12`` ends with the same cases and plan as
the separate commands run in order, and a second run writes nothing. Each side on its own copy
of the session's demo home (the fixture is shared and never changed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import tree_state
from tests.monthend.test_worker_kill import CASES, npldesk, query

TODAY = "2020-01-15"


@pytest.mark.slow
def test_the_demo_month_end_equals_the_separate_commands_and_runs_once(
    demo_home: Path, tmp_path: Path
):
    separate = Path(shutil.copytree(demo_home, tmp_path / "separate"))
    run = Path(shutil.copytree(demo_home, tmp_path / "run"))

    npldesk(separate, "cases", "sync", "--as-of", "2019-12")
    npldesk(separate, "cases", "judge", "--today", TODAY)
    plan = npldesk(separate, "plan", "--as-of", "2019-12", "--by", "org_unit", "--format", "json")

    done = npldesk(run, "month-end", "--as-of", "2019-12", "--today", TODAY, "--format", "json")
    assert json.loads(done.stdout)["ran"] == ["classify", "sync", "judge", "plan"]
    assert query(run, CASES) == query(separate, CASES)
    kept = run / "runs" / "month-end-2019-12" / "plan.json"
    assert json.loads(kept.read_text(encoding="utf-8")) == json.loads(plan.stdout)

    records = query(run, "SELECT count(*) FROM casework_auditrecord")
    files = tree_state(run)
    again = npldesk(run, "month-end", "--as-of", "2019-12", "--today", "2020-02-01")
    assert "already done" in again.stdout
    assert query(run, "SELECT count(*) FROM casework_auditrecord") == records
    assert tree_state(run) == files
