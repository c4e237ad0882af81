"""The whole-book check: a month that lost more than a share of the month before's loans
without a terminal row looks partial and is refused, naming both months, the count and the
units most affected, unless the exits are accepted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npldesk.cli import run
from npldesk.core.errors import UsageError
from npldesk.home import create_home, load_home
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.store import Store
from tests.tape.conftest import import_rejected
from tests.tape_factory import loan_row, loan_rows, write_csv, write_org

OCT = date(2019, 10, 31)
NOV = date(2019, 11, 30)
DEC = date(2019, 12, 31)
JAN = date(2020, 1, 31)


def _book(as_of: date, count: int = 10, *, unit_of: dict[int, str] | None = None) -> list:
    rows = loan_rows(count, as_of)
    for n, unit in (unit_of or {}).items():
        rows[n - 1]["org_unit"] = unit
    return rows


def _without(rows: list[dict[str, str]], *numbers: int) -> list[dict[str, str]]:
    gone = {f"L{n:06d}" for n in numbers}
    return [r for r in rows if r["loan_id"] not in gone]


def test_a_month_missing_a_branch_is_refused_naming_months_count_and_units(
    store: Store, tmp_path: Path
):
    units = dict.fromkeys((1, 2, 3, 4), "HB0102")
    import_files(
        store, [write_csv(tmp_path / "nov.csv", _book(NOV, unit_of=units))], ImportOptions()
    )
    dec = write_csv(tmp_path / "dec.csv", _without(_book(DEC, unit_of=units), 1, 2, 3, 4))
    error = import_rejected(store, [dec])
    (problem,) = error.problems
    assert problem.rule == "exit.partial_month" and problem.file == "dec.csv"
    assert "2019-12 looks partial: 4 of the 10 loans on the books in 2019-11" in problem.message
    assert "(40.0 %, above the limit of 20 %)" in problem.message
    assert "units most affected: HB0102 (4 of 4)" in problem.message
    assert "--accept-exits" in problem.message
    assert store.months() == [NOV]


def test_at_most_the_limit_is_imported_with_its_warning(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "nov.csv", _book(NOV))], ImportOptions())
    dec = write_csv(tmp_path / "dec.csv", _without(_book(DEC), 1, 2))  # 2 of 10: not above
    result = import_files(store, [dec], ImportOptions())
    assert {w.rule for w in result.warnings} == {"exit.unexplained"}
    assert store.months() == [NOV, DEC]


def test_accepted_exits_are_imported(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "nov.csv", _book(NOV))], ImportOptions())
    dec = write_csv(tmp_path / "dec.csv", _without(_book(DEC), 1, 2, 3, 4, 5))
    import_rejected(store, [dec])
    result = import_files(store, [dec], ImportOptions(accept_exits=True))
    assert [s.as_of for s in result.snapshots] == [DEC]
    assert store.manifest().snapshots[DEC].warnings == {"unexplained_exits": 5}
    # Who accepted them, and when, stays in the store's history.
    record = store.manifest().history[-1]
    assert record.accepted_exits == ("2019-12-31",) and record.by
    assert store.manifest().to_json()["history"][-1]["accepted_exits"] == ["2019-12-31"]


def test_the_limit_is_a_parameter(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "nov.csv", _book(NOV))], ImportOptions())
    dec = write_csv(tmp_path / "dec.csv", _without(_book(DEC), 1, 2, 3, 4, 5))
    import_rejected(store, [dec], ImportOptions(unexplained_exits_limit=Decimal("0.40")))
    import_files(store, [dec], ImportOptions(unexplained_exits_limit=Decimal("0.50")))
    assert store.months() == [NOV, DEC]


def test_a_stray_row_dated_the_next_month_is_refused(store: Store, tmp_path: Path):
    """One row of December's file dated January would make a one-row January and December
    would silently lose that loan."""
    import_files(store, [write_csv(tmp_path / "nov.csv", _book(NOV))], ImportOptions())
    rows = _book(DEC)
    rows[6] = loan_row(7, JAN)
    error = import_rejected(store, [write_csv(tmp_path / "dec.csv", rows)])
    (problem,) = error.problems
    assert problem.rule == "exit.partial_month"
    assert "2020-01 looks partial: 9 of the 9 loans on the books in 2019-12" in problem.message
    assert store.months() == [NOV]


def test_a_stray_row_dated_the_month_before_is_refused(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "oct.csv", _book(OCT))], ImportOptions())
    rows = _book(DEC)
    rows[6] = loan_row(7, NOV)  # November is not in the store: a one-row November
    error = import_rejected(store, [write_csv(tmp_path / "dec.csv", rows)])
    messages = sorted(p.message for p in error.problems)
    assert "2019-11 looks partial: 9 of the 10 loans on the books in 2019-10" in messages[0]
    assert "2019-12 looks partial: 1 of the 1 loans on the books in 2019-11" in messages[1]


def test_a_file_of_many_months_compares_each_with_the_one_before(store: Store, tmp_path: Path):
    months = [OCT, NOV, DEC, JAN]
    book = [row for m in months for row in _book(m)]
    import_files(store, [write_csv(tmp_path / "panel.csv", book)], ImportOptions())
    assert store.months() == months
    partial = [row for m in months for row in _book(m)]
    partial = [r for r in partial if not (r["as_of"] == "2019-12-31" and r["loan_id"] < "L000004")]
    error = import_rejected(
        store, [write_csv(tmp_path / "again.csv", partial)], ImportOptions(replace=True)
    )
    assert [p.message[:22] for p in error.problems] == ["2019-12 looks partial:"]


def test_the_month_before_is_the_latest_earlier_month_in_the_store(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "oct.csv", _book(OCT))], ImportOptions())
    dec = write_csv(tmp_path / "dec.csv", _without(_book(DEC), 1, 2, 3))
    error = import_rejected(store, [dec])
    assert "3 of the 10 loans on the books in 2019-10" in error.problems[0].message


def test_the_home_sets_the_limit_and_the_command_line_accepts(tmp_path: Path, capsys):
    home = tmp_path / "home"
    create_home(home)
    assert load_home(home).unexplained_exits_limit == Decimal("0.20")
    config = home / "npldesk.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "unexplained_exits_limit = 0.20", "unexplained_exits_limit = 0.5"
        ),
        encoding="utf-8",
    )
    assert load_home(home).unexplained_exits_limit == Decimal("0.5")
    assert run(["org", "import", str(write_org(tmp_path / "org.csv")), "--home", str(home)]) == 0
    nov = write_csv(tmp_path / "nov.csv", _book(NOV))
    assert run(["tape", "import", str(nov), "--home", str(home)]) == 0
    dec = write_csv(tmp_path / "dec.csv", _without(_book(DEC), 1, 2, 3, 4, 5, 6))
    capsys.readouterr()
    assert run(["tape", "import", str(dec), "--home", str(home)]) == 1
    assert "above the limit of 50 %" in capsys.readouterr().err
    assert run(["tape", "import", str(dec), "--home", str(home), "--accept-exits"]) == 0
    config.write_text("[import]\nunexplained_exits_limit = 2\n", encoding="utf-8")
    with pytest.raises(UsageError, match="is not a share from 0 to 1"):
        load_home(home).unexplained_exits_limit  # noqa: B018
