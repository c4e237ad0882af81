"""Table writers that append block after block to one open file: CSV, Parquet, XLSX."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from npldesk.core.errors import UsageError
from npldesk.synth.textarrays import csv_line, csv_lines

# Excel's sheet limit is 1,048,576 rows, the header included.
XLSX_MAX_DATA_ROWS = 1_048_575
# Text is built this many rows at a time, so formatting needs little memory beside the block.
SLICE_ROWS = 32_768


class TableWriter(Protocol):
    """One output file that receives tables of the same columns, in order."""

    path: Path
    rows: int

    def write(self, table: pa.Table) -> None:
        """Append the table's rows."""

    def close(self) -> None:
        """Finish the file."""


class CsvTableWriter:
    """CSV with a header line; every value written as text, nulls as empty fields."""

    def __init__(self, path: Path, schema: pa.Schema, *, encoding: str = "utf-8") -> None:
        self.path = path
        self.rows = 0
        self._encoding = encoding
        self._handle = path.open("wb")
        self._handle.write(self._encode(csv_line(schema.names)))

    def _encode(self, data: bytes | pa.Buffer) -> bytes | pa.Buffer:
        if self._encoding == "utf-8":
            return data
        return str(memoryview(data), "utf-8").encode(self._encoding)

    def write(self, table: pa.Table) -> None:
        """Append the table's rows as CSV lines."""
        for part in _slices(table):
            columns = [column.combine_chunks().cast(pa.string()) for column in part.columns]
            self._handle.write(self._encode(csv_lines(columns)))
        self.rows += table.num_rows

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


class ParquetTableWriter:
    """Parquet with a fixed schema; each table becomes a row group."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.rows = 0
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        """Append the table as one row group."""
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        """Write the footer and close."""
        self._writer.close()


class XlsxTableWriter:
    """One worksheet, header in row 1, every value a text cell (nulls left blank)."""

    def __init__(self, path: Path, schema: pa.Schema, *, sheet: str) -> None:
        self.path = path
        self.rows = 0
        self._workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self._sheet = self._workbook.add_worksheet(sheet)
        for column, name in enumerate(schema.names):
            self._sheet.write_string(0, column, name)

    def write(self, table: pa.Table) -> None:
        """Append the table's rows, refusing to pass Excel's row limit."""
        if self.rows + table.num_rows > XLSX_MAX_DATA_ROWS:
            raise UsageError(
                f"{self.path.name}: more than {XLSX_MAX_DATA_ROWS:,} rows do not fit in one "
                "Excel sheet; write csv or parquet instead"
            )
        write_string = self._sheet.write_string
        row = self.rows
        for part in _slices(table):
            columns = [column.cast(pa.string()).to_pylist() for column in part.columns]
            for values in zip(*columns, strict=True):
                row += 1
                for column, value in enumerate(values):
                    if value is not None:
                        write_string(row, column, value)
        self.rows += table.num_rows

    def close(self) -> None:
        """Write the workbook."""
        self._workbook.close()


def _slices(table: pa.Table) -> list[pa.Table]:
    """Zero-copy slices of at most ``SLICE_ROWS`` rows."""
    return [table.slice(start, SLICE_ROWS) for start in range(0, table.num_rows, SLICE_ROWS)]


def open_writer(path: Path, schema: pa.Schema, file_format: str, *, encoding: str) -> TableWriter:
    """A writer for ``file_format`` (csv | parquet | xlsx); ``encoding`` applies to CSV only."""
    if file_format == "csv":
        return CsvTableWriter(path, schema, encoding=encoding)
    if file_format == "parquet":
        return ParquetTableWriter(path, schema)
    if file_format == "xlsx":
        return XlsxTableWriter(path, schema, sheet=path.stem)
    raise UsageError(f"unknown file format {file_format!r}: expected csv, parquet or xlsx")


class WriterSet:
    """Writers closed together, also when generation stops half way."""

    def __init__(self) -> None:
        self.writers: list[TableWriter] = []

    def add(self, writer: TableWriter) -> TableWriter:
        """Keep ``writer`` to close it on exit."""
        self.writers.append(writer)
        return writer

    def __enter__(self) -> WriterSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for writer in self.writers:
            writer.close()
