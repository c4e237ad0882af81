"""Text the casework database cannot keep as it is is a row problem at import: a control
character (PostgreSQL refuses a NUL byte outright), or more characters than casework keeps
(one database would cut it short, the other keep it whole)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.schema import BY_NAME, COLUMN_NAMES
from npldesk.tape.store import Store
from tests.tape.conftest import import_rejected, problem_keys, stored_rows
from tests.tape.test_rules import BAD_ROW, DEC, tape_with_bad_row
from tests.tape_factory import loan_rows

# The lengths of the casework fields each column is kept in (npldesk/casework/models.py).
CASEWORK_LENGTHS = {
    "loan_id": 64,
    "borrower_id": 64,
    "borrower_name": 200,
    "id_number": 32,
    "phone": 200,
    "org_unit": 32,
    "officer_id": 64,
    "product": 40,
}
CONTROLS = {"nul": "\x00", "bell": "\x07", "form-feed": "\x0c", "escape": "\x1b", "delete": "\x7f"}


def test_the_schema_has_the_casework_lengths():
    from npldesk.casework.models import CaseLoan, Household

    fields = {
        "loan_id": (CaseLoan, "loan_id"),
        "borrower_id": (Household, "borrower_id"),
        "borrower_name": (Household, "name"),
        "id_number": (Household, "id_number"),
        "phone": (Household, "phones"),
        "org_unit": (CaseLoan, "org_unit"),
        "officer_id": (CaseLoan, "officer_id"),
        "product": (CaseLoan, "product"),
    }
    kept = {
        name: model._meta.get_field(field).max_length for name, (model, field) in fields.items()
    }
    assert kept == CASEWORK_LENGTHS
    assert {
        name: BY_NAME[name].max_length for name in COLUMN_NAMES if BY_NAME[name].max_length
    } == CASEWORK_LENGTHS


@pytest.mark.parametrize("control", sorted(CONTROLS))
@pytest.mark.parametrize("column", ["borrower_name", "phone", "officer_id", "guarantor_ids"])
def test_a_control_character_in_text_is_a_row_problem(
    store: Store, tmp_path: Path, column: str, control: str
):
    value = f"王{CONTROLS[control]}五"
    error = import_rejected(store, [tape_with_bad_row(tmp_path, {column: value})])
    assert problem_keys(error) == {("tape.csv", BAD_ROW, column, "text.control_character")}
    assert error.problems[0].value == value


def test_tabs_and_line_breaks_typed_in_a_cell_are_kept(store: Store, tmp_path: Path):
    name = "张三\r\n（曾用名\t张叁）"
    import_files(store, [tape_with_bad_row(tmp_path, {"borrower_name": name})], ImportOptions())
    row = next(r for r in stored_rows(store, DEC) if r["loan_id"] == "L000006")
    assert row["borrower_name"] == name


def test_a_nul_byte_in_a_parquet_file_is_a_row_problem(store: Store, tmp_path: Path):
    rows = loan_rows(3)
    rows[1]["borrower_name"] = "张\x00三"
    table = pa.table({name: [r[name] or None for r in rows] for name in COLUMN_NAMES})
    path = tmp_path / "tape.parquet"
    pq.write_table(table, path)
    error = import_rejected(store, [path])
    assert problem_keys(error) == {("tape.parquet", 3, "borrower_name", "text.control_character")}


@pytest.mark.parametrize("column", sorted(CASEWORK_LENGTHS))
def test_text_longer_than_casework_keeps_is_a_row_problem(
    store: Store, tmp_path: Path, column: str
):
    limit = CASEWORK_LENGTHS[column]
    # Chinese characters: the limit counts characters, as the databases do, not bytes.
    too_long = "长" * (limit + 1)
    error = import_rejected(store, [tape_with_bad_row(tmp_path, {column: too_long})])
    assert ("tape.csv", BAD_ROW, column, "text.too_long") in problem_keys(error)
    (problem,) = [p for p in error.problems if p.rule == "text.too_long"]
    assert f"longer than {limit} characters" in problem.message


def test_text_as_long_as_casework_keeps_is_imported(store: Store, tmp_path: Path):
    name, phone = "名" * 200, "1" * 200
    source = tape_with_bad_row(tmp_path, {"borrower_name": name, "phone": phone})
    import_files(store, [source], ImportOptions())
    row = next(r for r in stored_rows(store, DEC) if r["loan_id"] == "L000006")
    assert (row["borrower_name"], row["phone"]) == (name, phone)
