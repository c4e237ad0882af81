"""Fuzzing the readers and the mapping language: whatever the file or the mapping holds, import
either succeeds or raises an ``NpldeskError`` (a message for the user, never a traceback), and
an import that is refused leaves the store exactly as it was.

Each test keeps one store for all its examples (a fresh one per example would spend most of the
time importing the organisation file); imports are made with ``replace`` so that an example
that succeeds does not turn the next ones into "already imported".

The number of examples is a Hypothesis profile: ``fuzz`` (the default, bounded for CI) or
``fuzz-long`` for a longer hunt, chosen with ``NPLDESK_FUZZ_PROFILE=fuzz-long``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npldesk.core.errors import NpldeskError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import Mapping, parse_mapping
from npldesk.tape.org import import_org
from npldesk.tape.schema import COLUMN_NAMES
from npldesk.tape.store import Store
from tests.conftest import tree_state
from tests.tape_factory import loan_rows, write_org

settings.register_profile(
    "fuzz",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("fuzz-long", settings.get_profile("fuzz"), max_examples=1000)
FUZZ = settings.get_profile(os.environ.get("NPLDESK_FUZZ_PROFILE", "fuzz"))


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A folder for one example's files (pytest's ``tmp_path`` lives for the whole test)."""
    with tempfile.TemporaryDirectory(prefix="npldesk-fuzz-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("fuzz")
    store = Store(root / "store")
    import_org(store, write_org(root / "org_units.csv"), user="tester")
    return store


def import_or_refuse(
    store: Store, files: list[Path], mapping: Mapping | None = None, **options: Any
) -> bool:
    """Import; True when it succeeded. A refusal must be an ``NpldeskError`` that left the store
    as it was; anything else propagates and fails the test with its traceback."""
    before = tree_state(store.path)
    manifest = store.manifest()
    refusal: NpldeskError | None = None
    try:
        import_files(store, files, ImportOptions(mapping=mapping, replace=True, **options))
    except NpldeskError as refused:
        refusal = refused
    if refusal is None:
        return True
    assert str(refusal), "a refusal says why"
    assert tree_state(store.path) == before
    assert store.manifest() == manifest
    return False


def canonical_mapping_text(source: dict[str, Any] | None = None) -> str:
    mapping: dict[str, Any] = {"mapping": 1, "columns": {c: c for c in COLUMN_NAMES}}
    if source:
        mapping["source"] = source
    return yaml.safe_dump(mapping, allow_unicode=True)


# -- cells: valid values, near misses and garbage -------------------------------------------------

NEAR_MISSES = [
    "",
    " ",
    "NULL",
    "0",
    "-0",
    "-1",
    "1e5",
    "1_000",
    "0x10",
    "1,234.56",
    "1234.5600",
    "1234.5678",
    "99999999999999999999999",
    "NaN",
    "inf",
    "-inf",
    "0000-01-01",
    "0044-03-15 (BC)",
    "-0001-01-01",
    "9999-12-31",
    "2019-02-29",
    "2019-12-31 23:59:59+08",
    "infinity",
    "true",
    "是",
    "=1+1",
    "@SUM(A1)",
    "#N/A",
    "贷款",
    "\u00a0",
    "\ufeff",
    "a\nb",
    'say "hi"',
    "\x00",
    "𠀀",
]
cell_texts = st.one_of(
    st.sampled_from(NEAR_MISSES),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)


@st.composite
def tape_rows(draw: st.DrawFn, max_rows: int = 6) -> list[dict[str, str]]:
    """Valid canonical rows with a few cells replaced by near misses or random text."""
    rows = loan_rows(draw(st.integers(0, max_rows)))
    for _ in range(draw(st.integers(0, 6))):
        if not rows:
            break
        row = draw(st.sampled_from(rows))
        row[draw(st.sampled_from(COLUMN_NAMES))] = draw(cell_texts)
    return rows


# -- random bytes in every format -----------------------------------------------------------------

MAGIC = [b"", b"PK\x03\x04", b"PAR1", b"\xef\xbb\xbf", b"as_of,loan_id\n", b"\xff\xfe"]


@FUZZ
@given(
    suffix=st.sampled_from([".csv", ".xlsx", ".parquet", ".txt", ".xlsm", ".pq"]),
    head=st.sampled_from(MAGIC),
    body=st.binary(max_size=1500),
    tail=st.sampled_from([b"", b"PAR1", b"\n"]),
)
def test_random_bytes_in_any_format(
    fuzz_store: Store, suffix: str, head: bytes, body: bytes, tail: bytes
):
    with scratch() as folder:
        source = folder / f"2019-12{suffix}"
        source.write_bytes(head + body + tail)
        import_or_refuse(fuzz_store, [source])


def truncations_of(data: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, len(data)).map(lambda n: data[:n])


@FUZZ
@given(rows=tape_rows(), cut=st.floats(0, 1), flip=st.integers(0, 10_000), byte=st.integers(0, 255))
def test_damaged_workbooks_and_parquet_files(
    fuzz_store: Store, rows: list[dict[str, str]], cut: float, flip: int, byte: int
):
    """A real file cut short or with one byte changed: the damage lands anywhere in it."""
    with scratch() as folder:
        for source in (write_xlsx(folder / "2019-12.xlsx", rows), write_parquet(folder, rows)):
            data = bytearray(source.read_bytes())
            if data:
                data[flip % len(data)] = byte
            source.write_bytes(bytes(data[: max(1, int(len(data) * cut))]))
            import_or_refuse(fuzz_store, [source])


# -- CSV structure --------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk"]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A CSV's bytes and the reader options a mapping would declare for it."""
    rows = draw(tape_rows())
    columns = list(COLUMN_NAMES)
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    if draw(st.integers(0, 4)) == 0:
        columns = columns[: draw(st.integers(0, len(columns)))]
    if draw(st.integers(0, 4)) == 0:
        columns.append(draw(st.sampled_from(["extra", "", "loan_id", "备注", '"q"'])))
    delimiter = draw(st.sampled_from([",", ";", "|", "\t"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=line_end)
    writer.writerow(columns)
    for row in rows:
        cells = [row.get(c, "") for c in columns]
        shape = draw(st.integers(0, 9))
        if shape == 0:
            cells = cells[: draw(st.integers(0, len(cells)))]  # a ragged row
        elif shape == 1:
            cells.append(draw(cell_texts))
        writer.writerow(cells)
        if draw(st.integers(0, 9)) == 0:
            buffer.write(line_end)  # a blank line
    text = buffer.getvalue()
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, len(text)))]  # cut short, perhaps inside quotes
    if draw(st.integers(0, 5)) == 0:
        text = '"' + text  # an unbalanced quote
    encoding = draw(st.sampled_from(ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]  # stray bytes
    options: dict[str, Any] = {"delimiter": delimiter}
    if draw(st.booleans()):
        options["encoding"] = draw(st.sampled_from(["auto", *ENCODINGS]))
    if draw(st.integers(0, 4)) == 0:
        options["skip_rows"] = draw(st.integers(0, 3))
    if draw(st.integers(0, 4)) == 0:
        options["null_values"] = draw(st.lists(st.sampled_from(["", "NULL", "-", "0"])))
    return data, options


@FUZZ
@given(csv_file=csv_files(), with_mapping=st.booleans())
def test_random_csv_structure(
    fuzz_store: Store, csv_file: tuple[bytes, dict[str, Any]], with_mapping: bool
):
    data, options = csv_file
    with scratch() as folder:
        source = folder / "2019-12.csv"
        source.write_bytes(data)
        mapping = parse_mapping(canonical_mapping_text(options)) if with_mapping else None
        import_or_refuse(fuzz_store, [source], mapping)


# -- XLSX cells -----------------------------------------------------------------------------------

# Cells as a spreadsheet program writes them: (kind, value, saved value of a formula).
xlsx_cells = st.one_of(
    cell_texts.map(lambda v: ("string", v, None)),
    st.one_of(
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=False, allow_infinity=False, places=4).map(float),
    ).map(lambda v: ("number", v, None)),
    st.booleans().map(lambda v: ("boolean", v, None)),
    st.datetimes(datetime(1900, 1, 1), datetime(9999, 12, 31)).map(lambda v: ("date", v, None)),
    st.dates(date(1900, 3, 1), date(2300, 1, 1)).map(lambda v: ("date", v, None)),
    st.times().map(lambda v: ("time", v, None)),
    st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]).map(
        lambda v: ("error", v, None)
    ),
    st.tuples(
        st.sampled_from(["=1+2", "=A2", "=SUM(A1:A3)", "=NA()", "=1/0", '="x"', "=TODAY()"]),
        st.one_of(st.none(), st.just(0), st.integers(0, 10**9), st.just("#N/A"), cell_texts),
    ).map(lambda pair: ("formula", pair[0], pair[1])),
)


def write_xlsx(
    path: Path,
    rows: list[dict[str, str]],
    cells: dict[tuple[int, int], tuple[str, Any, Any]] | None = None,
    extra_rows: int = 0,
) -> Path:
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "nan_inf_to_errors": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, list(COLUMN_NAMES))
    for index, row in enumerate(rows, start=1):
        for position, column in enumerate(COLUMN_NAMES):
            if row[column]:
                sheet.write_string(index, position, row[column])
    for (index, position), (kind, value, saved) in (cells or {}).items():
        if kind == "string":
            sheet.write_string(index, position, value)
        elif kind == "number":
            sheet.write_number(index, position, value)
        elif kind == "boolean":
            sheet.write_boolean(index, position, value)
        elif kind in ("date", "time"):
            sheet.write_datetime(index, position, value, date_format)
        elif kind == "error":
            sheet.write_formula(index, position, "=NA()", None, value)
        else:
            sheet.write_formula(index, position, value, None, saved)
    for extra in range(extra_rows):
        sheet.write_string(len(rows) + 1 + extra, len(COLUMN_NAMES) + extra, "beyond")
    book.close()
    return path


@FUZZ
@given(
    rows=tape_rows(),
    cells=st.dictionaries(
        st.tuples(st.integers(1, 6), st.integers(0, len(COLUMN_NAMES) - 1)), xlsx_cells, max_size=6
    ),
    formulas=st.sampled_from([None, "refuse", "cached"]),
    extra_rows=st.integers(0, 1),
)
def test_random_xlsx_cells(
    fuzz_store: Store,
    rows: list[dict[str, str]],
    cells: dict[tuple[int, int], tuple[str, Any, Any]],
    formulas: str | None,
    extra_rows: int,
):
    with scratch() as folder:
        source = write_xlsx(folder / "2019-12.xlsx", rows, cells, extra_rows)
        mapping = (
            parse_mapping(canonical_mapping_text({"formulas": formulas})) if formulas else None
        )
        import_or_refuse(fuzz_store, [source], mapping)


# -- Parquet types --------------------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
parquet_columns = st.one_of(
    st.lists(cell_texts.filter(lambda v: "\x00" not in v), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.string())
    ),
    st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.int64())
    ),
    st.lists(st.none() | st.floats(), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.float64())
    ),
    st.lists(
        st.none() | st.decimals(-(10**15), 10**15, places=4, allow_nan=False),
        min_size=6,
        max_size=6,
    ).map(lambda v: pa.array(v, pa.decimal128(20, 4))),
    st.lists(st.none() | st.dates(), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.date32())
    ),
    st.lists(
        st.none()
        | st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(SHANGHAI)),
        min_size=6,
        max_size=6,
    ).map(lambda v: pa.array(v, pa.timestamp("us", tz="Asia/Shanghai"))),
    st.lists(st.none() | st.datetimes(), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.timestamp("ms"))
    ),
    st.lists(st.none() | st.booleans(), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.bool_())
    ),
    st.lists(st.none() | st.binary(max_size=8), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.binary())
    ),
    st.lists(st.none() | st.times(), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.time64("us"))
    ),
    st.lists(
        st.none() | st.timedeltas(timedelta(0), timedelta(days=10**5)), min_size=6, max_size=6
    ).map(lambda v: pa.array(v, pa.duration("us"))),
    st.lists(st.lists(st.integers(0, 9), max_size=3), min_size=6, max_size=6).map(
        lambda v: pa.array(v, pa.list_(pa.int64()))
    ),
)


def write_parquet(
    folder: Path, rows: list[dict[str, str]], typed: dict[str, pa.Array] | None = None
) -> Path:
    count = len(rows)
    columns = {c: pa.array([r[c] or None for r in rows], pa.string()) for c in COLUMN_NAMES}
    for name, values in (typed or {}).items():
        columns[name] = values.slice(0, count) if len(values) >= count else values
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:  # a typed column shorter than the rows: pad it with nulls
        width = max(lengths)
        columns = {
            n: pa.concat_arrays([v, pa.nulls(width - len(v), v.type)]) for n, v in columns.items()
        }
    path = folder / "2019-12.parquet"
    pq.write_table(pa.table(columns), path)
    return path


@FUZZ
@given(
    rows=tape_rows(),
    typed=st.dictionaries(st.sampled_from(COLUMN_NAMES), parquet_columns, max_size=4),
)
def test_random_parquet_types(
    fuzz_store: Store, rows: list[dict[str, str]], typed: dict[str, pa.Array]
):
    with scratch() as folder:
        import_or_refuse(fuzz_store, [write_parquet(folder, rows, typed)])


# -- mappings -------------------------------------------------------------------------------------

yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "",
            "%Y%m%d",
            "%Y/%m/%d",
            "%Q",
            "%",
            "excel",
            "iso",
            "yuan",
            "fen",
            "10k_yuan",
            ",",
            ";;",
            "keep",
            "null",
            "cached",
            "refuse",
            "gb18030",
            "latin-1",
            "csv",
            "xlsx",
            "loan_id",
            "as_of",
            "no such column",
            "CAST(1 AS INTEGER)",
            'src."loan_id"',
            "'x' ||",
            "customers.name",
        ]
    ),
    st.text(max_size=8),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(max_size=6)
            | yaml_scalars.filter(lambda v: v is not None and not isinstance(v, float)),
            children,
            max_size=3,
        )
    ),
    max_leaves=8,
)
RULE_KEYS = [
    "from",
    "value",
    "sql",
    "date",
    "month_end",
    "number",
    "map",
    "unmapped",
    "default",
    "previous_balance",
    "unknown_key",
]
SOURCE_KEYS = [
    "format",
    "encoding",
    "delimiter",
    "header",
    "names",
    "null_values",
    "sheet",
    "skip_rows",
    "formulas",
    "unknown_option",
]


@st.composite
def mappings(draw: st.DrawFn) -> Any:
    """A mapping's YAML content: a valid canonical mapping with parts replaced at random."""
    mapping: dict[Any, Any] = {"mapping": 1, "columns": {c: c for c in COLUMN_NAMES}}
    columns = mapping["columns"]
    for _ in range(draw(st.integers(0, 4))):
        column = draw(st.sampled_from([*COLUMN_NAMES, "not_canonical"]))
        if draw(st.booleans()):
            rule = {"from": column}
            rule.update(draw(st.dictionaries(st.sampled_from(RULE_KEYS), yaml_values, max_size=3)))
            columns[column] = rule
        else:
            columns[column] = draw(yaml_values)
    if draw(st.booleans()):
        mapping["source"] = draw(
            st.dictionaries(st.sampled_from(SOURCE_KEYS), yaml_values, max_size=3) | yaml_values
        )
    if draw(st.integers(0, 3)) == 0:
        mapping["joins"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"name": yaml_values, "path": yaml_values, "on": yaml_values},
                    optional={"columns": yaml_values, "source": yaml_values},
                ),
                max_size=2,
            )
            | yaml_values
        )
    for key in draw(st.lists(st.sampled_from(["mapping", "columns", "name", "other"]), max_size=2)):
        mapping[key] = draw(yaml_values)
    return mapping


@FUZZ
@given(mapping=mappings())
def test_random_mappings(fuzz_store: Store, mapping: Any):
    text = yaml.safe_dump(mapping, allow_unicode=True)
    try:
        parsed = parse_mapping(text)
    except NpldeskError:
        return
    with scratch() as folder:
        rows = loan_rows(3)
        source = folder / "2019-12.csv"
        with open(source, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMN_NAMES), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        import_or_refuse(fuzz_store, [source], parsed)


@FUZZ
@given(
    text=st.text(max_size=200)
    | st.sampled_from(
        [
            "",
            "[]",
            "- a\n- b",
            "columns: 5",
            "{",
            "columns:\n  loan_id: [1, 2]",
            "&a [*a]",
            "!!python/object:os.system x",
        ]
    )
)
def test_text_that_is_not_a_mapping(text: str):
    with contextlib.suppress(NpldeskError):
        parse_mapping(text)
