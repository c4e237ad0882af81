"""The built-in steps of the month-end run, in the order they run: classification, the case
sync, the judgement, the planner's re-run, the monthly report of the bank and every unit (its
year-end outlook is the plan the step before kept), the risk reminders.

A step joins with one line (``register_step(NAME, WORK, before=...)``); the report's and the
reminders' builders live in ``npldesk.reports``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from django.utils import translation

from npldesk.analytics.classify import ensure_classified
from npldesk.analytics.forecast import year_end_of
from npldesk.casework.services import cases_judge
from npldesk.casework.sync import month_end_sync, units_from_store
from npldesk.core.months import month_label
from npldesk.core.system import current_user, fsync_path, make_owner_only
from npldesk.monthend.run import RunContext, register_step
from npldesk.planner.pipeline import Pipeline, read_pipeline
from npldesk.planner.plan import PlanRequest, month_plan, plan_report, stored_plan_path
from npldesk.reports.exports import replacing
from npldesk.reports.monthly import monthly_report, tree_figures
from npldesk.reports.monthly_render import html_document
from npldesk.reports.reminders import deliver_reminders
from npldesk.tape.org import load_org


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


def run_folder(context: RunContext) -> Path:
    """Where the run keeps its files: in the home, owner-only."""
    return context.home.path / "runs" / f"month-end-{month_label(context.as_of)}"


def plan_document_path(context: RunContext) -> Path:
    """Where the run keeps the planner's document (the plan of record, ADR 0020)."""
    return stored_plan_path(context.home.path, context.as_of)


def month_pipeline(context: RunContext) -> Pipeline:
    """The casework pipeline up to the forecast's year end as the run's actor reads it: what
    the planner's step plans with, and the report's step when no plan of the month is kept."""
    return read_pipeline(context.actor, as_of=context.as_of, until=year_end_of(context.as_of))


def _write_whole(path: Path, text: str) -> None:
    """``text`` to ``path`` whole or not at all, owner-only, on disk before it is renamed."""
    with replacing(path) as partial:
        partial.write_text(text, encoding="utf-8")
        make_owner_only(partial)
        fsync_path(partial)


def report(context: RunContext) -> dict[str, Any]:
    """The monthly report (``npldesk report monthly``) of the bank and of every unit, as HTML
    and its JSON, in the home's language, kept in ``runs/month-end-YYYY-MM/reports/``. Stamped
    with the judge's day, not the clock, so a step redone writes the same files."""
    folder = run_folder(context) / "reports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.combine(context.today, time(0), tzinfo=UTC)
    month = month_label(context.as_of)
    units = load_org(context.session.store)
    # The figures of the whole tree and the plan every report reads, made once for all.
    tree = tree_figures(context.session, context.as_of)
    outlook = month_plan(
        context.session,
        PlanRequest(as_of=context.as_of, by="org_unit"),
        home=context.home.path,
        pipeline=lambda: month_pipeline(context),
    )
    with translation.override(context.home.language):
        for unit in units:
            context.progress(f"report {unit.code} {month}")
            built = monthly_report(
                context.session,
                context.as_of,
                unit=unit.code,
                generated_by=current_user(),
                generated_at=stamp,
                casework_reader=context.actor,
                plan=outlook,
                tree=tree,
            )
            name = f"report-{unit.code}-{month}"
            _write_whole(folder / f"{name}.html", html_document(built))
            _write_whole(
                folder / f"{name}.json",
                json.dumps(built.as_json(), ensure_ascii=False, indent=2, sort_keys=True),
            )
    return {"reports": len(units), "folder": str(folder.relative_to(context.home.path))}


def reminders(context: RunContext) -> dict[str, Any]:
    """Each unit's risk-reminder pack delivered to its people, and the e-mail notices
    (``npldesk report reminders``). Not one transaction: each pack is delivered in its own,
    and a pack already delivered is skipped, so a redone step delivers nothing twice."""
    with translation.override(context.home.language):
        result = deliver_reminders(
            context.home,
            context.session,
            context.as_of,
            actor=context.actor,
            today=context.today,
            progress=context.progress,
        )
    counts = result.as_json()
    counts.pop("units")
    return counts


def plan(context: RunContext) -> dict[str, Any]:
    """The planner's re-run by unit on the month's figures and casework pipeline (``npldesk
    plan --as-of MONTH --by org_unit``), its document kept under the home."""
    document = plan_report(
        context.session, PlanRequest(as_of=context.as_of, by="org_unit"), month_pipeline(context)
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
register_step("report", report)
register_step("reminders", reminders)
