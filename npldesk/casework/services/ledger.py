"""Money: the append-only recovery ledger, write-offs with their approval chain, and transfer
packages. No service edits or deletes a ledger entry; a correction is a reversal entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.utils import timezone

from npldesk.casework import audit, validation
from npldesk.casework.access import (
    Action,
    require,
    require_named_person,
    require_second_person,
    require_transfer,
)
from npldesk.casework.choices import RecoverySource, TransferState, WriteOffState
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import (
    Case,
    CaseLoan,
    Person,
    Recovery,
    RecoveryConfirmation,
    TransferLoan,
    TransferPackage,
    Unit,
    WriteOff,
    WriteOffDecision,
)
from npldesk.casework.services._common import compare_and_swap, refresh_case, to_money
from npldesk.core.i18n import translatable

ZERO = Decimal("0.00")


def _case_loan(case: Case, loan_id: str) -> CaseLoan:
    loan = case.loans.filter(loan_id=loan_id).first()
    if loan is None:
        raise InvalidAction(
            translatable(
                "loan {loan_id} is not in the scope of case {case_number}",
                loan_id=loan_id,
                case_number=case.number,
            )
        )
    return loan


@audit.service()
def recovery_enter(
    *,
    actor: Person,
    case: Case,
    loan_id: str,
    received_on: date,
    amount: Decimal,
    source: str,
    principal_part: Decimal | None = None,
    note: str = "",
) -> Recovery:
    """Enter money or assets received (pending until finance or a lead confirms it).

    Whether it came after write-off follows the tape: the loan's latest synced status. On a
    closed case only money received up to its closing day is taken (entered late); what came
    after belongs to no NPL case of this one (a written-off case stays open for recovery).
    """
    require(actor, Action.WORK_CASE, case)
    validation.event_date(case, received_on, translatable("a recovery"))
    if case.closed_on is not None and received_on > case.closed_on:
        raise InvalidAction(
            translatable(
                "case {case_number} closed on {closed_on} ({close_reason}): money received on "
                "{received_on} is not a recovery of this case",
                case_number=case.number,
                closed_on=case.closed_on,
                close_reason=case.close_reason,
                received_on=received_on,
            )
        )
    loan = _case_loan(case, loan_id)
    value = validation.positive_amount(
        amount, translatable("a recovery (a correction is a reversal)")
    )
    validation.recovery_amount(case, loan, value)
    principal = (
        value
        if principal_part is None
        else to_money(principal_part, translatable("principal part"))
    )
    if not ZERO <= principal <= value:
        raise InvalidAction(translatable("the principal part lies between zero and the amount"))
    if source not in RecoverySource.values:
        raise InvalidAction(
            translatable(
                "unknown source {source!r}: one of {choices}",
                source=source,
                choices=", ".join(RecoverySource.values),
            )
        )
    recovery = Recovery(
        case=case,
        loan_id=loan_id,
        received_on=received_on,
        amount=value,
        principal_part=principal,
        source=source,
        after_write_off=loan.status == "written_off",
        entered_by=actor,
        entered_at=timezone.now(),
        note=note,
    )
    recovery.save(force_insert=True)
    derived = refresh_case(case, today=received_on)
    audit.record(
        actor=actor,
        action="recovery_enter",
        obj=recovery,
        case=case,
        after={**audit.snapshot(recovery), "case": derived},
    )
    return recovery


@audit.service()
def recovery_reverse(
    *, actor: Person, recovery: Recovery, reversed_on: date, reason: str
) -> Recovery:
    """Correct a ledger entry by entering its exact opposite, linked to it. Whoever entered
    the entry cannot reverse it (four eyes, as on confirming)."""
    case = recovery.case
    require(actor, Action.CONFIRM_RECOVERY, case)
    if recovery.reverses_id is not None:
        raise InvalidAction(translatable("a reversal is not reversed: enter the recovery again"))
    if Recovery.objects.filter(reverses=recovery).exists():
        raise InvalidAction(
            translatable("recovery {recovery_id} is already reversed", recovery_id=recovery.pk)
        )
    if not reason.strip():
        raise InvalidAction(translatable("a reversal needs a reason"))
    require_second_person(
        actor,
        recovery.entered_by_id,
        translatable("reversing recovery {recovery_id}", recovery_id=recovery.pk),
    )
    validation.event_date(case, reversed_on, translatable("a reversal"))
    validation.reversal_date(recovery, reversed_on)
    reversal = Recovery(
        case=case,
        loan_id=recovery.loan_id,
        received_on=reversed_on,
        amount=-recovery.amount,
        principal_part=-recovery.principal_part,
        source=recovery.source,
        after_write_off=recovery.after_write_off,
        entered_by=actor,
        entered_at=timezone.now(),
        reverses=recovery,
        note=reason,
    )
    reversal.save(force_insert=True)
    derived = refresh_case(case, today=reversed_on)
    audit.record(
        actor=actor,
        action="recovery_reverse",
        obj=reversal,
        case=case,
        after={**audit.snapshot(reversal), "case": derived},
        reason=reason,
    )
    return reversal


@audit.service()
def recovery_confirm(*, actor: Person, recovery: Recovery) -> RecoveryConfirmation:
    """Finance or a lead confirms an entry; whoever entered it cannot confirm it."""
    require(actor, Action.CONFIRM_RECOVERY, recovery.case)
    require_second_person(
        actor,
        recovery.entered_by_id,
        translatable("confirming recovery {recovery_id}", recovery_id=recovery.pk),
    )
    if RecoveryConfirmation.objects.filter(recovery=recovery).exists():
        raise InvalidAction(
            translatable("recovery {recovery_id} is already confirmed", recovery_id=recovery.pk)
        )
    confirmation = RecoveryConfirmation.objects.create(
        recovery=recovery, by=actor, at=timezone.now()
    )
    audit.record(
        actor=actor,
        action="recovery_confirm",
        obj=recovery,
        case=recovery.case,
        after={"confirmed_by": actor.pk},
    )
    return confirmation


@audit.service()
def writeoff_prepare(
    *,
    actor: Person,
    case: Case,
    loan_id: str,
    principal: Decimal,
    interest: Decimal,
    prepared_on: date,
    reason: str,
) -> WriteOff:
    """Finance prepares a write-off application for a loan of the case."""
    require(actor, Action.PREPARE_WRITEOFF, case)
    loan = _case_loan(case, loan_id)
    if loan.status != "active":
        raise InvalidAction(
            translatable(
                "loan {loan_id} is no longer on the books ({loan_status})",
                loan_id=loan_id,
                loan_status=loan.status,
            )
        )
    if case.writeoffs.filter(loan_id=loan_id).exclude(state=WriteOffState.REJECTED).exists():
        raise InvalidAction(
            translatable("loan {loan_id} already has a write-off application", loan_id=loan_id)
        )
    amount = to_money(principal, translatable("principal"))
    interest_value = to_money(interest, translatable("interest"))
    if interest_value < 0:
        raise InvalidAction(
            translatable(
                "the interest written off cannot be negative, not {interest_value}",
                interest_value=interest_value,
            )
        )
    if amount <= 0 or amount > loan.principal_balance:
        raise InvalidAction(
            translatable(
                "the principal written off lies between zero and the balance {principal_balance}",
                principal_balance=loan.principal_balance,
            )
        )
    writeoff = WriteOff.objects.create(
        case=case,
        loan_id=loan_id,
        principal=amount,
        interest=interest_value,
        reason=reason,
        prepared_by=actor,
        prepared_on=prepared_on,
    )
    WriteOffDecision.objects.create(
        writeoff=writeoff, step=WriteOffState.PREPARED, by=actor, at=timezone.now(), note=reason
    )
    audit.record(
        actor=actor,
        action="writeoff_prepare",
        obj=writeoff,
        case=case,
        after=audit.snapshot(writeoff),
    )
    return writeoff


def _decide(
    actor: Person,
    writeoff: WriteOff,
    version: int,
    *,
    step: str,
    approve: bool,
    note: str,
    on: date,
) -> WriteOff:
    decider = require_named_person(actor, translatable("a write-off's review or approval"))
    if WriteOffDecision.objects.filter(writeoff=writeoff, by=decider).exists():
        raise InvalidAction(
            translatable("each step of a write-off's approval is taken by a different person")
        )
    state = step if approve else WriteOffState.REJECTED
    changes: dict[str, object] = {"state": state}
    if approve and step == WriteOffState.APPROVED:
        changes["approved_on"] = on
    before = {"state": writeoff.state}
    compare_and_swap(
        writeoff,
        version=version,
        what=translatable("write-off {writeoff_id}", writeoff_id=writeoff.pk),
        **changes,
    )
    WriteOffDecision.objects.create(
        writeoff=writeoff, step=state, by=decider, at=timezone.now(), note=note
    )
    audit.record(
        actor=actor,
        action="writeoff_decide",
        obj=writeoff,
        case=writeoff.case,
        before=before,
        after={"state": state},
        reason=note,
    )
    return writeoff


# The step a write-off in each state waits for, and the action that takes it.
_WRITEOFF_STEPS = {
    WriteOffState.PREPARED: (WriteOffState.REVIEWED, Action.REVIEW_WRITEOFF),
    WriteOffState.REVIEWED: (WriteOffState.APPROVED, Action.APPROVE_WRITEOFF),
}


@audit.service()
def writeoff_decide(
    *, actor: Person, writeoff: WriteOff, version: int, approve: bool, note: str, on: date
) -> WriteOff:
    """The next step of a write-off application, approved or rejected (four eyes): a second
    finance officer reviews a prepared one; a leader approves a reviewed one, on ``on``. The
    tape's ``written_off`` row is what takes the loan off the books; reconciliation lists
    approvals the tape has not shown."""
    if writeoff.version != version:
        # Changed since the caller read it: a conflict to reload, not a step to take.
        compare_and_swap(
            writeoff,
            version=version,
            what=translatable("write-off {writeoff_id}", writeoff_id=writeoff.pk),
        )
    step = _WRITEOFF_STEPS.get(WriteOffState(writeoff.state))
    if step is None:
        raise InvalidAction(
            translatable(
                "write-off {writeoff_id} is {writeoff_state}: nothing is left to decide",
                writeoff_id=writeoff.pk,
                writeoff_state=writeoff.state,
            )
        )
    state, action = step
    require(actor, action, writeoff.case)
    return _decide(actor, writeoff, version, step=state, approve=approve, note=note, on=on)


@audit.service()
def transfer_prepare(
    *,
    actor: Person,
    code: str,
    buyer: str,
    unit: Unit,
    cut_off_on: date,
    price: Decimal,
    loans: Sequence[tuple[Case, str]],
) -> TransferPackage:
    """Finance puts NPLs into a package for sale to an asset-management company."""
    require(actor, Action.PREPARE_TRANSFER)
    if not loans:
        raise InvalidAction(translatable("a transfer package holds at least one loan"))
    if TransferPackage.objects.filter(code=code).exists():
        raise InvalidAction(translatable("transfer package {code} exists", code=code))
    price_value = to_money(price, translatable("price"))
    if price_value < 0:
        raise InvalidAction(
            translatable("a price cannot be negative, not {price_value}", price_value=price_value)
        )
    loan_ids = [loan_id for _, loan_id in loans]
    repeated = sorted({loan_id for loan_id in loan_ids if loan_ids.count(loan_id) > 1})
    if repeated:
        raise InvalidAction(
            translatable("loans listed twice: {repeated}", repeated=", ".join(repeated))
        )
    packaged = sorted(
        TransferLoan.objects.filter(loan_id__in=loan_ids)
        .exclude(package__state=TransferState.SETTLED)
        .values_list("loan_id", flat=True)
    )
    if packaged:
        raise InvalidAction(
            translatable(
                "loans already in another transfer package: {packaged}",
                packaged=", ".join(packaged),
            )
        )
    chosen = []
    for case, loan_id in loans:
        require(actor, Action.PREPARE_TRANSFER, case)
        if not case.unit.path.startswith(unit.path):
            raise InvalidAction(
                translatable(
                    "case {case_number} is outside unit {unit_code}",
                    case_number=case.number,
                    unit_code=unit.code,
                )
            )
        loan = _case_loan(case, loan_id)
        if not loan.is_npl or loan.status != "active":
            raise InvalidAction(
                translatable("loan {loan_id} is not an NPL on the books", loan_id=loan_id)
            )
        chosen.append((case, loan))
    package = TransferPackage.objects.create(
        code=code,
        buyer=buyer,
        unit=unit,
        cut_off_on=cut_off_on,
        price=price_value,
        book_value=sum((loan.principal_balance for _, loan in chosen), ZERO),
        prepared_by=actor,
    )
    TransferLoan.objects.bulk_create(
        TransferLoan(
            package=package, case=case, loan_id=loan.loan_id, book_value=loan.principal_balance
        )
        for case, loan in chosen
    )
    audit.record(
        actor=actor,
        action="transfer_prepare",
        obj=package,
        after={**audit.snapshot(package), "loans": [loan.loan_id for _, loan in chosen]},
    )
    return package


@audit.service()
def transfer_approve(
    *, actor: Person, package: TransferPackage, version: int, signed_on: date, note: str
) -> TransferPackage:
    """A leader approves the sale; the loans leave the books when the tape shows them
    ``transferred``."""
    require_transfer(actor, Action.APPROVE_TRANSFER, package)
    if package.version != version:
        # Changed since the caller read it: a conflict to reload, not a mistake.
        compare_and_swap(
            package,
            version=version,
            what=translatable("transfer package {package_code}", package_code=package.code),
        )
    if package.state != TransferState.PREPARED:
        raise InvalidAction(
            translatable(
                "transfer package {package_code} is {package_state}",
                package_code=package.code,
                package_state=package.state,
            )
        )
    if (
        package.prepared_by_id
        == require_named_person(actor, translatable("a transfer's approval")).pk
    ):
        raise InvalidAction(
            translatable("a transfer is approved by someone other than who prepared it")
        )
    compare_and_swap(
        package,
        version=version,
        what=translatable("transfer package {package_code}", package_code=package.code),
        state=TransferState.APPROVED,
        approved_by=actor,
        signed_on=signed_on,
    )
    audit.record(
        actor=actor,
        action="transfer_approve",
        obj=package,
        before={"state": TransferState.PREPARED},
        after={"state": TransferState.APPROVED, "signed_on": signed_on},
        reason=note,
    )
    return package
