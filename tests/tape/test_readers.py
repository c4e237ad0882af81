"""Every supported file form imports to the same canonical rows."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from npldesk.core.errors import DataError, UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import parse_mapping
from npldesk.tape.readers import inspect_bytes
from npldesk.tape.schema import COLUMN_NAMES, TAPE_SCHEMA
from npldesk.tape.store import Store
from tests.tape_factory import loan_row, loan_rows, write_csv

DEC = date(2019, 12, 31)
CANONICAL = ", ".join(COLUMN_NAMES)


def stored(store: Store, as_of: date = DEC) -> list[tuple]:
    return duckdb.sql(
        f"SELECT {CANONICAL} FROM read_parquet('{store.snapshot_path(as_of)}') ORDER BY loan_id"
    ).fetchall()


def chinese_rows() -> list[dict[str, str]]:
    return [loan_row(n, borrower_name=name) for n, name in enumerate(["王小明", "李娜", "𠀀林"], 1)]


def test_inspect_bytes_detects_encodings(tmp_path: Path):
    utf8 = tmp_path / "u.csv"
    utf8.write_text("名称\n王\n", encoding="utf-8")
    bom = tmp_path / "b.csv"
    bom.write_bytes(codecs.BOM_UTF8 + "名称\n王\n".encode())
    gb = tmp_path / "g.csv"
    gb.write_bytes("名称\n王\n".encode("gb18030"))
    assert inspect_bytes(utf8, "auto")[1] == "utf-8"
    assert inspect_bytes(bom, "auto")[1] == "utf-8-sig"
    assert inspect_bytes(gb, "auto")[1] == "gb18030"
    with pytest.raises(UsageError, match="not valid UTF-8"):
        inspect_bytes(gb, "utf-8")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_every_encoding_imports_the_same_rows(store: Store, tmp_path: Path, encoding):
    rows = chinese_rows() if encoding != "gbk" else chinese_rows()[:2]  # 𠀀 is not in GBK
    source = write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    result = import_files(store, [source], ImportOptions())
    assert result.snapshots[0].rows == len(rows)
    names = [r[COLUMN_NAMES.index("borrower_name")] for r in stored(store)]
    assert names == [r["borrower_name"] for r in rows]
    expected_encoding = "gb18030" if encoding == "gbk" else encoding
    assert store.manifest().to_json()["snapshots"]["2019-12-31"]["encoding"] == expected_encoding


def test_gb18030_file_reports_bad_rows_with_their_numbers(store: Store, tmp_path: Path):
    rows = chinese_rows()
    rows[1]["days_past_due"] = "三十"
    source = write_csv(tmp_path / "gb.csv", rows, encoding="gb18030")
    with pytest.raises(DataError) as caught:
        import_files(store, [source], ImportOptions())
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column, problem.value, problem.rule) == (
        "gb.csv",
        3,
        "days_past_due",
        "三十",
        "type.integer",
    )


def test_xlsx_imports_like_csv(store: Store, tmp_path: Path):
    rows = loan_rows(4)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        values: list[object] = [row[c] or None for c in COLUMN_NAMES]
        # Excel users type numbers and dates as cells, not text.
        values[COLUMN_NAMES.index("principal_balance")] = 80000
        values[COLUMN_NAMES.index("origination_date")] = date(2018, 3, 15)
        values[COLUMN_NAMES.index("days_past_due")] = 0
        sheet.append(values)
    source = tmp_path / "2019-12.xlsx"
    book.save(source)
    import_files(store, [source], ImportOptions())
    result = stored(store)
    assert len(result) == 4
    assert result[0][COLUMN_NAMES.index("principal_balance")] == Decimal("80000.00")
    assert result[0][COLUMN_NAMES.index("origination_date")] == date(2018, 3, 15)


def test_xlsx_bad_cell_is_reported_by_sheet_row(store: Store, tmp_path: Path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMN_NAMES))
    rows = loan_rows(3)
    rows[2]["maturity_date"] = "2017-01-01"
    for row in rows:
        sheet.append([row[c] or None for c in COLUMN_NAMES])
    source = tmp_path / "bad.xlsx"
    book.save(source)
    with pytest.raises(DataError) as caught:
        import_files(store, [source], ImportOptions())
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.rule) == (
        4,
        "maturity_date",
        "dates.maturity_before_origination",
    )


def test_parquet_with_real_types_imports(store: Store, tmp_path: Path):
    rows = loan_rows(2)
    table = pa.table(
        {
            c: pa.array([None if r[c] == "" else r[c] for r in rows], type=pa.string()).cast(
                TAPE_SCHEMA.field(c).type
            )
            if c not in ("restructured", "credit_impaired")
            else pa.array([r[c] == "true" for r in rows])
            for c in COLUMN_NAMES
        }
    )
    source = tmp_path / "2019-12.parquet"
    pq.write_table(table, source)
    import_files(store, [source], ImportOptions())
    csv_source = write_csv(tmp_path / "same.csv", rows)
    other = Store(tmp_path / "other")
    from npldesk.tape.org import import_org
    from tests.tape_factory import write_org

    import_org(other, write_org(tmp_path / "org2.csv"))
    import_files(other, [csv_source], ImportOptions())
    assert stored(store) == stored(other)


def test_one_file_with_many_months_becomes_one_snapshot_per_month(store: Store, tmp_path: Path):
    rows = loan_rows(3, as_of=date(2019, 11, 30)) + loan_rows(3, as_of=DEC)
    result = import_files(store, [write_csv(tmp_path / "panel.csv", rows)], ImportOptions())
    assert [s.as_of for s in result.snapshots] == [date(2019, 11, 30), DEC]
    assert store.months() == [date(2019, 11, 30), DEC]
    assert store.manifest().to_json()["history"][-1]["months"] == ["2019-11-30", "2019-12-31"]


def test_as_of_option_fills_a_file_without_the_column(store: Store, tmp_path: Path):
    columns = [c for c in COLUMN_NAMES if c != "as_of"]
    source = write_csv(tmp_path / "nov.csv", loan_rows(2), columns=columns)
    with pytest.raises(UsageError, match="required column"):
        import_files(store, [source], ImportOptions())
    import_files(store, [source], ImportOptions(as_of=date(2019, 11, 30)))
    assert store.months() == [date(2019, 11, 30)]


def test_headerless_pipe_file_through_a_mapping(store: Store, tmp_path: Path):
    names = list(COLUMN_NAMES)
    source = write_csv(tmp_path / "p.txt", loan_rows(2), header=False, delimiter="|")
    mapping = parse_mapping(
        "columns:\n"
        + "".join(f"  {c}: {c}\n" for c in names)
        + "source:\n  delimiter: '|'\n  header: false\n  names: ["
        + ", ".join(names)
        + "]\n"
    )
    import_files(store, [source], ImportOptions(mapping=mapping))
    assert len(stored(store)) == 2


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"a,b\n1,2\n3,4\n", id="plain"),
        pytest.param(b"a,b\r\n1,2\r\n3,4\r\n", id="crlf"),
        pytest.param(b'a,b\r\n"1\r\nx",2\r\n\r\n3,4\r\n', id="crlf-quoted-blank-line"),
        pytest.param(b'a,b\n"1\r\nx",2\n3,4', id="lf-quoted-crlf"),
        pytest.param(b"a;b\r1;2\r3;4\r", id="cr"),
        pytest.param(b"a,b\n# note\n1,2\n# note\n3,4\n", id="comment-lines"),
        pytest.param(b"a,b,a,\n1,2,3,4\n", id="repeated-and-empty-names"),
        pytest.param(b'"a,x",b\n"1\n2",3\n', id="quoted"),
        pytest.param(b"\xef\xbb\xbfa,b\n1,2", id="bom-no-final-newline"),
        pytest.param(b"a,b\n", id="header-only"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_csv_sniffed_once_reads_as_auto_detection_reads_it(tmp_path: Path, content: bytes):
    from npldesk.tape.mapping import SourceOptions
    from npldesk.tape.readers import _csv_args, _sniff

    path = tmp_path / "f.csv"
    path.write_bytes(content)
    options = SourceOptions(delimiter=";" if b";" in content else ",")
    con = duckdb.connect()

    def read(args: str) -> tuple[list[str], list[tuple]] | str:
        try:
            result = con.execute(f"SELECT * FROM read_csv('{path}', {args})")
            return [d[0] for d in result.description or []], result.fetchall()
        except duckdb.Error as exc:
            return type(exc).__name__

    sniffed = _sniff(con, path, options)
    assert read(_csv_args(options, sniffed)) == read(_csv_args(options))
