"""Properties of import over random tapes: a valid file comes back from the store exactly as
written, and a file with one corrupted cell is rejected with that cell's row, column and rule.

Each example writes its files to a fresh temporary folder (pytest's ``tmp_path`` lives for a
whole test, not for one example).
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npldesk.core.months import month_end
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.schema import (
    BORROWER_TYPES,
    BY_NAME,
    CLASSES,
    COLLATERAL_TYPES,
    COLUMN_NAMES,
    EXIT_STATUSES,
    Kind,
)
from npldesk.tape.store import Store
from tests.tape.conftest import import_rejected, problem_keys, stored_rows
from tests.tape_factory import ORG_ROWS, write_csv, write_org

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ORG_CODES = [unit["code"] for unit in ORG_ROWS]
FIRST_ROW = 2  # the header is row 1

MONEY_COLUMNS = [c for c in COLUMN_NAMES if BY_NAME[c].kind is Kind.MONEY]
DATE_COLUMNS = [c for c in COLUMN_NAMES if BY_NAME[c].kind is Kind.DATE]
ENUM_COLUMNS = [c for c in COLUMN_NAMES if BY_NAME[c].kind is Kind.ENUM]
BOOL_COLUMNS = [c for c in COLUMN_NAMES if BY_NAME[c].kind is Kind.BOOL]
REQUIRED_COLUMNS = [c for c in COLUMN_NAMES if BY_NAME[c].required]
TERMINAL_STATUSES = ["repaid", *EXIT_STATUSES]


@contextlib.contextmanager
def fresh_store() -> Iterator[tuple[Store, Path]]:
    """A new store with the test organisation tree, in a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="npldesk-prop-") as folder:
        root = Path(folder)
        store = Store(root / "store")
        import_org(store, write_org(root / "org_units.csv"), user="tester")
        yield store, root


# -- strategies for valid canonical rows ---------------------------------------------------------

# Commas, both quote characters, a backslash, '#' and Chinese inside fields; no line breaks (they
# would be valid CSV, but this property is about values, not about row numbering). Text is
# trimmed on import, so generated text has no spaces at its ends.
TEXT_CHARACTERS = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
    st.sampled_from("abcXYZ0189 ,;\"'#\\-_/()（）。，、"),
)
texts = st.text(TEXT_CHARACTERS, min_size=1, max_size=12).map(str.strip).filter(bool)
optional_texts = st.none() | texts

month_ends = st.dates(date(2000, 1, 1), date(2035, 12, 1)).map(month_end)
cents = st.integers(0, 10**14 - 1)  # below 10^12 yuan


def money_text(amount: Decimal, style: str) -> str:
    if style == "short":  # "1200.5", "1200": what a spreadsheet writes
        text = f"{amount:.2f}".rstrip("0").rstrip(".")
        return text or "0"
    return f"{amount:.2f}"


def amount_of(cent_count: int) -> Decimal:
    return Decimal(cent_count).scaleb(-2)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_character(first17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


id_numbers = st.text("0123456789", min_size=17, max_size=17).map(
    lambda digits: digits + id_check_character(digits)
)
BOOL_WORDS = {
    True: ["true", "TRUE", "t", "1", "yes", "Y", "是"],
    False: ["false", "False", "f", "0", "no", "N", "否"],
}


@dataclass
class TapeRow:
    """One generated row: the cells written to the file and the canonical values they mean."""

    text: dict[str, str]
    value: dict[str, Any]


@st.composite
def tape_rows(draw: st.DrawFn, *, min_rows: int = 1, max_rows: int = 8) -> list[TapeRow]:
    """A valid snapshot: one as_of, unique loan ids, one borrower type per borrower."""
    as_of = draw(month_ends)
    count = draw(st.integers(min_rows, max_rows))
    loan_ids = draw(st.lists(texts, min_size=count, max_size=count, unique=True))
    borrowers = draw(st.lists(texts, min_size=1, max_size=count, unique=True))
    borrower_types = {b: draw(st.none() | st.sampled_from(BORROWER_TYPES)) for b in borrowers}
    rows = []
    for loan_id in loan_ids:
        borrower = draw(st.sampled_from(borrowers))
        rows.append(draw(tape_row(as_of, loan_id, borrower, borrower_types[borrower])))
    return rows


def _optional(
    draw: st.DrawFn,
    text: dict[str, str],
    value: dict[str, Any],
    column: str,
    strategy: st.SearchStrategy[Any],
    show: Callable[[Any], str] = str,
) -> None:
    """An optional column: empty in the file and NULL in the store, or a drawn value."""
    drawn = draw(st.none() | strategy)
    text[column] = "" if drawn is None else show(drawn)
    value[column] = drawn


@st.composite
def tape_row(
    draw: st.DrawFn, as_of: date, loan_id: str, borrower: str, borrower_type: str | None
) -> TapeRow:
    style = draw(st.sampled_from(["fixed", "short"]))
    text: dict[str, str] = {"as_of": as_of.isoformat(), "loan_id": loan_id, "borrower_id": borrower}
    value: dict[str, Any] = {"as_of": as_of, "loan_id": loan_id, "borrower_id": borrower}
    for column in ("borrower_name", "phone", "officer_id", "guarantor_ids"):
        _optional(draw, text, value, column, texts)
    text["borrower_type"] = borrower_type or ""
    value["borrower_type"] = borrower_type or "retail"
    retail = value["borrower_type"] == "retail"
    _optional(draw, text, value, "id_number", id_numbers if retail else texts)
    text["org_unit"] = value["org_unit"] = draw(st.sampled_from(ORG_CODES))
    text["product"] = value["product"] = draw(texts)

    origination = draw(st.dates(date(1990, 1, 1), as_of))
    maturity = draw(st.dates(origination, date(2060, 12, 31)))
    for column, day in (("origination_date", origination), ("maturity_date", maturity)):
        text[column], value[column] = day.isoformat(), day

    status = draw(st.sampled_from([None, "active", "repaid"]))
    text["status"] = status or ""
    value["status"] = status or "active"
    balance = 0 if status == "repaid" else draw(cents)
    overdue = draw(st.none() | st.integers(0, balance))
    for column, amount in (
        ("original_amount", draw(cents)),
        ("principal_balance", balance),
        ("overdue_principal", overdue),
    ):
        text[column] = "" if amount is None else money_text(amount_of(amount), style)
        value[column] = amount_of(0 if amount is None else amount)
    interest = draw(st.none() | cents)
    text["overdue_interest"] = "" if interest is None else money_text(amount_of(interest), style)
    value["overdue_interest"] = amount_of(interest or 0)
    for column in ("collateral_value", "provision", "exit_amount"):
        _optional(draw, text, value, column, cents.map(amount_of), lambda a: money_text(a, style))

    days = draw(st.integers(0, 5000))
    text["days_past_due"], value["days_past_due"] = str(days), days
    _optional(draw, text, value, "reported_class", st.sampled_from(CLASSES))
    collateral = draw(st.none() | st.sampled_from(COLLATERAL_TYPES))
    text["collateral_type"], value["collateral_type"] = collateral or "", collateral or "none"

    for column in ("restructured", "credit_impaired"):
        flag = draw(st.none() | st.booleans())
        text[column] = "" if flag is None else draw(st.sampled_from(BOOL_WORDS[flag]))
        value[column] = bool(flag)
    restructure_dates = st.dates(date(1990, 1, 1), as_of)
    if value["restructured"]:
        restructured_on = draw(restructure_dates)
        text["restructure_date"], value["restructure_date"] = (
            restructured_on.isoformat(),
            restructured_on,
        )
    else:
        _optional(draw, text, value, "restructure_date", restructure_dates, date.isoformat)
    assert set(text) == set(COLUMN_NAMES) == set(value)
    return TapeRow(text, value)


# -- valid rows survive the round trip -------------------------------------------------------------


@SETTINGS
@given(rows=tape_rows())
def test_valid_rows_come_back_exactly(rows: list[TapeRow]):
    as_of = rows[0].value["as_of"]
    with fresh_store() as (store, folder):
        source = write_csv(folder / "tape.csv", [row.text for row in rows])
        import_files(store, [source], ImportOptions())
        stored = stored_rows(store, as_of)
    assert len(stored) == len(rows)
    for number, (row, back) in enumerate(zip(rows, stored, strict=True), start=FIRST_ROW):
        for column in COLUMN_NAMES:
            expected, actual = row.value[column], back[column]
            assert actual == expected, (number, column, row.text[column], actual)
            assert type(actual) is type(expected), (number, column, actual)


# -- a corrupted cell is found ---------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]
Corruption = Callable[[Draw, list[TapeRow]], tuple[int, str, str]]
CORRUPTIONS: dict[str, Corruption] = {}


def corruption(function: Corruption) -> Corruption:
    """Register a corruption: it changes one cell (or a few of one row) of a valid tape and
    returns (row index, column, rule) of the problem import must report."""
    CORRUPTIONS[function.__name__] = function
    return function


def _pick(draw: Draw, rows: list[TapeRow]) -> tuple[int, dict[str, str], dict[str, Any]]:
    index = draw(st.integers(0, len(rows) - 1))
    return index, rows[index].text, rows[index].value


@corruption
def not_a_date(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(DATE_COLUMNS))
    text[column] = draw(st.sampled_from(["2019-02-30", "31/12/2019", "yesterday", "2019-13-31"]))
    return index, column, "type.date"


@corruption
def letters_in_money(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(MONEY_COLUMNS))
    text[column] = draw(st.sampled_from(["12a.00", "abc", "1O0.00", "1e5", "¥5", "1,000"]))
    return index, column, "type.money"


@corruption
def three_decimal_places(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(MONEY_COLUMNS))
    thousandths = draw(cents) * 10 + draw(st.integers(1, 9))
    text[column] = f"{Decimal(thousandths).scaleb(-3):.3f}"
    return index, column, "type.money"


@corruption
def money_too_large(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(MONEY_COLUMNS))
    text[column] = str(draw(st.integers(10**16, 10**40)))
    return index, column, "type.money"


@corruption
def negative_money(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(MONEY_COLUMNS))
    text[column] = "-" + money_text(amount_of(draw(st.integers(1, 10**14))), "fixed")
    return index, column, "range.negative"


@corruption
def not_a_whole_number(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    text["days_past_due"] = draw(st.sampled_from(["1.5", "abc", "12 days", "1e2", "3000000000"]))
    return index, "days_past_due", "type.integer"


@corruption
def negative_days(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    text["days_past_due"] = str(-draw(st.integers(1, 5000)))
    return index, "days_past_due", "range.negative"


@corruption
def not_yes_or_no(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(BOOL_COLUMNS))
    text[column] = draw(st.sampled_from(["maybe", "2", "ja", "对"]))
    return index, column, "type.bool"


@corruption
def unknown_choice(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(ENUM_COLUMNS))
    text[column] = draw(st.sampled_from(["unknown", "Active", "RETAIL", "次级", "n/a"]))
    return index, column, "enum"


@corruption
def empty_required(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    column = draw(st.sampled_from(REQUIRED_COLUMNS))
    text[column] = draw(st.sampled_from(["", " ", "   "]))
    return index, column, "required"


@corruption
def unknown_unit(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    text["org_unit"] = "ZZ" + draw(st.text("0123456789", min_size=1, max_size=4))
    return index, "org_unit", "org_unit.known"


@corruption
def duplicate_loan_id(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    # The second occurrence is the one reported, so the copy goes to a later row.
    index = draw(st.integers(1, len(rows) - 1))
    earlier = draw(st.integers(0, index - 1))
    rows[index].text["loan_id"] = rows[earlier].text["loan_id"]
    return index, "loan_id", "loan_id.unique"


@corruption
def matures_before_origination(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, value = _pick(draw, rows)
    days = draw(st.integers(1, 3000))
    text["maturity_date"] = (value["origination_date"] - timedelta(days=days)).isoformat()
    return index, "maturity_date", "dates.maturity_before_origination"


@corruption
def originated_after_as_of(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, value = _pick(draw, rows)
    origination = value["as_of"] + timedelta(days=draw(st.integers(1, 400)))
    text["origination_date"] = origination.isoformat()
    text["maturity_date"] = max(origination, value["maturity_date"]).isoformat()
    return index, "origination_date", "dates.origination_after_as_of"


@corruption
def not_a_month_end(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, value = _pick(draw, rows)
    text["as_of"] = (value["as_of"] - timedelta(days=draw(st.integers(1, 27)))).isoformat()
    return index, "as_of", "as_of.month_end"


@corruption
def overdue_above_balance(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, value = _pick(draw, rows)
    excess = amount_of(draw(st.integers(1, 10**12)))
    text["overdue_principal"] = money_text(value["principal_balance"] + excess, "fixed")
    return index, "overdue_principal", "overdue.exceeds_balance"


@corruption
def terminal_with_balance(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, value = _pick(draw, rows)
    text["status"] = draw(st.sampled_from(TERMINAL_STATUSES))
    text["principal_balance"] = money_text(
        max(value["principal_balance"], value["overdue_principal"], Decimal("0.01")), "fixed"
    )
    return index, "principal_balance", "terminal.balance_not_zero"


@corruption
def exit_amount_missing(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    text["status"] = draw(st.sampled_from(EXIT_STATUSES))
    text["principal_balance"] = text["overdue_principal"] = "0"
    text["exit_amount"] = ""
    return index, "exit_amount", "terminal.exit_amount_required"


@corruption
def restructured_without_date(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    text["restructured"] = draw(st.sampled_from(BOOL_WORDS[True]))
    text["restructure_date"] = ""
    return index, "restructure_date", "restructure.date_required"


@corruption
def wrong_check_digit(draw: Draw, rows: list[TapeRow]) -> tuple[int, str, str]:
    index, text, _ = _pick(draw, rows)
    digits = draw(st.text("0123456789", min_size=17, max_size=17))
    right = id_check_character(digits)
    text["borrower_type"] = "retail"
    text["id_number"] = digits + draw(st.sampled_from([c for c in "0123456789X" if c != right]))
    return index, "id_number", "id_number.check_digit"


@SETTINGS
@given(
    rows=tape_rows(min_rows=2, max_rows=10),
    name=st.sampled_from(sorted(CORRUPTIONS)),
    data=st.data(),
)
def test_corrupted_cell_is_reported_and_nothing_imported(
    rows: list[TapeRow], name: str, data: st.DataObject
):
    rows = copy.deepcopy(rows)
    index, column, rule = CORRUPTIONS[name](data.draw, rows)
    with fresh_store() as (store, folder):
        source = write_csv(folder / "tape.csv", [row.text for row in rows])
        error = import_rejected(store, [source])
        assert store.months() == []
    found = problem_keys(error)
    assert ("tape.csv", index + FIRST_ROW, column, rule) in found, [
        p.describe() for p in error.problems
    ]
