"""``npldesk list``: the loan lists of ``docs/figures.md`` §5, on screen or as files.

Personal data is masked unless ``--pii`` is given; such an export is recorded before anything
of it is printed or written. Wired into the ``npldesk`` command by ``register``.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from npldesk.analytics.lists import EXTRA_COLUMNS, LIST_NAMES, check_list_name, run_list
from npldesk.analytics.org import units_below
from npldesk.analytics.session import Analytics
from npldesk.bootstrap import casework
from npldesk.cli.language import say, use_language
from npldesk.cli.options import (
    BackendOption,
    HomeOption,
    RuleSetOption,
    acting_person,
    month_option,
)
from npldesk.cli.output import OutputFormat, console, emit, err_console, progress_reporter
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import load_home
from npldesk.reports.exports import (
    ExportTable,
    check_target,
    lineage_line,
    list_export,
    text_value,
    write_csv,
    write_file,
    write_json,
)
from npldesk.reports.labels import CLASS_LABELS, TERMS, label
from npldesk.reports.pii import MASKS, record_personal_data_export
from npldesk.tape.org import load_org


class ListFormat(StrEnum):
    """How a list is shown: a table for people, JSON or CSV for tools, XLSX for Excel."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


# The screen shows what a person scans a list for; every column is in csv, json and xlsx.
SCREEN_COLUMNS = (
    "loan_id",
    "borrower_id",
    "borrower_name",
    "org_unit",
    "principal_balance",
    "days_past_due",
    "class",
    "previous_class",
)
SCREEN_NUMBERS = frozenset(
    {
        "principal_balance",
        "days_past_due",
        "days_to_npl",
        "household_rank",
        "household_npl_balance",
        "household_npl_loans",
    }
)
_CLASS_COLUMNS = ("class", "previous_class", "reported_class")
_SUFFIXES = {".csv": ListFormat.csv, ".json": ListFormat.json, ".xlsx": ListFormat.xlsx}


def register(app: typer.Typer) -> None:
    """Add the ``list`` command to ``app``."""
    app.command("list")(list_command)


def choose_format(fmt: ListFormat | None, out: Path | None) -> ListFormat:
    """The format asked for, else the one ``--out``'s suffix names, else a table."""
    if fmt is None:
        if out is None:
            return ListFormat.table
        if out.suffix.lower() not in _SUFFIXES:
            raise UsageError(
                translatable(
                    "--out {out}: give --format csv, json or xlsx for this file", out=str(out)
                )
            )
        return _SUFFIXES[out.suffix.lower()]
    if fmt is ListFormat.xlsx and out is None:
        raise UsageError(translatable("--format xlsx writes a file: give --out FILE.xlsx"))
    if fmt is ListFormat.table and out is not None:
        raise UsageError(
            translatable("a table is for the screen: give --format csv, json or xlsx with --out")
        )
    return fmt


def list_command(
    name: Annotated[str, typer.Argument(metavar="LIST", help=", ".join(LIST_NAMES))],
    as_of: Annotated[str, typer.Option("--as-of", help="The month of the list, YYYY-MM")],
    start: Annotated[
        str | None,
        typer.Option("--from", help="Compare with this month (default: the month before)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (needed for xlsx)")
    ] = None,
    pii: Annotated[
        bool, typer.Option("--pii", help="Show personal data unmasked; the export is recorded")
    ] = False,
    fmt: Annotated[
        ListFormat | None,
        typer.Option(
            "--format", help="table, json, csv or xlsx (default: from --out's suffix, or table)"
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="top-npl: how many households (default 20)")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Only the loans of this unit and the units below it"),
    ] = None,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
) -> None:
    """A loan list at a month: new-npl, early-warning, upgraded, top-npl or deviation."""
    list_name = check_list_name(name)
    end = month_option(as_of, "--as-of")
    first = None if start is None else month_option(start, "--from")
    if first is not None and first >= end:
        raise UsageError(
            translatable(
                "--from {start} must be a month before --as-of {as_of}", start=start, as_of=as_of
            )
        )
    chosen = choose_format(fmt, out)
    if out is not None:
        check_target(out)
    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    with progress_reporter() as say_progress:
        session.progress = say_progress
        units = None if unit is None else units_below(load_org(session.store), unit)
        result = run_list(session, list_name, end, start=first, limit=limit, units=units)
    export = list_export(result, pii=pii)
    if pii:
        # Recorded before a byte of it is shown (the home's export log, and the audit trail
        # when the home has a casework database), as the system actor.
        details = {
            "list": result.name,
            "as_of": result.as_of.isoformat(),
            "start": result.start.isoformat() if result.start else None,
            "format": chosen.value,
            "out": str(out.resolve()) if out is not None else None,
            "rule_set": result.rule_set,
            "personal_columns": sorted(set(MASKS) & set(export.columns)),
        }
        what = f"list {result.name} {result.as_of.isoformat()}"
        if loaded.has_casework_database:
            with casework(loaded):
                record_personal_data_export(
                    loaded, actor=acting_person(None), what=what, rows=len(export.rows), **details
                )
        else:
            record_personal_data_export(
                loaded, actor=None, what=what, rows=len(export.rows), **details
            )
    if out is not None:
        write_file(export, chosen.value, out)
        wrote = translatable("wrote {rows} rows to {out}", rows=len(export.rows), out=str(out))
        err_console().print(say(wrote), highlight=False)
    elif chosen is ListFormat.json:
        write_json(export, sys.stdout)
    elif chosen is ListFormat.csv:
        write_csv(export, sys.stdout)
    else:
        extra = [c for c in export.columns if c in EXTRA_COLUMNS[result.name]]
        emit(
            screen_rows(export),
            [*SCREEN_COLUMNS, *extra],
            OutputFormat.table,
            title=export.title,
            headers=dict(zip(export.columns, export.headers, strict=True)),
            right=SCREEN_NUMBERS,
        )
        console().print(
            say(
                translatable(
                    "{rows} loan(s) (every column: --format csv, json or xlsx)",
                    rows=len(export.rows),
                )
            )
        )
        console().print(lineage_line(export.lineage))


def screen_rows(export: ExportTable) -> list[dict[str, str]]:
    """The rows for people: money and counts with separators, classes and flags in words."""
    shown = []
    for row in export.rows:
        cells = dict(zip(export.columns, text_rows_of(export, row), strict=True))
        for column in export.money_columns:
            if row.get(column) is not None:
                cells[column] = numbers.money(row[column])
        for column in _CLASS_COLUMNS:
            if column in cells:
                cells[column] = label(CLASS_LABELS, row.get(column))
        if row.get("becomes_npl_within_30_days") is not None:
            cells["becomes_npl_within_30_days"] = say(
                TERMS["yes"] if row["becomes_npl_within_30_days"] else TERMS["no"]
            )
        shown.append(cells)
    return shown


def text_rows_of(export: ExportTable, row: dict[str, Any]) -> list[str]:
    return [text_value(row.get(c), money=c in export.money_columns) for c in export.columns]
