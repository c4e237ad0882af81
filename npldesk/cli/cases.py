"""``npldesk cases``: the month-end sync, case lists, one case in full, the rules run, and the
reconciliation with the tape (``docs/commands.md``).

Thin: each command sets Django up on the home (``npldesk.bootstrap``), calls a service
(``cases_sync``, ``cases_judge``) or reads through ``casework.selectors``, and prints. Wired
into ``npldesk`` by ``register``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
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
from npldesk.cli.output import OutputFormat, console, emit, progress_reporter, yes_no
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import load_home
from npldesk.reports.labels import (
    CASE_COLUMN_LABELS,
    CLASS_LABELS,
    PRODUCT_LABELS,
    STATUS_LABELS,
    TERMS,
    case_value,
    choice_label,
    label,
)


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


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
    with casework(loaded), progress_reporter() as say_progress:
        from npldesk.casework.sync import month_end_sync, units_from_store

        actor = acting_person(as_user)
        session.progress = say_progress
        units_from_store(loaded.store_path, actor=actor, only_when_new=True)
        synced = month_end_sync(
            loaded,
            month,
            actor=actor,
            early_warning=early_warning,
            session=session,
            progress=say_progress,
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
    use_language(loaded)
    out = console()
    for synced_month, month_counts in synced:
        closed = say(_(", ")).join(
            f"{case_value('close_reason', reason)} {count:,}"
            for reason, count in month_counts["closed"].items()
        ) or say(TERMS["none"])
        lines = [
            translatable(
                "cases synced from {month}: {households} households, {loans} loans",
                month=f"{synced_month:%Y-%m}",
                households=f"{month_counts['households']:,}",
                loans=f"{month_counts['loans']:,}",
            ),
            translatable(
                "  opened {opened} (early warning {early_warning}), updated {updated}, became "
                "NPL {became_npl}, unchanged {unchanged}",
                opened=f"{month_counts['opened']:,}",
                early_warning=f"{month_counts['opened_early_warning']:,}",
                updated=f"{month_counts['updated']:,}",
                became_npl=f"{month_counts['kind_changed']:,}",
                unchanged=f"{month_counts['unchanged']:,}",
            ),
            translatable(
                "  closed {closed} ({reasons})",
                closed=f"{month_counts['closed_total']:,}",
                reasons=closed,
            ),
            translatable(
                "  kept open for recovery {count}",
                count=f"{month_counts['kept_open_for_recovery']:,}",
            ),
        ]
        for line in lines:
            out.print(say(line))


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
            raise UsageError(
                translatable(
                    "--state {state!r}: one of {states}",
                    state=state,
                    states=", ".join(CaseState.values),
                )
            )
        for option, value, lookup, what in (
            ("--unit", unit, selectors.unit_get, translatable("no such unit")),
            ("--owner", owner, selectors.person_get, translatable("no such user")),
            ("--team", team, selectors.team_get, translatable("no such team")),
        ):
            if value is not None:
                try:
                    lookup(actor, value)
                except NotFound as exc:
                    raise UsageError(
                        translatable(
                            "{option} {value!r}: {what}", option=option, value=value, what=what
                        )
                    ) from exc
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
    use_language(loaded)
    print_case(document)


def print_case(document: dict[str, Any]) -> None:
    """A case in full for people: who and where, then each section as a table with its heads
    and codes in the active language (``cases show --format json`` keeps the codes)."""
    out = console()
    person = document["household_detail"]
    nobody = "-"
    lines = [
        translatable(
            "Case {case} ({kind}, {state}) of household {household} {name} (ID {id_number}, "
            "phone {phones})",
            case=document["case_id"],
            kind=case_value("kind", document["kind"]),
            state=case_value("state", document["state"]),
            household=person["borrower_id"],
            name=person["name"],
            id_number=person["id_number"],
            phones=person["phones"],
        ),
        translatable(
            "  unit {unit}, owner {owner}, team {team}; opened {opened}, deadline {deadline}",
            unit=document["unit"],
            owner=document["owner"] or nobody,
            team=document["team"] or nobody,
            opened=document["opened_on"],
            deadline=document["deadline"],
        ),
        translatable(
            "  segment {segment}, strategy {strategy} ({tier}); NPL balance {npl_balance}, "
            "balance {balance}, collateral {collateral}",
            segment=case_value("segment", document["segment"]),
            strategy=case_value("strategy", document["strategy"]),
            tier=case_value("tier", document["tier"]),
            npl_balance=_money(document["npl_balance"]),
            balance=_money(document["balance"]),
            collateral=_money(document["collateral_value"]),
        ),
    ]
    if document["closed_on"]:
        lines.append(
            translatable(
                "  closed {closed} ({reason})",
                closed=document["closed_on"],
                reason=case_value("close_reason", document["close_reason"]),
            )
        )
    if document["written_off"]:
        lines.append(translatable("  written off"))
    for line in lines:
        out.print(say(line))
    for section, title in SECTIONS.items():
        entries = document[section]
        if section != "loans" and not entries:
            continue
        shown = [
            {key: _field(section, key, value) for key, value in entry.items()} for entry in entries
        ]
        columns = [key for key in (entries[0] if entries else {}) if key in FIELD_LABELS]
        emit(
            shown,
            columns,
            OutputFormat.table,
            title=say(title),
            headers={key: say(FIELD_LABELS[key]) for key in columns},
            right=[key for key in columns if key in _NUMBERS],
        )
    for section, title in (
        ("latest_investigation", _("Latest investigation")),
        ("plan", _("Disposal plan")),
    ):
        found = document[section]
        if found:
            facts = say(_(", ")).join(
                f"{say(FIELD_LABELS[key])} {_field(section, key, value)}"
                for key, value in found.items()
                if key in FIELD_LABELS and value not in (None, "")
            )
            out.print(say(translatable("{title}: {facts}", title=say(title), facts=facts)))


SECTIONS = {
    "loans": _("The household's loans"),
    "activities": _("Activities"),
    "promises": _("Promises"),
    "repayment_plans": _("Repayment plans"),
    "legal_cases": _("Legal cases"),
    "recoveries": _("Recoveries"),
    "writeoffs": _("Write-offs"),
}
# The heads of a case's fields for people; a field not named here (a version, a nested list)
# is left out of the table (``--format json`` has every field).
FIELD_LABELS = {
    "id": _("No."),
    "loan_id": _("Loan"),
    "product": _("Product"),
    "org_unit": _("Unit"),
    "status": _("Status"),
    "principal_balance": _("Principal balance"),
    "days_past_due": _("Days past due"),
    "class": _("Class"),
    "is_npl": _("NPL"),
    "collateral_value": _("Collateral value"),
    "as_of": _("Snapshot"),
    "occurred_on": _("Day"),
    "kind": _("Kind"),
    "outcome": _("Outcome"),
    "person": _("Recorded by"),
    "amount": _("Amount"),
    "made_on": _("Made"),
    "due_on": _("Due"),
    "state": _("State"),
    "paid": _("Paid"),
    "total": _("Total"),
    "agreed_on": _("Agreed on"),
    "court": _("Court"),
    "court_case_number": _("Court case number"),
    "stage": _("Stage"),
    "stage_since": _("Since"),
    "claim_amount": _("Claim"),
    "next_hearing_on": _("Next hearing"),
    "holder": _("Held by"),
    "received_on": _("Received"),
    "principal_part": _("Principal part"),
    "source": _("Source"),
    "after_write_off": _("After write-off"),
    "principal": _("Principal"),
    "approved_on": _("Approved on"),
    "investigated_on": _("Investigated on"),
    "investigator": _("Investigator"),
    "family_status": _("Family status"),
    "income_source": _("Income source"),
    "monthly_income": _("Monthly income"),
    "unencumbered_assets": _("Unencumbered assets"),
    "contactability": _("Contactability"),
    "strategy": _("Strategy"),
    "reason": _("Reason"),
    "target_amount": _("Target amount"),
    "target_date": _("Target date"),
}
_MONEY = frozenset(
    {
        "principal_balance",
        "collateral_value",
        "amount",
        "paid",
        "total",
        "claim_amount",
        "principal_part",
        "principal",
        "monthly_income",
        "unencumbered_assets",
        "target_amount",
    }
)
_NUMBERS = _MONEY | {"id", "days_past_due"}


def _vocabularies() -> dict[tuple[str | None, str], Any]:
    """The words of a case's codes: by section and field, or by field in any section."""
    from npldesk.casework import choices

    return {
        (None, "product"): PRODUCT_LABELS,
        (None, "class"): CLASS_LABELS,
        (None, "status"): STATUS_LABELS,
        (None, "strategy"): choices.Strategy,
        (None, "stage"): choices.LegalStage,
        (None, "source"): choices.RecoverySource,
        (None, "outcome"): choices.Outcome,
        ("activities", "kind"): choices.ActivityKind,
        ("repayment_plans", "kind"): choices.RepaymentPlanKind,
        ("promises", "state"): choices.PromiseState,
        ("repayment_plans", "state"): choices.RepaymentPlanState,
        ("writeoffs", "state"): choices.WriteOffState,
        ("plan", "state"): choices.PlanState,
    }


def _field(section: str, key: str, value: Any) -> str:
    """One field of a case for people: money with separators, yes/no, a code in words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if key in _MONEY:
        return _money(value)
    words = _vocabularies()
    vocabulary = words.get((section, key)) or words.get((None, key))
    if vocabulary is None:
        return str(value)
    if isinstance(vocabulary, Mapping):
        return label(vocabulary, str(value))
    return choice_label(vocabulary, str(value))


def _money(value: str | None) -> str:
    return "" if value is None else numbers.money(Decimal(value))


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

    day = _day(as_of, "--as-of")
    target = Path(out)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("docx", "pdf"):
        raise UsageError(translatable("--out: a .docx or .pdf file, not {out!r}", out=out))
    if target.exists():
        raise UsageError(translatable("--out: {out} exists; give a new file", out=out))
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import choices
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
    said = translatable(
        "{kind} of case {case} as of {day} (amounts from the snapshot of {snapshot}, owed "
        "{owed}): {target}",
        kind=choice_label(choices.DocumentKind, kind),
        case=case_id,
        day=day.isoformat(),
        snapshot=drafted.snapshot_as_of.isoformat(),
        owed=_money(drafted.figures["owed"]),
        target=str(target),
    )
    console().print(say(said))


@cases_app.command("judge")
def judge(
    today: Annotated[
        str | None, typer.Option("--today", help="Judge as of this day, YYYY-MM-DD")
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Run the rules on every open case: promises, instalments, legal alerts, segment."""
    day = date.today() if today is None else _day(today, "--today")
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework.services import cases_judge

        changed = cases_judge(actor=acting_person(as_user), today=day)
    said = translatable(
        "rules run as of {day}: {changed} case(s) changed segment, strategy, tier or deadline",
        day=day.isoformat(),
        changed=f"{changed:,}",
    )
    console().print(say(said))


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            translatable(
                "{option}: expected a day as YYYY-MM-DD, not {text!r}", option=option, text=text
            )
        ) from exc


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
    with casework(loaded), progress_reporter() as say_progress:
        from npldesk.casework.reconcile import reconcile as run_reconcile

        session.progress = say_progress
        result = run_reconcile(session, month)
    document = result.as_dict()
    columns = ["borrower_id", "cases", "line", "casework", "tape_cash", "difference"]
    if output is not OutputFormat.table:
        emit(document["rows"], columns, output, json_document=document)
        return
    use_language(loaded)
    shown = [r for r in document["rows"] if r["difference"] not in (None, "0.00")]
    shown += [r for r in document["rows"] if r["line"] != "on_book"]
    emit(
        [
            dict(
                row,
                line=say(RECONCILIATION_LINES.get(row["line"], row["line"])),
                casework=_money(row["casework"]),
                tape_cash=_money(row["tape_cash"]),
                difference=_money(row["difference"]),
            )
            for row in shown
        ],
        columns,
        output,
        title=say(translatable("Reconciliation {month}: differences and own lines", month=as_of)),
        headers={
            "borrower_id": say(_("Borrower")),
            "cases": say(_("Cases")),
            "line": say(_("Line")),
            "casework": say(_("Casework")),
            "tape_cash": say(_("Movement's cash line")),
            "difference": say(_("Difference")),
        },
        right=("casework", "tape_cash", "difference"),
    )
    out = console()
    totals = document["totals"]
    said = translatable(
        "on-book recoveries {casework} against cash {cash}: difference {difference} over "
        "{households} household(s); transfer proceeds {transfer_proceeds}, after write-off "
        "{after_write_off}",
        casework=_money(totals["casework_on_book"]),
        cash=_money(totals["tape_cash"]),
        difference=_money(totals["difference"]),
        households=len(result.differences()),
        transfer_proceeds=_money(totals["transfer_proceeds"]),
        after_write_off=_money(totals["after_write_off"]),
    )
    out.print(say(said))
    for title, key in (
        (_("Approved write-offs not yet in the tape"), "approvals_not_in_tape"),
        (_("Write-offs in the tape without an approval"), "tape_writeoffs_without_approval"),
    ):
        rows = document[key]
        if rows:
            emit(
                [
                    dict(row, principal=_money(row["principal"]), case=row["case"] or "")
                    for row in rows
                ],
                list(rows[0]),
                output,
                title=say(title),
                headers={
                    "loan_id": say(_("Loan")),
                    "borrower_id": say(_("Borrower")),
                    "case": say(_("Case")),
                    "principal": say(_("Principal")),
                    "approved_on": say(_("Approved on")),
                },
                right=("principal",),
            )
        else:
            out.print(say(translatable("{title}: none", title=say(title))))


# The lines of the reconciliation (``casework.reconcile``) for people.
RECONCILIATION_LINES = {
    "on_book": _("Recoveries on the books"),
    "transfer_proceeds": _("Transfer proceeds"),
    "after_write_off": _("Recovered after write-off"),
}
