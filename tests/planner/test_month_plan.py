"""``month_plan``: the month's plan as every face reads it (the planner page, the dashboard, the
monthly report on the command line and in the month-end run). With the defaults it is the plan
the month-end run kept while that is still the month's (same snapshots by month and checksum,
same rule set); otherwise, and for any what-if, it is made, and only then is the casework
pipeline read."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from npldesk.analytics import Analytics, connect
from npldesk.planner.pipeline import Pipeline, no_pipeline
from npldesk.planner.plan import PlanRequest, kept_plan, month_plan, plan_report, stored_plan_path
from tests.analytics.conftest import build_store, month
from tests.analytics.test_forecast import mixed_book

MARCH = month("2019-03")
DEFAULTS = PlanRequest(as_of=MARCH, by="org_unit")
# What the kept plans below say where a plan made afresh says something else.
KEPT_MARK = "0.123"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    folder = tmp_path_factory.mktemp("month-plan")
    return Analytics(store=build_store(folder, mixed_book()), engine=connect("duckdb"))


@pytest.fixture(scope="module")
def made(session: Analytics) -> dict[str, Any]:
    """The month's plan with the defaults, as the month-end run's planner step makes it."""
    return plan_report(session, DEFAULTS, no_pipeline("tape only"))


class Calls:
    """What ``month_plan`` asked for: the pipeline reads and the plans built (by the planner's
    own builder)."""

    def __init__(self) -> None:
        self.pipeline_reads = 0
        self.built: list[PlanRequest] = []

    def pipeline(self) -> Pipeline:
        self.pipeline_reads += 1
        return no_pipeline("tape only")

    def build(self, session: Analytics, request: PlanRequest, pipeline: Pipeline) -> Any:
        self.built.append(request)
        return plan_report(session, request, pipeline)


def keep(home: Path, document: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> None:
    """``document`` with ``KEPT_MARK`` in its total and ``change`` made, kept as the month-end
    run keeps its plan."""
    kept = copy.deepcopy(document)
    kept["total"]["probability_double_reduction"] = KEPT_MARK
    change(kept)
    path = stored_plan_path(home, MARCH)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept), encoding="utf-8")


def plan(session: Analytics, home: Path, calls: Calls, request: PlanRequest = DEFAULTS) -> Any:
    return month_plan(session, request, home=home, pipeline=calls.pipeline, build=calls.build)


def test_the_kept_plan_is_read_while_it_is_the_months(
    session: Analytics, made: dict[str, Any], tmp_path: Path
) -> None:
    # Imported elsewhere or at another time: the same snapshots by month and checksum.
    def imported_elsewhere(kept: dict[str, Any]) -> None:
        for entry in kept["snapshots"]:
            entry["source"], entry["import_id"] = "elsewhere.csv", "20200101T000000-0"

    keep(tmp_path, made, imported_elsewhere)
    calls = Calls()
    found = plan(session, tmp_path, calls)
    assert found["total"]["probability_double_reduction"] == KEPT_MARK
    assert (calls.pipeline_reads, calls.built) == (0, [])


def test_a_plan_is_made_when_the_month_end_has_kept_none(
    session: Analytics, made: dict[str, Any], tmp_path: Path
) -> None:
    calls = Calls()
    assert kept_plan(session, tmp_path, MARCH) is None
    assert plan(session, tmp_path, calls) == made
    assert (calls.pipeline_reads, calls.built) == (1, [DEFAULTS])


def _replaced(kept: dict[str, Any]) -> None:
    kept["snapshots"][0]["sha256"] = "0" * 64


def _before_the_december(kept: dict[str, Any]) -> None:
    kept["snapshots"] = kept["snapshots"][:1]


def _other_rules(kept: dict[str, Any]) -> None:
    kept["rule_set"] = "another-rule-set"


@pytest.mark.parametrize(
    "stale",
    [_replaced, _before_the_december, _other_rules],
    ids=["a snapshot replaced since", "the baseline imported since", "another rule set"],
)
def test_a_kept_plan_gone_stale_is_made_afresh(
    session: Analytics,
    made: dict[str, Any],
    tmp_path: Path,
    stale: Callable[[dict[str, Any]], None],
) -> None:
    keep(tmp_path, made, stale)
    calls = Calls()
    assert kept_plan(session, tmp_path, MARCH) is None
    assert plan(session, tmp_path, calls) == made
    assert (calls.pipeline_reads, calls.built) == (1, [DEFAULTS])


def test_a_what_if_is_made_beside_a_kept_plan_of_the_month(
    session: Analytics, made: dict[str, Any], tmp_path: Path
) -> None:
    keep(tmp_path, made, lambda kept: None)
    calls = Calls()
    what_if = PlanRequest(as_of=MARCH, by="org_unit", draws=200, seed=5)
    found = plan(session, tmp_path, calls, what_if)
    assert found["draws"] == 200
    assert found["total"]["probability_double_reduction"] != KEPT_MARK
    assert (calls.pipeline_reads, calls.built) == (1, [what_if])
    # The defaults still read the kept plan.
    assert plan(session, tmp_path, Calls())["total"]["probability_double_reduction"] == KEPT_MARK
