"""Reconciliation of casework with the tape (``docs/casework-rules.md``, "Reconciliation").

Per month and household: the recoveries entered in casework on loans still on the books (their
principal part) against the NPL movement's ``cash`` line for the household, computed by the
analytics movement function itself (``npl_movement_step`` grouped by ``borrower_id``), so the
two sides are defined once. Transfer proceeds and recoveries after write-off are listed on their
own lines, never matched against ``cash``. Then the write-offs: approvals the tape has not yet
shown, and ``written_off`` rows in the tape with no approved write-off behind them.

A read: nothing is written, no audit record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from npldesk.casework.choices import RecoverySource, WriteOffState
from npldesk.casework.models import Case, Recovery, WriteOff
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label, previous_month_end

ZERO = Decimal("0.00")
FEN = Decimal("0.01")

ON_BOOK = "on_book"
TRANSFER_PROCEEDS = "transfer_proceeds"
AFTER_WRITE_OFF = "after_write_off"
LINES = (ON_BOOK, TRANSFER_PROCEEDS, AFTER_WRITE_OFF)


@dataclass(frozen=True)
class ReconciliationRow:
    """One household's line: casework's amount, the tape's cash (on-book lines only) and
    their difference (casework − tape)."""

    borrower_id: str
    cases: str
    line: str
    casework: Decimal
    tape_cash: Decimal | None
    difference: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "borrower_id": self.borrower_id,
            "cases": self.cases,
            "line": self.line,
            "casework": str(self.casework),
            "tape_cash": None if self.tape_cash is None else str(self.tape_cash),
            "difference": None if self.difference is None else str(self.difference),
        }


@dataclass(frozen=True)
class WriteOffRow:
    """A write-off on one side only: approved in casework and not in the tape, or the reverse."""

    loan_id: str
    borrower_id: str
    case: str | None
    principal: Decimal
    approved_on: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "borrower_id": self.borrower_id,
            "case": self.case,
            "principal": str(self.principal),
            "approved_on": None if self.approved_on is None else self.approved_on.isoformat(),
        }


@dataclass
class Reconciliation:
    as_of: date
    start: date
    rows: list[ReconciliationRow] = field(default_factory=list)
    approvals_not_in_tape: list[WriteOffRow] = field(default_factory=list)
    tape_writeoffs_without_approval: list[WriteOffRow] = field(default_factory=list)

    def totals(self) -> dict[str, Decimal]:
        on_book = [r for r in self.rows if r.line == ON_BOOK]
        return {
            "casework_on_book": sum((r.casework for r in on_book), ZERO),
            "tape_cash": sum((r.tape_cash or ZERO for r in on_book), ZERO),
            "difference": sum((r.difference or ZERO for r in on_book), ZERO),
            TRANSFER_PROCEEDS: sum(
                (r.casework for r in self.rows if r.line == TRANSFER_PROCEEDS), ZERO
            ),
            AFTER_WRITE_OFF: sum(
                (r.casework for r in self.rows if r.line == AFTER_WRITE_OFF), ZERO
            ),
        }

    def differences(self) -> list[ReconciliationRow]:
        return [r for r in self.rows if r.difference]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "from": self.start.isoformat(),
            "totals": {k: str(v) for k, v in self.totals().items()},
            "rows": [r.as_dict() for r in self.rows],
            "approvals_not_in_tape": [r.as_dict() for r in self.approvals_not_in_tape],
            "tape_writeoffs_without_approval": [
                r.as_dict() for r in self.tape_writeoffs_without_approval
            ],
        }


def to_fen(value: Any) -> Decimal:
    """An amount in yuan to the fen. An engine may hand money back at a wider scale (a sum of
    DECIMAL(38,12) values): ``0E-12`` is no difference and ``586.940000000000`` is 586.94."""
    return Decimal(str(value)).quantize(FEN)


def household_cash(session: Any, as_of: date) -> dict[str, Decimal]:
    """The movement's ``cash`` line of the month ending ``as_of``, per household (non-zero,
    in fen)."""
    from npldesk.analytics.movement import npl_movement_step

    start = previous_month_end(as_of)
    session.require_span(start, as_of)
    step = npl_movement_step(session.classified(start), session.classified(as_of), by="borrower_id")
    step = step.filter(step.cash != 0).select("key", "cash")
    cash = {str(r["key"]): to_fen(r["cash"]) for r in session.rows(step)}
    return {key: amount for key, amount in cash.items() if amount}


def _casework_recoveries(start: date, as_of: date) -> dict[tuple[str, str], Decimal]:
    """Principal parts received in the month, by household and line."""
    found: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    recoveries = (
        Recovery.objects.filter(received_on__gt=start, received_on__lte=as_of)
        .values("case__household__borrower_id", "source", "after_write_off")
        .annotate(principal=Sum("principal_part"))
    )
    for row in recoveries:
        if row["after_write_off"]:
            line = AFTER_WRITE_OFF
        elif row["source"] == RecoverySource.TRANSFER_PROCEEDS:
            line = TRANSFER_PROCEEDS
        else:
            line = ON_BOOK
        found[(row["case__household__borrower_id"], line)] += to_fen(row["principal"] or ZERO)
    return found


def _case_numbers(borrower_ids: set[str]) -> dict[str, str]:
    numbers: dict[str, list[str]] = defaultdict(list)
    for borrower_id, number in (
        Case.objects.filter(household__borrower_id__in=borrower_ids)
        .order_by("opened_on", "id")
        .values_list("household__borrower_id", "number")
    ):
        numbers[borrower_id].append(number)
    return {k: ",".join(v) for k, v in numbers.items()}


def reconcile(session: Any, as_of: date) -> Reconciliation:
    """Casework against the tape for the month ending ``as_of`` (and the month before it)."""
    session.require_month(as_of, what="--as-of")
    start = previous_month_end(as_of)
    if start not in set(session.months()):
        from npldesk.core.errors import UsageError

        raise UsageError(
            translatable(
                "reconciling {as_of} needs the month before it, {start}, which is not imported",
                as_of=month_label(as_of),
                start=month_label(start),
            )
        )
    cash = household_cash(session, as_of)
    casework = _casework_recoveries(start, as_of)
    households = set(cash) | {borrower_id for borrower_id, _ in casework}
    numbers = _case_numbers(households)
    result = Reconciliation(as_of=as_of, start=start)
    for borrower_id in sorted(households):
        on_book = casework.get((borrower_id, ON_BOOK), ZERO)
        tape = cash.get(borrower_id, ZERO)
        result.rows.append(
            ReconciliationRow(
                borrower_id, numbers.get(borrower_id, ""), ON_BOOK, on_book, tape, on_book - tape
            )
        )
        for line in (TRANSFER_PROCEEDS, AFTER_WRITE_OFF):
            if (borrower_id, line) in casework:
                result.rows.append(
                    ReconciliationRow(
                        borrower_id,
                        numbers.get(borrower_id, ""),
                        line,
                        casework[(borrower_id, line)],
                        None,
                        None,
                    )
                )
    _writeoffs(session, as_of, result)
    return result


def _writeoffs(session: Any, as_of: date, result: Reconciliation) -> None:
    """Approvals up to ``as_of`` with no ``written_off`` row in any snapshot up to ``as_of``;
    ``written_off`` rows of the month with no approved write-off."""
    approved = list(
        WriteOff.objects.filter(state=WriteOffState.APPROVED, approved_on__lte=as_of)
        .select_related("case__household")
        .order_by("approved_on", "loan_id")
    )
    months = [m for m in session.months() if m <= as_of]
    seen: set[str] = set()
    if approved:
        tape = session.figures_span(months)
        written = tape.filter(
            (tape.status == "written_off") & tape.loan_id.isin([w.loan_id for w in approved])
        ).select("loan_id")
        seen = {str(r["loan_id"]) for r in session.rows(written.distinct())}
    for writeoff in approved:
        if writeoff.loan_id not in seen:
            result.approvals_not_in_tape.append(
                WriteOffRow(
                    writeoff.loan_id,
                    writeoff.case.household.borrower_id,
                    writeoff.case.number,
                    writeoff.principal,
                    writeoff.approved_on,
                )
            )
    snapshot = session.classified(as_of)
    month_writeoffs = session.rows(
        snapshot.filter(snapshot.status == "written_off")
        .select("loan_id", "borrower_id", "exit_amount", "principal_balance")
        .order_by("loan_id")
    )
    approved_ids = set(
        WriteOff.objects.filter(
            state=WriteOffState.APPROVED, loan_id__in=[r["loan_id"] for r in month_writeoffs]
        ).values_list("loan_id", flat=True)
    )
    cases: dict[str, str] = dict(
        Case.objects.filter(loans__loan_id__in=[r["loan_id"] for r in month_writeoffs]).values_list(
            "loans__loan_id", "number"
        )
    )
    for row in month_writeoffs:
        if row["loan_id"] in approved_ids:
            continue
        amount = row["exit_amount"] if row["exit_amount"] is not None else row["principal_balance"]
        result.tape_writeoffs_without_approval.append(
            WriteOffRow(
                str(row["loan_id"]),
                str(row["borrower_id"]),
                cases.get(row["loan_id"]),
                to_fen(amount if amount is not None else 0),
                None,
            )
        )
