"""A case as a document: the one shape every face shows it in.

``cases show --format json`` prints ``case_document``, ``cases list`` prints ``case_row`` per
case, and the web app and the API render the same dictionaries, so a case reads alike
everywhere. Money is a decimal string with two places, days are ISO dates, missing values are
``None`` (``docs/adr/0001-money.md``). Personal data is as the selector gave
it: masked unless the person asked and may see it. Every sub-object carries its ``id`` (and
its ``version`` where edits are compared against one), so an API client can write back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from npldesk.casework.models import Case
from npldesk.casework.selectors import CaseDetail


def money_text(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def day_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def case_row(case: Case) -> dict[str, Any]:
    """A case's line in a list (``cases list``); the selector joined its related rows in."""
    return {
        "case_id": case.number,
        "household": case.household.borrower_id,
        "kind": case.kind,
        "state": case.state,
        "segment": case.segment,
        "strategy": case.strategy,
        "tier": case.tier,
        "deadline": day_text(case.deadline),
        "owner": case.owner.user.get_username() if case.owner is not None else None,
        "team": case.team.code if case.team is not None else None,
        "npl_balance": money_text(case.npl_balance),
    }


def case_document(detail: CaseDetail) -> dict[str, Any]:
    """One case in full, personal data as the selector gave it (masked)."""
    case = detail.case
    household = detail.household
    latest = detail.investigations[0] if detail.investigations else None
    plan = detail.plans[0] if detail.plans else None
    return {
        **case_row(case),
        "unit": case.unit.code,
        "opened_on": day_text(case.opened_on),
        "closed_on": day_text(case.closed_on),
        "close_reason": case.close_reason or None,
        "previous_case": case.previous_case.number if case.previous_case is not None else None,
        "balance": money_text(case.balance),
        "collateral_value": money_text(case.collateral_value),
        "written_off": case.written_off,
        "synced_as_of": day_text(case.synced_as_of),
        "version": case.version,
        "household_detail": {
            "borrower_id": household.borrower_id,
            "name": household.name,
            "id_number": household.id_number,
            "phones": household.phones,
            "address": household.address,
            "masked": household.masked,
        },
        "loans": [
            {
                "loan_id": loan.loan_id,
                "product": loan.product,
                "org_unit": loan.org_unit,
                "status": loan.status,
                "principal_balance": money_text(loan.principal_balance),
                "days_past_due": loan.days_past_due,
                "class": loan.loan_class,
                "is_npl": loan.is_npl,
                "collateral_value": money_text(loan.collateral_value),
                "as_of": day_text(loan.as_of),
            }
            for loan in detail.loans
        ],
        "latest_investigation": None
        if latest is None
        else {
            "id": latest.pk,
            "investigated_on": day_text(latest.investigated_on),
            "investigator": latest.investigator.user.get_username(),
            "family_status": latest.family_status,
            "income_source": latest.income_source,
            "monthly_income": money_text(latest.monthly_income),
            "unencumbered_assets": money_text(latest.unencumbered_assets),
            "contactability": latest.contactability,
        },
        "plan": None
        if plan is None
        else {
            "id": plan.pk,
            "version": plan.version,
            "strategy": plan.strategy,
            "state": plan.state,
            "reason": plan.reason,
            "target_amount": money_text(plan.target_amount),
            "target_date": day_text(plan.target_date),
            "milestones": [
                {
                    "id": m.pk,
                    "task": m.task,
                    "due_on": day_text(m.due_on),
                    "done_on": day_text(m.done_on),
                }
                for m in plan.milestones.all()
            ],
        },
        "activities": [
            {
                "id": a.pk,
                "occurred_on": day_text(a.occurred_on),
                "kind": a.kind,
                "outcome": a.outcome,
                "person": a.person.user.get_username(),
            }
            for a in detail.activities
        ],
        "promises": [
            {
                "id": p.pk,
                "amount": money_text(p.amount),
                "made_on": day_text(p.made_on),
                "due_on": day_text(p.due_on),
                "state": p.state,
                "paid": money_text(p.paid),
            }
            for p in detail.promises
        ],
        "repayment_plans": [
            {
                "id": rp.pk,
                "version": rp.version,
                "kind": rp.kind,
                "state": rp.state,
                "total": money_text(rp.total),
                "agreed_on": day_text(rp.agreed_on),
                "instalments": [
                    {
                        "id": i.pk,
                        "number": i.number,
                        "due_on": day_text(i.due_on),
                        "amount": money_text(i.amount),
                        "paid": money_text(i.paid),
                        "state": i.state,
                    }
                    for i in rp.instalments.all()
                ],
            }
            for rp in detail.repayment_plans
        ],
        "legal_cases": [
            {
                "id": lc.pk,
                "version": lc.version,
                "court": lc.court,
                "court_case_number": lc.court_case_number,
                "stage": lc.stage,
                "stage_since": day_text(lc.stage_since),
                "claim_amount": money_text(lc.claim_amount),
                "next_hearing_on": day_text(lc.next_hearing_on),
                "holder": lc.holder.user.get_username(),
            }
            for lc in detail.legal_cases
        ],
        "recoveries": [
            {
                "id": r.pk,
                "received_on": day_text(r.received_on),
                "loan_id": r.loan_id,
                "amount": money_text(r.amount),
                "principal_part": money_text(r.principal_part),
                "source": r.source,
                "after_write_off": r.after_write_off,
            }
            for r in detail.recoveries
        ],
        "writeoffs": [
            {
                "id": w.pk,
                "version": w.version,
                "loan_id": w.loan_id,
                "principal": money_text(w.principal),
                "state": w.state,
                "approved_on": day_text(w.approved_on),
            }
            for w in detail.writeoffs
        ],
    }
