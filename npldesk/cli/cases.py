"""``npldesk cases``: the month-end sync, case lists, one case in full, the rules run, and the
reconciliation with the tape (``design/cli.md``).

Thin: each command sets Django up on the home, calls a service (``cases_sync``,
``cases_judge``) as the operating-system user, or reads through ``casework.selectors`` with no
person (every case, personal data masked), and prints. Wired into ``npldesk`` by ``register``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer

from npldesk.cli.language import say, use_language
from npldesk.cli.options import FormatOption, HomeOption, month_option
from npldesk.cli.output import OutputFormat, console, emit, progress_reporter
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import Home, load_home
from npldesk.reports.labels import CASE_COLUMN_LABELS, case_value, label

cases_app = typer.Typer(
    help="Casework: sync cases from the tape, list and show them, run the rules, reconcile.",
    no_args_is_help=True,
)

LIST_COLUMNS = (
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
)
AsOfOption = Annotated[str, typer.Option("--as-of", help="The month, YYYY-MM")]


def register(app: typer.Typer) -> None:
    """Add ``cases`` to the ``npldesk`` command."""
    app.add_typer(cases_app, name="cases")


@contextmanager
def _casework(home: Home) -> Iterator[None]:
    """Django on the home's database; a database never set up is a clear message."""
    from npldesk.cli.app import setup_django

    setup_django(home)
    from django.db import DatabaseError

    try:
        yield
    except DatabaseError as exc:
        raise UsageError(
            f"the casework database of {home.path} is not ready ({exc}): "
            f"run `npldesk init --home {home.path}` first"
        ) from exc


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@cases_app.command("sync")
def sync(
    as_of: AsOfOption,
    early_warning: Annotated[
        bool,
        typer.Option("--early-warning", help="Also open cases for loans 61-90 days past due"),
    ] = False,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Open, update and close cases from the month's snapshot."""
    from npldesk.analytics.session import Analytics

    month = month_option(as_of, "--as-of")
    loaded = load_home(home)
    session = Analytics.for_home(loaded)
    session.require_month(month, what="--as-of")
    with _casework(loaded), progress_reporter() as say:
        from npldesk.casework.sync import cases_sync, loans_for_sync

        session.progress = say
        from npldesk.casework.sync import units_from_store

        units_from_store(loaded.store_path, only_when_new=True)
        say("reading the snapshot")
        rows = loans_for_sync(loaded, month, early_warning=early_warning, session=session)
        say(f"syncing {len(rows):,} loans")
        counts = cases_sync(actor=None, as_of=month, loans=rows, early_warning=early_warning)
    if output is OutputFormat.json:
        emit([], [], output, json_document={"as_of": month.isoformat(), **counts})
        return
    closed = ", ".join(f"{reason} {n}" for reason, n in counts["closed"].items()) or "none"
    out = console()
    out.print(
        f"cases synced from {as_of}: {counts['households']:,} households, {counts['loans']:,} loans"
    )
    out.print(
        f"  opened {counts['opened']:,} (early warning {counts['opened_early_warning']:,}), "
        f"updated {counts['updated']:,}, became NPL {counts['kind_changed']:,}, "
        f"unchanged {counts['unchanged']:,}"
    )
    out.print(f"  closed {counts['closed_total']:,} ({closed})")
    out.print(f"  kept open for recovery {counts['kept_open_for_recovery']:,}")


def _list_row(case: Any) -> dict[str, Any]:
    return {
        "case_id": case.number,
        "household": case.household.borrower_id,
        "kind": case.kind,
        "state": case.state,
        "segment": case.segment,
        "strategy": case.strategy,
        "tier": case.tier,
        "deadline": _day(case.deadline),
        "owner": case.owner.user.get_username() if case.owner is not None else None,
        "team": case.team.code if case.team is not None else None,
        "npl_balance": _money(case.npl_balance),
    }


@cases_app.command("list")
def list_cases(
    state: Annotated[str | None, typer.Option("--state", help="Only cases in this state")] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only cases of this unit and those below it")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only cases of this user")] = None,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Cases, by number (every case: the command line reads as the server's own user)."""
    loaded = load_home(home)
    with _casework(loaded):
        from npldesk.casework.choices import CaseState
        from npldesk.casework.models import Person, Unit
        from npldesk.casework.selectors import case_list

        if state is not None and state not in CaseState.values:
            raise UsageError(f"--state {state!r}: one of {', '.join(CaseState.values)}")
        if unit is not None and not Unit.objects.filter(code=unit).exists():
            raise UsageError(f"--unit {unit!r}: no such unit")
        if owner is not None and not Person.objects.filter(user__username=owner).exists():
            raise UsageError(f"--owner {owner!r}: no such user")
        rows = [_list_row(case) for case in case_list(None, state=state, unit=unit, owner=owner)]
    if output is not OutputFormat.table:
        emit(rows, LIST_COLUMNS, output, json_document={"cases": rows})
        return
    use_language(loaded)
    emit(
        [case_table_row(row) for row in rows],
        LIST_COLUMNS,
        output,
        title=say(translatable("cases ({count})", count=len(rows))),
        headers={c: label(CASE_COLUMN_LABELS, c) for c in LIST_COLUMNS},
        right=("npl_balance",),
    )


def case_table_row(row: dict[str, Any]) -> dict[str, Any]:
    """A case's row for people: codes in words, money with separators."""
    shown = {column: case_value(column, value) for column, value in row.items()}
    if row["npl_balance"] is not None:
        shown["npl_balance"] = numbers.money(Decimal(row["npl_balance"]))
    return shown


def _detail_document(detail: Any) -> dict[str, Any]:
    """One case in full, personal data as the selector gave it (masked)."""
    case = detail.case
    household = detail.household
    latest = detail.investigations[0] if detail.investigations else None
    plan = detail.plans[0] if detail.plans else None
    return {
        **_list_row(case),
        "unit": case.unit.code,
        "opened_on": _day(case.opened_on),
        "closed_on": _day(case.closed_on),
        "close_reason": case.close_reason or None,
        "previous_case": case.previous_case.number if case.previous_case_id else None,
        "balance": _money(case.balance),
        "collateral_value": _money(case.collateral_value),
        "written_off": case.written_off,
        "synced_as_of": _day(case.synced_as_of),
        "version": case.version,
        "household_detail": {
            "borrower_id": household.borrower_id,
            "name": household.name,
            "id_number": household.id_number,
            "phones": household.phones,
            "address": household.address,
            "masked": household.masked,
        },
        "loans": [
            {
                "loan_id": loan.loan_id,
                "product": loan.product,
                "org_unit": loan.org_unit,
                "status": loan.status,
                "principal_balance": _money(loan.principal_balance),
                "days_past_due": loan.days_past_due,
                "class": loan.loan_class,
                "is_npl": loan.is_npl,
                "collateral_value": _money(loan.collateral_value),
                "as_of": _day(loan.as_of),
            }
            for loan in detail.loans
        ],
        "latest_investigation": None
        if latest is None
        else {
            "investigated_on": _day(latest.investigated_on),
            "investigator": latest.investigator.user.get_username(),
            "family_status": latest.family_status,
            "income_source": latest.income_source,
            "monthly_income": _money(latest.monthly_income),
            "unencumbered_assets": _money(latest.unencumbered_assets),
            "contactability": latest.contactability,
        },
        "plan": None
        if plan is None
        else {
            "strategy": plan.strategy,
            "state": plan.state,
            "reason": plan.reason,
            "target_amount": _money(plan.target_amount),
            "target_date": _day(plan.target_date),
            "milestones": [
                {"task": m.task, "due_on": _day(m.due_on), "done_on": _day(m.done_on)}
                for m in plan.milestones.all()
            ],
        },
        "activities": [
            {
                "occurred_on": _day(a.occurred_on),
                "kind": a.kind,
                "outcome": a.outcome,
                "person": a.person.user.get_username(),
            }
            for a in detail.activities
        ],
        "promises": [
            {
                "amount": _money(p.amount),
                "made_on": _day(p.made_on),
                "due_on": _day(p.due_on),
                "state": p.state,
                "paid": _money(p.paid),
            }
            for p in detail.promises
        ],
        "repayment_plans": [
            {
                "kind": rp.kind,
                "state": rp.state,
                "total": _money(rp.total),
                "agreed_on": _day(rp.agreed_on),
                "instalments": [
                    {
                        "number": i.number,
                        "due_on": _day(i.due_on),
                        "amount": _money(i.amount),
                        "paid": _money(i.paid),
                        "state": i.state,
                    }
                    for i in rp.instalments.all()
                ],
            }
            for rp in detail.repayment_plans
        ],
        "legal_cases": [
            {
                "court": lc.court,
                "court_case_number": lc.court_case_number,
                "stage": lc.stage,
                "stage_since": _day(lc.stage_since),
                "claim_amount": _money(lc.claim_amount),
                "next_hearing_on": _day(lc.next_hearing_on),
                "holder": lc.holder.user.get_username(),
            }
            for lc in detail.legal_cases
        ],
        "recoveries": [
            {
                "received_on": _day(r.received_on),
                "loan_id": r.loan_id,
                "amount": _money(r.amount),
                "principal_part": _money(r.principal_part),
                "source": r.source,
                "after_write_off": r.after_write_off,
            }
            for r in detail.recoveries
        ],
        "writeoffs": [
            {
                "loan_id": w.loan_id,
                "principal": _money(w.principal),
                "state": w.state,
                "approved_on": _day(w.approved_on),
            }
            for w in detail.writeoffs
        ],
    }


@cases_app.command("show")
def show(
    case_id: Annotated[str, typer.Argument(metavar="CASE_ID", help="The case number")],
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    pii: Annotated[
        bool,
        typer.Option(
            "--pii", help="Show the household's personal data (recorded in the audit trail)"
        ),
    ] = False,
) -> None:
    """One case in full: loans, investigation, plan, work, promises, legal, money (personal
    data masked unless --pii)."""
    loaded = load_home(home)
    with _casework(loaded):
        from npldesk.casework.selectors import case_detail

        document = _detail_document(case_detail(None, case_id, unmask=pii))
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    if output is OutputFormat.csv:
        emit(document["loans"], list(document["loans"][0]) if document["loans"] else [], output)
        return
    out = console()
    person = document["household_detail"]
    out.print(
        f"case {document['case_id']} ({document['kind']}, {document['state']}) of household "
        f"{person['borrower_id']} {person['name']} (ID {person['id_number']}, "
        f"phone {person['phones']})"
    )
    out.print(
        f"  unit {document['unit']}, owner {document['owner'] or '-'}, team "
        f"{document['team'] or '-'}; opened {document['opened_on']}, deadline "
        f"{document['deadline']}"
        + (
            f", closed {document['closed_on']} ({document['close_reason']})"
            if document["closed_on"]
            else ""
        )
    )
    out.print(
        f"  segment {document['segment']}, strategy {document['strategy']} ({document['tier']}); "
        f"NPL balance {document['npl_balance']}, balance {document['balance']}, collateral "
        f"{document['collateral_value']}" + (", written off" if document["written_off"] else "")
    )
    emit(
        document["loans"],
        list(document["loans"][0]) if document["loans"] else [],
        output,
        title="loans",
    )
    for section in (
        "activities",
        "promises",
        "repayment_plans",
        "legal_cases",
        "recoveries",
        "writeoffs",
    ):
        entries = document[section]
        if entries:
            shown = [{k: v for k, v in e.items() if not isinstance(v, list)} for e in entries]
            emit(shown, list(shown[0]), output, title=section.replace("_", " "))
    for section in ("latest_investigation", "plan"):
        if document[section]:
            flat = {k: v for k, v in document[section].items() if not isinstance(v, list)}
            out.print(
                f"{section.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in flat.items())
            )


@cases_app.command("judge")
def judge(
    today: Annotated[
        str | None, typer.Option("--today", help="Judge as of this day, YYYY-MM-DD")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Run the rules on every open case: promises, instalments, legal alerts, segment."""
    if today is None:
        day = date.today()
    else:
        try:
            day = date.fromisoformat(today)
        except ValueError as exc:
            raise UsageError(f"--today: expected a day as YYYY-MM-DD, not {today!r}") from exc
    loaded = load_home(home)
    with _casework(loaded):
        from npldesk.casework.services import cases_judge

        changed = cases_judge(actor=None, today=day)
    console().print(
        f"rules run as of {day.isoformat()}: {changed:,} case(s) changed segment, strategy, tier "
        "or deadline"
    )


@cases_app.command("reconcile")
def reconcile(
    as_of: AsOfOption,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Casework's recoveries against the movement's cash line, and write-offs on one side."""
    from npldesk.analytics.session import Analytics

    month = month_option(as_of, "--as-of")
    loaded = load_home(home)
    session = Analytics.for_home(loaded)
    with _casework(loaded), progress_reporter() as say:
        from npldesk.casework.reconcile import reconcile as run_reconcile

        session.progress = say
        result = run_reconcile(session, month)
    document = result.as_dict()
    columns = ["borrower_id", "cases", "line", "casework", "tape_cash", "difference"]
    if output is not OutputFormat.table:
        emit(document["rows"], columns, output, json_document=document)
        return
    shown = [r for r in document["rows"] if r["difference"] not in (None, "0.00")]
    shown += [r for r in document["rows"] if r["line"] != "on_book"]
    emit(shown, columns, output, title=f"reconciliation {as_of}: differences and own lines")
    out = console()
    totals = document["totals"]
    out.print(
        f"on-book recoveries {totals['casework_on_book']} against cash {totals['tape_cash']}: "
        f"difference {totals['difference']} over {len(result.differences())} household(s); "
        f"transfer proceeds {totals['transfer_proceeds']}, after write-off "
        f"{totals['after_write_off']}"
    )
    for title, key in (
        ("write-off approvals not yet in the tape", "approvals_not_in_tape"),
        ("write-offs in the tape without an approval", "tape_writeoffs_without_approval"),
    ):
        rows = document[key]
        if rows:
            emit(rows, list(rows[0]), output, title=title)
        else:
            out.print(f"{title}: none")
