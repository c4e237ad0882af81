"""Readers: any supported file becomes a DuckDB view of text columns plus its row numbers.

Every column is read as text so that conversion problems can be reported with the value the
user sees. ``_row`` is the row number as a spreadsheet shows it (the header is row 1).
UTF-8 CSV is scanned by DuckDB directly (fast, parallel). Other encodings (GB18030/GBK) and
XLSX are decoded in Python into a staged Parquet file first: database extensions that would
download code at run time do not exist on a bank's intranet.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from npldesk.core.errors import DataError, Problem, ProblemList, UsageError
from npldesk.core.i18n import translatable
from npldesk.tape.mapping import SourceOptions

CHUNK = 16 << 20
BATCH_ROWS = 50_000


@dataclass
class TextBatch:
    """Rows of text cells read in Python, with the row number each has in its file."""

    header: list[str]
    rows: list[list[str | None]]
    row_numbers: list[int]


@dataclass
class SourceFile:
    """A file that was read: its name, checksum, encoding and the view that holds its rows.

    For UTF-8 CSV the checksum and the check of every byte run in a thread while DuckDB scans
    the file; ``settle()`` waits for them and says whether the scan can stand (the file is
    UTF-8 throughout and has no blank line) or must be redone with ``reopen_decoded``.
    """

    path: Path
    sha256: str
    encoding: str | None
    format: str
    view: str
    columns: tuple[str, ...]
    rows: int | None = None
    pending: Future[tuple[str, str, bool]] | None = None
    # False while nobody has looked for blank lines (which shift DuckDB's row numbers).
    blank_lines_checked: bool = True

    def settle(self) -> bool:
        """Wait for the byte check; True when the DuckDB scan of the file stands."""
        if self.pending is None:
            return True
        sha256, encoding, blank_lines = self.pending.result()
        self.pending = None
        self.sha256 = sha256
        stands = encoding == self.encoding and not blank_lines
        self.encoding = encoding
        return stands


def _format_of(path: Path, options: SourceOptions) -> str:
    if options.format:
        return options.format
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def inspect_bytes(
    path: Path, declared: str, *, validate_utf8: bool = True, find_blank_lines: bool = True
) -> tuple[str, str, bool]:
    """SHA-256, the text encoding and whether the file has blank lines, in one pass over its bytes.

    ``auto``: a UTF-8 byte-order mark or valid UTF-8 throughout means UTF-8; otherwise GB18030
    (a superset of GBK and GB2312, what Chinese core systems export), which must then decode.
    ``validate_utf8=False`` when DuckDB scans the file anyway: it refuses bytes that are not
    UTF-8 itself, so the check need not be done twice. ``find_blank_lines=False`` when rows
    need no numbers (an import's fast path); ``has_blank_lines`` asks later if they do.
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = declared in ("auto", "utf-8", "utf-8-sig")
    bom = False
    blank = _BlankLines()
    with open(path, "rb") as handle:
        first = True
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if find_blank_lines:
                blank.feed(chunk)
            if first:
                bom = chunk.startswith(codecs.BOM_UTF8)
                first = False
            if utf8_ok and validate_utf8:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
        if utf8_ok and validate_utf8:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    if declared in ("utf-8", "utf-8-sig") and not utf8_ok:
        raise UsageError(
            translatable(
                "{path_name} is not valid UTF-8 (the mapping says it is)", path_name=path.name
            )
        )
    if declared in ("gb18030", "gbk"):
        encoding = declared
    elif utf8_ok:
        encoding = "utf-8-sig" if bom else "utf-8"
    else:
        encoding = "gb18030"
    return digest.hexdigest(), encoding, blank.found


def has_blank_lines(path: Path) -> bool:
    """A blank line followed by more data: DuckDB skips it, so its row numbers would shift."""
    blank = _BlankLines()
    with open(path, "rb") as handle:
        while not blank.found and (chunk := handle.read(CHUNK)):
            blank.feed(chunk)
    return blank.found


class _BlankLines:
    """Finds a blank line followed by more data (DuckDB skips it, shifting row numbers);
    blank lines at the very end of a file are harmless."""

    def __init__(self) -> None:
        self.seen_blank = False
        self.found = False
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        if self.found:
            return
        if self.seen_blank:
            self.found = bool(chunk.strip(b"\r\n"))
            return
        edge = self.tail + chunk[:2]
        for window, offset in ((edge, len(self.tail)), (chunk, 0)):
            for pattern in (b"\n\n", b"\n\r\n"):
                at = window.find(pattern)
                if at >= 0:
                    self.seen_blank = True
                    rest = chunk[max(at + len(pattern) - offset, 0) :]
                    self.found = bool(rest.strip(b"\r\n"))
                    if self.found:
                        return
        self.tail = chunk[-2:]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _null_list(options: SourceOptions) -> str:
    return "[" + ", ".join(_sql_string(v) for v in options.null_values) + "]"


def open_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: SourceOptions,
    *,
    view: str,
    staging: Path,
    overlap: bool = True,
) -> SourceFile:
    """Make ``view`` in ``con`` hold the file's rows as text columns plus ``_row``.

    ``overlap``: check a UTF-8 CSV's bytes while DuckDB scans it (the caller then calls
    ``settle()``); otherwise check them first.
    """
    if not path.is_file():
        raise UsageError(translatable("file not found: {path}", path=path))
    fmt = _format_of(path, options)
    if fmt == "parquet":
        return _open_parquet(con, path, view=view)
    if fmt == "xlsx":
        return _open_xlsx(con, path, options, view=view, staging=staging)
    encoding = _guess_encoding(path, options.encoding)
    if encoding in ("utf-8", "utf-8-sig") and not overlap:
        sha256, encoding, blank_lines = inspect_bytes(path, options.encoding)
        if encoding in ("utf-8", "utf-8-sig") and not blank_lines:
            return _open_csv_native(con, path, options, view=view, sha256=sha256, encoding=encoding)
        return _open_csv_decoded(
            con, path, options, view=view, staging=staging, sha256=sha256, encoding=encoding
        )
    if encoding in ("utf-8", "utf-8-sig"):
        # Hashing and checking every byte (hashlib and the decoder release the GIL) overlap
        # with DuckDB's scan instead of preceding it.
        pending = _CHECKER.submit(
            inspect_bytes, path, options.encoding, validate_utf8=False, find_blank_lines=False
        )
        source = _open_csv_native(con, path, options, view=view, sha256="", encoding=encoding)
        source.pending = pending
        source.blank_lines_checked = False
        return source
    sha256, encoding, _blank = inspect_bytes(path, options.encoding)
    return _open_csv_decoded(
        con, path, options, view=view, staging=staging, sha256=sha256, encoding=encoding
    )


_CHECKER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="npldesk-inspect")
HEAD = 1 << 20


def _guess_encoding(path: Path, declared: str) -> str:
    """The encoding from the first megabyte; ``inspect_bytes`` confirms it over the whole file."""
    if declared in ("gb18030", "gbk"):
        return declared
    with open(path, "rb") as handle:
        head = handle.read(HEAD)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        if declared in ("utf-8", "utf-8-sig"):
            raise UsageError(
                translatable(
                    "{path_name} is not valid UTF-8 (the mapping says it is)", path_name=path.name
                )
            ) from None
        return "gb18030"
    return "utf-8"


def reopen_decoded(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    options: SourceOptions,
    *,
    staging: Path,
) -> SourceFile:
    """Read a CSV again through Python's decoder (GB18030, or blank lines to count)."""
    sha256, encoding, _blank = inspect_bytes(source.path, options.encoding)
    return _open_csv_decoded(
        con,
        source.path,
        options,
        view=source.view,
        staging=staging,
        sha256=sha256,
        encoding=encoding,
    )


def _csv_args(options: SourceOptions, sniffed: tuple[str, str, list[str]] | None = None) -> str:
    """read_csv's options; ``sniffed``: (new_line, comment, column names) as ``_sniff`` found
    them, so that DuckDB reads the file as it would detect it, without detecting it again."""
    names = list(options.names) or (sniffed[2] if sniffed else [])
    args = [
        "all_varchar = true",
        f"delim = {_sql_string(options.delimiter)}",
        f"header = {'true' if options.header else 'false'}",
        f"nullstr = {_null_list(options)}",
        "quote = '\"'",
        "escape = '\"'",
        "strict_mode = true",
        "null_padding = false",
        "auto_detect = false" if names else "auto_detect = true",
        f"skip = {options.skip_rows}",
    ]
    if sniffed and not options.names:
        args.append(f"new_line = {_sql_string(sniffed[0])}")
        args.append(f"comment = {_sql_string(sniffed[1])}")
    if names:
        columns = ", ".join(f"{_sql_string(n)}: 'VARCHAR'" for n in names)
        args.append(f"columns = {{{columns}}}")
    return ", ".join(args)


# Line ends as sniff_csv writes them and new_line takes them. Not "\r\n": DuckDB 2.0 with
# strict_mode reads no rows at all when it is given explicitly (auto-detection reads them).
NEW_LINES = ("\\n", "\\r")


def _sniff(
    con: duckdb.DuckDBPyConnection, path: Path, options: SourceOptions
) -> tuple[str, str, list[str]] | None:
    """What DuckDB's CSV sniffer finds in the file with ``options``: every read of a view over
    ``read_csv`` with auto-detection runs the sniffer again (a tenth of a second on a large
    file, at each of the several statements that read it). None when it finds no columns or
    something this function does not know: the file is then read with auto-detection."""
    try:
        found = con.execute(
            "SELECT NewLineDelimiter, Comment, Columns, SkipRows, HasHeader "
            f"FROM sniff_csv({_sql_string(str(path))}, {_csv_args(options)})"
        ).fetchall()
    except duckdb.Error:
        return None  # the read with auto-detection reports it, as it always has
    if len(found) != 1:
        return None
    new_line, comment, columns, skip_rows, header = found[0]
    if new_line not in NEW_LINES or not columns:
        return None
    if skip_rows != options.skip_rows or bool(header) != options.header:
        return None
    if comment == "(empty)":
        comment = ""
    elif len(comment) != 1:
        return None
    names = [str(c["name"]) for c in columns]
    if any(str(c["type"]) != "VARCHAR" for c in columns) or len(set(names)) != len(names):
        return None
    return new_line, comment, names


def _open_csv_native(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: SourceOptions,
    *,
    view: str,
    sha256: str,
    encoding: str,
) -> SourceFile:
    first_row = options.skip_rows + (2 if options.header else 1)
    # DuckDB keeps insertion order (preserve_insertion_order), so row_number() over the scan
    # numbers rows as they stand in the file.
    sniffed = None if options.names else _sniff(con, path, options)
    sql = (
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT *, "
        f"CAST(row_number() OVER () + {first_row - 1} AS BIGINT) AS _row "
        f"FROM read_csv({_sql_string(str(path))}, {_csv_args(options, sniffed)})"
    )
    try:
        con.execute(sql)
        described = con.execute(f"SELECT * FROM {view} LIMIT 0").description or []
        columns = tuple(d[0] for d in described)
    except duckdb.Error as exc:
        raise UsageError(
            translatable(
                "{path_name} cannot be read as CSV: {exc}",
                path_name=path.name,
                exc=_first_line(exc),
            )
        ) from exc
    return SourceFile(path, sha256, encoding, "csv", view, tuple(c for c in columns if c != "_row"))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _write_text_batches(batches: Iterator[TextBatch], target: Path) -> tuple[tuple[str, ...], int]:
    """Write batches of text rows to a Parquet file of string columns plus ``_row``."""
    import pyarrow.parquet as pq  # only for files decoded in Python: not at every start

    writer: pq.ParquetWriter | None = None
    names: tuple[str, ...] = ()
    total = 0
    try:
        for batch in batches:
            rows = batch.rows
            if writer is None:
                names = tuple(batch.header)
                schema = pa.schema(
                    [pa.field(n, pa.string()) for n in names] + [("_row", pa.int64())]
                )
                writer = pq.ParquetWriter(target, schema)
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
            arrays = [pa.array(col, type=pa.string()) for col in columns]
            arrays.append(pa.array(batch.row_numbers, type=pa.int64()))
            writer.write_table(pa.Table.from_arrays(arrays, schema=writer.schema))
            total += len(rows)
        if writer is None:
            raise UsageError(
                translatable("{target_name}: the file has no header row", target_name=target.name)
            )
    finally:
        if writer is not None:
            writer.close()
    return names, total


def _decoded_rows(path: Path, options: SourceOptions, encoding: str) -> Iterator[TextBatch]:
    nulls = set(options.null_values)
    try:
        with open(path, encoding=encoding, errors="strict", newline="") as handle:
            for _ in range(options.skip_rows):
                handle.readline()
            reader = csv.reader(handle, delimiter=options.delimiter, quotechar='"', strict=True)
            header = (
                list(options.names) if not options.header else [h.strip() for h in next(reader, [])]
            )
            if not header:
                return
            width = len(header)
            line_offset = options.skip_rows + (1 if options.header else 0)
            batch = TextBatch(header, [], [])
            for index, record in enumerate(reader, start=1):
                row_number = line_offset + index
                if not record:
                    continue  # a blank line: no row, but it keeps its number in the count
                if len(record) != width:
                    raise UsageError(
                        translatable(
                            "{path_name}, row {row_number}: expected {width} fields, found "
                            "{count} [csv.field_count]",
                            path_name=path.name,
                            row_number=row_number,
                            width=width,
                            count=len(record),
                        )
                    )
                batch.rows.append([None if v in nulls else v for v in record])
                batch.row_numbers.append(row_number)
                if len(batch.rows) >= BATCH_ROWS:
                    yield batch
                    batch = TextBatch(header, [], [])
            yield batch
    except UnicodeDecodeError as exc:
        raise UsageError(
            translatable(
                "{path_name} is neither UTF-8 nor {encoding}: undecodable bytes at byte {position}",
                path_name=path.name,
                encoding=encoding.upper(),
                position=exc.start,
            )
        ) from exc
    except csv.Error as exc:
        raise UsageError(
            translatable("{path_name} cannot be read as CSV: {exc}", path_name=path.name, exc=exc)
        ) from exc


def _open_csv_decoded(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: SourceOptions,
    *,
    view: str,
    staging: Path,
    sha256: str,
    encoding: str,
) -> SourceFile:
    staging.mkdir(parents=True, exist_ok=True)
    target = staging / f"{view}.parquet"
    names, rows = _write_text_batches(_decoded_rows(path, options, encoding), target)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS "
        f"SELECT * FROM read_parquet({_sql_string(str(target))})"
    )
    return SourceFile(path, sha256, encoding, "csv", view, names, rows)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Excel keeps numbers as doubles; repr gives the shortest text that reads back the same.
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text


XLSX_FORMULA = "xlsx.formula"
XLSX_NOT_CALCULATED = "xlsx.formula_not_calculated"
XLSX_ERROR_VALUE = "xlsx.error_value"
CELL_PROBLEM_LIMIT = 1000


def _load_workbook(path: Path, *, data_only: bool) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:
        # A file that is not a workbook fails anywhere in openpyxl's parsing (a zip error, an
        # XML error, a missing part, a key or type error on a part it did not expect): every
        # failure means the same thing to the user.
        raise _not_a_workbook(path, exc) from exc


def _not_a_workbook(path: Path, exc: BaseException) -> UsageError:
    return UsageError(
        translatable(
            "{path_name} cannot be read as an XLSX workbook: {exc}",
            path_name=path.name,
            exc=_first_line(exc),
        )
    )


def _sheet_of(path: Path, book: Any, options: SourceOptions) -> Any:
    if options.sheet is not None:
        if options.sheet not in book.sheetnames:
            raise UsageError(
                translatable(
                    "{path_name} has no sheet {options_sheet!r}; sheets: {book_sheetnames}",
                    path_name=path.name,
                    options_sheet=options.sheet,
                    book_sheetnames=", ".join(book.sheetnames),
                )
            )
        sheet = book[options.sheet]
    elif book.worksheets:
        sheet = book.worksheets[0]
    else:
        raise UsageError(translatable("{path_name} has no worksheet", path_name=path.name))
    if not hasattr(sheet, "reset_dimensions"):
        raise UsageError(
            translatable(
                "{path_name}: sheet {sheet_title!r} is a chart, not a worksheet",
                path_name=path.name,
                sheet_title=sheet.title,
            )
        )
    # The size a file declares is not trusted: a tool that writes a wrong one would otherwise
    # have the rows beyond it dropped without a word.
    sheet.reset_dimensions()
    return sheet


def _sheet_rows(path: Path, sheet: Any) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows of cells; a part of the file that does not parse is a ``UsageError``."""
    rows = sheet.iter_rows()
    while True:
        try:
            row = next(rows, None)
        except Exception as exc:  # a truncated or garbled part: see _load_workbook
            raise _not_a_workbook(path, exc) from exc
        if row is None:
            return
        yield row


def _xlsx_rows(path: Path, options: SourceOptions) -> Iterator[TextBatch]:
    """The sheet's rows as text. A cell holding a formula is refused unless the mapping says
    ``formulas: cached`` (then the value it was saved with is read from a second, lockstep
    parse of the same sheet, and a formula saved without a value is refused); an error value
    (#N/A, #DIV/0!) is always refused: both would otherwise be read as some other value."""
    cached = options.formulas == "cached"
    book = _load_workbook(path, data_only=False)
    cached_book = _load_workbook(path, data_only=True) if cached else None
    problems = ProblemList(limit=CELL_PROBLEM_LIMIT)
    try:
        sheet = _sheet_of(path, book, options)
        rows = _sheet_rows(path, sheet)
        cached_rows = (
            _sheet_rows(path, _sheet_of(path, cached_book, options)) if cached_book else None
        )
        nulls = set(options.null_values)

        def next_row() -> tuple[tuple[Any, ...], tuple[Any, ...] | None] | None:
            row = next(rows, None)
            if row is None:
                return None
            return row, (next(cached_rows, ()) if cached_rows is not None else None)

        for _ in range(options.skip_rows):
            next_row()
        if options.header:
            first = next_row()
            if first is None:
                return
            header = [str(c.value).strip() if c.value is not None else "" for c in first[0]]
            while header and header[-1] == "":
                header.pop()
        else:
            header = list(options.names)
        width = len(header)
        line_offset = options.skip_rows + (1 if options.header else 0)
        batch = TextBatch(header, [], [])
        index = 0
        while (pair := next_row()) is not None:
            index += 1
            row_number = line_offset + index
            cells, saved = pair
            if any(c.value is not None for c in cells[width:]):
                raise UsageError(
                    translatable(
                        "{path_name}, row {row_number}: values beyond the last header column",
                        path_name=path.name,
                        row_number=row_number,
                    )
                )
            if all(c.value is None for c in cells[:width]):
                continue
            text: list[str | None] = [None] * width
            for position, cell in enumerate(cells[:width]):
                value = cell.value
                kind = cell.data_type
                if kind == "f":
                    if saved is None:
                        problems.add(_formula_problem(path, row_number, header[position], value))
                        continue
                    saved_cell = saved[position] if position < len(saved) else None
                    value = None if saved_cell is None else saved_cell.value
                    kind = None if saved_cell is None else saved_cell.data_type
                    if value is None:
                        problems.add(
                            Problem(
                                XLSX_NOT_CALCULATED,
                                "the cell holds a formula saved without its value (the file "
                                "was never calculated): open and save it in a spreadsheet "
                                "program first",
                                path.name,
                                row_number,
                                header[position],
                                str(cell.value),
                            )
                        )
                        continue
                if kind == "e":
                    problems.add(
                        Problem(
                            XLSX_ERROR_VALUE,
                            "the cell holds a spreadsheet error value, not data",
                            path.name,
                            row_number,
                            header[position],
                            str(value),
                        )
                    )
                    continue
                text[position] = _cell_text(value)
            batch.rows.append([None if c in nulls else c for c in text])
            batch.row_numbers.append(row_number)
            if len(batch.rows) >= BATCH_ROWS:
                yield batch
                batch = TextBatch(header, [], [])
        if problems:
            raise DataError(
                translatable(
                    "{path_name}: {problems_total} problem(s) found; nothing imported",
                    path_name=path.name,
                    problems_total=problems.total,
                ),
                problems=problems.problems,
                total=problems.total,
            )
        yield batch
    finally:
        book.close()
        if cached_book is not None:
            cached_book.close()


def _formula_problem(path: Path, row_number: int, column: str, formula: object) -> Problem:
    return Problem(
        XLSX_FORMULA,
        "the cell holds a formula, whose saved value may be stale or 0; save the sheet as "
        "values, or say `formulas: cached` in the mapping's `source` to take the saved value",
        path.name,
        row_number,
        column,
        str(formula),
    )


def _open_xlsx(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: SourceOptions,
    *,
    view: str,
    staging: Path,
) -> SourceFile:
    sha256 = sha256_of(path)
    staging.mkdir(parents=True, exist_ok=True)
    target = staging / f"{view}.parquet"
    names, rows = _write_text_batches(_xlsx_rows(path, options), target)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS "
        f"SELECT * FROM read_parquet({_sql_string(str(target))})"
    )
    return SourceFile(path, sha256, None, "xlsx", view, names, rows)


# The bank's time zone: the same as the casework's (``TIME_ZONE`` in ``npldesk.settings``),
# written here because the tape layer does not read Django's settings.
HOME_TIME_ZONE = "Asia/Shanghai"


def _parquet_text(name: str, sql_type: str) -> str:
    """A Parquet column as text. A time-zone-aware timestamp is an instant (Parquet keeps no
    zone, only UTC): it is read as the calendar day and time in the bank's time zone, the day
    its own books show, whatever zone the machine that imports it runs in. (Read in UTC, a
    month-end written as midnight in Beijing would be the day before.)"""
    column = _quote(name)
    if sql_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"CAST(timezone({_sql_string(HOME_TIME_ZONE)}, {column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def _open_parquet(con: duckdb.DuckDBPyConnection, path: Path, *, view: str) -> SourceFile:
    sha256 = sha256_of(path)
    file = _sql_string(str(path))
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({file})").fetchall()
    except duckdb.Error as exc:
        raise UsageError(
            translatable(
                "{path_name} cannot be read as Parquet: {exc}",
                path_name=path.name,
                exc=_first_line(exc),
            )
        ) from exc
    columns = [(str(row[0]), str(row[1])) for row in described]
    if not columns:
        raise UsageError(
            translatable(
                "{path_name} cannot be read as Parquet: it has no columns", path_name=path.name
            )
        )
    casts = ", ".join(f"{_parquet_text(n, t)} AS {_quote(n)}" for n, t in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {casts}, "
        f"CAST(file_row_number + 2 AS BIGINT) AS _row "
        f"FROM read_parquet({file}, file_row_number = true)"
    )
    return SourceFile(path, sha256, None, "parquet", view, tuple(n for n, _t in columns))
