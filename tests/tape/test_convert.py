"""Conversion of a mapping's text to canonical values: the span of dates npldesk takes and
amounts written with more decimal places than they carry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npldesk.core.errors import UsageError
from npldesk.tape.convert import EARLIEST, LATEST
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import parse_mapping
from npldesk.tape.schema import COLUMN_NAMES
from npldesk.tape.store import Store
from tests.tape.conftest import import_rejected, problem_keys, stored_rows
from tests.tape_factory import loan_rows, write_csv

DEC = date(2019, 12, 31)


@pytest.mark.parametrize(
    ("column", "text"),
    [
        pytest.param("origination_date", "0000-01-01", id="year-0"),
        pytest.param("origination_date", "0001-01-01", id="year-1"),
        pytest.param("origination_date", "0044-03-15 (BC)", id="bc-as-duckdb-writes-it"),
        pytest.param("origination_date", "-0044-03-15", id="bc-with-a-sign"),
        pytest.param("origination_date", "1899-12-31", id="before-1900"),
        pytest.param("maturity_date", "2201-01-01", id="after-2200"),
        pytest.param("maturity_date", "9999-12-31", id="no-maturity-as-9999"),
        pytest.param("restructure_date", "0000-02-29", id="optional-column"),
    ],
)
def test_a_date_outside_the_span_is_refused_with_its_row_and_column(
    store: Store, tmp_path: Path, column: str, text: str
):
    rows = loan_rows(3)
    rows[1][column] = text
    error = import_rejected(store, [write_csv(tmp_path / "d.csv", rows)])
    assert problem_keys(error) == {("d.csv", 3, column, "type.date")}
    assert error.problems[0].value == text
    assert f"from {EARLIEST} to {LATEST}" in error.problems[0].message


def test_the_first_and_last_days_of_the_span_are_dates(store: Store, tmp_path: Path):
    rows = loan_rows(1, origination_date=EARLIEST.isoformat(), maturity_date=LATEST.isoformat())
    import_files(store, [write_csv(tmp_path / "d.csv", rows)], ImportOptions())
    [row] = stored_rows(store, DEC)
    assert (row["origination_date"], row["maturity_date"]) == (EARLIEST, LATEST)


def test_a_date_in_another_format_outside_the_span_is_refused(store: Store, tmp_path: Path):
    """Formats other than ISO take the general conversion, not the fast path's shortcut."""
    rows = loan_rows(2, origination_date="00000101")
    rows[0]["origination_date"] = "20180315"
    source = write_csv(tmp_path / "d.csv", rows)
    text = "columns:\n" + "".join(f"  {c}: {c}\n" for c in COLUMN_NAMES if c != "origination_date")
    mapping = parse_mapping(text + "  origination_date: {from: origination_date, date: '%Y%m%d'}\n")
    error = import_rejected(store, [source], ImportOptions(mapping=mapping))
    assert problem_keys(error) == {("d.csv", 3, "origination_date", "type.date")}


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("1234.5600", Decimal("1234.56")),
        ("1234.5000", Decimal("1234.50")),
        ("1234.0000", Decimal("1234.00")),
        ("80000.000000", Decimal("80000.00")),
    ],
)
def test_an_amount_with_zeros_beyond_the_fen_is_taken(
    store: Store, tmp_path: Path, text: str, stored: Decimal
):
    rows = loan_rows(2, principal_balance=text)
    import_files(store, [write_csv(tmp_path / "m.csv", rows)], ImportOptions())
    assert [r["principal_balance"] for r in stored_rows(store, DEC)] == [stored, stored]


@pytest.mark.parametrize("text", ["1234.5678", "1234.5610", "1234.001", "0.0001"])
def test_an_amount_with_fractions_of_a_fen_is_reported_on_its_row(
    store: Store, tmp_path: Path, text: str
):
    rows = loan_rows(3, principal_balance="1234.5600")
    rows[1]["principal_balance"] = text
    error = import_rejected(store, [write_csv(tmp_path / "m.csv", rows)])
    assert problem_keys(error) == {("m.csv", 3, "principal_balance", "type.money")}


@pytest.mark.parametrize("fmt", ["%Q", "%Y-%m-%", "%"])
def test_a_date_format_that_is_not_one_is_named_with_its_column(
    store: Store, tmp_path: Path, fmt: str
):
    text = "columns:\n" + "".join(f"  {c}: {c}\n" for c in COLUMN_NAMES if c != "maturity_date")
    mapping = parse_mapping(
        text + f"  maturity_date: {{from: maturity_date, date: ['iso', '{fmt}']}}\n"
    )
    source = write_csv(tmp_path / "d.csv", loan_rows(2))
    with pytest.raises(UsageError, match=f"date format '{fmt}' for maturity_date is not a format"):
        import_files(store, [source], ImportOptions(mapping=mapping))
