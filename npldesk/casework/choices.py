"""The fixed vocabularies of casework (``design/casework.md``), one ``TextChoices`` each."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "Loan officer"
    TEAM_LEAD = "team_lead", "Team lead"
    LEGAL = "legal", "Legal"
    FINANCE = "finance", "Finance"
    RISK_ANALYST = "risk_analyst", "Risk analyst"
    LEADER = "leader", "Leader"
    ADMIN = "admin", "Administrator"


# The roles that work cases: only people holding one of them may own a case or join a team.
CASE_WORKING_ROLES = frozenset({Role.OFFICER, Role.TEAM_LEAD, Role.LEGAL})

# The system actor (``access.is_system_actor``): the person record that month-end jobs and the
# command line act as. Its role is not a ``Role``, so no service can give it to anyone.
SYSTEM_USERNAME = "system"
SYSTEM_ROLE = "system"


class TeamKind(models.TextChoices):
    CLEARING_TEAM = "clearing_team", "Clearing team"
    TASK_FORCE = "task_force", "Task force"


class CaseKind(models.TextChoices):
    NPL = "npl", "NPL"
    EARLY_WARNING = "early_warning", "Early warning"


class CaseState(models.TextChoices):
    OPENED = "opened", "Opened"
    INVESTIGATING = "investigating", "Investigating"
    PLAN_PROPOSED = "plan_proposed", "Plan proposed"
    PLAN_APPROVED = "plan_approved", "Plan approved"
    IN_PROGRESS = "in_progress", "In progress"
    ESCALATED = "escalated", "Escalated (legal)"
    RESOLVED = "resolved", "Resolved"


# From each state, the states a person may move a case to by hand (the sync and the plan
# services move cases along the same edges).
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseState.OPENED: frozenset({CaseState.INVESTIGATING, CaseState.PLAN_PROPOSED}),
    CaseState.INVESTIGATING: frozenset({CaseState.PLAN_PROPOSED}),
    CaseState.PLAN_PROPOSED: frozenset({CaseState.PLAN_APPROVED, CaseState.INVESTIGATING}),
    CaseState.PLAN_APPROVED: frozenset({CaseState.IN_PROGRESS, CaseState.PLAN_PROPOSED}),
    CaseState.IN_PROGRESS: frozenset({CaseState.ESCALATED, CaseState.PLAN_PROPOSED}),
    CaseState.ESCALATED: frozenset({CaseState.IN_PROGRESS}),
    CaseState.RESOLVED: frozenset(),
}


class CloseReason(models.TextChoices):
    REPAID = "repaid", "Repaid"
    UPGRADED = "upgraded", "Upgraded"
    TRANSFERRED = "transferred", "Transferred"
    FORECLOSED = "foreclosed", "Foreclosed"
    SETTLED = "settled", "Settled"
    RESTRUCTURED_PERFORMING = "restructured_performing", "Restructured and performing"
    WRITTEN_OFF_EXHAUSTED = "written_off_exhausted", "Written off, recovery exhausted"


# Reasons the month-end sync derives by itself; the others are given by a person.
DERIVED_CLOSE_REASONS = frozenset(
    {CloseReason.REPAID, CloseReason.UPGRADED, CloseReason.TRANSFERRED, CloseReason.FORECLOSED}
)


class Ability(models.TextChoices):
    ABLE = "able", "Able"
    PARTLY_ABLE = "partly_able", "Partly able"
    UNABLE = "unable", "Unable"
    UNKNOWN = "unknown", "Unknown (not investigated)"


class Willingness(models.TextChoices):
    WILLING = "willing", "Willing"
    UNWILLING = "unwilling", "Unwilling"
    UNREACHABLE = "unreachable", "Unreachable"


class Strategy(models.TextChoices):
    INVESTIGATE = "investigate", "Investigate first"
    TRACE_AND_LITIGATE = "trace_and_litigate", "Asset search, tracing, public notice, litigation"
    COLLATERAL_ENFORCEMENT = "collateral_enforcement", "Enforcement against collateral"
    NEGOTIATED_REPAYMENT = "negotiated_repayment", "Negotiated full repayment"
    LAWYERS_LETTER_LITIGATION = "lawyers_letter_litigation", "Lawyer's letter, then litigation"
    LETTER_AND_SETTLEMENT = "letter_and_settlement", "Lawyer's letter and a settlement offer"
    REPAYMENT_PLAN = "repayment_plan", "Repayment plan or partial settlement"
    LITIGATION_ENFORCEMENT = "litigation_enforcement", "Litigation and enforcement"
    BULK_TRANSFER = "bulk_transfer", "Bulk transfer"
    WRITE_OFF = "write_off", "Write-off"
    SECURITISATION = "securitisation", "Securitisation"


# Strategies that put a case in front of the legal desk.
LEGAL_STRATEGIES = frozenset(
    {
        Strategy.TRACE_AND_LITIGATE,
        Strategy.COLLATERAL_ENFORCEMENT,
        Strategy.LAWYERS_LETTER_LITIGATION,
        Strategy.LETTER_AND_SETTLEMENT,
        Strategy.LITIGATION_ENFORCEMENT,
    }
)


class Tier(models.TextChoices):
    SHORT = "short", "Short"
    MEDIUM = "medium", "Medium"
    LONG = "long", "Long"


class PlanState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class ActivityKind(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "SMS"
    LETTER = "letter", "Letter"
    VISIT = "visit", "Visit"
    LAWYERS_LETTER = "lawyers_letter", "Lawyer's letter"
    COURT_VISIT = "court_visit", "Court visit"
    MEETING = "meeting", "Meeting"
    NEGOTIATION = "negotiation", "Negotiation"
    PUBLIC_NOTICE = "public_notice", "Public notice"
    ASSET_SEARCH = "asset_search", "Asset search"
    GUARANTOR_CONTACT = "guarantor_contact", "Guarantor contact"


# Kinds that are an attempt to reach the household (counted for willingness).
CONTACT_KINDS = frozenset(
    {
        ActivityKind.PHONE,
        ActivityKind.SMS,
        ActivityKind.VISIT,
        ActivityKind.MEETING,
        ActivityKind.NEGOTIATION,
        ActivityKind.GUARANTOR_CONTACT,
    }
)


class Outcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    CONTACTED = "contacted", "Contacted"
    PROMISE = "promise", "Promise to pay"
    REFUSAL = "refusal", "Refusal"
    PAYMENT = "payment", "Payment"
    DISPUTE = "dispute", "Dispute"
    WRONG_NUMBER = "wrong_number", "Wrong number"


# Outcomes of a contact attempt that reached nobody.
FAILED_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.WRONG_NUMBER})


class PromiseState(models.TextChoices):
    PENDING = "pending", "Pending"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"


class RepaymentPlanKind(models.TextChoices):
    FULL = "full", "Full repayment"
    SETTLEMENT = "settlement", "Settlement (partial repayment)"


class RepaymentPlanState(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class InstalmentState(models.TextChoices):
    DUE = "due", "Due"
    PAID = "paid", "Paid"
    LATE = "late", "Late"
    BREACHED = "breached", "Late beyond the grace"


class LegalStage(models.TextChoices):
    PREPARING = "preparing", "Preparing"
    LAWYERS_LETTER = "lawyers_letter", "Lawyer's letter"
    FILED = "filed", "Filed"
    HEARING = "hearing", "Hearing"
    JUDGMENT = "judgment", "Judgment"
    ENFORCEMENT_APPLIED = "enforcement_applied", "Enforcement applied"
    ENFORCEMENT = "enforcement", "Enforcement"
    TERMINATED_UNRECOVERED = "terminated_unrecovered", "Enforcement terminated, not fully recovered"
    CLOSED = "closed", "Closed"


# The order a lawsuit moves through; a stage may be skipped but never goes back.
LEGAL_STAGE_ORDER = tuple(LegalStage)
OPEN_LEGAL_STAGES = frozenset(LEGAL_STAGE_ORDER) - {LegalStage.CLOSED}


class WriteOffState(models.TextChoices):
    PREPARED = "prepared", "Prepared"
    REVIEWED = "reviewed", "Reviewed by finance"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class RecoverySource(models.TextChoices):
    BORROWER = "borrower", "Borrower"
    GUARANTOR = "guarantor", "Guarantor"
    COURT_ENFORCEMENT = "court_enforcement", "Court enforcement"
    COLLATERAL_SALE = "collateral_sale", "Collateral sale"
    TRANSFER_PROCEEDS = "transfer_proceeds", "Transfer proceeds"
    DEBT_FOR_ASSET = "debt_for_asset", "Debt for asset"


class TransferState(models.TextChoices):
    PREPARED = "prepared", "Prepared"
    APPROVED = "approved", "Approved"
    SETTLED = "settled", "Settled"
