"""Parquet and XLSX output: the same book as the CSV, with real types or as text cells."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from npldesk.synth import SynthResult, generate
from npldesk.synth.layouts import CN_CORE_COLUMNS, CN_CUSTOMER_COLUMNS
from npldesk.tape.schema import COLUMN_NAMES, TAPE_SCHEMA
from tests.synth.conftest import read_rows

LOANS, MONTHS, SEED = 300, 2, 11


def _book(out: Path, **options: str) -> SynthResult:
    return generate(out, loans=LOANS, months=MONTHS, seed=SEED, **options)


@pytest.fixture(scope="module")
def csv_book(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return _book(tmp_path_factory.mktemp("csv"))


def test_canonical_parquet_has_the_tape_schema(csv_book: SynthResult, tmp_path: Path) -> None:
    result = _book(tmp_path, file_format="parquet")
    assert [path.suffix for path in result.tape_files] == [".parquet", ".parquet"]
    for parquet_path, csv_path in zip(result.tape_files, csv_book.tape_files, strict=True):
        table = pq.read_table(parquet_path)
        assert table.schema.names == list(COLUMN_NAMES)
        for field in TAPE_SCHEMA:
            assert table.schema.field(field.name).type == field.type, field.name
        assert table.schema.field("principal_balance").type == pa.decimal128(18, 2)
        assert table.schema.field("as_of").type == pa.date32()
        # Same values as the CSV, once written as text.
        _, csv_rows = read_rows(csv_path)
        as_text = {
            name: [
                "" if value is None else value
                for value in table.column(name).cast(pa.string()).to_pylist()
            ]
            for name in COLUMN_NAMES
        }
        for index, row in enumerate(csv_rows):
            assert {name: as_text[name][index] for name in COLUMN_NAMES} == row


def test_cn_core_parquet_is_text_with_chinese_headers(tmp_path: Path) -> None:
    result = _book(tmp_path, layout="cn-core", file_format="parquet")
    table = pq.read_table(result.tape_files[0])
    assert table.schema.names == list(CN_CORE_COLUMNS)
    assert all(field.type == pa.string() for field in table.schema)
    assert any("," in amount for amount in table.column("合同金额").to_pylist())
    assert result.customer_file == tmp_path / "customers.parquet"
    customers = pq.read_table(result.customer_file)
    assert customers.schema.names == list(CN_CUSTOMER_COLUMNS)
    assert customers.num_rows == result.households


def _sheet_rows(path: Path) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def test_canonical_xlsx_reads_back_as_the_csv(csv_book: SynthResult, tmp_path: Path) -> None:
    result = _book(tmp_path, file_format="xlsx")
    for xlsx_path, csv_path in zip(result.tape_files, csv_book.tape_files, strict=True):
        assert xlsx_path.suffix == ".xlsx"
        sheet = _sheet_rows(xlsx_path)
        assert sheet[0] == tuple(COLUMN_NAMES)
        _, csv_rows = read_rows(csv_path)
        assert len(sheet) == len(csv_rows) + 1
        for cells, row in zip(sheet[1:], csv_rows, strict=True):
            assert all(cell is None or isinstance(cell, str) for cell in cells)
            assert tuple("" if cell is None else cell for cell in cells) == tuple(row.values())


def test_cn_core_xlsx(tmp_path: Path) -> None:
    result = generate(tmp_path, layout="cn-core", file_format="xlsx", loans=100, months=1)
    sheet = _sheet_rows(result.tape_files[0])
    assert sheet[0] == tuple(CN_CORE_COLUMNS)
    assert len(sheet) == 101
    assert result.customer_file is not None
    customers = _sheet_rows(result.customer_file)
    assert customers[0] == tuple(CN_CUSTOMER_COLUMNS)
    assert len(customers) == result.households + 1
