"""What the services share: compare-and-swap edits, judging a case, proposing its strategy."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import Exists, F, OuterRef

from npldesk.casework import rules
from npldesk.casework.choices import (
    CONTACT_KINDS,
    OPEN_LEGAL_STAGES,
    InstalmentState,
    LegalStage,
    PromiseState,
    RepaymentPlanState,
)
from npldesk.casework.config import casework_settings
from npldesk.casework.errors import Conflict, InvalidAction
from npldesk.casework.models import (
    Activity,
    Case,
    Instalment,
    Investigation,
    LegalCase,
    Promise,
    Recovery,
    RepaymentPlan,
)
from npldesk.core.i18n import translatable
from npldesk.core.money import MoneyError, money

M = TypeVar("M", bound=models.Model)


def to_money(value: Decimal | int | str, what: str = "an amount") -> Decimal:
    """An amount of yuan from a person's input, or ``InvalidAction`` saying what is wrong."""
    try:
        return money(value)
    except MoneyError as exc:
        raise InvalidAction(translatable("{what}: {exc}", what=what, exc=exc)) from exc


def compare_and_swap(obj: M, *, version: int, what: str, **changes: Any) -> M:
    """Apply ``changes`` to ``obj`` only if it is still at ``version``; else ``Conflict``.

    One conditional UPDATE: on PostgreSQL the second of two concurrent writers waits for the
    first's row lock, then finds the version moved on and updates nothing.
    """
    model = type(obj)
    updated = model._default_manager.filter(pk=obj.pk, version=version).update(
        version=F("version") + 1, **changes
    )
    if updated != 1:
        current = model._default_manager.filter(pk=obj.pk).values_list("version", flat=True)
        now = current[0] if current else "deleted"
        conflict = Conflict(
            translatable(
                "{what} was changed by someone else since you read it (you edited version "
                "{version}, it is now at version {now}): reload it and make your change again",
                what=what,
                version=version,
                now=now,
            )
        )
        # The API answers a stale write with the version to read again.
        conflict.current_version = now if isinstance(now, int) else None
        raise conflict
    obj.refresh_from_db()
    return obj


# An advisory lock key of PostgreSQL ("npldesk" cases) that orders the month-end sync and
# cases opened by hand (see ``hold_case_openings``).
CASE_OPENINGS_LOCK = 0x6E706C64_63617365


def hold_case_openings(*, exclusive: bool) -> None:
    """Order the month-end sync (``exclusive``) and cases opened by hand (shared) within the
    current transaction, on PostgreSQL: a hand-opened case waits for a running sync and then
    finds the case it opened, and a sync waits for a case being opened by hand and then
    updates it, instead of one of them failing on the one-open-case-per-household constraint.
    SQLite already lets one writer at a time write the whole database."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [CASE_OPENINGS_LOCK])


def refresh_case(case: Case, *, today: date) -> dict[str, Any]:
    """Re-judge a case's promises and instalments and refresh the signals the worklist and
    the segment derive from. Returns what changed (for the calling service's audit record).

    Derived fields only: the fields a person sets are left alone, and the version does not
    move, so a refresh never makes someone's open edit fail. What changed: the segment and
    strategy fields that moved, and under ``promises``, ``instalments`` and ``repayment_plans``
    the new state of each one whose state moved (by id), so that a promise turning broken or a
    plan breached is in the audit trail.
    """
    params = casework_settings().params
    before = {
        "ability": case.ability,
        "willingness": case.willingness,
        "strategy": case.strategy,
        "tier": case.tier,
        "deadline": case.deadline,
    }
    # Which parts the case has, in one query: a part it lacks costs no read (most cases have
    # no promise, plan, legal case or investigation, and a refresh follows every write).
    present = (
        Case.objects.filter(pk=case.pk)
        .values(
            has_promises=Exists(Promise.objects.filter(case=OuterRef("pk"))),
            has_instalments=Exists(
                Instalment.objects.filter(plan__case=OuterRef("pk")).exclude(
                    plan__state=RepaymentPlanState.CANCELLED
                )
            ),
            has_open_legal=Exists(
                LegalCase.objects.filter(case=OuterRef("pk"), stage__in=OPEN_LEGAL_STAGES)
            ),
            investigated=Exists(Investigation.objects.filter(case=OuterRef("pk"))),
        )
        .get()
    )
    promises = list(Promise.objects.filter(case=case)) if present["has_promises"] else []
    instalments = (
        list(
            Instalment.objects.filter(plan__case=case)
            .exclude(plan__state=RepaymentPlanState.CANCELLED)
            .select_related("plan")
        )
        if present["has_instalments"]
        else []
    )
    # Recoveries pay promises and instalments, and matter only where there are some. A
    # reversed entry and its reversal cancel out: neither pays a promise or an instalment.
    recoveries = (
        list(
            Recovery.objects.filter(
                case=case, reverses__isnull=True, reversed_by__isnull=True
            ).values_list("received_on", "amount")
        )
        if promises or instalments
        else []
    )
    judged = rules.judge_obligations(
        promises=[rules.Obligation(("p", p.pk), p.amount, p.made_on, p.due_on) for p in promises],
        instalments=[
            rules.Obligation(("i", i.pk), i.amount, i.plan.agreed_on, i.due_on) for i in instalments
        ],
        recoveries=recoveries,
        today=today,
        params=params,
    )
    states_moved: dict[str, dict[str, str]] = {}

    def moved(kind: str, pk: int, old: str, new: str) -> None:
        if old != new:
            states_moved.setdefault(kind, {})[str(pk)] = new

    for promise in promises:
        verdict = judged[("p", promise.pk)]
        if (promise.state, promise.paid) != (verdict.state, verdict.paid):
            Promise.objects.filter(pk=promise.pk).update(state=verdict.state, paid=verdict.paid)
            moved("promises", promise.pk, promise.state, verdict.state)
    breached_plans: set[int] = set()
    open_plans: dict[int, bool] = {}
    for instalment in instalments:
        verdict = judged[("i", instalment.pk)]
        if (instalment.state, instalment.paid, instalment.paid_on) != (
            verdict.state,
            verdict.paid,
            verdict.settled_on,
        ):
            Instalment.objects.filter(pk=instalment.pk).update(
                state=verdict.state, paid=verdict.paid, paid_on=verdict.settled_on
            )
            moved("instalments", instalment.pk, instalment.state, verdict.state)
        if verdict.state == InstalmentState.BREACHED:
            breached_plans.add(instalment.plan_id)
        open_plans.setdefault(instalment.plan_id, True)
        if verdict.settled_on is None:
            open_plans[instalment.plan_id] = False
    states = (
        dict(RepaymentPlan.objects.filter(pk__in=open_plans).values_list("pk", "state"))
        if open_plans
        else {}
    )
    for plan_id, all_paid in open_plans.items():
        new_state = (
            RepaymentPlanState.BREACHED
            if plan_id in breached_plans
            else RepaymentPlanState.COMPLETED
            if all_paid
            else RepaymentPlanState.ACTIVE
        )
        if states[plan_id] != new_state:
            RepaymentPlan.objects.filter(pk=plan_id).update(state=new_state)
            moved("repayment_plans", plan_id, states[plan_id], new_state)

    broken = sum(1 for p in promises if judged[("p", p.pk)].state == PromiseState.BROKEN)
    pending_due = [p.due_on for p in promises if judged[("p", p.pk)].state == PromiseState.PENDING]
    instalment_due = [
        i.due_on
        for i in instalments
        if judged[("i", i.pk)].settled_on is None
        and judged[("i", i.pk)].state != InstalmentState.BREACHED
    ]
    legal = (
        list(LegalCase.objects.filter(case=case, stage__in=OPEN_LEGAL_STAGES))
        if present["has_open_legal"]
        else []
    )
    hearings = [lc.next_hearing_on for lc in legal if lc.next_hearing_on is not None]
    alerts = [on for lc in legal for on in _legal_alert_dates(lc, params)]
    activities = list(
        Activity.objects.filter(
            case=case, occurred_on__gte=today - timedelta(days=params.willingness_window_days)
        ).values_list("occurred_on", "kind", "outcome")
    )
    # The window runs from its first day on, so a contact in it is the latest of all.
    last_contact = max((on for on, kind, _ in activities if kind in CONTACT_KINDS), default=None)
    if last_contact is None:
        last_contact = (
            Activity.objects.filter(case=case, kind__in=CONTACT_KINDS)
            .order_by("-occurred_on")
            .values_list("occurred_on", flat=True)
            .first()
        )
    latest = (
        case.investigations.order_by("-investigated_on", "-id").first()
        if present["investigated"]
        else None
    )
    ability = rules.derive_ability(
        monthly_income=latest.monthly_income if latest else None,
        unencumbered_assets=latest.unencumbered_assets if latest else None,
        npl_balance=case.npl_balance,
        params=params,
        investigated=latest is not None,
    )
    willingness = rules.derive_willingness(
        attempts=[rules.Attempt(on, kind, outcome) for on, kind, outcome in activities],
        broken_promises=broken,
        today=today,
        params=params,
    )
    changes: dict[str, Any] = {
        "broken_promises": broken,
        "next_promise_due": min(pending_due, default=None),
        "next_instalment_due": min(instalment_due, default=None),
        "plan_breached": bool(breached_plans),
        "next_hearing_on": min(hearings, default=None),
        "legal_alert_on": min(alerts, default=None),
        "last_contact_on": last_contact,
    }
    changes.update(derived_strategy(case, ability=ability, willingness=willingness))
    Case.objects.filter(pk=case.pk).update(**changes)
    # The row now holds these values: set on the object rather than read back.
    for key, value in changes.items():
        setattr(case, key, value)
    after = {key: getattr(case, key) for key in before}
    return {key: after[key] for key in before if before[key] != after[key]} | states_moved


def derived_strategy(case: Case, *, ability: str, willingness: str) -> dict[str, Any]:
    """Segment, strategy, tier and deadline as the rules propose them, except what a lead
    has overridden."""
    settings = casework_settings()
    overridden = set(case.overridden)
    result: dict[str, Any] = {}
    if "ability" not in overridden:
        result["ability"] = ability
    if "willingness" not in overridden:
        result["willingness"] = willingness
    strategy, tier = rules.propose(
        ability=result.get("ability", case.ability),
        willingness=result.get("willingness", case.willingness),
        collateral_value=case.collateral_value,
        npl_balance=case.npl_balance,
        policy=settings.policy,
    )
    if "strategy" not in overridden:
        result["strategy"] = strategy
    if "tier" not in overridden:
        result["tier"] = tier
    if "deadline" not in overridden:
        result["deadline"] = settings.params.deadline(case.opened_on, result.get("tier", case.tier))
    return result


def _legal_alert_dates(legal_case: LegalCase, params: rules.CaseworkParams) -> list[date]:
    """The days a legal case starts to need attention: a stalled stage, a date about to expire."""
    alerts = [legal_case.stage_since + timedelta(days=params.legal_stall_days)]
    for expiry in (legal_case.limitation_date, legal_case.seizure_expiry_date):
        if expiry is not None:
            alerts.append(expiry - timedelta(days=params.expiry_warning_days))
    if legal_case.stage == LegalStage.CLOSED:
        return []
    return alerts
