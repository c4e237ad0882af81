"""What casework accepts: the dates and amounts a person enters, one rule each, refused by
every service that takes them (casework.md, "What casework accepts")."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.utils import timezone

from npldesk.casework import services
from npldesk.casework.choices import Strategy
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import AuditRecord, Case, CaseLoan, Recovery, Unit
from tests.casework.world import OPENED, World, at, build_world

TOMORROW = timezone.localdate() + timedelta(days=1)
FUTURE = date(2099, 1, 1)
LONG_AGO = date(1990, 1, 1)


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


def recover(world: World, amount: str, on: date = date(2020, 1, 15)) -> Recovery:
    recovery: Recovery = services.recovery_enter(
        actor=world.officer,
        case=world.fresh(),
        loan_id=world.loan_id,
        received_on=on,
        amount=D(amount),
        source="borrower",
    )
    return recovery


def refused(message: str, call: Any) -> None:
    """``call`` is refused with ``message`` and writes nothing."""
    records = AuditRecord.objects.count()
    with pytest.raises(InvalidAction, match=message):
        call()
    assert AuditRecord.objects.count() == records


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (FUTURE, "a recovery dated 2099-01-01 is in the future"),
        (TOMORROW, f"dated {TOMORROW} is in the future: today is"),
        (LONG_AGO, "a recovery dated 1990-01-01 is before case .* was opened"),
        (date(2019, 11, 30), "is before case .* was opened \\(2019-12-31\\)"),
    ],
)
def test_a_recovery_is_dated_from_the_opening_month_to_today(world: World, on: date, message: str):
    refused(message, lambda: recover(world, "100.00", on))
    assert not Recovery.objects.exists()


def test_the_opening_month_and_today_are_accepted(world: World):
    recover(world, "100.00", date(2019, 12, 1))  # the case opened on the month-end
    recover(world, "100.00", timezone.localdate())
    assert Recovery.objects.count() == 2


def test_a_reversal_is_never_dated_before_the_money_arrived(world: World):
    recovery = recover(world, "500.00", date(2020, 1, 15))
    reverse = lambda on: services.recovery_reverse(  # noqa: E731
        actor=world.lead, recovery=recovery, reversed_on=on, reason="bounced"
    )
    refused(
        "a reversal dated 2020-01-10 is before the entry it reverses, received on 2020-01-15",
        lambda: reverse(date(2020, 1, 10)),
    )
    refused("a reversal dated 2099-01-01 is in the future", lambda: reverse(FUTURE))
    reversal = reverse(date(2020, 1, 15))
    assert reversal.amount == D("-500.00")


@pytest.mark.parametrize("on", [FUTURE, TOMORROW, LONG_AGO])
def test_activities_promises_plans_legal_stages_and_closings_are_dated_in_the_case(
    world: World, on: date
):
    case = world.fresh()
    refused(
        "an activity dated",
        lambda: services.activity_record(
            actor=world.officer,
            case=case,
            kind="phone",
            occurred_at=at(on),
            outcome="promise",
            promise_amount=D("100.00"),
            promise_due_on=on + timedelta(days=10),
        ),
    )
    refused(
        "a repayment plan dated",
        lambda: services.repayment_plan_agree(
            actor=world.officer,
            case=case,
            kind="settlement",
            agreed_on=on,
            instalments=[(on + timedelta(days=30), D("100.00"))],
        ),
    )
    refused(
        "a closing dated",
        lambda: services.case_close(
            actor=world.lead,
            case=case,
            version=case.version,
            reason="settled",
            closed_on=on,
            note="",
        ),
    )
    Case.objects.filter(pk=case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    case = world.fresh()
    refused(
        "a legal case dated",
        lambda: services.legal_case_open(
            actor=world.legal, case=case, court="Xiangshan", claim_amount=D(1), opened_on=on
        ),
    )
    legal_case = services.legal_case_open(
        actor=world.legal, case=case, court="Xiangshan", claim_amount=D(1), opened_on=OPENED
    )
    if on > OPENED:  # an earlier day is refused as a stage going back in time
        refused(
            "a legal stage dated",
            lambda: services.legal_case_advance(
                actor=world.legal,
                legal_case=legal_case,
                version=legal_case.version,
                stage="filed",
                entered_on=on,
            ),
        )
    assert world.fresh().closed_on is None


# -- amounts --------------------------------------------------------------------------------


def test_a_recovery_is_at_most_what_the_loan_can_still_owe(world: World):
    # The loan owed 100,000.00 of principal and 2,000.00 of overdue interest at 2019-12.
    CaseLoan.objects.filter(case=world.case).update(
        overdue_interest=D("2000.00"), owed=D("102000.00")
    )
    refused(
        "a recovery of 1000000.00 on loan .* is more than it can still owe: 102000.00",
        lambda: recover(world, "1000000.00"),
    )
    first = recover(world, "60000.00")
    recover(world, "42000.00")
    refused("less 102000.00 received since leaves 0.00", lambda: recover(world, "0.01"))
    # A reversed entry no longer counts.
    services.recovery_reverse(
        actor=world.lead, recovery=first, reversed_on=date(2020, 1, 20), reason="bounced"
    )
    recover(world, "60000.00", date(2020, 1, 21))
    # Money received before the month the loan was last seen is in its balance already.
    CaseLoan.objects.filter(case=world.case).update(
        owed=D("500.00"), owed_as_of=date(2020, 1, 31), as_of=date(2020, 1, 31)
    )
    recover(world, "500.00", date(2020, 2, 3))
    refused("leaves 0.00", lambda: recover(world, "0.01", date(2020, 2, 4)))


def test_a_loan_casework_never_saw_on_the_books_takes_no_recovery(world: World):
    CaseLoan.objects.filter(case=world.case).update(owed=0, owed_as_of=None, status="repaid")
    refused("was never on the books while case", lambda: recover(world, "1.00"))


def test_a_full_plan_covers_the_debt_and_a_discount_is_less_than_it(world: World):
    Case.objects.filter(pk=world.case.pk).update(balance=D("1260000.00"))
    case = world.fresh()

    def agree(kind: str, amount: str, discount: str = "0") -> Any:
        return services.repayment_plan_agree(
            actor=world.officer,
            case=case,
            kind=kind,
            agreed_on=OPENED,
            instalments=[(date(2020, 2, 1), D(amount))],
            discount=D(discount),
        )

    refused(
        "a full repayment plan of 1.00 is less than the debt of case .*, 1260000.00",
        lambda: agree("full", "1.00"),
    )
    refused(
        "a discount of 2000000.00 is not less than the debt of case .*, 1260000.00",
        lambda: agree("settlement", "1000.00", "2000000.00"),
    )
    refused("a discount of 1260000.00 is not less", lambda: agree("settlement", "1.00", "1260000"))
    assert agree("settlement", "60000.00", "1200000.00").discount == D("1200000.00")
    services.repayment_plan_cancel(
        actor=world.lead, plan=case.repayment_plans.get(), version=1, reason="redo"
    )
    assert agree("full", "1260000.00").total == D("1260000.00")


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_every_amount_is_positive(world: World, amount: str):
    case = world.fresh()
    refused("a recovery .*must be more than zero", lambda: recover(world, amount))
    refused(
        "a promised amount must be more than zero",
        lambda: services.activity_record(
            actor=world.officer,
            case=case,
            kind="phone",
            occurred_at=at(OPENED),
            outcome="promise",
            promise_amount=D(amount),
            promise_due_on=OPENED,
        ),
    )
    refused(
        "instalment 1 must be more than zero",
        lambda: services.repayment_plan_agree(
            actor=world.officer,
            case=case,
            kind="settlement",
            agreed_on=OPENED,
            instalments=[(date(2020, 2, 1), D(amount))],
        ),
    )
    Case.objects.filter(pk=case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    refused(
        "the claim amount must be more than zero",
        lambda: services.legal_case_open(
            actor=world.legal,
            case=world.fresh(),
            court="Xiangshan",
            claim_amount=D(amount),
            opened_on=OPENED,
        ),
    )
