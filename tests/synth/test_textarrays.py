"""Vectorised formatting gives exactly what Python's own formatting gives."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from npldesk.synth.textarrays import compact_date_text, csv_lines, decimal_text, labels

AMOUNTS = st.lists(st.integers(min_value=0, max_value=10**17), min_size=1, max_size=50)


@given(AMOUNTS)
def test_decimal_text_two_places(fen: list[int]) -> None:
    values = np.array(fen, dtype=np.int64)
    plain = decimal_text(values, 2).to_pylist()
    grouped = decimal_text(values, 2, thousands=True).to_pylist()
    for amount, text, text_grouped in zip(fen, plain, grouped, strict=True):
        yuan = Decimal(amount).scaleb(-2)
        assert text == f"{yuan:.2f}"
        assert text_grouped == f"{yuan:,.2f}"


@given(AMOUNTS)
def test_decimal_text_ten_thousands(fen: list[int]) -> None:
    """Fen written in 万元 with six places: exact, since 1 fen is 0.000001 万元."""
    text = decimal_text(np.array(fen, dtype=np.int64), 6).to_pylist()
    for amount, value in zip(fen, text, strict=True):
        assert Decimal(value) * 10_000 == Decimal(amount).scaleb(-2)
        assert len(value.split(".")[1]) == 6


def test_decimal_text_nulls() -> None:
    values = np.array([123456, 0, 5], dtype=np.int64)
    valid = np.array([True, False, True])
    assert decimal_text(values, 2, thousands=True, valid=valid).to_pylist() == [
        "1,234.56",
        None,
        "0.05",
    ]
    assert decimal_text(np.array([], dtype=np.int64), 2).to_pylist() == []


def test_dates_and_labels() -> None:
    days = np.array(["2019-12-31", "2016-02-29", "2000-01-01"], dtype="datetime64[D]")
    assert compact_date_text(days).to_pylist() == ["20191231", "20160229", "20000101"]
    masked = compact_date_text(days, np.array([True, False, True])).to_pylist()
    assert masked == ["20191231", None, "20000101"]
    assert labels(["a", "b"], [1, -1, 0]).to_pylist() == ["b", None, "a"]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(alphabet='ab,"\n 淮北;', max_size=8)),
            st.text(alphabet="0123456789.", max_size=6),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_csv_lines_read_back_with_the_csv_module(rows: list[tuple[str | None, str]]) -> None:
    columns = [pa.array([row[0] for row in rows], pa.string()), pa.array([row[1] for row in rows])]
    text = csv_lines(columns).to_pybytes().decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed == [[row[0] or "", row[1]] for row in rows]
