"""The legal board's clocks (``selectors.legal_board``): per open legal case, the limitation of its
case's loans that runs out first and its enforcement deadline, by the case page's rules, flagged
when they run out within the warning days or have run out, and the order the desk reads them in.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from npldesk.casework import legaldocs, selectors
from npldesk.casework.models import Case, Person, Unit
from npldesk.tape.store import Store
from tests.casework.legal_board_world import JANUARY, TODAY, BoardCases, board_cases
from tests.casework.world import World, build_world, person


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


@pytest.fixture
def cases(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BoardCases:
    return board_cases(world, tmp_path, monkeypatch)


def _rows(board: selectors.LegalBoard) -> dict[str, selectors.LegalCaseClocks]:
    """The board's rows by case number (each case here has one open legal case)."""
    rows = {row.legal_case.case.number: row for row in board.rows}
    assert len(rows) == len(board.rows)
    return rows


def _limitation(row: selectors.LegalCaseClocks) -> tuple[str, date | None, int | None, str, str]:
    assert row.limitation is not None and row.limitation.clock is not None
    clock = row.limitation.clock
    return (
        row.limitation.loan_id,
        clock.last_day,
        clock.days_left,
        clock.state,
        row.limitation_flag,
    )


def test_each_legal_case_shows_the_limitation_that_runs_out_first_and_its_flag(
    world: World, cases: BoardCases
) -> None:
    board = selectors.legal_board(world.legal, today=TODAY)
    rows = _rows(board)
    assert board.tape_read and board.warning_days == 90
    assert _limitation(rows[cases.judged.number]) == (
        world.loan_id,
        date(2022, 6, 30),
        90,
        "running",
        "soon",  # 90 days left: within the 90 warning days
    )
    # Of two loans, the one that ran out yesterday (read from December's snapshot, January's
    # has only the other).
    assert _limitation(rows[cases.two_loans.number]) == (
        "LB-1",
        date(2022, 3, 31),
        -1,
        "expired",
        "expired",
    )
    assert _limitation(rows[cases.lawsuit_ended.number])[1:3] == (date(2023, 6, 1), 426)
    assert rows[cases.lawsuit_ended.number].limitation_flag == ""
    restarted = rows[cases.restarted.number]
    assert _limitation(restarted)[1] == date(2023, 4, 10)
    assert restarted.limitation is not None and restarted.limitation.clock is not None
    assert restarted.limitation.clock.anchor_reason == "partial_payment"
    # A filing stopped it: no last day, no flag; a loan in no snapshot: no clock at all.
    filed = rows[cases.filed.number]
    assert filed.limitation is not None and filed.limitation.clock is not None
    assert (filed.limitation.clock.state, filed.limitation.clock.last_day) == ("interrupted", None)
    assert filed.limitation_flag == ""
    assert rows[cases.undated.number].limitation is None
    assert rows[cases.undated.number].limitation_flag == ""


def test_the_enforcement_deadline_and_its_flag(world: World, cases: BoardCases) -> None:
    rows = _rows(selectors.legal_board(world.legal, today=TODAY))
    judged = rows[cases.judged.number]
    assert judged.enforcement is not None
    assert (judged.enforcement.last_day, judged.enforcement_flag) == (date(2022, 2, 3), "expired")
    assert all(
        (row.enforcement, row.enforcement_flag) == (None, "")
        for number, row in rows.items()
        if number != cases.judged.number
    )
    # Three months earlier the deadline was 33 days away and the limitation 180: only the
    # deadline is flagged.
    earlier = _rows(selectors.legal_board(world.legal, today=date(2022, 1, 1)))
    assert earlier[cases.judged.number].enforcement_flag == "soon"
    assert earlier[cases.judged.number].limitation_flag == ""


def test_the_board_reads_the_clocks_the_case_page_shows(world: World, cases: BoardCases) -> None:
    """One rule for both: each row's limitation is the case page's loan clock that runs out
    first, and its enforcement clock the case page's."""
    for row in selectors.legal_board(world.legal, today=TODAY).rows:
        detail = selectors.case_detail(world.legal, row.legal_case.case.number)
        page = selectors.case_clocks(world.legal, detail, today=TODAY)
        dated = [loan for loan in page.loans if loan.clock and loan.clock.last_day]
        if dated:
            first = min(dated, key=lambda loan: loan.clock.last_day)  # type: ignore[union-attr]
            assert row.limitation == first
        else:
            assert row.limitation in [*[loan for loan in page.loans if loan.clock], None]
        judged = {clock.legal_case.pk: clock.clock for clock in page.legal}
        assert row.enforcement == judged.get(row.legal_case.pk)


def test_the_warning_days_are_a_setting(
    world: World, cases: BoardCases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A home of its own (settings are read once per home), with the same tape.
    home = tmp_path / "warned"
    home.mkdir()
    (home / "store").symlink_to(tmp_path / "store")
    (home / "npldesk.toml").write_text("[casework]\nclock_warning_days = 30\n")
    monkeypatch.setenv("NPLDESK_HOME", str(home))
    board = selectors.legal_board(world.legal, today=TODAY)
    assert board.warning_days == 30
    assert _rows(board)[cases.judged.number].limitation_flag == ""  # 90 days: beyond 30


def test_the_desk_reads_them_soonest_limitation_first_or_in_another_order(
    world: World, cases: BoardCases
) -> None:
    def numbers(order: str) -> list[str]:
        board = selectors.legal_board(world.legal, today=TODAY, order=order)
        return [row.legal_case.case.number for row in board.rows]

    by_number = sorted(case.number for case in cases.by_name().values())
    # Expired first, then the soonest; without a last day (stopped, or undated) last, by number.
    assert numbers("limitation") == [
        cases.two_loans.number,
        cases.judged.number,
        cases.restarted.number,
        cases.lawsuit_ended.number,
        *sorted([cases.filed.number, cases.undated.number]),
    ]
    assert numbers("enforcement") == [
        cases.judged.number,
        *[number for number in by_number if number != cases.judged.number],
    ]
    assert numbers("case") == by_number
    assert numbers("no-such-order") == numbers("limitation")
    assert selectors.legal_board(world.legal, today=TODAY, order="nonsense").order == "limitation"


def test_without_a_snapshot_or_a_readable_tape_the_rows_show_no_limitation(
    world: World, cases: BoardCases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPLDESK_HOME", str(tmp_path / "elsewhere"))  # a home with no tape
    board = selectors.legal_board(world.legal, today=TODAY)
    assert board.tape_read
    assert [row.limitation for row in board.rows] == [None] * 6
    monkeypatch.setenv("NPLDESK_HOME", str(tmp_path))
    january = Store(tmp_path / "store").snapshot_path(JANUARY)
    january.chmod(0o600)
    january.write_bytes(b"not a parquet file")
    board = selectors.legal_board(world.legal, today=TODAY)
    assert not board.tape_read
    assert [row.limitation for row in board.rows] == [None] * 6
    assert _rows(board)[cases.judged.number].enforcement_flag == "expired"


def test_a_person_sees_the_clocks_of_their_units_cases_only(
    world: World, cases: BoardCases
) -> None:
    assert selectors.legal_board(world.outsider, today=TODAY).rows == []
    assert len(selectors.legal_board(world.lead, today=TODAY).rows) == 6


def test_the_clocks_cost_a_fixed_number_of_queries_and_two_tape_reads_at_most(
    world: World, cases: BoardCases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a query or a tape read per case: six cases cost the queries one does, and the tape
    is read twice at most: the latest month, then every earlier month in one scan for the
    loans the latest lacks."""
    reads: list[str] = []
    latest_read, earlier_read = legaldocs._rows_in, legaldocs._latest_rows

    def reading_latest(*args: Any) -> Any:
        reads.append("latest")
        return latest_read(*args)

    def reading_earlier(*args: Any) -> Any:
        reads.append("earlier")
        return earlier_read(*args)

    monkeypatch.setattr(legaldocs, "_rows_in", reading_latest)
    monkeypatch.setattr(legaldocs, "_latest_rows", reading_earlier)

    def cost(desk: Person) -> tuple[int, int, int]:
        selectors.legal_board(desk, today=TODAY)  # the person's units read, as mid-session
        legaldocs.forget_tape_reads()  # the tape as a server process reads it the first time
        reads.clear()
        with CaptureQueriesContext(connection) as queries:
            board = selectors.legal_board(desk, today=TODAY)
        return len(board.rows), len(queries), len(reads)

    # January's snapshot, then the months before it for the one loan January lacks.
    assert cost(world.legal) == (6, 7, 2)
    moved = [cases.two_loans, cases.filed, cases.lawsuit_ended, cases.restarted, cases.undated]
    Case.objects.filter(pk__in=[case.pk for case in moved]).update(unit=world.units["HB0201"])
    assert cost(person("legal", world.units["HB01"])) == (1, 7, 1)
