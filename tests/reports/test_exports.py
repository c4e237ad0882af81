"""Exports (CSV, JSON, XLSX), personal-data masking and the log of unmasked exports."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from npldesk.analytics.lists import ListResult, list_columns
from npldesk.core.errors import UsageError
from npldesk.home import create_home
from npldesk.reports.exports import (
    json_document,
    lineage_line,
    list_export,
    write_csv,
    write_file,
)
from npldesk.reports.pii import (
    MASKS,
    export_log_path,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_rows,
    record_export,
    record_personal_data_export,
)
from npldesk.tape.schema import PERSONAL_COLUMNS

LINEAGE = [
    {"as_of": "2019-11-30", "source": "2019-11.csv", "sha256": "a" * 64, "import_id": "imp-1"},
    {"as_of": "2019-12-31", "source": "2019-12.csv", "sha256": "b" * 64, "import_id": "imp-2"},
]


def early_warning_result() -> ListResult:
    """A computed early-warning list of two synthetic borrowers."""
    common = {
        "org_unit": "HB0101",
        "officer_id": "HB0101-01",
        "product": "consumer",
        "class": "special_mention",
        "previous_class": "normal",
        "reasons": "dpd>0",
    }
    rows = [
        {
            **common,
            "loan_id": "L000001",
            "borrower_id": "B000001",
            "principal_balance": Decimal("1234567.89"),
            "days_past_due": 75,
            "days_to_npl": 16,
            "becomes_npl_within_30_days": True,
            "borrower_name": "王小明",
            "id_number": "340602198001010017",
            "phone": "13800000000",
        },
        {
            **common,
            "loan_id": "L000002",
            "borrower_id": "B000002",
            "officer_id": None,
            "previous_class": None,
            "principal_balance": Decimal("0.10"),
            "days_past_due": 3,
            "days_to_npl": 88,
            "becomes_npl_within_30_days": False,
            "borrower_name": None,
            "id_number": "340602800101001",
            "phone": "",
        },
    ]
    return ListResult(
        name="early-warning",
        as_of=date(2019, 12, 31),
        start=date(2019, 11, 30),
        rule_set="cn-2023",
        columns=list_columns("early-warning"),
        rows=rows,
        lineage=LINEAGE,
    )


# -- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("王小明", "王**"),
        ("张三", "张*"),
        ("欧阳小明", "欧***"),
        ("王", "*"),  # a one-character name would be shown whole: masked whole instead
        (" 李四 ", "李*"),
        ("Anna Lee", "A*******"),
        ("", ""),
        (None, None),
    ],
)
def test_a_name_keeps_its_first_character(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("340602198001010017", "340602********0017"),
        ("34062119701231001X", "340621********001X"),
        ("340602800101001", "340602*****1001"),  # the old 15-digit numbers
        ("3406021980", "**********"),  # too short to keep 6 + 4 hidden
        ("G1234567", "********"),
        ("", ""),
        (None, None),
    ],
)
def test_an_id_number_keeps_its_first_six_and_last_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13800000000", "138****0000"),
        ("+8613912345678", "+86*******5678"),
        ("0561-3012345", "056*****2345"),
        ("1234567", "*******"),
        ("", ""),
        (None, None),
    ],
)
def test_a_phone_keeps_its_first_three_and_last_four(value, masked):
    assert mask_phone(value) == masked


def test_every_personal_column_of_the_tape_has_a_rule_and_rows_are_copied():
    assert set(MASKS) == set(PERSONAL_COLUMNS)
    original = early_warning_result().rows
    masked = mask_rows(original)
    assert [(r["borrower_name"], r["id_number"], r["phone"]) for r in masked] == [
        ("王**", "340602********0017", "138****0000"),
        (None, "340602*****1001", ""),
    ]
    assert original[0]["borrower_name"] == "王小明"
    assert {k: v for k, v in masked[0].items() if k not in MASKS} == {
        k: v for k, v in original[0].items() if k not in MASKS
    }


def test_a_list_export_is_masked_unless_personal_data_is_asked_for():
    masked = list_export(early_warning_result(), pii=False)
    shown = list_export(early_warning_result(), pii=True)
    assert masked.rows[0]["id_number"] == "340602********0017"
    assert shown.rows[0]["id_number"] == "340602198001010017"
    assert masked.document["personal_data"] == "masked"
    assert "personal data masked" in masked.title
    assert shown.document["personal_data"] == "shown"


# -- the export log -----------------------------------------------------------------------


def test_record_export_appends_one_line_per_export(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NPLDESK_USER", "analyst-7")
    first = record_export(tmp_path, list="new-npl", as_of="2019-12-31", rows=3)
    record_export(tmp_path, list="top-npl", as_of="2019-12-31", rows=0, out=None)
    assert export_log_path(tmp_path) == tmp_path / "audit" / "exports.jsonl"
    lines = export_log_path(tmp_path).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2 and records[0] == first
    assert (records[1]["list"], records[1]["rows"], records[1]["out"]) == ("top-npl", 0, None)
    assert (first["who"], first["list"], first["as_of"], first["rows"]) == (
        "analyst-7",
        "new-npl",
        "2019-12-31",
        3,
    )
    assert first["when"].endswith("+00:00")


def test_record_export_falls_back_to_the_operating_system_user(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("NPLDESK_USER", raising=False)
    monkeypatch.setenv("LOGNAME", "os-user-3")
    assert record_export(tmp_path, rows=1)["who"] == "os-user-3"


def test_a_personal_data_export_names_who_exports_when_the_home_has_an_audit_trail(
    tmp_path: Path, monkeypatch
):
    from npldesk.casework.errors import NoActor

    monkeypatch.delenv("NPLDESK_DATABASE_URL", raising=False)
    home = create_home(tmp_path / "home")[0]
    # An analytics-only home: the export log is the only record.
    record = record_personal_data_export(home, actor=None, what="list new-npl", rows=2)
    assert record["rows"] == 2 and len(export_log_path(home.path).read_text().splitlines()) == 1
    # With a casework database, an export without a person is refused before it is logged.
    home.sqlite_path.touch()
    with pytest.raises(NoActor, match="act as a signed-in person, or as the system actor"):
        record_personal_data_export(home, actor=None, what="list new-npl", rows=2)
    assert len(export_log_path(home.path).read_text().splitlines()) == 1


def _append_many(home: str, worker: int) -> None:
    for index in range(50):
        record_export(Path(home), worker=worker, index=index, padding="x" * 2000)


def test_concurrent_exporters_never_interleave_lines(tmp_path: Path):
    context = multiprocessing.get_context("fork")  # the child only appends records
    workers = [context.Process(target=_append_many, args=(str(tmp_path), n)) for n in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    lines = export_log_path(tmp_path).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted((r["worker"], r["index"]) for r in records) == [
        (w, i) for w in range(4) for i in range(50)
    ]


# -- the formats --------------------------------------------------------------------------


def test_csv_has_the_documented_columns_first_and_money_as_decimal_strings():
    buffer = io.StringIO()
    write_csv(list_export(early_warning_result(), pii=False), buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[0][:9] == [
        "loan_id",
        "borrower_id",
        "org_unit",
        "officer_id",
        "product",
        "principal_balance",
        "days_past_due",
        "class",
        "previous_class",
    ]
    assert rows[0][-3:] == ["borrower_name", "id_number", "phone"]
    record = dict(zip(rows[0], rows[2], strict=True))
    assert record["principal_balance"] == "0.10"
    assert record["officer_id"] == "" and record["previous_class"] == ""
    assert record["becomes_npl_within_30_days"] == "false"
    assert record["id_number"] == "340602*****1001"


def test_json_names_the_list_the_months_and_the_snapshots():
    document = json_document(list_export(early_warning_result(), pii=False))
    assert (document["list"], document["as_of"], document["from"]) == (
        "early-warning",
        "2019-12-31",
        "2019-11-30",
    )
    assert document["snapshots"] == LINEAGE
    first = document["rows"][0]
    assert first["principal_balance"] == "1234567.89"
    assert first["days_past_due"] == 75 and first["becomes_npl_within_30_days"] is True
    assert first["borrower_name"] == "王**"
    assert document["rows"][1]["previous_class"] is None


def test_xlsx_has_a_title_a_header_money_as_numbers_and_a_lineage_footer(tmp_path: Path):
    target = write_file(list_export(early_warning_result(), pii=True), "xlsx", tmp_path / "a.xlsx")
    sheet = openpyxl.load_workbook(target).active
    assert sheet.title == "early-warning"
    assert sheet["A1"].value.startswith("Early warning 2019-12 against 2019-11 (cn-2023;")
    # The heads are for people (English here); the cells hold codes and exact yuan.
    assert [cell.value for cell in sheet[3]][:4] == ["Loan", "Borrower", "Unit", "Loan officer"]
    header = list(list_columns("early-warning"))
    values = dict(zip(header, sheet[4], strict=True))
    assert values["principal_balance"].value == pytest.approx(1234567.89)
    assert values["principal_balance"].number_format == "#,##0.00"
    assert values["days_past_due"].value == 75
    assert values["becomes_npl_within_30_days"].value is True
    assert values["id_number"].value == "340602198001010017"
    assert values["phone"].value == "13800000000"  # text, not a number
    second = {name: cell.value for name, cell in zip(header, sheet[5], strict=True)}
    assert second["officer_id"] is None and second["principal_balance"] == pytest.approx(0.1)
    assert sheet.max_row == 7
    assert sheet["A7"].value == lineage_line(LINEAGE)
    assert "2019-11-30 from 2019-11.csv (SHA-256 " + "a" * 64 in sheet["A7"].value


def test_write_file_replaces_the_target_whole_and_refuses_a_missing_folder(tmp_path: Path):
    table = list_export(early_warning_result(), pii=False)
    target = tmp_path / "list.json"
    target.write_text("old", encoding="utf-8")
    write_file(table, "json", target)
    assert json.loads(target.read_text(encoding="utf-8"))["list"] == "early-warning"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.json"]
    with pytest.raises(UsageError, match="does not exist"):
        write_file(table, "csv", tmp_path / "nowhere" / "list.csv")
    with pytest.raises(UsageError, match="is a folder"):
        write_file(table, "csv", tmp_path)
    with pytest.raises(UsageError, match="unknown export format 'pdf'"):
        write_file(table, "pdf", target)


def test_an_empty_list_still_has_its_header_and_footer(tmp_path: Path):
    empty = replace(early_warning_result(), rows=[])
    target = write_file(list_export(empty, pii=False), "xlsx", tmp_path / "empty.xlsx")
    sheet = openpyxl.load_workbook(target).active
    assert [cell.value for cell in sheet[3]][:2] == ["Loan", "Borrower"]
    assert sheet.max_row == 5 and sheet["A5"].value == lineage_line(LINEAGE)
