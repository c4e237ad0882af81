"""Exports of tabular results: CSV, JSON and XLSX, each naming the snapshots behind it.

An ``ExportTable`` is rows with their columns, which columns are money, the document fields a
JSON export starts with, and the lineage. Money leaves as decimal strings in CSV and JSON and as
numbers with two decimals in XLSX. Files are written beside the target and renamed into place,
so a reader never sees half an export.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter

from npldesk.analytics.lists import MONEY_COLUMNS, ListResult
from npldesk.core.cells import safe_cell
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import format_money
from npldesk.core.months import month_label
from npldesk.reports.labels import LIST_COLUMN_LABELS, LIST_TITLES, label, localise
from npldesk.reports.pii import mask_rows

EXPORT_FORMATS = ("csv", "json", "xlsx")
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class ExportTable:
    """Rows ready to leave npldesk, and what an export says about them."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    money_columns: frozenset[str] = frozenset()
    document: dict[str, Any] = field(default_factory=dict)
    lineage: list[dict[str, Any]] = field(default_factory=list)
    # The column heads people read (workbooks, screens), in the language of the export; CSV and
    # JSON keep the column codes. Empty: the codes.
    headers: tuple[str, ...] = ()

    def header(self, index: int) -> str:
        return self.headers[index] if self.headers else self.columns[index]


def list_title(result: ListResult) -> str:
    """The list's name and month (and its start) in the active language."""
    name = label(LIST_TITLES, result.name)
    month = month_label(result.as_of)
    if result.start is None:
        return localise(translatable("{name} {month}", name=name, month=month))
    return localise(
        translatable(
            "{name} {month} against {start}",
            name=name,
            month=month,
            start=month_label(result.start),
        )
    )


def list_export(result: ListResult, *, pii: bool) -> ExportTable:
    """A computed list as an export: personal data masked unless ``pii``; its title and column
    heads in the active language."""
    shown = "shown" if pii else "masked"
    named = list_title(result)
    title = (
        translatable(
            "{title} ({rule_set}; personal data shown)", title=named, rule_set=result.rule_set
        )
        if pii
        else translatable(
            "{title} ({rule_set}; personal data masked)", title=named, rule_set=result.rule_set
        )
    )
    document: dict[str, Any] = {
        "list": result.name,
        "as_of": result.as_of.isoformat(),
        "from": result.start.isoformat() if result.start else None,
        "rule_set": result.rule_set,
        "personal_data": shown,
    }
    if result.limit is not None:
        document["limit"] = result.limit
    return ExportTable(
        name=result.name,
        title=localise(title),
        columns=result.columns,
        headers=tuple(label(LIST_COLUMN_LABELS, column) for column in result.columns),
        rows=list(result.rows) if pii else mask_rows(result.rows),
        money_columns=MONEY_COLUMNS & set(result.columns),
        document=document,
        lineage=result.lineage,
    )


# -- values -----------------------------------------------------------------------------


def machine_value(value: Any, *, money: bool = False) -> Any:
    """A value for JSON: money and other decimals as strings, dates in ISO form."""
    if isinstance(value, Decimal):
        return format_money(value) if money else f"{value:f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def text_value(value: Any, *, money: bool = False) -> str:
    """A value as CSV or a screen shows it: empty when missing, ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(machine_value(value, money=money))


def text_rows(table: ExportTable) -> list[dict[str, str]]:
    """Every row with every column as text (for CSV and the screen)."""
    return [
        {c: text_value(row.get(c), money=c in table.money_columns) for c in table.columns}
        for row in table.rows
    ]


def lineage_line(lineage: list[dict[str, Any]]) -> str:
    """One line naming the source snapshots: month, file, SHA-256, import."""
    if not lineage:
        return localise(translatable("Source snapshots: none"))
    parts = [
        localise(
            translatable(
                "{month} from {source} (SHA-256 {sha256}, import {import_id})",
                month=entry.get("as_of"),
                source=entry.get("source"),
                sha256=entry.get("sha256"),
                import_id=entry.get("import_id"),
            )
        )
        for entry in lineage
    ]
    # The snapshots are listed as the language lists clauses (Chinese: "；").
    listed = localise(translatable("; ")).join(parts)
    return localise(translatable("Source snapshots: {snapshots}", snapshots=listed))


# -- writers ----------------------------------------------------------------------------


def json_document(table: ExportTable) -> dict[str, Any]:
    """The JSON export: the document fields, the rows, and the source snapshots."""
    rows = [
        {c: machine_value(row.get(c), money=c in table.money_columns) for c in table.columns}
        for row in table.rows
    ]
    return {**table.document, "rows": rows, "snapshots": table.lineage}


def write_json(table: ExportTable, stream: IO[str]) -> None:
    """The JSON document, indented, UTF-8 text as is."""
    stream.write(json.dumps(json_document(table), ensure_ascii=False, indent=2) + "\n")


def write_csv(table: ExportTable, stream: IO[str]) -> None:
    """A header row, then one row per record (no cell a spreadsheet would run as a formula)."""
    writer = csv.DictWriter(stream, fieldnames=list(table.columns))
    writer.writeheader()
    writer.writerows({c: safe_cell(text) for c, text in row.items()} for row in text_rows(table))


def write_xlsx(table: ExportTable, target: Path) -> None:
    """One sheet: a title, a header row, the rows (money as 2-decimal numbers), a lineage footer."""
    # constant_memory: rows go to disk as they are written, so a bank-wide list fits.
    # strings_to_formulas off: no text becomes a formula, whatever it starts with.
    workbook = xlsxwriter.Workbook(
        str(target), {"constant_memory": True, "strings_to_formulas": False}
    )
    try:
        sheet = workbook.add_worksheet(table.name[:31] or "export")
        money_format = workbook.add_format({"num_format": MONEY_FORMAT})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})

        def put(row: int, column: int, value: Any, money: bool) -> None:
            if value is None:
                return
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            elif isinstance(value, Decimal):
                # Excel holds doubles (15 significant digits): below 10^13 yuan every amount
                # reads back to the fen; JSON and CSV carry the exact decimal.
                sheet.write_number(row, column, float(value), money_format if money else None)
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value)
            elif isinstance(value, date):
                sheet.write_datetime(row, column, value, date_format)
            else:
                # Strings stay strings: an ID number or a loan id must never become a number.
                sheet.write_string(row, column, safe_cell(str(value)))

        for index, column in enumerate(table.columns):
            width = 16 if column in table.money_columns else min(max(len(column) + 2, 10), 40)
            sheet.set_column(index, index, width)
        sheet.write_string(
            0, 0, safe_cell(table.title), workbook.add_format({"bold": True, "font_size": 14})
        )
        header_row = 2
        header_format = workbook.add_format({"bold": True, "bottom": 1})
        for index in range(len(table.columns)):
            sheet.write_string(header_row, index, table.header(index), header_format)
        sheet.freeze_panes(header_row + 1, 0)
        row_index = header_row
        for row in table.rows:
            row_index += 1
            for index, column in enumerate(table.columns):
                put(row_index, index, row.get(column), column in table.money_columns)
        if table.columns:
            sheet.autofilter(header_row, 0, row_index, len(table.columns) - 1)
        footer_format = workbook.add_format({"italic": True, "font_color": "#555555"})
        footer = safe_cell(lineage_line(table.lineage))
        sheet.write_string(row_index + 2, 0, footer, footer_format)
    finally:
        workbook.close()


def write_file(table: ExportTable, fmt: str, target: Path) -> Path:
    """Write ``table`` as ``fmt`` (csv, json, xlsx) to ``target``, replacing it whole."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(
            translatable(
                "unknown export format {fmt!r}; known: {known}",
                fmt=fmt,
                known=", ".join(EXPORT_FORMATS),
            )
        )
    target = check_target(target)
    writers: dict[str, Callable[[ExportTable, IO[str]], None]] = {
        "csv": write_csv,
        "json": write_json,
    }
    with replacing(target) as partial:
        if fmt == "xlsx":
            write_xlsx(table, partial)
        else:
            with open(partial, "w", encoding="utf-8", newline="") as stream:
                writers[fmt](table, stream)
    return target


def check_target(target: Path) -> Path:
    """``target`` if a file can be written there; a usage error saying why not otherwise."""
    target = Path(target)
    if target.is_dir():
        raise UsageError(translatable("cannot write {target}: it is a folder", target=str(target)))
    if not target.parent.is_dir():
        raise UsageError(
            translatable(
                "cannot write {target}: the folder {folder} does not exist",
                target=str(target),
                folder=str(target.parent),
            )
        )
    return target


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block succeeds."""
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise UsageError(
            translatable("cannot write {target}: {reason}", target=str(target), reason=exc.strerror)
        ) from exc
    os.close(descriptor)
    partial = Path(name)
    try:
        yield partial
        os.replace(partial, target)
    except OSError as exc:
        raise UsageError(
            translatable(
                "cannot write {target}: {reason}", target=str(target), reason=exc.strerror or exc
            )
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
