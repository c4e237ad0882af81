"""Vectorised text: numbers, dates and CSV lines built as Arrow string arrays, never row by row.

Formatting is the hot path of the generator (tens of millions of cells), so every function here
works on whole NumPy arrays and builds the Arrow buffers directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]

_POW10: IntArray = 10 ** np.arange(19, dtype=np.int64)
_ZERO = ord("0")
# A field needs quoting in CSV when it holds the delimiter, a quote or a line break (RFC 4180).
_CSV_SPECIAL_BYTES = tuple(ord(char) for char in ',"\r\n')


def _validity_buffer(valid: BoolArray | None) -> pa.Buffer | None:
    if valid is None or bool(valid.all()):
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def _string_array(
    lengths: IntArray, data: npt.NDArray[np.uint8], valid: BoolArray | None
) -> pa.Array:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(
        pa.large_string(),
        len(lengths),
        [_validity_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(data)],
    ).cast(pa.string())


def digit_matrix(values: npt.ArrayLike, width: int) -> npt.NDArray[np.uint8]:
    """ASCII digits of non-negative integers, zero-padded to ``width``: shape (n, width)."""
    rest = np.asarray(values, dtype=np.int64)
    chars = np.empty((len(rest), width), dtype=np.uint8)
    for column in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        chars[:, column] = _ZERO + digit
    return chars


def fixed_width_text(chars: npt.NDArray[np.uint8]) -> pa.Array:
    """An Arrow string array from an (n, width) matrix of ASCII codes."""
    count, width = chars.shape
    lengths = np.full(count, width, dtype=np.int64)
    return _string_array(lengths, np.ascontiguousarray(chars).reshape(-1), None)


def decimal_text(
    units: npt.ArrayLike,
    places: int,
    *,
    thousands: bool = False,
    valid: BoolArray | None = None,
) -> pa.Array:
    """Non-negative integers of 10^-places as decimals: 123450, 2 → "1234.50" ("1,234.50")."""
    values = np.asarray(units, dtype=np.int64)
    count = len(values)
    if count == 0:
        return pa.array([], pa.string())
    if int(values.min()) < 0:
        raise ValueError("decimal_text formats non-negative amounts only")
    scale = int(_POW10[places])
    whole = values // scale
    fraction = values % scale
    digits = np.maximum(np.searchsorted(_POW10, whole, side="right"), 1).astype(np.int64)
    separators = (digits - 1) // 3 if thousands else np.zeros(count, dtype=np.int64)
    tail = places + 1 if places else 0
    lengths = digits + separators + tail
    width = int(lengths.max())
    if valid is not None:
        lengths = np.where(valid, lengths, 0)
    chars = np.zeros((count, width), dtype=np.uint8)
    rest = fraction
    for place in range(places):
        rest, digit = np.divmod(rest, 10)
        chars[:, width - 1 - place] = _ZERO + digit
    if places:
        chars[:, width - 1 - places] = ord(".")
    rest = whole
    for position in range(width - tail):
        column = width - 1 - tail - position
        if thousands and position % 4 == 3:
            chars[:, column] = ord(",")
        else:
            rest, digit = np.divmod(rest, 10)
            chars[:, column] = _ZERO + digit
    keep = np.arange(width)[None, :] >= (width - lengths)[:, None]
    return _string_array(lengths, chars[keep], valid)


def integer_text(values: npt.ArrayLike) -> pa.Array:
    """Integers as decimal strings (``95``)."""
    return pa.array(np.asarray(values)).cast(pa.string())


def compact_date_text(days: DateArray, valid: BoolArray | None = None) -> pa.Array:
    """Dates as ``%Y%m%d`` strings (``20191231``); invalid positions are null."""
    if valid is not None:
        days = np.where(valid, days, np.datetime64("2000-01-01", "D"))
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month_numbers = months.astype(np.int64) % 12 + 1
    day_numbers = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    stamp = years * 10_000 + month_numbers * 100 + day_numbers
    text = fixed_width_text(digit_matrix(stamp, 8))
    if valid is None or bool(valid.all()):
        return text
    return pc.if_else(pa.array(valid), text, pa.scalar(None, pa.string()))


def labels(values: Sequence[str], codes: npt.ArrayLike) -> pa.Array:
    """``values[code]`` for every code; a negative code gives null."""
    indices = np.asarray(codes, dtype=np.int64)
    valid = indices >= 0
    taken = pa.array(list(values), pa.string()).take(
        pa.array(np.where(valid, indices, 0), mask=~valid)
    )
    return taken


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays (and literal strings); null if any is null."""
    return pc.binary_join_element_wise(*parts, "")


def csv_field(column: pa.Array) -> pa.Array:
    """A string column made safe for CSV: values holding , " or a line break are quoted."""
    # Most columns hold no such byte at all: one pass over the bytes says so.
    data = np.frombuffer(values_buffer(column), dtype=np.uint8)
    present = [chr(byte) for byte in _CSV_SPECIAL_BYTES if bool((data == byte).any())]
    if not present:
        return column
    needs = pc.match_substring(column, present[0])
    for char in present[1:]:
        needs = pc.or_(needs, pc.match_substring(column, char))
    escaped = pc.replace_substring(column, '"', '""') if '"' in present else column
    return pc.if_else(needs, concat('"', escaped, '"'), column)


def csv_lines(columns: Sequence[pa.Array]) -> pa.Buffer:
    """The CSV lines (``\\n``-terminated, UTF-8) of string columns; nulls become empty fields."""
    if not columns or len(columns[0]) == 0:
        return pa.py_buffer(b"")
    fields = [csv_field(column) for column in columns]
    fields[-1] = concat(pc.fill_null(fields[-1], ""), "\n")
    joined = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    return values_buffer(joined)


def values_buffer(array: pa.Array) -> pa.Buffer:
    """The values of a string array back to back, as a zero-copy slice of its data buffer."""
    width = 8 if pa.types.is_large_string(array.type) else 4
    offsets = np.frombuffer(
        array.buffers()[1],
        dtype=np.int64 if width == 8 else np.int32,
        count=len(array) + 1,
        offset=array.offset * width,
    )
    data = array.buffers()[2]
    if data is None:
        return pa.py_buffer(b"")
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def csv_line(values: Sequence[str]) -> bytes:
    """One CSV line from Python strings (headers): quoted only where needed, UTF-8."""
    return csv_lines([pa.array([value], pa.string()) for value in values]).to_pybytes()
