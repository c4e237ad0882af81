"""Case services: open by hand, assign, reassign in bulk, override segment or strategy, move
along the case life, close by hand, and the periodic judgement of promises and deadlines."""

from __future__ import annotations

from datetime import date
from typing import Any

from npldesk.casework import audit, validation
from npldesk.casework.access import (
    Action,
    covers_unit,
    require,
    require_case_owner,
    require_case_team,
)
from npldesk.casework.choices import (
    CASE_TRANSITIONS,
    Ability,
    CaseKind,
    CaseState,
    CloseReason,
    LegalStage,
    Strategy,
    Tier,
    Willingness,
)
from npldesk.casework.config import casework_settings
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import Case, Household, Person, Team
from npldesk.casework.services._common import (
    compare_and_swap,
    derived_strategy,
    hold_case_openings,
    refresh_case,
)
from npldesk.core.i18n import translatable


def case_number(household: Household) -> str:
    """``<borrower_id>-<n>``: the n-th case of the household (later cases link to earlier)."""
    return f"{household.borrower_id}-{household.cases.count() + 1}"


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise InvalidAction(
            translatable(
                "case {case_number} is closed ({close_reason})",
                case_number=case.number,
                close_reason=case.close_reason,
            )
        )


def _require_assignable(case: Case, owner: Person | None, team: Team | None) -> None:
    """The owner and the team given to a case are people who may work it (``access``)."""
    if owner is not None:
        require_case_owner(owner, case)
    if team is not None:
        require_case_team(team, case)


@audit.service()
def case_open(
    *,
    actor: Person,
    household: Household,
    opened_on: date,
    kind: str = CaseKind.NPL,
    owner: Person | None = None,
    team: Team | None = None,
    reason: str,
) -> Case:
    """Open a case by hand (the month-end sync opens most cases)."""
    require(actor, Action.MANAGE_CASE)
    if not covers_unit(actor, household.unit):
        raise AccessDenied(
            translatable(
                "{username} may not open a case for household {borrower_id}: its unit "
                "{unit_code} is outside their units",
                username=actor.user.get_username(),
                borrower_id=household.borrower_id,
                unit_code=household.unit.code,
            )
        )
    hold_case_openings(exclusive=False)
    if household.cases.filter(closed_on__isnull=True).exists():
        raise InvalidAction(
            translatable(
                "household {borrower_id} already has an open case",
                borrower_id=household.borrower_id,
            )
        )
    previous = household.cases.order_by("-opened_on", "-id").first()
    case = Case(
        number=case_number(household),
        household=household,
        kind=kind,
        unit=household.unit,
        owner=owner,
        team=team,
        opened_on=opened_on,
        deadline=opened_on,
        previous_case=previous,
    )
    _require_assignable(case, owner, team)
    case.__dict__.update(
        derived_strategy(case, ability=Ability.UNKNOWN, willingness=Willingness.WILLING)
    )
    case.save()
    audit.record(
        actor=actor,
        action="case_open",
        obj=case,
        case=case,
        after=audit.snapshot(case),
        reason=reason,
    )
    return case


@audit.service()
def case_assign(
    *,
    actor: Person,
    case: Case,
    version: int,
    owner: Person | None,
    team: Team | None,
    reason: str,
) -> Case:
    """Give a case to an owner (and a team)."""
    require(actor, Action.MANAGE_CASE, case)
    _require_open(case)
    _require_assignable(case, owner, team)
    before = audit.snapshot(case, ["owner_id", "team_id"])
    compare_and_swap(
        case,
        version=version,
        what=translatable("case {case_number}", case_number=case.number),
        owner=owner,
        team=team,
    )
    audit.record(
        actor=actor,
        action="case_assign",
        obj=case,
        case=case,
        before=before,
        after=audit.snapshot(case, ["owner_id", "team_id"]),
        reason=reason,
    )
    return case


@audit.service(bulk=True)
def case_reassign_bulk(
    *,
    actor: Person,
    cases: list[Case],
    owner: Person | None,
    team: Team | None,
    reason: str,
) -> int:
    """Reassign many cases at once (a lead rebalancing work): one audit record per case that
    changed hands and one for the run. Returns how many changed.

    Each case is compare-and-swapped at the version it was read at, so a case someone else
    edited meanwhile fails the whole batch with ``Conflict``.
    """
    if not cases:
        raise InvalidAction(translatable("no cases to reassign"))
    records = []
    for case in cases:
        require(actor, Action.MANAGE_CASE, case)
        _require_open(case)
        _require_assignable(case, owner, team)
    owner_id = owner.pk if owner is not None else None
    team_id = team.pk if team is not None else None
    for case in cases:
        if (case.owner_id, case.team_id) == (owner_id, team_id):
            continue
        before = audit.snapshot(case, ["owner_id", "team_id"])
        compare_and_swap(
            case,
            version=case.version,
            what=translatable("case {case_number}", case_number=case.number),
            owner=owner,
            team=team,
        )
        records.append(
            audit.build(
                actor=actor,
                action="case_reassign_bulk",
                obj=case,
                case=case,
                before=before,
                after=audit.snapshot(case, ["owner_id", "team_id"]),
                reason=reason,
            )
        )
    records.append(
        audit.build(
            actor=actor,
            action="case_reassign_bulk_run",
            object_type="run",
            object_id="*",
            after={
                "cases": len(cases),
                "changed": len(records),
                "owner_id": owner_id,
                "team_id": team_id,
            },
            reason=reason,
        )
    )
    audit.record_many(records)
    return len(records) - 1


@audit.service()
def case_override(
    *,
    actor: Person,
    case: Case,
    version: int,
    reason: str,
    ability: str | None = None,
    willingness: str | None = None,
    strategy: str | None = None,
    tier: str | None = None,
    deadline: date | None = None,
) -> Case:
    """A lead sets segment, strategy, tier or deadline by hand; the rules then leave it alone.

    What is not set is proposed again from the (possibly overridden) segment.
    """
    require(actor, Action.MANAGE_CASE, case)
    _require_open(case)
    if not reason.strip():
        raise InvalidAction(translatable("an override needs a reason"))
    given: dict[str, Any] = {
        "ability": ability,
        "willingness": willingness,
        "strategy": strategy,
        "tier": tier,
        "deadline": deadline,
    }
    vocabularies = {
        "ability": Ability.values,
        "willingness": Willingness.values,
        "strategy": Strategy.values,
        "tier": Tier.values,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise InvalidAction(
            translatable("nothing to override: give a segment, strategy, tier or deadline")
        )
    for key, value in changes.items():
        if key in vocabularies and value not in vocabularies[key]:
            raise InvalidAction(
                translatable(
                    "unknown {key} {value!r}: one of {choices}",
                    key=key,
                    value=value,
                    choices=", ".join(vocabularies[key]),
                )
            )
    fields = ["ability", "willingness", "strategy", "tier", "deadline", "overridden"]
    before = audit.snapshot(case, fields)
    overridden = sorted(set(case.overridden) | set(changes))
    probe = Case(
        **{**{f: getattr(case, f) for f in ("opened_on", "collateral_value", "npl_balance")}}
    )
    probe.ability, probe.willingness = case.ability, case.willingness
    probe.tier, probe.overridden = changes.get("tier", case.tier), overridden
    proposed = derived_strategy(
        probe,
        ability=changes.get("ability", case.ability),
        willingness=changes.get("willingness", case.willingness),
    )
    merged = {**{k: getattr(case, k) for k in fields[:5]}, **proposed, **changes}
    if "deadline" not in changes and "deadline" not in case.overridden:
        merged["deadline"] = casework_settings().params.deadline(case.opened_on, merged["tier"])
    compare_and_swap(
        case,
        version=version,
        what=translatable("case {case_number}", case_number=case.number),
        overridden=overridden,
        **merged,
    )
    audit.record(
        actor=actor,
        action="case_override",
        obj=case,
        case=case,
        before=before,
        after=audit.snapshot(case, fields),
        reason=reason,
    )
    return case


@audit.service()
def case_move(*, actor: Person, case: Case, version: int, state: str, reason: str) -> Case:
    """Move a case along the case life (opened → investigating → plan proposed → …)."""
    require(actor, Action.WORK_CASE, case)
    _require_open(case)
    if state not in CASE_TRANSITIONS.get(case.state, frozenset()):
        allowed = ", ".join(sorted(CASE_TRANSITIONS.get(case.state, ()))) or "none"
        raise InvalidAction(
            translatable(
                "case {case_number} cannot move from {case_state} to {state} (allowed: {allowed})",
                case_number=case.number,
                case_state=case.state,
                state=state,
                allowed=allowed,
            )
        )
    if state == CaseState.PLAN_APPROVED:
        raise InvalidAction(
            translatable("a plan is approved with plan_decide, not by moving the case")
        )
    before = audit.snapshot(case, ["state"])
    compare_and_swap(
        case,
        version=version,
        what=translatable("case {case_number}", case_number=case.number),
        state=state,
    )
    audit.record(
        actor=actor,
        action="case_move",
        obj=case,
        case=case,
        before=before,
        after={"state": state},
        reason=reason,
    )
    return case


@audit.service()
def case_close(
    *, actor: Person, case: Case, version: int, reason: str, closed_on: date, note: str
) -> Case:
    """Close a case by hand with a reason (``docs/casework-rules.md``: settled, restructured and
    performing, written off with recovery exhausted, or a derived reason)."""
    require(actor, Action.MANAGE_CASE, case)
    if case.version != version:
        # Changed (or closed) since the caller read it: a conflict to reload, not a mistake.
        compare_and_swap(case, version=version, what=f"case {case.number}")
    _require_open(case)
    if reason not in CloseReason.values:
        raise InvalidAction(
            translatable(
                "unknown close reason {reason!r}: one of {choices}",
                reason=reason,
                choices=", ".join(CloseReason.values),
            )
        )
    if case.legal_cases.exclude(stage=LegalStage.CLOSED).exists():
        raise InvalidAction(
            translatable(
                "case {case_number} has an open legal case: close it first", case_number=case.number
            )
        )
    validation.event_date(case, closed_on, translatable("a closing"))
    before = audit.snapshot(case, ["state", "closed_on", "close_reason"])
    compare_and_swap(
        case,
        version=version,
        what=translatable("case {case_number}", case_number=case.number),
        state=CaseState.RESOLVED,
        closed_on=closed_on,
        close_reason=reason,
    )
    audit.record(
        actor=actor,
        action="case_close",
        obj=case,
        case=case,
        before=before,
        after=audit.snapshot(case, ["state", "closed_on", "close_reason"]),
        reason=note,
    )
    return case


@audit.service(bulk=True)
def cases_judge(*, actor: Person, today: date) -> int:
    """The rules that run by themselves, for every open case: promises kept or broken,
    instalments late or breached, legal alerts, segment and strategy. One audit record per case
    whose segment, strategy, tier or deadline moved or one of whose promises, instalments or
    repayment plans changed state, and one for the run."""
    require(actor, Action.SYNC)
    changed = []
    for case in Case.objects.filter(closed_on__isnull=True).select_related("unit"):
        moved = refresh_case(case, today=today)
        if moved:
            changed.append(
                audit.build(
                    actor=actor,
                    action="cases_judge",
                    obj=case,
                    case=case,
                    after=moved,
                    reason=f"rules as of {today.isoformat()}",
                )
            )
    changed.append(
        audit.build(
            actor=actor,
            action="cases_judge_run",
            object_type="run",
            object_id=today.isoformat(),
            after={"changed": len(changed)},
        )
    )
    audit.record_many(changed)
    return len(changed) - 1
