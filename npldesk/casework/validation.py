"""What casework accepts (``docs/casework-rules.md``, "What casework accepts"): one rule each for
the dates and amounts a person enters, written once and called by every service that takes
the value.

- **Dates**: an event (an activity, a promise, a recovery, a repayment plan, a legal stage, a
  closing) is dated no earlier than the case's opening month and no later than today; a
  reversal is never dated before the entry it reverses.
- **Amounts**: every amount is positive; a recovery is at most what the loan owed at its last
  month on the books (principal balance plus overdue interest) less the recoveries received
  since; a repayment plan of kind ``full`` is at least the debt (the case's balance); a
  settlement discount is less than the debt.

Each rule raises ``InvalidAction`` with a message that says what was given and what is
accepted.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from npldesk.casework.choices import RepaymentPlanKind
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Case, CaseLoan, Recovery
from npldesk.core.i18n import translatable
from npldesk.core.money import MoneyError, money

ZERO = Decimal("0.00")


# -- dates ----------------------------------------------------------------------------------


def event_date(case: Case, on: date, what: str, *, today: date | None = None) -> date:
    """``on`` if an event of ``case`` may be dated so: from the first day of the month the case
    opened (the sync opens cases on the month-end, and work of that month belongs to them) up
    to today."""
    today = today or timezone.localdate()
    opening_month = case.opened_on.replace(day=1)
    if on < opening_month:
        raise InvalidAction(
            translatable(
                "{what} dated {on} is before case {case_number} was opened ({opened_on}): it is "
                "dated in {opened_on:%Y-%m} or later",
                what=what,
                on=on,
                case_number=case.number,
                opened_on=case.opened_on,
            )
        )
    if on > today:
        raise InvalidAction(
            translatable(
                "{what} dated {on} is in the future: today is {today}",
                what=what,
                on=on,
                today=today,
            )
        )
    return on


def reversal_date(reversed: Recovery, on: date) -> date:
    """``on`` if a reversal of ``reversed`` may be dated so: not before the entry it reverses
    (the money cannot go back before it came)."""
    if on < reversed.received_on:
        raise InvalidAction(
            translatable(
                "a reversal dated {on} is before the entry it reverses, received on {received_on}",
                on=on,
                received_on=reversed.received_on,
            )
        )
    return on


# -- amounts --------------------------------------------------------------------------------


def positive_amount(value: Decimal | int | str, what: str) -> Decimal:
    """An amount in yuan, to the fen, more than zero."""
    try:
        amount = money(value)
    except MoneyError as exc:
        raise InvalidAction(translatable("{what}: {exc}", what=what, exc=exc)) from exc
    if amount <= 0:
        raise InvalidAction(
            translatable("{what} must be more than zero, not {amount}", what=what, amount=amount)
        )
    return amount


def received_since(case: Case, loan: CaseLoan) -> Decimal:
    """The recoveries on ``loan`` received after its last month on the books (a reversed
    entry and its reversal count for nothing)."""
    since = (
        Recovery.objects.filter(
            case__household_id=case.household_id,
            loan_id=loan.loan_id,
            received_on__gt=loan.owed_as_of,
            reverses__isnull=True,
            reversed_by__isnull=True,
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return Decimal(since).quantize(ZERO)  # SQLite sums come back without their scale


def recoverable(case: Case, loan: CaseLoan) -> Decimal:
    """What the loan can still owe: what it owed at its last month on the books (principal
    and overdue interest) less the recoveries received since; nothing for a loan casework
    never saw on the books."""
    if loan.owed_as_of is None:
        return ZERO
    return loan.owed - received_since(case, loan)


def recovery_amount(case: Case, loan: CaseLoan, amount: Decimal) -> Decimal:
    """``amount`` if the loan can still owe it (``recoverable``)."""
    if loan.owed_as_of is None:
        raise InvalidAction(
            translatable(
                "loan {loan_id} was never on the books while case {case_number} followed it: "
                "casework has no balance it could repay",
                loan_id=loan.loan_id,
                case_number=case.number,
            )
        )
    since = received_since(case, loan)
    left = loan.owed - since
    if amount > left:
        raise InvalidAction(
            translatable(
                "a recovery of {amount} on loan {loan_id} is more than it can still owe: "
                "{loan_owed} (balance and overdue interest at {owed_as_of}) less {since} "
                "received since leaves {left}",
                amount=amount,
                loan_id=loan.loan_id,
                loan_owed=loan.owed,
                owed_as_of=loan.owed_as_of,
                since=since,
                left=left,
            )
        )
    return amount


def repayment_plan_amounts(case: Case, kind: str, total: Decimal, discount: Decimal) -> None:
    """A plan of kind ``full`` repays at least the debt (the case's balance); a settlement's
    discount is less than the debt."""
    debt = case.balance
    if kind == RepaymentPlanKind.FULL and total < debt:
        raise InvalidAction(
            translatable(
                "a full repayment plan of {total} is less than the debt of case {case_number}, "
                "{debt}: agree a settlement for less",
                total=total,
                case_number=case.number,
                debt=debt,
            )
        )
    if discount > 0 and discount >= debt:
        raise InvalidAction(
            translatable(
                "a discount of {discount} is not less than the debt of case {case_number}, {debt}",
                discount=discount,
                case_number=case.number,
                debt=debt,
            )
        )
