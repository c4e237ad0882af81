"""Every write to casework: functions named ``<entity>_<action>``, keyword-only, each one
transaction with its audit record (``npldesk.casework.audit.service``).

The CLI, the web views, the API, the admin and scheduled jobs all call these; none of them
writes a model directly.
"""

from npldesk.casework.services.accounts import api_token_create, api_token_revoke
from npldesk.casework.services.cases import (
    case_assign,
    case_close,
    case_move,
    case_open,
    case_override,
    case_reassign_bulk,
    cases_judge,
)
from npldesk.casework.services.documents import document_generate, unit_legal_details_set
from npldesk.casework.services.jobs import job_claim, job_enqueue, job_finish, job_progress
from npldesk.casework.services.ledger import (
    recovery_confirm,
    recovery_enter,
    recovery_reverse,
    transfer_approve,
    transfer_prepare,
    writeoff_decide,
    writeoff_prepare,
)
from npldesk.casework.services.legal import (
    legal_case_add_costs,
    legal_case_advance,
    legal_case_open,
)
from npldesk.casework.services.people import (
    person_create,
    person_update,
    team_create,
    team_set_members,
    units_sync,
)
from npldesk.casework.services.reminders import (
    reminder_delivery_acknowledge,
    reminder_delivery_read,
    reminder_pack_deliver,
    reminder_pack_mailed,
)
from npldesk.casework.services.runs import run_finish, run_start, run_step_finish, run_step_start
from npldesk.casework.services.work import (
    activity_record,
    conduct_exception_grant,
    household_update_contact,
    investigation_record,
    milestone_complete,
    plan_decide,
    plan_propose,
    repayment_plan_agree,
    repayment_plan_cancel,
)

__all__ = [
    "activity_record",
    "api_token_create",
    "api_token_revoke",
    "case_assign",
    "case_close",
    "case_move",
    "case_open",
    "case_override",
    "case_reassign_bulk",
    "cases_judge",
    "conduct_exception_grant",
    "document_generate",
    "household_update_contact",
    "investigation_record",
    "job_claim",
    "job_enqueue",
    "job_finish",
    "job_progress",
    "legal_case_add_costs",
    "legal_case_advance",
    "legal_case_open",
    "milestone_complete",
    "person_create",
    "person_update",
    "plan_decide",
    "plan_propose",
    "recovery_confirm",
    "recovery_enter",
    "recovery_reverse",
    "reminder_delivery_acknowledge",
    "reminder_delivery_read",
    "reminder_pack_deliver",
    "reminder_pack_mailed",
    "repayment_plan_agree",
    "repayment_plan_cancel",
    "run_finish",
    "run_start",
    "run_step_finish",
    "run_step_start",
    "team_create",
    "team_set_members",
    "transfer_approve",
    "transfer_prepare",
    "unit_legal_details_set",
    "units_sync",
    "writeoff_decide",
    "writeoff_prepare",
]
