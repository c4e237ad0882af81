"""The casework model of ``docs/casework-rules.md``: who works which household's case, and what
was done, promised, paid and decided.

Models hold data and integrity constraints only. Every write goes through a service in
``services/`` (one transaction, one audit record); every read through ``selectors`` and the
access helper in ``access``. Money is ``DecimalField(max_digits=18, decimal_places=2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models

from npldesk.casework import choices


def money(**options: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(max_digits=18, decimal_places=2, **options)


# -- organisation and people --------------------------------------------------------------


class Unit(models.Model):
    """A node of the organisation tree, kept in step with the imported organisation file."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    level = models.CharField(max_length=32, blank=True)
    # "/ROOT/COUNTY/SUB/": a unit's subtree is every unit whose path starts with its path.
    path = models.CharField(max_length=1000, db_index=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Department(models.Model):
    """A department of the bank (risk, retail, agriculture, small business, legal, finance…)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A member of staff: their login, roles, the units they belong to or lead, departments."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    name = models.CharField(max_length=100)
    # A small set from choices.Role; checked in Python by the access helper, never filtered on.
    roles = models.JSONField(default=list)
    units = models.ManyToManyField(Unit, related_name="people")
    departments = models.ManyToManyField(Department, blank=True, related_name="people")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.name})"

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class Team(models.Model):
    """A clearing team or an ad-hoc task force: a leader, members and the units it covers."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=choices.TeamKind.choices)
    leader = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="teams_led")
    members = models.ManyToManyField(Person, blank=True, related_name="teams")
    units = models.ManyToManyField(Unit, blank=True, related_name="teams")
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# -- households and cases -----------------------------------------------------------------


class Household(models.Model):
    """A borrower (``borrower_id`` of the tape) and the personal data tied to it."""

    borrower_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    borrower_type = models.CharField(max_length=20, blank=True)
    id_number = models.CharField(max_length=32, blank=True)
    phones = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=400, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households")
    guarantors = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="guaranteed"
    )
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.borrower_id


# The columns the worklist ranks a person's open cases by (selectors.worklist), with the case's
# state it leaves out resolved cases by and the key it returns.
WORKLIST_RANK_FIELDS = (
    "state",
    "broken_promises",
    "plan_breached",
    "next_instalment_due",
    "next_hearing_on",
    "legal_alert_on",
    "next_promise_due",
    "deadline",
    "last_contact_on",
    "npl_balance",
    "number",
    "id",
)


class Case(models.Model):
    """One household in collection: its loans in scope, state, segment, strategy, owner."""

    number = models.CharField(max_length=80, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=20, choices=choices.CaseKind.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    state = models.CharField(
        max_length=20, choices=choices.CaseState.choices, default=choices.CaseState.OPENED
    )
    ability = models.CharField(
        max_length=20, choices=choices.Ability.choices, default=choices.Ability.UNKNOWN
    )
    willingness = models.CharField(
        max_length=20, choices=choices.Willingness.choices, default=choices.Willingness.WILLING
    )
    strategy = models.CharField(
        max_length=40, choices=choices.Strategy.choices, default=choices.Strategy.INVESTIGATE
    )
    tier = models.CharField(max_length=10, choices=choices.Tier.choices, default=choices.Tier.SHORT)
    deadline = models.DateField()
    # Which of segment, strategy, tier and deadline a lead has set by hand: the rules leave
    # those alone.
    overridden = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="cases_owned"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    close_reason = models.CharField(max_length=30, choices=choices.CloseReason.choices, blank=True)
    previous_case = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="later_cases"
    )
    npl_balance = money(default=0)
    balance = money(default=0)
    collateral_value = money(default=0)
    written_off = models.BooleanField(default=False)
    synced_as_of = models.DateField(null=True, blank=True)
    # Signals the worklist orders by, refreshed by the services that change them.
    broken_promises = models.PositiveIntegerField(default=0)
    next_promise_due = models.DateField(null=True, blank=True)
    next_instalment_due = models.DateField(null=True, blank=True)
    plan_breached = models.BooleanField(default=False)
    next_hearing_on = models.DateField(null=True, blank=True)
    legal_alert_on = models.DateField(null=True, blank=True)
    last_contact_on = models.DateField(null=True, blank=True)
    # Optimistic locking: every edit names the version it read and bumps it.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(closed_on__isnull=True),
                name="one_open_case_per_household",
            ),
        ]
        indexes = [
            # A person's open cases (owned, or of their team) ranked for the worklist from the
            # index alone: every column the ranking reads is in it, so the page reads no row of
            # the thousands a team may hold (selectors.worklist).
            models.Index(
                fields=["owner", *WORKLIST_RANK_FIELDS],
                condition=models.Q(closed_on__isnull=True),
                name="case_open_owner_rank_idx",
            ),
            models.Index(
                fields=["team", *WORKLIST_RANK_FIELDS],
                condition=models.Q(closed_on__isnull=True),
                name="case_open_team_rank_idx",
            ),
            # With the state: a unit's cases counted by state (the dashboard) read the index
            # alone, not every case's row.
            models.Index(fields=["unit", "closed_on", "state"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def segment(self) -> str:
        return f"{self.ability}×{self.willingness}"


class CaseLoan(models.Model):
    """A loan in a case's scope, as the latest synced snapshot showed it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="loans")
    loan_id = models.CharField(max_length=64)
    product = models.CharField(max_length=40, blank=True)
    org_unit = models.CharField(max_length=32)
    officer_id = models.CharField(max_length=64, blank=True)
    principal_balance = money(default=0)
    days_past_due = models.IntegerField(default=0)
    loan_class = models.CharField(max_length=20, blank=True)
    is_npl = models.BooleanField(default=False)
    overdue_interest = money(default=0)
    # The tape's status: active, or how the loan left the books (``unexplained_exit`` when it
    # had no row in a month after it was last seen on the books).
    status = models.CharField(max_length=20, default="active")
    collateral_value = money(default=0)
    as_of = models.DateField()
    # What the loan owed at its last snapshot on the books (principal balance and overdue
    # interest) and that month: the most a recovery can repay, less what was recovered since.
    # A terminal row shows a balance of 0, so these keep the month before it.
    owed = money(default=0)
    owed_as_of = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "loan_id"], name="one_row_per_case_loan")
        ]
        indexes = [models.Index(fields=["loan_id"])]


class Investigation(models.Model):
    """A dated record of what was found about a household's family, income and property."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="investigations")
    investigated_on = models.DateField()
    investigator = models.ForeignKey(Person, on_delete=models.PROTECT)
    family_status = models.CharField(max_length=200, blank=True)
    dependants = models.PositiveIntegerField(default=0)
    income_source = models.CharField(max_length=200, blank=True)
    monthly_income = money(default=0)
    employment_state = models.CharField(max_length=200, blank=True)
    # [{"type", "location", "estimated_value", "encumbrances"}], amounts as decimal strings.
    properties = models.JSONField(default=list, blank=True)
    vehicles = money(default=0)
    deposits = money(default=0)
    business_assets = money(default=0)
    unencumbered_assets = money(default=0)
    contactability = models.CharField(max_length=200, blank=True)
    health = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-investigated_on", "-id"]


class Plan(models.Model):
    """The household's disposal plan ("one household, one policy") and its approval state."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    strategy = models.CharField(max_length=40, choices=choices.Strategy.choices)
    reason = models.TextField()
    target_amount = money()
    target_date = models.DateField()
    state = models.CharField(
        max_length=20, choices=choices.PlanState.choices, default=choices.PlanState.PROPOSED
    )
    proposed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-proposed_at", "-id"]


class PlanDecision(models.Model):
    """One step of a plan's approval trail."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=20, choices=choices.PlanState.choices)
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class Milestone(models.Model):
    """A task of a plan, with its owner and due date."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="milestones")
    task = models.CharField(max_length=200)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]


class Activity(models.Model):
    """One collection contact or step and its outcome."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=30, choices=choices.ActivityKind.choices)
    occurred_on = models.DateField()
    # The moment of the contact (null for activities recorded before times were kept, and for
    # steps other than calls and visits recorded by the day only).
    occurred_at = models.DateTimeField(null=True, blank=True)
    party = models.CharField(
        max_length=20, choices=choices.ActivityParty.choices, default=choices.ActivityParty.BORROWER
    )
    purpose = models.CharField(
        max_length=20,
        choices=choices.ActivityPurpose.choices,
        default=choices.ActivityPurpose.COLLECTION,
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=choices.Outcome.choices)
    notes = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    # The team lead's exception that let a contact past the conduct rules, if one did.
    conduct_exception = models.ForeignKey(
        "ConductException", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_on", "-occurred_at", "-id"]


class ConductException(models.Model):
    """A team lead's documented exception to the conduct rules: one case, at most 7 days."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="conduct_exceptions")
    granted_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    starts_on = models.DateField()
    ends_on = models.DateField()  # inclusive
    reason = models.TextField()

    class Meta:
        ordering = ["-starts_on", "-id"]

    def covers(self, on: date) -> bool:
        return self.starts_on <= on <= self.ends_on


class Promise(models.Model):
    """A promise to pay, judged kept, broken or pending against recoveries."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="promises")
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="promises"
    )
    amount = money()
    made_on = models.DateField()
    due_on = models.DateField()
    state = models.CharField(
        max_length=10, choices=choices.PromiseState.choices, default=choices.PromiseState.PENDING
    )
    paid = money(default=0)

    class Meta:
        ordering = ["due_on", "id"]


class RepaymentPlan(models.Model):
    """Agreed instalments, for the full amount or a settlement with a discount."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="repayment_plans")
    kind = models.CharField(max_length=20, choices=choices.RepaymentPlanKind.choices)
    total = money()
    discount = money(default=0)
    agreed_on = models.DateField()
    state = models.CharField(
        max_length=20,
        choices=choices.RepaymentPlanState.choices,
        default=choices.RepaymentPlanState.ACTIVE,
    )
    version = models.PositiveIntegerField(default=1)


class Instalment(models.Model):
    """One instalment of a repayment plan."""

    plan = models.ForeignKey(RepaymentPlan, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveIntegerField()
    due_on = models.DateField()
    amount = money()
    paid = money(default=0)
    paid_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=10,
        choices=choices.InstalmentState.choices,
        default=choices.InstalmentState.DUE,
    )

    class Meta:
        ordering = ["due_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_instalment_number")
        ]


class LegalCase(models.Model):
    """A lawsuit or arbitration: court, claim, lawyer, stage, costs and the dates that expire."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="legal_cases")
    holder = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="legal_cases")
    court = models.CharField(max_length=200)
    court_case_number = models.CharField(max_length=100, blank=True)
    claim_amount = money()
    lawyer = models.CharField(max_length=200, blank=True)
    stage = models.CharField(
        max_length=30, choices=choices.LegalStage.choices, default=choices.LegalStage.PREPARING
    )
    stage_since = models.DateField()
    next_hearing_on = models.DateField(null=True, blank=True)
    costs = money(default=0)
    limitation_date = models.DateField(null=True, blank=True)
    seizure_expiry_date = models.DateField(null=True, blank=True)
    # The judgment's effective date and its last date for performance: the enforcement clock
    # (``casework/clocks.py``) runs two years from the latter, or the former when none is set.
    judgment_effective_on = models.DateField(null=True, blank=True)
    performance_due_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    @property
    def is_open(self) -> bool:
        return self.stage != choices.LegalStage.CLOSED


class LegalStageEntry(models.Model):
    """A legal case's stage history: one row per stage entered."""

    legal_case = models.ForeignKey(LegalCase, on_delete=models.PROTECT, related_name="stages")
    stage = models.CharField(max_length=30, choices=choices.LegalStage.choices)
    entered_on = models.DateField()
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["entered_on", "id"]


class WriteOff(models.Model):
    """An application to take a loan off the books, and where its approval chain stands."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="writeoffs")
    loan_id = models.CharField(max_length=64)
    principal = money()
    interest = money(default=0)
    reason = models.TextField()
    state = models.CharField(
        max_length=20, choices=choices.WriteOffState.choices, default=choices.WriteOffState.PREPARED
    )
    prepared_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    prepared_on = models.DateField()
    approved_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)


class WriteOffDecision(models.Model):
    """One step of a write-off's approval chain."""

    writeoff = models.ForeignKey(WriteOff, on_delete=models.PROTECT, related_name="decisions")
    step = models.CharField(max_length=20, choices=choices.WriteOffState.choices)
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses bulk updates and deletes: the recovery ledger and the audit trail are only ever
    appended to (their tables refuse it too: ``append_only``)."""

    def _refuse(self) -> PermissionError:
        refusal: str = getattr(self.model, "APPEND_ONLY_REFUSAL", "append-only")
        return PermissionError(refusal)

    def update(self, **kwargs: Any) -> int:
        raise self._refuse()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise self._refuse()


class Recovery(models.Model):
    """An entry of the append-only recovery ledger: money or assets received for a loan.

    A correction is a new entry that reverses an earlier one (``reverses``), never an edit.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="recoveries")
    loan_id = models.CharField(max_length=64)
    received_on = models.DateField()
    amount = money()
    # The part that repays principal on the books (what reconciles with the movement's cash).
    principal_part = money()
    source = models.CharField(max_length=30, choices=choices.RecoverySource.choices)
    after_write_off = models.BooleanField(default=False)
    entered_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    note = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()
    APPEND_ONLY_REFUSAL = "the recovery ledger is append-only: enter a reversal instead"

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name_plural = "recoveries"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("the recovery ledger is append-only: enter a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the recovery ledger is append-only: enter a reversal instead")


class RecoveryConfirmation(models.Model):
    """Finance's or a lead's confirmation of a ledger entry (the entry itself never changes)."""

    recovery = models.OneToOneField(Recovery, on_delete=models.PROTECT, related_name="confirmation")
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()


class TransferPackage(models.Model):
    """NPLs sold in bulk to an asset-management company."""

    code = models.CharField(max_length=32, unique=True)
    buyer = models.CharField(max_length=200)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="transfer_packages")
    book_value = money(default=0)
    price = money(default=0)
    cut_off_on = models.DateField()
    signed_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=choices.TransferState.choices, default=choices.TransferState.PREPARED
    )
    prepared_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)


class TransferLoan(models.Model):
    """A loan in a transfer package, at its book value."""

    package = models.ForeignKey(TransferPackage, on_delete=models.PROTECT, related_name="loans")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfer_loans")
    loan_id = models.CharField(max_length=64)
    book_value = money()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "loan_id"], name="one_loan_per_package")
        ]


# -- the record of what happened ------------------------------------------------------------


class AuditRecord(models.Model):
    """Who did what to which object, when, with the state before and after.

    Written by every service in the same transaction as its change; also records every
    unmasked view or export of personal data. Never edited.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=80)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_records"
    )
    reason = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()
    APPEND_ONLY_REFUSAL = "audit records are append-only: they are never edited or deleted"

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("audit records are never edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(self.APPEND_ONLY_REFUSAL)


class SyncRun(models.Model):
    """One month-end sync: which snapshot, who ran it, what it did."""

    as_of = models.DateField()
    run_at = models.DateTimeField()
    by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT)
    counts = models.JSONField(default=dict)


# -- accounts: machine access to the API ------------------------------------------------------


class ApiToken(models.Model):
    """A personal API token: a machine acts as its person, within the person's roles and scope.

    Only the SHA-256 digest of the secret is kept (the secret is shown once, when it is made):
    the secret carries 256 random bits, so a fast hash is enough and lets a request find its
    token by one indexed lookup.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    # The secret's first characters, so a person can tell their tokens apart in a list.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an ``Idempotency-Key``, kept 7 days per person.

    The record is inserted before the write runs, in the write's transaction: a second request
    with the same key waits on the unique constraint and then replays the first response.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "key"], name="one_idempotency_key_per_person")
        ]


# -- runs ---------------------------------------------------------------------------------


class Run(models.Model):
    """One month-end run (``npldesk month-end``): its month, its state, who started it.

    One run per kind and month: running the command again resumes this run from its first step
    not done, and a run that is done is not run again."""

    kind = models.CharField(max_length=30, default=choices.RunKind.MONTH_END)
    as_of = models.DateField()
    state = models.CharField(
        max_length=10, choices=choices.RunState.choices, default=choices.RunState.RUNNING
    )
    # What the steps were asked (the judge's day, the early-warning switch): a resumed run keeps
    # them, so that it ends where an uninterrupted run would.
    parameters = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="runs")
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-as_of", "-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "as_of"], name="one_run_per_kind_and_month")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.as_of:%Y-%m}"

    def summary(self) -> str:
        """One line for people: the run's month, how it stands, what its steps did."""
        from django.utils import timezone
        from django.utils.translation import gettext

        month = f"{self.as_of:%Y-%m}"
        steps = {step.name: step for step in self.steps.all()}
        if self.state == choices.RunState.DONE and self.finished_at is not None:
            head = gettext("month-end {month}: done at {time}").format(
                month=month, time=f"{timezone.localtime(self.finished_at):%Y-%m-%d %H:%M}"
            )
        elif self.state == choices.RunState.FAILED:
            failed = next(
                (s.name for s in steps.values() if s.state == choices.RunState.FAILED), ""
            )
            head = gettext("month-end {month}: stopped at step {step}").format(
                month=month, step=failed
            )
        else:
            head = gettext("month-end {month}: running since {time}").format(
                month=month, time=f"{timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"
            )
        parts = [head]
        for step in sorted(steps.values(), key=lambda s: s.position):
            describe = RUN_SUMMARY_LINES.get(step.name)
            if describe is not None and step.state == choices.RunState.DONE:
                line = describe(step.counts or {})
                if line:
                    parts.append(line)
        return gettext(", ").join(parts)


def _sync_line(counts: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    from npldesk.core.numbers import grouped

    return gettext("{opened} cases opened, {closed} closed").format(
        opened=grouped(int(counts.get("opened", 0)), 0),
        closed=grouped(int(counts.get("closed_total", 0)), 0),
    )


def _judge_line(counts: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    from npldesk.core.numbers import grouped

    return gettext("{changed} cases changed by the rules").format(
        changed=grouped(int(counts.get("changed", 0)), 0)
    )


# What a step that is done adds to its run's one-line summary (``Run.summary``: the tape page,
# the leader's dashboard), from the counts it recorded, by step name. A step added to the run
# (``npldesk.monthend.run.register_step``) adds its line here.
RUN_SUMMARY_LINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "sync": _sync_line,
    "judge": _judge_line,
}


class RunStep(models.Model):
    """One step of a run: when it started and finished, what it counted, why it failed."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="steps")
    name = models.CharField(max_length=40)
    position = models.PositiveIntegerField()
    state = models.CharField(
        max_length=10, choices=choices.RunState.choices, default=choices.RunState.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="one_step_per_name")]

    def __str__(self) -> str:
        return f"{self.run} {self.name}"


# -- jobs ---------------------------------------------------------------------------------


class Job(models.Model):
    """Long work queued for ``npldesk worker``: an uploaded month file to import, a month-end
    run, the daily judgement. One job of a kind runs at a time; a job whose worker stopped
    renewing its lease (killed) is claimed again."""

    kind = models.CharField(max_length=30, choices=choices.JobKind.choices)
    parameters = models.JSONField(default=dict)
    state = models.CharField(
        max_length=10, choices=choices.JobState.choices, default=choices.JobState.QUEUED
    )
    progress_text = models.CharField(max_length=200, blank=True)
    progress_fraction = models.FloatField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="jobs")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The worker holding the job renews this while it works; past it, the job is claimable.
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "kind"], name="job_state_kind")]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind}"


# -- legal documents ----------------------------------------------------------------------


class UnitLegalDetails(models.Model):
    """A bank unit's own legal details, as its documents name it (kept in administration)."""

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="legal_details")
    legal_name = models.CharField(max_length=200)
    address = models.CharField(max_length=400)
    legal_representative = models.CharField(max_length=100)
    phone = models.CharField(max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.legal_name


class Document(models.Model):
    """A legal document drafted from a case: what it is, the day its amounts are owed on, the
    snapshot they came from, and its files under the home (owner-only)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=30, choices=choices.DocumentKind.choices)
    as_of = models.DateField()
    snapshot_as_of = models.DateField()
    generated_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField()
    activity = models.OneToOneField(Activity, on_delete=models.PROTECT, related_name="document")
    # The amounts the document states (decimal strings), for the record and the tests.
    figures = models.JSONField(default=dict)
    # Paths relative to the home, by format ("docx", "pdf"), and their SHA-256.
    files = models.JSONField(default=dict)
    checksums = models.JSONField(default=dict)

    class Meta:
        ordering = ["-generated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case.number} {self.kind} {self.as_of}"


# -- risk reminders ---------------------------------------------------------------------------


class ReminderPack(models.Model):
    """One unit's risk-reminder pack for a month: the loans and cases its people must act on.

    The items hold codes, amounts and dates only (loan, household and case identifiers, never
    a name): a reader sees the household's name through the masking rules that apply to them
    when the pack is shown (``selectors.reminder_pack_view``)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="reminder_packs")
    as_of = models.DateField()
    # The day the case alerts (deadlines, promises, plans, legal stalls and clocks) were read.
    built_on = models.DateField()
    built_at = models.DateTimeField()
    # Section → number of items, and section → its items (see ``reports.reminders``).
    counts = models.JSONField(default=dict)
    sections = models.JSONField(default=dict)

    class Meta:
        ordering = ["-as_of", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "as_of"], name="one_reminder_pack_per_month")
        ]

    def __str__(self) -> str:
        return f"reminders {self.unit.code} {self.as_of:%Y-%m}"


class ReminderDelivery(models.Model):
    """A pack delivered to one person's inbox: when, when e-mailed, read and acknowledged."""

    pack = models.ForeignKey(ReminderPack, on_delete=models.PROTECT, related_name="deliveries")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reminders")
    delivered_at = models.DateTimeField()
    # The address the notice went to (counts and a link only, no personal data).
    emailed_to = models.CharField(max_length=254, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pack__as_of", "pack__unit__path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pack", "person"], name="one_delivery_per_person")
        ]
        indexes = [models.Index(fields=["person", "read_at"], name="reminder_person_read")]

    def __str__(self) -> str:
        return f"{self.pack} to {self.person_id}"
