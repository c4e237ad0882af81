"""The built-in steps of the month-end run, in the order they run: classification, the case
sync, the judgement, the planner's re-run.

The monthly report for every unit and the risk reminders join between the judgement and the
planner with one line each (``register_step(NAME, WORK, before="plan")``) where their builders
live in ``npldesk.reports``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from npldesk.analytics.classify import ensure_classified
from npldesk.analytics.forecast import year_end_of
from npldesk.casework.services import cases_judge
from npldesk.casework.sync import month_end_sync, units_from_store
from npldesk.core.months import month_label
from npldesk.core.system import fsync_path, make_owner_only
from npldesk.monthend.run import RunContext, register_step
from npldesk.planner.pipeline import read_pipeline
from npldesk.planner.plan import PlanRequest, plan_report, stored_plan_path


def classify(context: RunContext) -> dict[str, Any]:
    """Classify every month up to the run's (what is classified and current stays)."""
    session = context.session
    months = ensure_classified(
        session.store, session.engine, session.params, upto=context.as_of, progress=context.progress
    )
    return {"months": len(months)}


def sync(context: RunContext) -> dict[str, Any]:
    """The case sync (``npldesk cases sync``): units from the organisation file, then every
    month since the last synced one up to the run's."""
    units_from_store(context.home.store_path, actor=context.actor, only_when_new=True)
    synced = month_end_sync(
        context.home,
        context.as_of,
        actor=context.actor,
        early_warning=context.early_warning,
        session=context.session,
        progress=context.progress,
    )
    return {**synced[-1][1], "months": [month_label(month) for month, _ in synced]}


def judge(context: RunContext) -> dict[str, Any]:
    """The rules on every open case as of the run's day (``npldesk cases judge``)."""
    return {"changed": cases_judge(actor=context.actor, today=context.today)}


def plan_document_path(context: RunContext) -> Path:
    """Where the run keeps the planner's document: in the home, owner-only."""
    return stored_plan_path(context.home.path, context.as_of)


def plan(context: RunContext) -> dict[str, Any]:
    """The planner's re-run by unit on the month's figures and casework pipeline (``npldesk
    plan --as-of MONTH --by org_unit``), its document kept under the home."""
    pipeline = read_pipeline(context.actor, as_of=context.as_of, until=year_end_of(context.as_of))
    document = plan_report(
        context.session, PlanRequest(as_of=context.as_of, by="org_unit"), pipeline
    )
    path = plan_document_path(context)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = path.with_suffix(".json.tmp")
    written.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    make_owner_only(written)
    fsync_path(written)
    os.replace(written, path)
    total = document["total"]
    return {
        "units": len(document["rows"]),
        "tracking": total["tracking"],
        "probability_double_reduction": total["probability_double_reduction"],
        "document": str(path.relative_to(context.home.path)),
    }


register_step("classify", classify)
register_step("sync", sync, in_transaction=True)
register_step("judge", judge, in_transaction=True)
register_step("plan", plan)
