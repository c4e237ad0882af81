"""The clocks shown on a case (``selectors.case_clocks``): limitation per loan from its maturity
date in the tape and what last restarted it, enforcement per judged legal case, and the
guarantee period per guarantor."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npldesk.casework import selectors, services
from npldesk.casework.models import Unit
from tests.casework.legaldocs_world import MATURITY, documents_world
from tests.casework.world import World, at, build_world


def _clocks(world: World, *, today: date) -> selectors.CaseClocks:
    detail = selectors.case_detail(world.legal, world.case.number)
    return selectors.case_clocks(world.legal, detail, today=today)


@pytest.fixture
def world(units: dict[str, Unit], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return documents_world(build_world(units), tmp_path, monkeypatch)


def test_limitation_runs_from_the_loans_maturity_in_the_tape(world: World) -> None:
    clocks = _clocks(world, today=date(2022, 5, 15))
    (loan,) = clocks.loans
    assert (loan.loan_id, loan.maturity_date) == (world.loan_id, MATURITY)
    assert loan.clock is not None
    # Three years from Sunday 30 June 2019: Thursday 30 June 2022, 46 days away.
    assert (loan.clock.last_day, loan.clock.days_left, loan.clock.state) == (
        date(2022, 6, 30),
        46,
        "due_60",
    )
    assert (loan.clock.anchor_reason, loan.clock.anchor) == ("maturity", MATURITY)


def test_a_delivered_demand_then_a_partial_payment_restart_it(world: World) -> None:
    services.activity_record(
        actor=world.officer,
        case=world.case,
        kind="lawyers_letter",
        occurred_at=at(date(2020, 3, 2)),
        party="borrower",
        purpose="collection",
        outcome="contacted",
    )
    (loan,) = _clocks(world, today=date(2020, 4, 1)).loans
    assert loan.clock is not None
    assert (loan.clock.anchor_reason, loan.clock.anchor) == ("demand", date(2020, 3, 2))
    assert loan.clock.last_day == date(2023, 3, 2)
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 4, 10),
        amount=Decimal("100.00"),
        source="borrower",
    )
    (loan,) = _clocks(world, today=date(2020, 5, 1)).loans
    assert loan.clock is not None
    assert (loan.clock.anchor_reason, loan.clock.last_day) == ("partial_payment", date(2023, 4, 10))


def test_a_letter_that_reached_nobody_restarts_nothing(world: World) -> None:
    services.activity_record(
        actor=world.officer,
        case=world.case,
        kind="letter",
        occurred_at=at(date(2020, 3, 2)),
        party="borrower",
        purpose="collection",
        outcome="no_answer",
    )
    (loan,) = _clocks(world, today=date(2020, 4, 1)).loans
    assert loan.clock is not None and loan.clock.anchor_reason == "maturity"


def test_the_judgments_enforcement_clock_and_the_guarantee_period(world: World) -> None:
    clocks = _clocks(world, today=date(2022, 1, 1))
    (enforcement,) = clocks.legal
    # Effective Monday 3 February 2020, no date for performance: two years on, Thursday.
    assert enforcement.clock.last_day == date(2022, 2, 3)
    assert (enforcement.clock.state, enforcement.clock.anchor_reason) == (
        "due_60",
        "judgment_effective",
    )
    (period,) = clocks.guarantees
    guarantor = world.case.household.guarantors.get()
    # Six months from 30 June 2019: Monday 30 December 2019; long past.
    assert (period.guarantor, period.loan_id, period.last_day, period.state) == (
        guarantor.borrower_id,
        world.loan_id,
        date(2019, 12, 30),
        "expired",
    )


def test_without_the_tape_the_loans_show_no_clock(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPLDESK_HOME", str(tmp_path / "elsewhere"))
    clocks = _clocks(world, today=date(2022, 1, 1))
    (loan,) = clocks.loans
    assert loan.maturity_date is None and loan.clock is None
    assert clocks.guarantees == []
