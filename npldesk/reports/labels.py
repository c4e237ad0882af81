"""The words of the reports: what each code of a figure, line, rate, list and column is called.

Codes (``npl_balance``, ``substandard``, ``cash``) are what JSON, CSV and the API carry in every
language; these labels are what people read in tables, workbooks and pages, in the language
active when they are shown (``npldesk/locale``). Every face takes its words from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models

from npldesk.core.i18n import Translatable

# Labels are English text marked for the catalogues; ``label`` and ``localise`` say them in the
# active language when they are shown (English where Django is not set up, as in a notebook).
Label = str


def _(message: str) -> str:
    """Marks a label for the catalogues (``scripts/messages.py``); said by ``localise``.

    Not Django's ``gettext_noop``: that one reads the settings, and this module is imported by
    commands that never set Django up."""
    return message


# The five classes (docs/figures.md §1) and the ways a loan leaves the books (§4).
CLASS_LABELS: Mapping[str, Label] = {
    "normal": _("Normal"),
    "special_mention": _("Special mention"),
    "substandard": _("Substandard"),
    "doubtful": _("Doubtful"),
    "loss": _("Loss"),
}
EXIT_LABELS: Mapping[str, Label] = {
    "repaid": _("Repaid"),
    "written_off": _("Written off"),
    "transferred": _("Transferred"),
    "foreclosed": _("Foreclosed"),
    "unexplained": _("Unexplained"),
}
# The first band of days past due (the other bands are numbers of days).
BAND_LABELS: Mapping[str, Label] = {"current": _("current")}
STATE_LABELS: Mapping[str, Label] = {**CLASS_LABELS, **EXIT_LABELS, **BAND_LABELS}
# A loan's tape status: on the books, or how it left them.
STATUS_LABELS: Mapping[str, Label] = {"active": _("On the books"), **EXIT_LABELS}

# The bank's loan products (the tape's ``product`` codes, docs/tape.md); a product the bank
# calls something else is shown by its code.
PRODUCT_LABELS: Mapping[str, Label] = {
    "personal_business": _("Personal business loan"),
    "consumer": _("Consumer loan"),
    "mortgage": _("Home mortgage"),
    "agricultural": _("Farm household loan"),
    "small_business": _("Small business loan"),
}

# Borrower types (the tape's ``borrower_type`` codes, docs/tape.md): people, and businesses
# (to whom contagion applies, docs/figures.md §1).
BORROWER_TYPE_LABELS: Mapping[str, Label] = {
    "retail": _("Retail"),
    "non_retail": _("Non-retail"),
}

# The departments every installation starts with (casework migration 0002), by code: their
# stored names are English; a name the bank has changed is shown as it is.
DEPARTMENT_LABELS: Mapping[str, Label] = {
    "risk": _("Risk management"),
    "retail": _("Retail and personal finance"),
    "agriculture": _("Agriculture and rural finance"),
    "small_business": _("Small business finance"),
    "legal": _("Legal"),
    "finance": _("Planning and finance"),
    "hr": _("Human resources"),
    "office": _("Office"),
}


def department_name(code: str, name: str) -> str:
    """A department's name in the active language: a default department under its default
    name by its label, any other as it is stored."""
    default = DEPARTMENT_LABELS.get(code)
    return localise(default) if default is not None and name == default else name


TERMS: Mapping[str, Label] = {
    "npl": _("NPL"),
    "npl_ratio": _("NPL ratio"),
    "double_reduction": _("Double reduction"),
    "total": _("Total"),
    "yes": _("yes"),
    "no": _("no"),
    "n/a": _("n/a"),
    "none": _("none"),
}

# What a report is grouped by (``--by``).
GROUP_LABELS: Mapping[str, Label] = {
    "org_unit": _("Unit"),
    "product": _("Product"),
    "officer_id": _("Loan officer"),
    "borrower_type": _("Borrower type"),
}

# What the groups of a ``--by`` are called for people: products and borrower types by their
# labels; units by their names and officers by their codes, as the figures name them.
GROUP_VALUE_LABELS: Mapping[str, Mapping[str, Label]] = {
    "product": PRODUCT_LABELS,
    "borrower_type": BORROWER_TYPE_LABELS,
}


def group_name(by: str | None, key: str | None, name: str | None) -> str:
    """A group's name in the active language: a product or borrower type by its label (an
    unknown code as it is), any other group by the name the figures gave it."""
    labels = GROUP_VALUE_LABELS.get(by or "")
    if labels is None or key is None:
        return name or ""
    return label(labels, key)


# Asset quality (docs/figures.md §2): its columns.
QUALITY_LABELS: Mapping[str, Label] = {
    "key": _("Code"),
    "name": _("Name"),
    "loans": _("Loans"),
    "balance": _("Balance"),
    "npl_balance": _("NPL balance"),
    "npl_ratio": _("NPL ratio"),
    "npl_loans": _("NPL loans"),
    "overdue_balance": _("Overdue balance"),
    "dpd90_balance": _("Balance over 90 days past due"),
    "provision_coverage": _("Provision coverage"),
    "baseline_balance": _("Baseline balance"),
    "baseline_npl_balance": _("Baseline NPL balance"),
    "baseline_npl_ratio": _("Baseline NPL ratio"),
    "npl_balance_change": _("NPL balance change"),
    "npl_ratio_change": _("NPL ratio change (points)"),
    "double_reduction": _("Double reduction"),
}

# NPL movement (docs/figures.md §3): its lines.
MOVEMENT_LABELS: Mapping[str, Label] = {
    "opening": _("Opening NPL"),
    "inflow": _("Inflow (new NPL)"),
    "increase": _("Increase on existing NPL"),
    "cash": _("Cash recovery"),
    "upgrade": _("Upgrade"),
    "write_off": _("Write-off"),
    "transfer": _("Transfer"),
    "foreclosure": _("Foreclosure"),
    "unexplained": _("Unexplained"),
    "closing": _("Closing NPL"),
    "moved_in": _("Moved in"),
    "moved_out": _("Moved out"),
}
PERIOD_LABELS: Mapping[str, Label] = {
    "month": _("month"),
    "ytd": _("year to date"),
    "range": _("range"),
}

# Migration (docs/figures.md §4): the five rates and the bases.
RATE_LABELS: Mapping[str, Label] = {
    "normal": _("Normal loan migration rate"),
    "special_mention": _("Special-mention loan migration rate"),
    "substandard": _("Substandard loan migration rate"),
    "doubtful": _("Doubtful loan migration rate"),
    "performing": _("Performing loan migration rate"),
}
BASIS_LABELS: Mapping[str, Label] = {
    "class": _("five-class basis"),
    "dpd": _("days-past-due basis"),
}
# The days-past-due bands of the dpd basis, by the return that defines them.
BUCKET_LABELS: Mapping[str, Label] = {
    "s71": _("1104 S71 bands"),
    "f18": _("FINREP F 18 bands"),
}

# The lists (docs/figures.md §5): their titles and columns.
LIST_TITLES: Mapping[str, Label] = {
    "new-npl": _("New NPL"),
    "early-warning": _("Early warning"),
    "upgraded": _("Upgraded from NPL"),
    "top-npl": _("Largest NPL households"),
    "deviation": _("Reported-grade deviations"),
}
LIST_COLUMN_LABELS: Mapping[str, Label] = {
    "loan_id": _("Loan"),
    "borrower_id": _("Borrower"),
    "org_unit": _("Unit"),
    "officer_id": _("Loan officer"),
    "product": _("Product"),
    "principal_balance": _("Principal balance"),
    "days_past_due": _("Days past due"),
    "class": _("Class"),
    "previous_class": _("Previous class"),
    "reasons": _("Reasons"),
    "days_to_npl": _("Days to NPL"),
    "becomes_npl_within_30_days": _("NPL within 30 days"),
    "household_rank": _("Household rank"),
    "household_npl_balance": _("Household NPL balance"),
    "household_npl_loans": _("Household NPL loans"),
    "reported_class": _("Reported class"),
    "borrower_name": _("Borrower name"),
    "id_number": _("ID number"),
    "phone": _("Phone"),
}


# The planner (docs/planner.md): tracking against double reduction, and the levers.
TRACKING_LABELS: Mapping[str, Label] = {
    "on_track": _("On track"),
    "at_risk": _("At risk"),
    "off_track": _("Off track"),
}
# Why a case is on today's worklist (``casework.selectors.WORKLIST_REASONS``, most urgent first).
WORKLIST_REASON_LABELS: Mapping[str, Label] = {
    "broken_promise": _("Broken promise"),
    "plan_breached": _("Repayment plan breached"),
    "instalment_due": _("Instalment due"),
    "hearing": _("Hearing"),
    "legal_alert": _("Legal alert"),
    "promise_due": _("Promise due"),
    "deadline": _("Deadline"),
    "no_contact": _("No recent contact"),
    "in_hand": _("In hand"),
}
LEVER_LABELS: Mapping[str, Label] = {
    "cash": _("Cash recovery"),
    "upgrade": _("Upgrade"),
    "write_off": _("Write-off"),
    "transfer": _("Transfer"),
}


# The steps of the month-end run (``npldesk.monthend.steps``, docs/month-end.md).
MONTH_END_STEP_LABELS: Mapping[str, Label] = {
    "classify": _("Classify the month"),
    "sync": _("Sync the cases"),
    "judge": _("Run the rules"),
    "plan": _("Re-run the planner"),
    "report": _("Monthly reports"),
    "reminders": _("Risk reminders"),
}


# Cases (``npldesk cases list``): the columns; their codes are said by ``case_value``.
CASE_COLUMN_LABELS: Mapping[str, Label] = {
    "case_id": _("Case"),
    "household": _("Household"),
    "kind": _("Kind"),
    "state": _("State"),
    "segment": _("Segment"),
    "strategy": _("Strategy"),
    "tier": _("Tier"),
    "deadline": _("Deadline"),
    "owner": _("Owner"),
    "team": _("Team"),
    "npl_balance": _("NPL balance"),
}


def case_value(column: str, code: str | None) -> str:
    """A case's code in the active language: its kind, state, strategy, tier or segment (ability
    × willingness, ``able×willing``), a legal case's stage, a recovery's source; other columns
    as they are."""
    from npldesk.casework import choices

    if code is None:
        return ""
    vocabularies: dict[str, type[models.TextChoices]] = {
        "kind": choices.CaseKind,
        "state": choices.CaseState,
        "strategy": choices.Strategy,
        "tier": choices.Tier,
        "close_reason": choices.CloseReason,
        "legal_stage": choices.LegalStage,
        "source": choices.RecoverySource,
    }
    if column == "segment":
        ability, _sep, willingness = code.partition("×")
        return "×".join(
            [choice_label(choices.Ability, ability), choice_label(choices.Willingness, willingness)]
        )
    if column in vocabularies:
        return choice_label(vocabularies[column], code)
    return code


def choice_label(vocabulary: type[models.TextChoices], code: str) -> str:
    """The label of ``code`` in a casework vocabulary, in the active language; an unknown code
    as it is."""
    try:
        return str(vocabulary(code).label)
    except ValueError:
        return code


def localise(text: object) -> str:
    """``text`` in the active language: a marked message (``core.i18n``) with its values filled
    in, a lazy label, or a catalogued string; anything else as it is. Without Django configured
    (a notebook, a mistake found before a home was read) the English text."""
    from django.conf import settings
    from django.utils.translation import gettext

    if not settings.configured:
        return str(text)
    if isinstance(text, Translatable):
        return text.render(gettext(text.template), localise)
    return gettext(text) if isinstance(text, str) and text else str(text)


def label(labels: Mapping[str, Label], code: str | None) -> str:
    """The label of ``code`` in the active language; an unknown code stays as it is."""
    if code is None:
        return ""
    return localise(labels.get(code, code))
