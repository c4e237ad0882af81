"""Every supported file form imports to the same canonical rows."""

from __future__ import annotations

import codecs
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from npldesk.core.errors import DataError, UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import Mapping, parse_mapping
from npldesk.tape.readers import HOME_TIME_ZONE, inspect_bytes
from npldesk.tape.schema import COLUMN_NAMES, TAPE_SCHEMA
from npldesk.tape.store import Store
from tests.conftest import tree_state
from tests.tape.conftest import import_rejected, problem_keys
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


# -- XLSX: formulas, error values, declared sizes and files that are not workbooks ----------------


def canonical_mapping(source: str = "") -> Mapping:
    """The identity mapping written out, with ``source`` options (a YAML flow table)."""
    text = "columns:\n" + "".join(f"  {c}: {c}\n" for c in COLUMN_NAMES)
    return parse_mapping(text + (f"source: {source}\n" if source else ""))


def write_xlsx_with_formula(path: Path, saved: object, *, rows: int = 2) -> Path:
    """A workbook whose principal_balance cells hold ``=1000+2000`` saved with the value
    ``saved``, as spreadsheet programs that do not calculate on saving write it (xlsxwriter
    writes the value it is given)."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, list(COLUMN_NAMES))
    balance = COLUMN_NAMES.index("principal_balance")
    for index, row in enumerate(loan_rows(rows), start=1):
        sheet.write_row(index, 0, [row[c] or None for c in COLUMN_NAMES])
        sheet.write_formula(index, balance, "=1000+2000", None, saved)
    book.close()
    return path


def test_xlsx_formula_cell_is_refused_with_its_row_and_column(store: Store, tmp_path: Path):
    source = write_xlsx_with_formula(tmp_path / "f.xlsx", 0)
    error = import_rejected(store, [source])
    assert problem_keys(error) == {
        ("f.xlsx", 2, "principal_balance", "xlsx.formula"),
        ("f.xlsx", 3, "principal_balance", "xlsx.formula"),
    }
    assert error.problems[0].value == "=1000+2000"
    assert "formulas: cached" in error.problems[0].message


def test_xlsx_formula_cell_takes_its_saved_value_when_the_mapping_says_so(
    store: Store, tmp_path: Path
):
    source = write_xlsx_with_formula(tmp_path / "f.xlsx", 3000)
    import_files(store, [source], ImportOptions(mapping=canonical_mapping("{formulas: cached}")))
    balances = {r[COLUMN_NAMES.index("principal_balance")] for r in stored(store)}
    assert balances == {Decimal("3000.00")}


def test_xlsx_formula_never_calculated_is_refused_even_when_cached(store: Store, tmp_path: Path):
    book = openpyxl.Workbook()  # openpyxl saves formulas without a value
    sheet = book.active
    sheet.append(list(COLUMN_NAMES))
    for row in loan_rows(2):
        values: list[object] = [row[c] or None for c in COLUMN_NAMES]
        values[COLUMN_NAMES.index("provision")] = "=100*2"
        sheet.append(values)
    source = tmp_path / "never.xlsx"
    book.save(source)
    error = import_rejected(
        store, [source], ImportOptions(mapping=canonical_mapping("{formulas: cached}"))
    )
    assert problem_keys(error) == {
        ("never.xlsx", 2, "provision", "xlsx.formula_not_calculated"),
        ("never.xlsx", 3, "provision", "xlsx.formula_not_calculated"),
    }


def test_xlsx_error_value_is_refused(store: Store, tmp_path: Path):
    book = xlsxwriter.Workbook(str(tmp_path / "e.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, list(COLUMN_NAMES))
    for index, row in enumerate(loan_rows(2), start=1):
        sheet.write_row(index, 0, [row[c] or None for c in COLUMN_NAMES])
    # A formula whose saved value is an error: the loan's officer cell reads #N/A.
    sheet.write_formula(2, COLUMN_NAMES.index("officer_id"), "=NA()", None, "#N/A")
    book.close()
    error = import_rejected(
        store, [tmp_path / "e.xlsx"], ImportOptions(mapping=canonical_mapping("{formulas: cached}"))
    )
    assert problem_keys(error) == {("e.xlsx", 3, "officer_id", "xlsx.error_value")}
    assert error.problems[0].value == "#N/A"


def test_xlsx_cells_beyond_the_size_the_file_declares_are_read(store: Store, tmp_path: Path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMN_NAMES))
    for row in loan_rows(5):
        sheet.append([row[c] or None for c in COLUMN_NAMES])
    written = tmp_path / "written.xlsx"
    book.save(written)
    # Some tools write a stale size; openpyxl's read-only mode stops at it unless told not to.
    source = tmp_path / "stale-size.xlsx"
    with zipfile.ZipFile(written) as original, zipfile.ZipFile(source, "w") as changed:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C3"', data)
            changed.writestr(item, data)
    import_files(store, [source], ImportOptions())
    assert len(stored(store)) == 5
    assert {r[COLUMN_NAMES.index("provision")] for r in stored(store)} == {Decimal("1000.00")}


def truncated_workbook(path: Path) -> bytes:
    write_xlsx_with_formula(path, 0, rows=200)
    return path.read_bytes()[:-400]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda _path: bytes(range(256)) * 4, id="random-bytes"),
        pytest.param(lambda _path: b"as_of,loan_id\n2019-12-31,L1\n", id="csv-renamed"),
        pytest.param(truncated_workbook, id="truncated-zip"),
        pytest.param(lambda _path: b"PK\x03\x04" + b"\x00" * 60, id="zip-header-only"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_a_clear_error(
    store: Store, tmp_path: Path, content: Callable[[Path], bytes]
):
    data = content(tmp_path / "scratch.xlsx")
    source = tmp_path / "loans.xlsx"
    source.write_bytes(data)
    before = tree_state(store.path)
    with pytest.raises(UsageError, match=r"loans\.xlsx cannot be read as an XLSX workbook"):
        import_files(store, [source], ImportOptions())
    assert tree_state(store.path) == before


def test_a_mapping_names_only_known_formula_policies():
    with pytest.raises(UsageError, match="formulas 'evaluate' is not one of refuse, cached"):
        canonical_mapping("{formulas: evaluate}")


# -- Parquet: time-zone-aware timestamps, decimals with four places --------------------------------


def write_typed_parquet(path: Path, rows: list[dict[str, str]], **columns: pa.Array) -> Path:
    """Canonical rows as Parquet text columns, but for ``columns`` given as typed arrays."""
    table = pa.table(
        {
            c: columns[c] if c in columns else pa.array([r[c] or None for r in rows], pa.string())
            for c in COLUMN_NAMES
        }
    )
    pq.write_table(table, path)
    return path


@pytest.fixture
def machine_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set the time zone the importing process runs in (Django sets it to the casework's; a
    server or a script need not)."""

    def set_zone(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("machine", ["UTC", "Europe/London", "Asia/Shanghai"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_parquet_timestamp_with_a_zone_is_the_day_in_the_banks_time_zone(
    store: Store, tmp_path: Path, machine_zone: Callable[[str], None], machine: str, zone: str
):
    """Parquet keeps an aware timestamp as an instant: midnight 31 December in Beijing (16:00
    on the 30th in UTC) is the 31st, as is midnight of that day in any zone west of Beijing,
    whatever zone the importing machine runs in."""
    machine_zone(machine)
    rows = loan_rows(2)
    stamp = pa.array(
        [datetime(2019, 12, 31, tzinfo=ZoneInfo(zone))] * 2, pa.timestamp("us", tz=zone)
    )
    origination = pa.array(
        [datetime(2018, 3, 15, tzinfo=ZoneInfo(zone))] * 2, pa.timestamp("ms", tz=zone)
    )
    source = write_typed_parquet(
        tmp_path / "aware.parquet", rows, as_of=stamp, origination_date=origination
    )
    import_files(store, [source], ImportOptions())
    dates = {
        (r[COLUMN_NAMES.index("as_of")], r[COLUMN_NAMES.index("origination_date")])
        for r in stored(store)
    }
    assert dates == {(DEC, date(2018, 3, 15))}


def test_the_banks_time_zone_is_the_casework_time_zone(settings: Any):
    assert HOME_TIME_ZONE == settings.TIME_ZONE


def test_parquet_decimal_with_four_places_is_money_when_its_fen_are_whole(
    store: Store, tmp_path: Path
):
    rows = loan_rows(3)
    balances = [Decimal("1234.5600"), Decimal("1234.5678"), Decimal("80000.0000")]
    source = write_typed_parquet(
        tmp_path / "d.parquet", rows, principal_balance=pa.array(balances, pa.decimal128(20, 4))
    )
    error = import_rejected(store, [source])
    assert problem_keys(error) == {("d.parquet", 3, "principal_balance", "type.money")}
    assert error.problems[0].value == "1234.5678"
    del balances[1], rows[1]
    source.unlink()
    write_typed_parquet(source, rows, principal_balance=pa.array(balances, pa.decimal128(20, 4)))
    import_files(store, [source], ImportOptions())
    assert [r[COLUMN_NAMES.index("principal_balance")] for r in stored(store)] == [
        Decimal("1234.56"),
        Decimal("80000.00"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(bytes(range(256)) * 4, id="random-bytes"),
        pytest.param(b"as_of,loan_id\n2019-12-31,L1\n", id="csv-renamed"),
        pytest.param(b"PAR1" + b"\x00" * 40 + b"PAR1", id="magic-only"),
    ],
)
def test_a_file_that_is_not_parquet_is_a_clear_error(store: Store, tmp_path: Path, content: bytes):
    source = tmp_path / "loans.parquet"
    source.write_bytes(content)
    before = tree_state(store.path)
    with pytest.raises(UsageError, match=r"loans\.parquet cannot be read as Parquet"):
        import_files(store, [source], ImportOptions())
    assert tree_state(store.path) == before
