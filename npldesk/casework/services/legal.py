"""Legal cases: open a lawsuit or arbitration, move it through its stages, book its costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import F

from npldesk.casework import audit, validation
from npldesk.casework.access import Action, require
from npldesk.casework.choices import LEGAL_STAGE_ORDER, CaseState, LegalStage, Role
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Case, LegalCase, LegalStageEntry, Person
from npldesk.casework.services._common import compare_and_swap, refresh_case
from npldesk.core.i18n import translatable

TRACKED = [
    "stage",
    "stage_since",
    "next_hearing_on",
    "limitation_date",
    "seizure_expiry_date",
    "judgment_effective_on",
    "performance_due_on",
    "costs",
]


@audit.service()
def legal_case_open(
    *,
    actor: Person,
    case: Case,
    court: str,
    claim_amount: Decimal,
    opened_on: date,
    lawyer: str = "",
    limitation_date: date | None = None,
    holder: Person | None = None,
) -> LegalCase:
    """Open a legal case on a case with a legal strategy; it escalates the case."""
    require(actor, Action.WORK_LEGAL, case)
    if not case.is_open:
        raise InvalidAction(translatable("case {case_number} is closed", case_number=case.number))
    holder = holder or actor
    if not holder.has_role(Role.LEGAL):
        raise InvalidAction(translatable("a legal case is held by a member of the legal desk"))
    validation.event_date(case, opened_on, translatable("a legal case"))
    amount = validation.positive_amount(claim_amount, translatable("the claim amount"))
    legal_case = LegalCase.objects.create(
        case=case,
        holder=holder,
        court=court,
        claim_amount=amount,
        lawyer=lawyer,
        stage=LegalStage.PREPARING,
        stage_since=opened_on,
        limitation_date=limitation_date,
    )
    LegalStageEntry.objects.create(
        legal_case=legal_case, stage=LegalStage.PREPARING, entered_on=opened_on, by=holder
    )
    # A change of the case's state: its version moves so a stale edit of the case fails.
    Case.objects.filter(pk=case.pk).update(state=CaseState.ESCALATED, version=F("version") + 1)
    derived = refresh_case(case, today=opened_on)
    audit.record(
        actor=actor,
        action="legal_case_open",
        obj=legal_case,
        case=case,
        after={**audit.snapshot(legal_case), "case": {"state": CaseState.ESCALATED, **derived}},
    )
    return legal_case


@audit.service()
def legal_case_advance(
    *,
    actor: Person,
    legal_case: LegalCase,
    version: int,
    stage: str,
    entered_on: date,
    note: str = "",
    court_case_number: str | None = None,
    next_hearing_on: date | None = None,
    seizure_expiry_date: date | None = None,
    limitation_date: date | None = None,
    judgment_effective_on: date | None = None,
    performance_due_on: date | None = None,
) -> LegalCase:
    """Enter the next stage (stages may be skipped, never gone back to) and the dates it sets."""
    case = legal_case.case
    require(actor, Action.WORK_LEGAL, case)
    if legal_case.version != version:
        # Changed since the caller read it: a conflict to reload, not a mistake.
        compare_and_swap(
            legal_case,
            version=version,
            what=translatable("legal case {legal_case_id}", legal_case_id=legal_case.pk),
        )
    if stage not in LegalStage.values:
        raise InvalidAction(
            translatable(
                "unknown legal stage {stage!r}: one of {choices}",
                stage=stage,
                choices=", ".join(LegalStage.values),
            )
        )
    order: dict[str, int] = {s: n for n, s in enumerate(LEGAL_STAGE_ORDER)}
    if order[stage] < order[legal_case.stage] or legal_case.stage == LegalStage.CLOSED:
        raise InvalidAction(
            translatable(
                "legal case {legal_case_id} is at {legal_case_stage}: it cannot go to {stage}",
                legal_case_id=legal_case.pk,
                legal_case_stage=legal_case.stage,
                stage=stage,
            )
        )
    if entered_on < legal_case.stage_since:
        raise InvalidAction(
            translatable("a stage is entered on or after the day of the previous one")
        )
    validation.event_date(case, entered_on, translatable("a legal stage"))
    effective = judgment_effective_on or legal_case.judgment_effective_on
    if performance_due_on is not None and (effective is None or performance_due_on < effective):
        raise InvalidAction(
            "the last date for performance needs the judgment's effective date, and falls on "
            "or after it"
        )
    before = audit.snapshot(legal_case, TRACKED)
    changes: dict[str, object] = {"stage": stage, "stage_since": entered_on}
    if stage != legal_case.stage:
        LegalStageEntry.objects.create(
            legal_case=legal_case,
            stage=stage,
            entered_on=entered_on,
            by=actor,
            note=note,
        )
    else:
        changes.pop("stage_since")
    for key, value in (
        ("court_case_number", court_case_number),
        ("next_hearing_on", next_hearing_on),
        ("seizure_expiry_date", seizure_expiry_date),
        ("limitation_date", limitation_date),
        ("judgment_effective_on", judgment_effective_on),
        ("performance_due_on", performance_due_on),
    ):
        if value is not None:
            changes[key] = value
    if stage in {LegalStage.CLOSED, LegalStage.TERMINATED_UNRECOVERED, LegalStage.JUDGMENT}:
        changes.setdefault("next_hearing_on", None)
    compare_and_swap(
        legal_case,
        version=version,
        what=translatable("legal case {legal_case_id}", legal_case_id=legal_case.pk),
        **changes,
    )
    derived = refresh_case(case, today=entered_on)
    audit.record(
        actor=actor,
        action="legal_case_advance",
        obj=legal_case,
        case=case,
        before=before,
        after={**audit.snapshot(legal_case, TRACKED), "case": derived},
        reason=note,
    )
    return legal_case


@audit.service()
def legal_case_add_costs(
    *, actor: Person, legal_case: LegalCase, version: int, amount: Decimal, note: str
) -> LegalCase:
    """Book court fees, lawyer's fees and other costs of a legal case."""
    require(actor, Action.WORK_LEGAL, legal_case.case)
    cost = validation.positive_amount(amount, translatable("a cost"))
    before = {"costs": legal_case.costs}
    compare_and_swap(
        legal_case,
        version=version,
        what=translatable("legal case {legal_case_id}", legal_case_id=legal_case.pk),
        costs=legal_case.costs + cost,
    )
    audit.record(
        actor=actor,
        action="legal_case_add_costs",
        obj=legal_case,
        case=legal_case.case,
        before=before,
        after={"costs": legal_case.costs},
        reason=note,
    )
    return legal_case
