"""Every rule import enforces, one real file each: the bad row is reported by file, spreadsheet
row, column and rule, and nothing is imported. Then the converters a mapping offers, problems
found in bulk, and the cross-snapshot warnings that do not stop an import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import npldesk.tape.importer.staging as importer_staging
from npldesk.core.errors import NpldeskError, Severity, UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import load_mapping
from npldesk.tape.schema import COLUMN_NAMES
from npldesk.tape.store import Store
from tests.tape.conftest import import_rejected, problem_keys, problem_total, stored_rows
from tests.tape_factory import loan_rows, write_csv

OCT = date(2019, 10, 31)
NOV = date(2019, 11, 30)
DEC = date(2019, 12, 31)
JAN = date(2020, 1, 31)
ROWS = 12
BAD_INDEX = 5  # the sixth data row …
BAD_ROW = 7  # … is row 7 as a spreadsheet shows it: the header is row 1
BAD_LOAN = "L000006"


def tape_with_bad_row(
    tmp_path: Path,
    overrides: dict[str, str],
    *,
    name: str = "tape.csv",
    as_of: date = DEC,
) -> Path:
    """``ROWS`` valid rows of month ``as_of`` with ``overrides`` applied to row ``BAD_ROW``."""
    rows = loan_rows(ROWS, as_of)
    rows[BAD_INDEX].update(overrides)
    return write_csv(tmp_path / name, rows)


def write_mapping(path: Path, mapping: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def canonical_mapping(**rules: Any) -> dict[str, Any]:
    """A mapping that reads every canonical column from its own name, but for ``rules``."""
    columns: dict[str, Any] = {name: name for name in COLUMN_NAMES}
    columns.update(rules)
    return {"mapping": 1, "name": "canonical-test", "columns": columns}


# -- one bad row, canonical columns ----------------------------------------------------------------

MONEY_COLUMNS = (
    "original_amount",
    "principal_balance",
    "overdue_principal",
    "overdue_interest",
    "collateral_value",
    "provision",
    "exit_amount",
)
REQUIRED_COLUMNS = (
    "as_of",
    "loan_id",
    "borrower_id",
    "org_unit",
    "product",
    "origination_date",
    "maturity_date",
    "original_amount",
    "principal_balance",
    "days_past_due",
)


def case(overrides: dict[str, str], *expected: tuple[str, str], id: str) -> Any:
    return pytest.param(overrides, set(expected), id=id)


ROW_CASES = [
    # type.date
    case({"as_of": "2019-13-31"}, ("as_of", "type.date"), id="type.date-as_of"),
    case(
        {"origination_date": "2018-02-30"},
        ("origination_date", "type.date"),
        id="type.date-impossible-day",
    ),
    case({"maturity_date": "15/03/2023"}, ("maturity_date", "type.date"), id="type.date-dmy"),
    case(
        {"restructure_date": "yesterday"},
        ("restructure_date", "type.date"),
        id="type.date-restructure_date",
    ),
    # type.money: not a number, too many places, overflow, what DuckDB's cast alone would accept
    case({"original_amount": "abc"}, ("original_amount", "type.money"), id="type.money-letters"),
    case(
        {"principal_balance": "80000.001"},
        ("principal_balance", "type.money"),
        id="type.money-three-places",
    ),
    case(
        {"provision": "10000000000000000.00"},
        ("provision", "type.money"),
        id="type.money-overflow",
    ),
    case(
        {"collateral_value": "1" + "0" * 40},
        ("collateral_value", "type.money"),
        id="type.money-overflow-40-digits",
    ),
    case({"overdue_interest": "1e3"}, ("overdue_interest", "type.money"), id="type.money-exponent"),
    case({"exit_amount": "1_000"}, ("exit_amount", "type.money"), id="type.money-underscore"),
    case(
        {"overdue_principal": "1,000.00"},
        ("overdue_principal", "type.money"),
        id="type.money-separator-without-mapping",
    ),
    case({"provision": "¥100"}, ("provision", "type.money"), id="type.money-currency-sign"),
    # type.integer
    case({"days_past_due": "abc"}, ("days_past_due", "type.integer"), id="type.integer-letters"),
    case({"days_past_due": "1.5"}, ("days_past_due", "type.integer"), id="type.integer-fraction"),
    case(
        {"days_past_due": "3000000000"},
        ("days_past_due", "type.integer"),
        id="type.integer-overflow",
    ),
    case({"days_past_due": "0x10"}, ("days_past_due", "type.integer"), id="type.integer-hex"),
    # type.bool
    case({"restructured": "maybe"}, ("restructured", "type.bool"), id="type.bool-restructured"),
    case({"credit_impaired": "2"}, ("credit_impaired", "type.bool"), id="type.bool-impaired"),
    # required, every required column
    *[
        case({column: ""}, (column, "required"), id=f"required-{column}")
        for column in REQUIRED_COLUMNS
    ],
    case({"loan_id": "   "}, ("loan_id", "required"), id="required-blank-is-empty"),
    # enum, every enumerated column
    case({"borrower_type": "individual"}, ("borrower_type", "enum"), id="enum-borrower_type"),
    case({"reported_class": "次级"}, ("reported_class", "enum"), id="enum-reported_class"),
    case({"collateral_type": "house"}, ("collateral_type", "enum"), id="enum-collateral_type"),
    case({"status": "closed"}, ("status", "enum"), id="enum-status"),
    # range.negative: every money column and days_past_due; a negative balance is also below
    # the (zero) overdue principal
    *[
        case(
            {column: "-1.00"},
            (column, "range.negative"),
            *(
                [("overdue_principal", "overdue.exceeds_balance")]
                if column == "principal_balance"
                else []
            ),
            id=f"range.negative-{column}",
        )
        for column in MONEY_COLUMNS
    ],
    case({"days_past_due": "-1"}, ("days_past_due", "range.negative"), id="range.negative-dpd"),
    # dates
    case({"as_of": "2019-12-30"}, ("as_of", "as_of.month_end"), id="as_of.month_end"),
    case(
        {"origination_date": "2020-01-15"},
        ("origination_date", "dates.origination_after_as_of"),
        id="dates.origination_after_as_of",
    ),
    case(
        {"maturity_date": "2018-03-14"},
        ("maturity_date", "dates.maturity_before_origination"),
        id="dates.maturity_before_origination",
    ),
    # balances and terminal rows
    case(
        {"overdue_principal": "80000.01"},
        ("overdue_principal", "overdue.exceeds_balance"),
        id="overdue.exceeds_balance",
    ),
    case(
        {"status": "repaid"},
        ("principal_balance", "terminal.balance_not_zero"),
        id="terminal.balance_not_zero",
    ),
    case(
        {"status": "written_off", "principal_balance": "0", "exit_amount": ""},
        ("exit_amount", "terminal.exit_amount_required"),
        id="terminal.exit_amount_required",
    ),
    case(
        {"restructured": "yes", "restructure_date": ""},
        ("restructure_date", "restructure.date_required"),
        id="restructure.date_required",
    ),
    # national ID numbers of retail borrowers
    case(
        {"id_number": "340602198001010018"},
        ("id_number", "id_number.check_digit"),
        id="id_number.check_digit-wrong-digit",
    ),
    case(
        {"id_number": "34060219800101001"},
        ("id_number", "id_number.check_digit"),
        id="id_number.check_digit-17-digits",
    ),
    case(
        {"id_number": "abc"},
        ("id_number", "id_number.check_digit"),
        id="id_number.check_digit-letters",
    ),
    # rules across rows
    case({"loan_id": "L000002"}, ("loan_id", "loan_id.unique"), id="loan_id.unique"),
    case(
        {"borrower_id": "B000002", "borrower_type": "non_retail"},
        ("borrower_type", "borrower_type.consistent"),
        id="borrower_type.consistent",
    ),
    case({"org_unit": "ZZ99"}, ("org_unit", "org_unit.known"), id="org_unit.known"),
]


@pytest.mark.parametrize(("overrides", "expected"), ROW_CASES)
def test_bad_row_is_reported_exactly_and_nothing_imported(
    store: Store, tmp_path: Path, overrides: dict[str, str], expected: set[tuple[str, str]]
):
    source = tape_with_bad_row(tmp_path, overrides)
    error = import_rejected(store, [source])
    assert problem_keys(error) == {("tape.csv", BAD_ROW, col, rule) for col, rule in expected}
    assert problem_total(error) == len(expected)
    assert store.months() == []


def test_problem_shows_the_value_the_file_holds(store: Store, tmp_path: Path):
    source = tape_with_bad_row(tmp_path, {"principal_balance": " 8O000.00 "})
    (problem,) = import_rejected(store, [source]).problems
    assert problem.value == "8O000.00"
    assert problem.severity is Severity.ERROR


@pytest.mark.parametrize(
    "overrides",
    [
        # A company's unified social credit code is not a national ID number.
        pytest.param({"borrower_type": "non_retail", "id_number": "91340600MA2N0XXX1X"}, id="org"),
        pytest.param({"id_number": "340602800101001"}, id="legacy-15-digits"),
        pytest.param({"id_number": "34062119701231001x"}, id="lower-case-x"),
        pytest.param({"id_number": ""}, id="empty"),
    ],
)
def test_id_number_check_passes_what_it_should(
    store: Store, tmp_path: Path, overrides: dict[str, str]
):
    source = tape_with_bad_row(tmp_path, overrides)
    import_files(store, [source], ImportOptions())
    assert store.months() == [DEC]


@pytest.mark.parametrize(
    ("overrides", "column", "expected"),
    [
        # Cells that are not the text DuckDB writes for their value: the fast path takes them
        # through the full conversion (trim, patterns), not the shortcut for canonical text.
        ({"principal_balance": " 80000.00 "}, "principal_balance", Decimal("80000.00")),
        ({"principal_balance": "80000"}, "principal_balance", Decimal("80000.00")),
        ({"principal_balance": "80000.5"}, "principal_balance", Decimal("80000.50")),
        ({"principal_balance": "+080000.00"}, "principal_balance", Decimal("80000.00")),
        ({"overdue_interest": ".5"}, "overdue_interest", Decimal("0.50")),
        ({"overdue_interest": "  "}, "overdue_interest", Decimal("0.00")),  # blank: the default
        ({"origination_date": "2018-3-15"}, "origination_date", date(2018, 3, 15)),
        ({"origination_date": " 2018-03-15"}, "origination_date", date(2018, 3, 15)),
        ({"origination_date": "2018-03-15 00:00:00"}, "origination_date", date(2018, 3, 15)),
        ({"days_past_due": "007"}, "days_past_due", 7),
        ({"days_past_due": "7.0"}, "days_past_due", 7),
        ({"days_past_due": " 0 "}, "days_past_due", 0),
        ({"restructured": "FALSE"}, "restructured", False),
        ({"credit_impaired": "是"}, "credit_impaired", True),
        ({"credit_impaired": " "}, "credit_impaired", False),
    ],
)
def test_cells_in_other_spellings_convert_as_the_rules_say(
    store: Store, tmp_path: Path, overrides: dict[str, str], column: str, expected: Any
):
    source = tape_with_bad_row(tmp_path, overrides)
    import_files(store, [source], ImportOptions())
    row = stored_rows(store, DEC)[BAD_INDEX]
    assert row[column] == expected
    assert type(row[column]) is type(expected)


# -- --as-of ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"as_of": "2019-11-30"}, ("as_of", "as_of.mismatch")),
        # An empty cell in a file that has an as_of column is missing, not filled from --as-of.
        ({"as_of": ""}, ("as_of", "required")),
    ],
    ids=["as_of.mismatch", "required-as_of-with-as-of"],
)
def test_as_of_option_checks_the_files_own_dates(
    store: Store, tmp_path: Path, overrides: dict[str, str], expected: tuple[str, str]
):
    source = tape_with_bad_row(tmp_path, overrides)
    error = import_rejected(store, [source], ImportOptions(as_of=DEC))
    assert problem_keys(error) == {("tape.csv", BAD_ROW, *expected)}


def test_as_of_option_dates_a_file_without_as_of(store: Store, tmp_path: Path):
    columns = [c for c in COLUMN_NAMES if c != "as_of"]
    source = write_csv(tmp_path / "tape.csv", loan_rows(ROWS), columns=columns)
    import_files(store, [source], ImportOptions(as_of=DEC))
    assert {row["as_of"] for row in stored_rows(store, DEC)} == {DEC}


def test_as_of_option_must_be_a_month_end(store: Store, tmp_path: Path):
    columns = [c for c in COLUMN_NAMES if c != "as_of"]
    source = write_csv(tmp_path / "tape.csv", loan_rows(3), columns=columns)
    error = import_rejected(store, [source], ImportOptions(as_of=date(2019, 12, 30)))
    assert problem_keys(error) == {
        ("tape.csv", row, "as_of", "as_of.month_end") for row in (2, 3, 4)
    }


# -- one month from one file -----------------------------------------------------------------------


def test_one_month_in_two_files_is_rejected(store: Store, tmp_path: Path):
    rows = loan_rows(ROWS)
    first = write_csv(tmp_path / "dec-a.csv", rows[:6])
    second = write_csv(tmp_path / "dec-b.csv", rows[6:])
    error = import_rejected(store, [first, second])
    assert problem_keys(error) == {("dec-b.csv", None, "as_of", "as_of.one_source")}


def test_two_months_in_one_file_become_two_snapshots(store: Store, tmp_path: Path):
    source = write_csv(tmp_path / "both.csv", loan_rows(ROWS, NOV) + loan_rows(ROWS, DEC))
    import_files(store, [source], ImportOptions())
    assert store.months() == [NOV, DEC]
    assert [r["loan_id"] for r in stored_rows(store, DEC)] == [f"L{n:06d}" for n in range(1, 13)]


# -- exit amounts against last month ---------------------------------------------------------------


def _import_previous_month(store: Store, tmp_path: Path) -> None:
    import_files(store, [write_csv(tmp_path / "nov.csv", loan_rows(ROWS, NOV))], ImportOptions())


WRITTEN_OFF = {"status": "written_off", "principal_balance": "0", "overdue_principal": "0"}


@pytest.mark.parametrize("previous", ["stored", "same import"])
def test_exit_amount_above_last_months_balance_is_rejected(
    store: Store, tmp_path: Path, previous: str
):
    files = []
    if previous == "stored":
        _import_previous_month(store, tmp_path)
    else:
        files.append(write_csv(tmp_path / "nov.csv", loan_rows(ROWS, NOV)))
    overrides = {**WRITTEN_OFF, "exit_amount": "80000.01"}  # last month's balance: 80000.00
    files.append(tape_with_bad_row(tmp_path, overrides, name="dec.csv"))
    error = import_rejected(store, files)
    assert problem_keys(error) == {
        ("dec.csv", BAD_ROW, "exit_amount", "terminal.exit_amount_exceeds_previous")
    }


def test_exit_amount_up_to_last_months_balance_imports(store: Store, tmp_path: Path):
    _import_previous_month(store, tmp_path)
    source = tape_with_bad_row(tmp_path, {**WRITTEN_OFF, "exit_amount": "80000.00"}, name="d.csv")
    result = import_files(store, [source], ImportOptions())
    assert [s.loans_on_book for s in result.snapshots] == [ROWS - 1]
    assert result.warnings == []


def test_exit_amount_on_a_repaid_row_is_ignored(store: Store, tmp_path: Path):
    _import_previous_month(store, tmp_path)
    overrides = {"status": "repaid", "principal_balance": "0", "exit_amount": "90000.00"}
    source = tape_with_bad_row(tmp_path, overrides, name="dec.csv")
    try:
        import_files(store, [source], ImportOptions())
    except Exception as exc:
        raise AssertionError(f"rejected: {exc}") from exc


def test_exit_amount_from_previous_balance_fills_or_reports(store: Store, tmp_path: Path):
    mapping_path = write_mapping(
        tmp_path / "fill.yaml",
        canonical_mapping(exit_amount={"from": "exit_amount", "previous_balance": True}),
    )
    options = ImportOptions(mapping=load_mapping(mapping_path))
    # No November: the written-off loan has no balance to take its exit amount from.
    lonely = tape_with_bad_row(tmp_path, {**WRITTEN_OFF, "exit_amount": ""}, name="dec.csv")
    error = import_rejected(store, [lonely], options)
    assert problem_keys(error) == {
        ("dec.csv", BAD_ROW, "exit_amount", "terminal.exit_amount_required")
    }
    _import_previous_month(store, tmp_path)
    import_files(store, [lonely], options)
    (written_off,) = [r for r in stored_rows(store, DEC) if r["loan_id"] == BAD_LOAN]
    assert written_off["exit_amount"] == Decimal("80000.00")


# -- joins -----------------------------------------------------------------------------------------

CUSTOMER_COLUMNS = ["客户号", "客户名称", "证件号码"]


def customers(count: int = ROWS) -> list[dict[str, str]]:
    return [
        {"客户号": f"B{n:06d}", "客户名称": f"客户{n}", "证件号码": "340602198001010017"}
        for n in range(1, count + 1)
    ]


def joined_mapping(tmp_path: Path) -> ImportOptions:
    mapping = canonical_mapping(borrower_name="customers.客户名称", id_number="customers.证件号码")
    mapping["joins"] = [
        {
            "name": "customers",
            "path": "customers.csv",
            "on": {"left": "borrower_id", "right": "客户号"},
            "columns": ["客户名称", "证件号码"],
        }
    ]
    return ImportOptions(mapping=load_mapping(write_mapping(tmp_path / "joined.yaml", mapping)))


TAPE_WITHOUT_PERSONAL = [c for c in COLUMN_NAMES if c not in ("borrower_name", "id_number")]


def test_join_fills_columns_from_the_joined_file(store: Store, tmp_path: Path):
    write_csv(tmp_path / "customers.csv", customers(), columns=CUSTOMER_COLUMNS)
    source = write_csv(tmp_path / "tape.csv", loan_rows(ROWS), columns=TAPE_WITHOUT_PERSONAL)
    import_files(store, [source], joined_mapping(tmp_path))
    rows = stored_rows(store, DEC)
    assert [r["borrower_name"] for r in rows] == [f"客户{n}" for n in range(1, ROWS + 1)]
    sources = store.manifest().to_json()["snapshots"]["2019-12-31"]["sources"]
    assert [s["role"] for s in sources] == ["data", "join:customers"]


def test_row_without_a_match_in_the_joined_file_is_rejected(store: Store, tmp_path: Path):
    write_csv(tmp_path / "customers.csv", customers(), columns=CUSTOMER_COLUMNS)
    rows = loan_rows(ROWS)
    rows[BAD_INDEX]["borrower_id"] = "B999999"
    source = write_csv(tmp_path / "tape.csv", rows, columns=TAPE_WITHOUT_PERSONAL)
    error = import_rejected(store, [source], joined_mapping(tmp_path))
    assert problem_keys(error) == {("tape.csv", BAD_ROW, "borrower_id", "join.unmatched")}


def test_duplicate_key_in_the_joined_file_is_rejected(store: Store, tmp_path: Path):
    people = customers()
    people[7]["客户号"] = people[2]["客户号"]  # rows 4 and 9 of customers.csv
    write_csv(tmp_path / "customers.csv", people, columns=CUSTOMER_COLUMNS)
    source = write_csv(tmp_path / "tape.csv", loan_rows(ROWS), columns=TAPE_WITHOUT_PERSONAL)
    error = import_rejected(store, [source], joined_mapping(tmp_path))
    assert problem_keys(error) == {
        ("customers.csv", 9, "客户号", "join.key_unique"),
        # the borrower whose key was overwritten is then missing from the joined file
        ("tape.csv", 9, "borrower_id", "join.unmatched"),
    }


def test_duplicate_join_key_and_the_tapes_own_bad_rows_are_reported_together(
    store: Store, tmp_path: Path
):
    people = customers()
    people[7]["客户号"] = people[2]["客户号"]  # rows 4 and 9 of customers.csv
    write_csv(tmp_path / "customers.csv", people, columns=CUSTOMER_COLUMNS)
    rows = loan_rows(ROWS)
    rows[BAD_INDEX]["days_past_due"] = "ninety"
    source = write_csv(tmp_path / "tape.csv", rows, columns=TAPE_WITHOUT_PERSONAL)
    error = import_rejected(store, [source], joined_mapping(tmp_path))
    assert problem_keys(error) == {
        ("customers.csv", 9, "客户号", "join.key_unique"),
        ("tape.csv", 9, "borrower_id", "join.unmatched"),
        ("tape.csv", BAD_ROW, "days_past_due", "type.integer"),
    }


# -- converters of a mapping -----------------------------------------------------------------------

CORE_MAPPING: dict[str, Any] = {
    "mapping": 1,
    "name": "test-core",
    "columns": {
        "as_of": {"from": "数据日期", "date": "%Y%m%d"},
        "loan_id": "贷款账号",
        "borrower_id": "客户号",
        "borrower_type": {"from": "客户类型", "map": {"个人": "retail", "对公": "non_retail"}},
        "org_unit": "机构号",
        "product": {"from": "产品名称", "map": {"个人消费贷款": "consumer"}, "default": "consumer"},
        "origination_date": {"from": "放款日期", "date": "excel"},
        "maturity_date": {"from": "到期日期", "date": ["%Y%m%d", "%Y/%m/%d"]},
        "original_amount": {"from": "合同金额", "number": {"thousands": ","}},
        "principal_balance": {"from": "贷款余额", "number": {"unit": "fen"}},
        "provision": {"from": "减值准备", "number": {"unit": "10k_yuan"}},
        "days_past_due": {"from": "逾期天数", "number": {"thousands": ","}},
        "reported_class": {
            "from": "五级分类",
            "map": {
                "正常": "normal",
                "关注": "special_mention",
                "次级": "substandard",
                "可疑": "doubtful",
                "损失": "loss",
            },
        },
        "restructured": {"from": "重组标志", "default": "否"},
        "collateral_type": {
            "from": "担保方式",
            "map": {"信用": "none", "抵押": "real_estate"},
            "default": "guarantee_only",
        },
        "status": {"from": "贷款状态", "map": {"正常": "active", "结清": "repaid"}},
    },
}


def core_row(n: int) -> dict[str, str]:
    """A valid row of the test core-banking layout (amounts in fen and in 10k yuan)."""
    return {
        "数据日期": "20191231",
        "贷款账号": f"L{n:06d}",
        "客户号": f"B{n:06d}",
        "客户类型": "个人",
        "机构号": "HB0101",
        "产品名称": "个人消费贷款",
        "放款日期": "43174",  # 2018-03-15
        "到期日期": "20230315",
        "合同金额": "100,000.00",
        "贷款余额": "8000000",  # 80,000.00 yuan
        "减值准备": "0.1",  # 1,000.00 yuan
        "逾期天数": "0",
        "五级分类": "正常",
        "重组标志": "否",
        "担保方式": "信用",
        "贷款状态": "正常",
    }


def core_file(tmp_path: Path, column: str | None = None, text: str = "") -> tuple[Path, Any]:
    rows = [core_row(n) for n in range(1, ROWS + 1)]
    if column is not None:
        rows[BAD_INDEX][column] = text
    source = write_csv(tmp_path / "core.csv", rows, columns=list(rows[0]))
    mapping = load_mapping(write_mapping(tmp_path / "core.yaml", CORE_MAPPING))
    return source, ImportOptions(mapping=mapping)


@pytest.mark.parametrize(
    ("column", "text", "canonical", "expected"),
    [
        ("数据日期", "20191231", "as_of", DEC),
        ("放款日期", "43830", "origination_date", date(2019, 12, 31)),
        ("放款日期", "43174.0", "origination_date", date(2018, 3, 15)),
        ("到期日期", "20231231", "maturity_date", date(2023, 12, 31)),
        ("到期日期", "2023/12/31", "maturity_date", date(2023, 12, 31)),
        ("合同金额", "1,234,567.80", "original_amount", Decimal("1234567.80")),
        ("合同金额", "1234567.8", "original_amount", Decimal("1234567.80")),
        ("贷款余额", "123456", "principal_balance", Decimal("1234.56")),
        ("贷款余额", "0", "principal_balance", Decimal("0.00")),
        ("贷款余额", "123456789012345678", "principal_balance", Decimal("1234567890123456.78")),
        ("减值准备", "0.123456", "provision", Decimal("1234.56")),
        ("减值准备", "12", "provision", Decimal("120000.00")),
        ("逾期天数", "1,200", "days_past_due", 1200),
        ("逾期天数", "1200", "days_past_due", 1200),
        ("合同金额", "12,345.6", "original_amount", Decimal("12345.60")),
        ("五级分类", "次级", "reported_class", "substandard"),
        ("五级分类", "", "reported_class", None),
        ("客户类型", "对公", "borrower_type", "non_retail"),
        ("客户类型", "", "borrower_type", "retail"),  # the column's own default
        ("重组标志", "", "restructured", False),  # the mapping's default 否
        ("担保方式", "抵押", "collateral_type", "real_estate"),
        ("担保方式", "", "collateral_type", "guarantee_only"),  # the mapping's default
        ("产品名称", "", "product", "consumer"),  # a default fills a required column
        ("贷款状态", "", "status", "active"),
    ],
)
def test_converter_gives_the_canonical_value(
    store: Store, tmp_path: Path, column: str, text: str, canonical: str, expected: Any
):
    source, options = core_file(tmp_path, column, text)
    import_files(store, [source], options)
    row = stored_rows(store, DEC)[BAD_INDEX]
    assert row[canonical] == expected
    assert type(row[canonical]) is type(expected)


def test_converted_row_as_a_whole(store: Store, tmp_path: Path):
    source, options = core_file(tmp_path)
    import_files(store, [source], options)
    row = stored_rows(store, DEC)[0]
    assert row == {
        **dict.fromkeys(COLUMN_NAMES),
        "as_of": DEC,
        "loan_id": "L000001",
        "borrower_id": "B000001",
        "borrower_type": "retail",
        "org_unit": "HB0101",
        "product": "consumer",
        "origination_date": date(2018, 3, 15),
        "maturity_date": date(2023, 3, 15),
        "original_amount": Decimal("100000.00"),
        "principal_balance": Decimal("80000.00"),
        "overdue_principal": Decimal("0.00"),  # not mapped: the column's default
        "overdue_interest": Decimal("0.00"),
        "days_past_due": 0,
        "reported_class": "normal",
        "restructured": False,
        "credit_impaired": False,
        "collateral_type": "none",
        "provision": Decimal("1000.00"),
        "status": "active",
    }


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [
        ("数据日期", "2019-12-31", {("数据日期", "type.date")}),
        ("放款日期", "2018-03-15", {("放款日期", "type.date")}),
        ("放款日期", "43174.5", {("放款日期", "type.date")}),
        ("到期日期", "15.03.2023", {("到期日期", "type.date")}),
        ("合同金额", "1.234.567,80", {("合同金额", "type.money")}),
        ("贷款余额", "123456.7", {("贷款余额", "type.money")}),  # 1234.567 yuan
        ("减值准备", "0.1234567", {("减值准备", "type.money")}),  # 1234.567 yuan
        ("减值准备", "9" * 25, {("减值准备", "type.money")}),  # overflows once in yuan
        ("逾期天数", "1,200.5", {("逾期天数", "type.integer")}),
        # a thousands separator that does not group digits in threes is not dropped
        ("合同金额", "1,2,3", {("合同金额", "type.money")}),
        ("合同金额", "12,34.00", {("合同金额", "type.money")}),
        ("合同金额", "1234,567.80", {("合同金额", "type.money")}),
        ("合同金额", "1,234.567,8", {("合同金额", "type.money")}),
        ("逾期天数", "1,20", {("逾期天数", "type.integer")}),
        ("五级分类", "坏账", {("五级分类", "enum")}),
        ("客户类型", "合伙", {("客户类型", "enum")}),
        ("担保方式", "房产", {("担保方式", "enum")}),
        ("贷款状态", "核销", {("贷款状态", "enum")}),
        ("重组标志", "也许", {("重组标志", "type.bool")}),
        ("机构号", "", {("机构号", "required")}),
        ("机构号", "XX01", {("机构号", "org_unit.known")}),
        (
            "贷款余额",
            "-100",
            {("贷款余额", "range.negative"), ("overdue_principal", "overdue.exceeds_balance")},
        ),
    ],
)
def test_converter_failure_names_the_files_column(
    store: Store, tmp_path: Path, column: str, text: str, expected: set[tuple[str, str]]
):
    source, options = core_file(tmp_path, column, text)
    error = import_rejected(store, [source], options)
    assert problem_keys(error) == {("core.csv", BAD_ROW, col, rule) for col, rule in expected}


def test_problem_message_names_the_canonical_column_too(store: Store, tmp_path: Path):
    source, options = core_file(tmp_path, "五级分类", "坏账")
    (problem,) = import_rejected(store, [source], options).problems
    assert problem.column == "五级分类"
    assert problem.value == "坏账"
    assert "(reported_class)" in problem.message


# -- many problems, big files ----------------------------------------------------------------------


def test_every_problem_is_reported_at_once(store: Store, tmp_path: Path):
    rows = loan_rows(40)
    rows[0]["days_past_due"] = "x"  # row 2
    rows[9]["maturity_date"] = "2001-01-01"  # row 11
    rows[9]["status"] = "gone"  # row 11, a second problem on the same row
    rows[19]["org_unit"] = "ZZ99"  # row 21
    rows[29]["loan_id"] = "L000001"  # row 31
    rows[39]["original_amount"] = "-5"  # row 41, the last
    source = write_csv(tmp_path / "tape.csv", rows)
    error = import_rejected(store, [source])
    expected = {
        ("tape.csv", 2, "days_past_due", "type.integer"),
        ("tape.csv", 11, "maturity_date", "dates.maturity_before_origination"),
        ("tape.csv", 11, "status", "enum"),
        ("tape.csv", 21, "org_unit", "org_unit.known"),
        ("tape.csv", 31, "loan_id", "loan_id.unique"),
        ("tape.csv", 41, "original_amount", "range.negative"),
    }
    assert problem_keys(error) == expected
    assert problem_total(error) == len(expected)
    assert [p.row for p in error.problems] == sorted(p.row for p in error.problems)


def test_problems_beyond_the_limit_are_counted_not_listed(store: Store, tmp_path: Path):
    rows = loan_rows(40, days_past_due="x", collateral_type="house", org_unit="ZZ99")
    source = write_csv(tmp_path / "tape.csv", rows)
    error = import_rejected(store, [source], ImportOptions(max_problems=10))
    assert len(error.problems) == 10
    assert problem_total(error) == 3 * 40
    # The first rows come first: two row-level problems on each of rows 2–6.
    assert problem_keys(error) == {
        ("tape.csv", row, column, rule)
        for row in range(2, 7)
        for column, rule in (("days_past_due", "type.integer"), ("collateral_type", "enum"))
    }


def test_bad_last_row_of_a_large_file_is_found(store: Store, tmp_path: Path):
    rows = loan_rows(50_001)
    rows[-1]["principal_balance"] = "80000.0O"
    source = write_csv(tmp_path / "large.csv", rows)
    error = import_rejected(store, [source])
    assert problem_keys(error) == {("large.csv", 50_002, "principal_balance", "type.money")}
    assert store.months() == []


def test_line_break_inside_a_quoted_cell_keeps_row_numbers(store: Store, tmp_path: Path):
    # A spreadsheet shows a record with a line break in a cell as one row.
    rows = loan_rows(ROWS)
    rows[1]["borrower_name"] = "张三\n（曾用名 张叁）"
    rows[BAD_INDEX]["days_past_due"] = "x"
    source = write_csv(tmp_path / "tape.csv", rows)
    error = import_rejected(store, [source])
    assert problem_keys(error) == {("tape.csv", BAD_ROW, "days_past_due", "type.integer")}


def test_blank_line_counts_as_a_row(store: Store, tmp_path: Path):
    rows = loan_rows(ROWS)
    rows[BAD_INDEX]["days_past_due"] = "x"
    source = write_csv(tmp_path / "tape.csv", rows)
    lines = source.read_bytes().split(b"\n")
    lines.insert(3, b"")  # a spreadsheet shows it as row 4, and the bad row moves to row 8
    source.write_bytes(b"\n".join(lines))
    with pytest.raises(NpldeskError) as caught:
        import_files(store, [source], ImportOptions())
    refused = isinstance(caught.value, UsageError)
    assert refused or problem_keys(caught.value) == {
        ("tape.csv", BAD_ROW + 1, "days_past_due", "type.integer")
    }


# -- warnings across snapshots: reported, not stopping the import ----------------------------------


def warning_keys(result: Any) -> set[tuple[str | None, int | None, str | None, str]]:
    assert all(w.severity is Severity.WARNING for w in result.warnings)
    return {(w.file, w.row, w.column, w.rule) for w in result.warnings}


def test_changed_loan_terms_are_warnings(store: Store, tmp_path: Path):
    _import_previous_month(store, tmp_path)
    rows = loan_rows(ROWS, DEC)
    rows[5]["origination_date"] = "2018-03-16"  # row 7
    rows[8]["original_amount"] = "100000.01"  # row 10
    result = import_files(store, [write_csv(tmp_path / "dec.csv", rows)], ImportOptions())
    assert [s.as_of for s in result.snapshots] == [DEC]
    assert warning_keys(result) == {
        ("dec.csv", 7, "origination_date", "origination_date.changed"),
        ("dec.csv", 10, "original_amount", "original_amount.changed"),
    }
    assert result.warning_total == 2
    assert store.months() == [NOV, DEC]
    assert store.manifest().to_json()["snapshots"]["2019-12-31"]["warnings"] == {
        "origination_date_changed": 1,
        "original_amount_changed": 1,
    }


def test_missing_month_is_a_warning(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "oct.csv", loan_rows(ROWS, OCT))], ImportOptions())
    result = import_files(
        store, [write_csv(tmp_path / "dec.csv", loan_rows(ROWS, DEC))], ImportOptions()
    )
    assert {w.rule for w in result.warnings} == {"month.missing"}
    (warning,) = result.warnings
    assert "2019-11" in warning.message
    assert store.months() == [OCT, DEC]


def test_loan_gone_without_a_terminal_row_is_an_unexplained_exit(store: Store, tmp_path: Path):
    _import_previous_month(store, tmp_path)
    rows = [r for r in loan_rows(ROWS, DEC) if r["loan_id"] != "L000007"]
    result = import_files(store, [write_csv(tmp_path / "dec.csv", rows)], ImportOptions())
    assert {w.rule for w in result.warnings} == {"exit.unexplained"}
    (warning,) = result.warnings
    assert "L000007" in warning.message
    assert "80000.00" in warning.message  # the balance that left unexplained
    assert store.manifest().snapshots[DEC].warnings == {"unexplained_exits": 1}


class LateFlusher:
    """An executor whose work runs only when its result is asked for: the disk-flush thread of a
    busy machine, reaching a staged file as late as it possibly can."""

    def submit(self, function: Callable[..., None], *args: Any) -> Any:
        class Late:
            def result(self) -> None:
                function(*args)

        return Late()


@pytest.fixture
def late_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer_staging, "_FLUSHER", LateFlusher())


# Two files that both stay on the fast path: each staged file is moved into place as the
# snapshot. This test failed now and then on a busy machine while the flush of a staged file
# came after its move; ``late_flushes`` makes the flush as late as it can be, every time.
@pytest.mark.usefixtures("late_flushes")
def test_loan_gone_after_its_terminal_row_is_no_warning(store: Store, tmp_path: Path):
    _import_previous_month(store, tmp_path)
    dec = tape_with_bad_row(tmp_path, {**WRITTEN_OFF, "exit_amount": "80000.00"}, name="dec.csv")
    jan_rows = [r for r in loan_rows(ROWS, JAN) if r["loan_id"] != BAD_LOAN]
    jan = write_csv(tmp_path / "jan.csv", jan_rows)
    result = import_files(store, [dec, jan], ImportOptions())
    assert result.warnings == []
    assert store.months() == [NOV, DEC, JAN]


def test_loan_back_after_its_terminal_row_is_a_warning(store: Store, tmp_path: Path):
    _import_previous_month(store, tmp_path)
    dec = tape_with_bad_row(tmp_path, {**WRITTEN_OFF, "exit_amount": "80000.00"}, name="dec.csv")
    jan = write_csv(tmp_path / "jan.csv", loan_rows(ROWS, JAN))  # the written-off loan is back
    result = import_files(store, [dec, jan], ImportOptions())
    assert warning_keys(result) == {("jan.csv", BAD_ROW, "loan_id", "exit.returned")}
    (warning,) = result.warnings
    assert warning.value == BAD_LOAN
    assert "left the books in 2019-12 (written_off)" in warning.message
    assert store.months() == [NOV, DEC, JAN]
    assert store.manifest().snapshots[JAN].warnings == {"returned_after_exit": 1}
