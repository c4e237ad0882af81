"""``npldesk cases``: the month-end sync, case lists, one case in full, the rules run, and the
reconciliation with the tape (``docs/commands.md``).

Thin: each command sets Django up on the home (``npldesk.bootstrap``), calls a service
(``cases_sync``, ``cases_judge``) or reads through ``casework.selectors``, and prints. Wired
into ``npldesk`` by ``register``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer

from npldesk.bootstrap import casework
from npldesk.cli.language import say, use_language
from npldesk.cli.options import (
    AsOption,
    FormatOption,
    HomeOption,
    acting_person,
    month_option,
)
from npldesk.cli.output import OutputFormat, console, emit, progress_reporter
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import load_home
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


@cases_app.command("sync")
def sync(
    as_of: AsOfOption,
    early_warning: Annotated[
        bool,
        typer.Option("--early-warning", help="Also open cases for loans 61-90 days past due"),
    ] = False,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Open, update and close cases from the month's snapshot, replaying in order every month
    imported since the last sync."""
    from npldesk.analytics.session import Analytics

    month = month_option(as_of, "--as-of")
    loaded = load_home(home)
    session = Analytics.for_home(loaded)
    session.require_month(month, what="--as-of")
    with casework(loaded), progress_reporter() as say:
        from npldesk.casework.sync import month_end_sync, units_from_store

        actor = acting_person(as_user)
        session.progress = say
        units_from_store(loaded.store_path, actor=actor, only_when_new=True)
        synced = month_end_sync(
            loaded, month, actor=actor, early_warning=early_warning, session=session, progress=say
        )
    counts = synced[-1][1]
    if output is OutputFormat.json:
        emit(
            [],
            [],
            output,
            json_document={
                "as_of": month.isoformat(),
                **counts,
                "months": [{"as_of": m.isoformat(), **c} for m, c in synced],
            },
        )
        return
    out = console()
    for synced_month, month_counts in synced:
        closed = ", ".join(f"{r} {n}" for r, n in month_counts["closed"].items()) or "none"
        out.print(
            f"cases synced from {synced_month:%Y-%m}: {month_counts['households']:,} households, "
            f"{month_counts['loans']:,} loans"
        )
        out.print(
            f"  opened {month_counts['opened']:,} "
            f"(early warning {month_counts['opened_early_warning']:,}), "
            f"updated {month_counts['updated']:,}, became NPL {month_counts['kind_changed']:,}, "
            f"unchanged {month_counts['unchanged']:,}"
        )
        out.print(f"  closed {month_counts['closed_total']:,} ({closed})")
        out.print(f"  kept open for recovery {month_counts['kept_open_for_recovery']:,}")


@cases_app.command("list")
def list_cases(
    state: Annotated[str | None, typer.Option("--state", help="Only cases in this state")] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only cases of this unit and those below it")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only cases of this user")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only cases of this team")] = None,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Cases, by number: every case as the system actor, the cases in a person's scope with
    --as."""
    loaded = load_home(home)
    with casework(loaded):
        from npldesk.casework import selectors
        from npldesk.casework.choices import CaseState
        from npldesk.casework.documents import case_row
        from npldesk.casework.errors import NotFound

        actor = acting_person(as_user)
        if state is not None and state not in CaseState.values:
            raise UsageError(f"--state {state!r}: one of {', '.join(CaseState.values)}")
        for option, value, lookup, what in (
            ("--unit", unit, selectors.unit_get, "unit"),
            ("--owner", owner, selectors.person_get, "user"),
            ("--team", team, selectors.team_get, "team"),
        ):
            if value is not None:
                try:
                    lookup(actor, value)
                except NotFound as exc:
                    raise UsageError(f"{option} {value!r}: no such {what}") from exc
        cases = selectors.case_list(actor, state=state, unit=unit, owner=owner, team=team)
        rows = [case_row(case) for case in cases]
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
    as_user: AsOption = None,
) -> None:
    """One case in full: loans, investigation, plan, work, promises, legal, money (personal
    data masked unless --pii)."""
    loaded = load_home(home)
    with casework(loaded):
        from npldesk.casework.documents import case_document
        from npldesk.casework.selectors import case_detail

        document = case_document(case_detail(acting_person(as_user), case_id, unmask=pii))
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


@cases_app.command("document")
def document(
    case_id: Annotated[str, typer.Argument(metavar="CASE_ID", help="The case number")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="lawyers_letter, demand_notice, complaint or enforcement_application",
        ),
    ],
    as_of: Annotated[
        str, typer.Option("--as-of", help="The day the amounts are owed on, YYYY-MM-DD")
    ],
    out: Annotated[str, typer.Option("--out", help="Where to write it: a .docx or a .pdf file")],
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Draft a legal document from a case (kept with the case, recorded as its activity) and
    write a copy to --out: an export of the household's personal data, recorded."""
    from pathlib import Path

    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise UsageError(f"--as-of: expected a day as YYYY-MM-DD, not {as_of!r}") from exc
    target = Path(out)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("docx", "pdf"):
        raise UsageError(f"--out: a .docx or .pdf file, not {out!r}")
    if target.exists():
        raise UsageError(f"--out: {out} exists; give a new file")
    loaded = load_home(home)
    with casework(loaded):
        from npldesk.casework.selectors import case_get, document_file
        from npldesk.casework.services import document_generate
        from npldesk.reports.pii import record_personal_data_export

        person = acting_person(as_user)
        drafted = document_generate(
            actor=person, case=case_get(person, case_id), kind=kind, as_of=day, home=loaded
        )
        found = document_file(person, case_id, drafted.pk, fmt)
        record_personal_data_export(
            loaded,
            actor=person,
            what=f"document {drafted.pk} ({kind}, {fmt}) of case {case_id}",
            rows=1,
            case=case_id,
            document=drafted.pk,
            format=fmt,
        )
    target.write_bytes(found.path.read_bytes())
    from npldesk.core.system import make_owner_only

    make_owner_only(target)
    console().print(
        f"{kind} of case {case_id} as of {day.isoformat()} (amounts from the snapshot of "
        f"{drafted.snapshot_as_of.isoformat()}, owed {drafted.figures['owed']}): {target}"
    )


@cases_app.command("judge")
def judge(
    today: Annotated[
        str | None, typer.Option("--today", help="Judge as of this day, YYYY-MM-DD")
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
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
    with casework(loaded):
        from npldesk.casework.services import cases_judge

        changed = cases_judge(actor=acting_person(as_user), today=day)
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
    with casework(loaded), progress_reporter() as say:
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
