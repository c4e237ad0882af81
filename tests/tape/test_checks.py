"""The ID-number rule has two forms, SQL (names the rows) and numpy (the fast path's check):
they must agree on every value."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npldesk.tape.checks import ID_CHECK_CHARS, ID_WEIGHTS, id_number_valid_sql, id_numbers_valid


def _with_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK_CHARS[total % 11]


VALID = _with_check_digit("34060219800101001")
EDGE_VALUES = [
    VALID,
    VALID.lower(),
    _with_check_digit("34062119701231001"),
    "34062119701231001x",
    "34062119701231001X",
    "340602800101001",  # legacy, 15 digits
    "34060280010100",
    "3406028001010011",
    "34060219800101001",
    VALID + "0",
    VALID[:-1] + ("1" if VALID[-1] != "1" else "2"),
    " " + VALID[1:],
    VALID[:-1] + " ",
    "/" + VALID[1:],  # the byte below '0'
    ":" + VALID[1:],  # the byte above '9'
    "３" + VALID[1:],  # a full-width digit: 18 characters, more bytes
    "٣40602800101001",
    "",
    "abc",
    "91340600MA2N0XXX1X",  # an organisation code (letters), never a valid personal ID
    "X" * 18,
    "0" * 18,
    "0" * 17 + "1",
    "0" * 15,
]


def _sql_valid(values: list[str]) -> list[bool]:
    con = duckdb.connect()
    table = pa.table({"id": pa.array(values, type=pa.string())})
    con.register("ids", table)
    return [
        row[0] for row in con.execute(f"SELECT {id_number_valid_sql('id')} FROM ids").fetchall()
    ]


@pytest.mark.parametrize("value", EDGE_VALUES)
def test_numpy_and_sql_agree_on_edge_values(value: str):
    assert id_numbers_valid(pa.array([value])) == _sql_valid([value])[0]


digits = st.text("0123456789", min_size=0, max_size=20)
near_ids = st.one_of(
    digits,
    st.text("0123456789", min_size=17, max_size=17).map(_with_check_digit),
    st.text("0123456789", min_size=17, max_size=17).flatmap(
        lambda first: st.sampled_from("0123456789Xx").map(lambda last: first + last)
    ),
    st.text(min_size=14, max_size=19),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(near_ids, min_size=1, max_size=8))
def test_numpy_and_sql_agree(values: list[str]):
    expected = all(_sql_valid(values))
    assert id_numbers_valid(pa.array(values)) == expected
    # Chunked, sliced (a non-zero offset), large offsets and NULLs (not looked at).
    chunked = pa.chunked_array([pa.array(values[:1]), pa.array([None, *values, None]).slice(1)])
    assert id_numbers_valid(chunked) == expected
    assert id_numbers_valid(pa.array(values, type=pa.large_string())) == expected


def test_empty_and_null_only_columns_are_valid():
    assert id_numbers_valid(pa.array([], type=pa.string()))
    assert id_numbers_valid(pa.array([None, None], type=pa.string()))
    assert id_numbers_valid(pa.chunked_array([], type=pa.string()))
