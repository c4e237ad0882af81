"""The fixed vocabularies of casework (``docs/casework-rules.md``), one ``TextChoices`` each."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    OFFICER = "officer", _("Loan officer")
    TEAM_LEAD = "team_lead", _("Team lead")
    LEGAL = "legal", _("Legal")
    FINANCE = "finance", _("Finance")
    RISK_ANALYST = "risk_analyst", _("Risk analyst")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", _("Administrator")


# The roles that work cases: only people holding one of them may own a case or join a team.
CASE_WORKING_ROLES = frozenset({Role.OFFICER, Role.TEAM_LEAD, Role.LEGAL})

# The system actor (``access.is_system_actor``): the person record that month-end jobs and the
# command line act as. Its role is not a ``Role``, so no service can give it to anyone.
SYSTEM_USERNAME = "system"
SYSTEM_ROLE = "system"


class TeamKind(models.TextChoices):
    CLEARING_TEAM = "clearing_team", _("Clearing team")
    TASK_FORCE = "task_force", _("Task force")


class CaseKind(models.TextChoices):
    NPL = "npl", _("NPL")
    EARLY_WARNING = "early_warning", _("Early warning")


class CaseState(models.TextChoices):
    OPENED = "opened", _("Opened")
    INVESTIGATING = "investigating", _("Investigating")
    PLAN_PROPOSED = "plan_proposed", _("Plan proposed")
    PLAN_APPROVED = "plan_approved", _("Plan approved")
    IN_PROGRESS = "in_progress", _("In progress")
    ESCALATED = "escalated", _("Escalated (legal)")
    RESOLVED = "resolved", _("Resolved")


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
    REPAID = "repaid", _("Repaid")
    UPGRADED = "upgraded", _("Upgraded")
    TRANSFERRED = "transferred", _("Transferred")
    FORECLOSED = "foreclosed", _("Foreclosed")
    SETTLED = "settled", _("Settled")
    RESTRUCTURED_PERFORMING = "restructured_performing", _("Restructured and performing")
    WRITTEN_OFF_EXHAUSTED = "written_off_exhausted", _("Written off, recovery exhausted")
    # Every loan left the books with no terminal row saying how (an export that dropped them).
    UNEXPLAINED_EXIT = "unexplained_exit", _("Left the books without a terminal row")


# Reasons the month-end sync derives by itself; the others are given by a person.
DERIVED_CLOSE_REASONS = frozenset(
    {
        CloseReason.REPAID,
        CloseReason.UPGRADED,
        CloseReason.TRANSFERRED,
        CloseReason.FORECLOSED,
        CloseReason.UNEXPLAINED_EXIT,
    }
)


class Ability(models.TextChoices):
    ABLE = "able", _("Able")
    PARTLY_ABLE = "partly_able", _("Partly able")
    UNABLE = "unable", _("Unable")
    UNKNOWN = "unknown", _("Unknown (not investigated)")


class Willingness(models.TextChoices):
    WILLING = "willing", _("Willing")
    UNWILLING = "unwilling", _("Unwilling")
    UNREACHABLE = "unreachable", _("Unreachable")


class Strategy(models.TextChoices):
    INVESTIGATE = "investigate", _("Investigate first")
    TRACE_AND_LITIGATE = "trace_and_litigate", _("Asset search, tracing, public notice, litigation")
    COLLATERAL_ENFORCEMENT = "collateral_enforcement", _("Enforcement against collateral")
    NEGOTIATED_REPAYMENT = "negotiated_repayment", _("Negotiated full repayment")
    LAWYERS_LETTER_LITIGATION = "lawyers_letter_litigation", _("Lawyer's letter, then litigation")
    LETTER_AND_SETTLEMENT = "letter_and_settlement", _("Lawyer's letter and a settlement offer")
    REPAYMENT_PLAN = "repayment_plan", _("Repayment plan or partial settlement")
    LITIGATION_ENFORCEMENT = "litigation_enforcement", _("Litigation and enforcement")
    BULK_TRANSFER = "bulk_transfer", _("Bulk transfer")
    WRITE_OFF = "write_off", _("Write-off")
    SECURITISATION = "securitisation", _("Securitisation")


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
    SHORT = "short", _("Short")
    MEDIUM = "medium", _("Medium")
    LONG = "long", _("Long")


class PlanState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


class ActivityKind(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")
    LAWYERS_LETTER = "lawyers_letter", _("Lawyer's letter")
    COURT_VISIT = "court_visit", _("Court visit")
    MEETING = "meeting", _("Meeting")
    NEGOTIATION = "negotiation", _("Negotiation")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    ASSET_SEARCH = "asset_search", _("Asset search")
    GUARANTOR_CONTACT = "guarantor_contact", _("Guarantor contact")
    DOCUMENT = "document", _("Legal document drafted")


class ActivityParty(models.TextChoices):
    BORROWER = "borrower", pgettext_lazy("party reached", "Borrower")
    HOUSEHOLD_MEMBER = "household_member", _("Household member")
    GUARANTOR = "guarantor", _("Guarantor")
    THIRD_PARTY = "third_party", _("Third party")


class ActivityPurpose(models.TextChoices):
    COLLECTION = "collection", _("Collection")
    LOCATING = "locating", _("Locating the borrower")


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
    NO_ANSWER = "no_answer", _("No answer")
    CONTACTED = "contacted", _("Contacted")
    PROMISE = "promise", _("Promise to pay")
    REFUSAL = "refusal", _("Refusal")
    PAYMENT = "payment", _("Payment")
    DISPUTE = "dispute", _("Dispute")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    DRAFTED = "drafted", _("Drafted")  # a legal document drafted from the case


# Outcomes of a contact attempt that reached nobody.
FAILED_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.WRONG_NUMBER})


class PromiseState(models.TextChoices):
    PENDING = "pending", _("Pending")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class RepaymentPlanKind(models.TextChoices):
    FULL = "full", _("Full repayment")
    SETTLEMENT = "settlement", _("Settlement (partial repayment)")


class RepaymentPlanState(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


class InstalmentState(models.TextChoices):
    DUE = "due", _("Due")
    PAID = "paid", _("Paid")
    LATE = "late", _("Late")
    BREACHED = "breached", _("Late beyond the grace")


class LegalStage(models.TextChoices):
    PREPARING = "preparing", _("Preparing")
    LAWYERS_LETTER = "lawyers_letter", _("Lawyer's letter")
    FILED = "filed", _("Filed")
    HEARING = "hearing", _("Hearing")
    JUDGMENT = "judgment", _("Judgment")
    ENFORCEMENT_APPLIED = "enforcement_applied", _("Enforcement applied")
    ENFORCEMENT = "enforcement", _("Enforcement")
    TERMINATED_UNRECOVERED = (
        "terminated_unrecovered",
        _("Enforcement terminated, not fully recovered"),
    )
    CLOSED = "closed", _("Closed")


# The order a lawsuit moves through; a stage may be skipped but never goes back.
LEGAL_STAGE_ORDER = tuple(LegalStage)
OPEN_LEGAL_STAGES = frozenset(LEGAL_STAGE_ORDER) - {LegalStage.CLOSED}


class WriteOffState(models.TextChoices):
    PREPARED = "prepared", _("Prepared")
    REVIEWED = "reviewed", _("Reviewed by finance")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RecoverySource(models.TextChoices):
    # "Borrower" alone is a list column (the borrower's id); here it is who paid.
    BORROWER = "borrower", pgettext_lazy("recovery source", "Borrower")
    GUARANTOR = "guarantor", _("Guarantor")
    COURT_ENFORCEMENT = "court_enforcement", _("Court enforcement")
    COLLATERAL_SALE = "collateral_sale", _("Collateral sale")
    TRANSFER_PROCEEDS = "transfer_proceeds", _("Transfer proceeds")
    DEBT_FOR_ASSET = "debt_for_asset", _("Debt for asset")


class TransferState(models.TextChoices):
    PREPARED = "prepared", _("Prepared")
    APPROVED = "approved", _("Approved")
    SETTLED = "settled", _("Settled")


class RunKind(models.TextChoices):
    MONTH_END = "month_end", _("Month-end run")


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    FAILED = "failed", _("Failed")
    DONE = "done", _("Done")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobKind(models.TextChoices):
    TAPE_IMPORT = "tape_import", _("Tape import")
    MONTH_END = "month_end", _("Month-end run")
    JUDGE = "judge", _("Daily judgement")


class DocumentKind(models.TextChoices):
    """The legal documents drafted from a case (``casework/legaldocs.py``)."""

    LAWYERS_LETTER = "lawyers_letter", _("Lawyer's letter (律师函)")
    DEMAND_NOTICE = "demand_notice", _("Payment demand notice (催收通知书)")
    COMPLAINT = "complaint", _("Civil complaint draft (民事起诉状)")
    ENFORCEMENT_APPLICATION = (
        "enforcement_application",
        _("Application for enforcement (强制执行申请书)"),
    )


class ClockWord(models.TextChoices):
    """How a page says a clock's state and what last set it going (``casework/clocks.py``)."""

    RUNNING = "running", _("running")
    DUE_60 = "due_60", _("60 days or fewer left")
    DUE_30 = "due_30", _("30 days or fewer left")
    EXPIRED = "expired", _("expired")
    INTERRUPTED = "interrupted", _("interrupted: proceedings under way")
    MATURITY = "maturity", _("maturity")
    ACCELERATION = "acceleration", _("acceleration")
    DEMAND = "demand", _("demand delivered")
    ACKNOWLEDGEMENT = "acknowledgement", _("debt acknowledged")
    PARTIAL_PAYMENT = "partial_payment", _("partial payment")
    FILING = "filing", _("filing")
    PROCEEDINGS_END = "proceedings_end", _("end of proceedings")
    PERFORMANCE_DUE = "performance_due", _("last date for performance")
    JUDGMENT_EFFECTIVE = "judgment_effective", _("judgment took effect")
    TYPED = "typed", _("date typed by the legal desk")


class AuditAction(models.TextChoices):
    """What an audit record says was done: a service's name, or a bulk service's record of one
    object (``cases_sync``) and of its run (``cases_sync_run``)."""

    ACTIVITY_RECORD = "activity_record", _("Activity recorded")
    API_TOKEN_CREATE = "api_token_create", _("API token created")
    API_TOKEN_REVOKE = "api_token_revoke", _("API token revoked")
    CASE_ASSIGN = "case_assign", _("Case assigned")
    CASE_CLOSE = "case_close", _("Case closed")
    CASE_MOVE = "case_move", _("Case moved to another unit")
    CASE_OPEN = "case_open", _("Case opened")
    CASE_OVERRIDE = "case_override", _("Segment, strategy or tier overridden")
    CASE_REASSIGN_BULK = "case_reassign_bulk", _("Reassigned with other cases")
    CASE_REASSIGN_BULK_RUN = "case_reassign_bulk_run", _("Bulk reassignment")
    CASES_JUDGE = "cases_judge", _("Casework rules applied")
    CASES_JUDGE_RUN = "cases_judge_run", _("Casework rules run")
    CASES_SYNC = "cases_sync", _("Month-end data sync")
    CASES_SYNC_RUN = "cases_sync_run", _("Month-end data sync run")
    CONDUCT_EXCEPTION_GRANT = "conduct_exception_grant", _("Conduct exception granted")
    DOCUMENT_GENERATE = "document_generate", _("Legal document drafted")
    HOUSEHOLD_UPDATE_CONTACT = "household_update_contact", _("Contact details updated")
    INVESTIGATION_RECORD = "investigation_record", _("Investigation recorded")
    JOB_CLAIM = "job_claim", _("Job claimed")
    JOB_ENQUEUE = "job_enqueue", _("Job queued")
    JOB_FINISH = "job_finish", _("Job finished")
    JOB_PROGRESS = "job_progress", _("Job progress")
    LEGAL_CASE_ADD_COSTS = "legal_case_add_costs", _("Legal costs added")
    LEGAL_CASE_ADVANCE = "legal_case_advance", _("Legal stage recorded")
    LEGAL_CASE_OPEN = "legal_case_open", _("Legal case opened")
    MILESTONE_COMPLETE = "milestone_complete", _("Milestone completed")
    PERSON_CREATE = "person_create", _("Person created")
    PERSON_UPDATE = "person_update", _("Person changed")
    PERSONAL_DATA_VIEW = "personal_data_view", _("Personal data shown")
    PLAN_DECIDE = "plan_decide", _("Plan decided")
    PLAN_PROPOSE = "plan_propose", _("Plan proposed")
    RECOVERY_CONFIRM = "recovery_confirm", _("Recovery confirmed")
    RECOVERY_ENTER = "recovery_enter", _("Recovery entered")
    RECOVERY_REVERSE = "recovery_reverse", _("Recovery reversed")
    REMINDER_DELIVERY_ACKNOWLEDGE = "reminder_delivery_acknowledge", _("Risk reminder acknowledged")
    REMINDER_DELIVERY_READ = "reminder_delivery_read", _("Risk reminder read")
    REMINDER_PACK_DELIVER = "reminder_pack_deliver", _("Risk reminders delivered")
    REMINDER_PACK_MAILED = "reminder_pack_mailed", _("Risk reminder notice e-mailed")
    REPAYMENT_PLAN_AGREE = "repayment_plan_agree", _("Repayment plan agreed")
    REPAYMENT_PLAN_CANCEL = "repayment_plan_cancel", _("Repayment plan cancelled")
    RUN_FINISH = "run_finish", _("Run finished")
    RUN_START = "run_start", _("Run started")
    RUN_STEP_FINISH = "run_step_finish", _("Run step finished")
    RUN_STEP_START = "run_step_start", _("Run step started")
    TEAM_CREATE = "team_create", _("Team created")
    TEAM_SET_MEMBERS = "team_set_members", _("Team members set")
    TRANSFER_APPROVE = "transfer_approve", _("Transfer approved")
    TRANSFER_PREPARE = "transfer_prepare", _("Transfer prepared")
    UNIT_LEGAL_DETAILS_SET = "unit_legal_details_set", _("Unit's legal details set")
    UNITS_SYNC = "units_sync", _("Units synchronised")
    WRITEOFF_DECIDE = "writeoff_decide", _("Write-off reviewed or approved")
    # Before writeoff_decide (ADR 0024) each step had its own record.
    WRITEOFF_REVIEW = "writeoff_review", _("Write-off reviewed")
    WRITEOFF_APPROVE = "writeoff_approve", _("Write-off approved")
    WRITEOFF_PREPARE = "writeoff_prepare", _("Write-off prepared")
