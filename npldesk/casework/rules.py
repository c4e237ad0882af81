"""Casework rules that run by themselves (``docs/casework-rules.md``), free of Django and the
database.

Segment derivation (ability × willingness), the ordered policy table that proposes a strategy
and tier, and the judgement of promises and instalments against recoveries. Every threshold is
a field of ``CaseworkParams`` and can be set in ``npldesk.toml`` under ``[casework]``. These
are the bank's own working rules, not regulation: ``docs/casework-rules.md`` gives the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from npldesk.casework.choices import (
    CONTACT_KINDS,
    FAILED_OUTCOMES,
    Ability,
    InstalmentState,
    Outcome,
    PromiseState,
    Strategy,
    Tier,
    Willingness,
)
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import add_months

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


@dataclass(frozen=True)
class CaseworkParams:
    """The thresholds of the casework rules; defaults as in ``docs/casework-rules.md``."""

    tier_months: Mapping[str, int] = field(
        default_factory=lambda: {Tier.SHORT: 3, Tier.MEDIUM: 12, Tier.LONG: 36}
    )
    income_months: int = 12
    partly_able_share: Decimal = Decimal("0.30")
    willingness_window_days: int = 90
    failed_attempts: int = 3
    failed_window_days: int = 60
    broken_promises_unwilling: int = 2
    promise_grace_days: int = 3
    promise_tolerance_share: Decimal = Decimal("0.01")
    promise_tolerance_min: Decimal = Decimal("10.00")
    promise_tolerance_max_share: Decimal = Decimal("0.10")
    instalment_breach_days: int = 30
    legal_stall_days: int = 90
    expiry_warning_days: int = 60
    # The legal board flags a loan's limitation or a judgment's enforcement deadline this close.
    clock_warning_days: int = 90
    no_contact_days: int = 30
    early_warning_min_dpd: int = 61
    early_warning_max_dpd: int = 90

    def tolerance(self, amount: Decimal) -> Decimal:
        """How far short of ``amount`` a payment may fall and still count as paid, in fen:
        ``min(max(1 % of the amount, 10.00 yuan), 10 % of the amount)``. The floor spares a
        large promise a quarrel over small change; the cap keeps a small promise from being
        kept by a token payment (a promise of 10 yuan still needs 9 of them)."""
        share = (amount * self.promise_tolerance_share).quantize(FEN)
        cap = (amount * self.promise_tolerance_max_share).quantize(FEN)
        return min(max(share, self.promise_tolerance_min), cap)

    def deadline(self, opened_on: date, tier: str) -> date:
        return add_months(opened_on, self.tier_months[tier])


def casework_params(config: Mapping[str, Any]) -> CaseworkParams:
    """``CaseworkParams`` from the ``[casework]`` table of ``npldesk.toml``.

    A bad value is a ``UsageError`` naming the setting and what it should be.
    """
    section = config.get("casework", {})
    if not isinstance(section, Mapping):
        raise UsageError(
            translatable("npldesk.toml [casework]: a table of settings, not a single value")
        )
    table = dict(section)
    table.pop("policy", None)
    params = CaseworkParams()
    known = {f.name: f for f in fields(CaseworkParams)}
    changes: dict[str, Any] = {}
    for name, value in table.items():
        where = f"npldesk.toml [casework] {name}"
        if name not in known:
            raise UsageError(
                translatable("npldesk.toml [casework]: unknown setting {name!r}", name=name)
            )
        default = getattr(params, name)
        if isinstance(default, Decimal):
            changes[name] = _non_negative_decimal(value, where)
        elif isinstance(default, int):
            # bool is an int in Python; ``true`` is not a number of days.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(
                    translatable(
                        "{where}: a whole number of zero or more, not {value!r}",
                        where=where,
                        value=value,
                    )
                )
            changes[name] = value
        else:
            if not isinstance(value, Mapping):
                raise UsageError(
                    translatable(
                        "{where}: a table of tier = months, not {value!r}", where=where, value=value
                    )
                )
            merged = dict(default)
            for tier, months in value.items():
                if tier not in Tier.values:
                    raise UsageError(
                        translatable(
                            "{where}: unknown tier {tier!r} (one of {choices})",
                            where=where,
                            tier=tier,
                            choices=Tier.values,
                        )
                    )
                if isinstance(months, bool) or not isinstance(months, int) or months <= 0:
                    raise UsageError(
                        translatable(
                            "{where}.{tier}: a whole number of months, not {months!r}",
                            where=where,
                            tier=tier,
                            months=months,
                        )
                    )
                merged[str(tier)] = months
            changes[name] = merged
    return replace(params, **changes)


def _non_negative_decimal(value: Any, where: str) -> Decimal:
    # Floats from TOML go through str() so 0.3 is 0.3, not its binary approximation.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise UsageError(translatable("{where}: a number, not {value!r}", where=where, value=value))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(
            translatable("{where}: a number, not {value!r}", where=where, value=value)
        ) from None
    if not number.is_finite() or number < 0:
        raise UsageError(
            translatable(
                "{where}: a number of zero or more, not {value!r}", where=where, value=value
            )
        )
    return number


# -- segment -----------------------------------------------------------------------------


def derive_ability(
    *,
    monthly_income: Decimal | None,
    unencumbered_assets: Decimal | None,
    npl_balance: Decimal,
    params: CaseworkParams,
    investigated: bool,
) -> str:
    """``able`` when a year of income plus unencumbered assets covers the NPL balance."""
    if not investigated:
        return Ability.UNKNOWN
    means = (monthly_income or ZERO) * params.income_months + (unencumbered_assets or ZERO)
    if means >= npl_balance:
        return Ability.ABLE
    if means >= npl_balance * params.partly_able_share:
        return Ability.PARTLY_ABLE
    return Ability.UNABLE


@dataclass(frozen=True)
class Attempt:
    """One activity as willingness sees it."""

    on: date
    kind: str
    outcome: str


def derive_willingness(
    *, attempts: Iterable[Attempt], broken_promises: int, today: date, params: CaseworkParams
) -> str:
    """From the last ``willingness_window_days`` of activities (``docs/casework-rules.md``)."""
    window_start = today - timedelta(days=params.willingness_window_days)
    recent = sorted((a for a in attempts if window_start <= a.on <= today), key=lambda a: a.on)
    contacts = [a for a in recent if a.kind in CONTACT_KINDS]
    if contacts:
        last_three = contacts[-params.failed_attempts :]
        if len(last_three) == params.failed_attempts and all(
            a.outcome in FAILED_OUTCOMES for a in last_three
        ):
            return Willingness.UNREACHABLE
        failed_window = today - timedelta(days=params.failed_window_days)
        in_window = [a for a in contacts if a.on >= failed_window]
        if in_window and all(a.outcome in FAILED_OUTCOMES for a in in_window):
            return Willingness.UNREACHABLE
    if any(a.outcome == Outcome.REFUSAL for a in recent):
        return Willingness.UNWILLING
    if broken_promises >= params.broken_promises_unwilling:
        return Willingness.UNWILLING
    return Willingness.WILLING


# -- policy table ------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRow:
    """One row of the policy table: a segment pattern and the strategy and tier it proposes.

    ``None`` in a pattern means any value; ``collateral_covers`` asks whether the collateral's
    value reaches the NPL balance.
    """

    strategy: str
    tier: str
    ability: frozenset[str] | None = None
    willingness: frozenset[str] | None = None
    collateral_covers: bool | None = None

    def matches(self, ability: str, willingness: str, collateral_covers: bool) -> bool:
        return (
            (self.ability is None or ability in self.ability)
            and (self.willingness is None or willingness in self.willingness)
            and (self.collateral_covers is None or collateral_covers == self.collateral_covers)
        )


def _any_of(*values: str) -> frozenset[str]:
    return frozenset(values)


# The defaults of docs/casework-rules.md, in order (row 2, "collateral covers, and unwilling or
# unable", is two rows here); the last row catches what no row decides (an uninvestigated household
# that is not unreachable): investigate first.
DEFAULT_POLICY: tuple[PolicyRow, ...] = (
    PolicyRow(Strategy.TRACE_AND_LITIGATE, Tier.LONG, willingness=_any_of(Willingness.UNREACHABLE)),
    PolicyRow(
        Strategy.COLLATERAL_ENFORCEMENT,
        Tier.MEDIUM,
        willingness=_any_of(Willingness.UNWILLING),
        collateral_covers=True,
    ),
    PolicyRow(
        Strategy.COLLATERAL_ENFORCEMENT,
        Tier.MEDIUM,
        ability=_any_of(Ability.UNABLE),
        collateral_covers=True,
    ),
    PolicyRow(
        Strategy.NEGOTIATED_REPAYMENT,
        Tier.SHORT,
        ability=_any_of(Ability.ABLE),
        willingness=_any_of(Willingness.WILLING),
    ),
    PolicyRow(
        Strategy.LAWYERS_LETTER_LITIGATION,
        Tier.MEDIUM,
        ability=_any_of(Ability.ABLE),
        willingness=_any_of(Willingness.UNWILLING),
    ),
    PolicyRow(
        Strategy.LETTER_AND_SETTLEMENT,
        Tier.MEDIUM,
        ability=_any_of(Ability.PARTLY_ABLE),
        willingness=_any_of(Willingness.UNWILLING),
    ),
    PolicyRow(
        Strategy.REPAYMENT_PLAN,
        Tier.MEDIUM,
        ability=_any_of(Ability.PARTLY_ABLE, Ability.UNABLE),
        willingness=_any_of(Willingness.WILLING),
    ),
    PolicyRow(
        Strategy.LITIGATION_ENFORCEMENT,
        Tier.LONG,
        ability=_any_of(Ability.UNABLE),
        willingness=_any_of(Willingness.UNWILLING),
    ),
    PolicyRow(Strategy.INVESTIGATE, Tier.SHORT),
)


def policy_from_config(config: Mapping[str, Any]) -> tuple[PolicyRow, ...]:
    """The policy table: ``[[casework.policy]]`` rows in ``npldesk.toml``, else the default.

    The configured rows come first, in order; the default's last row (investigate first)
    catches whatever they leave undecided.
    """
    section = config.get("casework", {})
    rows = section.get("policy") if isinstance(section, Mapping) else None
    if not rows:
        return DEFAULT_POLICY
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        raise UsageError(
            translatable("npldesk.toml casework.policy: a list of [[casework.policy]] rows")
        )
    policy = []
    allowed = {"strategy", "tier", "ability", "willingness", "collateral_covers"}
    for number, row in enumerate(rows, start=1):
        where = f"npldesk.toml [[casework.policy]] row {number}"
        if not isinstance(row, Mapping):
            raise UsageError(
                translatable(
                    "{where}: a table with strategy and tier, not {row!r}", where=where, row=row
                )
            )
        extra = sorted(set(row) - allowed)
        if extra:
            raise UsageError(
                translatable(
                    "{where}: unknown keys {extra} (allowed: {allowed})",
                    where=where,
                    extra=extra,
                    allowed=sorted(allowed),
                )
            )
        strategy, tier = row.get("strategy"), row.get("tier")
        if strategy not in Strategy.values:
            raise UsageError(
                translatable(
                    "{where}: unknown strategy {strategy!r}", where=where, strategy=strategy
                )
            )
        if tier not in Tier.values:
            raise UsageError(translatable("{where}: unknown tier {tier!r}", where=where, tier=tier))
        pattern: dict[str, Any] = {}
        for key, vocabulary in (("ability", Ability.values), ("willingness", Willingness.values)):
            if key in row:
                given = row[key]
                # A single value or a list of them; a bare string is one value, not its letters.
                values = frozenset([given] if isinstance(given, str) else given)
                unknown = values - set(vocabulary)
                if unknown or not values:
                    raise UsageError(
                        translatable(
                            "{where}: unknown {key} {unknown} (one of {vocabulary})",
                            where=where,
                            key=key,
                            unknown=sorted(unknown),
                            vocabulary=vocabulary,
                        )
                    )
                pattern[key] = values
        if "collateral_covers" in row:
            if not isinstance(row["collateral_covers"], bool):
                raise UsageError(
                    translatable(
                        "{where}: collateral_covers is true or false, not {row!r}",
                        where=where,
                        row=row["collateral_covers"],
                    )
                )
            pattern["collateral_covers"] = row["collateral_covers"]
        policy.append(PolicyRow(strategy, tier, **pattern))
    policy.append(DEFAULT_POLICY[-1])
    return tuple(policy)


# Strategies outside the policy table and their tier (docs/casework-rules.md: "long").
_UNLISTED_LONG = frozenset({Strategy.BULK_TRANSFER, Strategy.WRITE_OFF, Strategy.SECURITISATION})


def strategy_tier(strategy: str, policy: Sequence[PolicyRow], *, current: str) -> str:
    """The tier that goes with a strategy chosen by hand: the first policy row proposing it,
    ``long`` for transfer, write-off and securitisation, else the case's current tier."""
    for row in policy:
        if row.strategy == strategy:
            return row.tier
    return Tier.LONG if strategy in _UNLISTED_LONG else current


def propose(
    *,
    ability: str,
    willingness: str,
    collateral_value: Decimal,
    npl_balance: Decimal,
    policy: Sequence[PolicyRow] = DEFAULT_POLICY,
) -> tuple[str, str]:
    """The strategy and tier of the first policy row that matches the segment."""
    covers = npl_balance > 0 and collateral_value >= npl_balance
    for row in policy:
        if row.matches(ability, willingness, covers):
            return row.strategy, row.tier
    return Strategy.INVESTIGATE, Tier.SHORT


# -- promises and instalments ------------------------------------------------------------


@dataclass(frozen=True)
class Obligation:
    """A promise or an instalment: an amount owed by a date, judged against recoveries.

    ``opens_on`` is the first day a recovery counts towards it (the day a promise was made;
    for an instalment, the day its plan was agreed).
    """

    key: Any
    amount: Decimal
    opens_on: date
    due_on: date


@dataclass(frozen=True)
class Judgement:
    key: Any
    state: str
    paid: Decimal
    settled_on: date | None
    days_late: int


def judge_obligations(
    *,
    promises: Sequence[Obligation] = (),
    instalments: Sequence[Obligation] = (),
    recoveries: Iterable[tuple[date, Decimal]],
    today: date,
    params: CaseworkParams,
) -> dict[Any, Judgement]:
    """Judge a case's promises and instalments together against its recoveries.

    Each recovery, in date order, is applied to the oldest open obligation first (by due
    date); a promise counts recoveries from the day it was made to its due date plus the
    grace, an instalment any recovery from the day its plan was agreed. An obligation is met
    when what was applied reaches its amount less the tolerance.

    A promise is then kept, broken (the grace passed without that) or pending; an instalment
    is paid, due, late, or breached (late by more than ``instalment_breach_days``).
    Keys must be distinct across both kinds. Recoveries are money received (positive): the
    caller leaves out a reversed entry and its reversal, which cancel out.
    """
    grace = timedelta(days=params.promise_grace_days)
    closes = {p.key: p.due_on + grace for p in promises}
    closes.update({i.key: date.max for i in instalments})
    order = sorted([*promises, *instalments], key=lambda o: (o.due_on, o.opens_on, str(o.key)))
    if len(closes) != len(order):
        raise ValueError("obligation keys must be distinct")
    paid = {o.key: ZERO for o in order}
    settled: dict[Any, date] = {}
    for on, amount in sorted(recoveries, key=lambda r: (r[0], r[1])):
        left = amount
        for obligation in order:
            if left <= 0:
                break
            key = obligation.key
            if key in settled or not obligation.opens_on <= on <= closes[key]:
                continue
            take = min(left, obligation.amount - paid[key])
            paid[key] += take
            left -= take
            if paid[key] >= obligation.amount - params.tolerance(obligation.amount):
                settled[key] = on

    judged: dict[Any, Judgement] = {}
    state: str
    for promise in promises:
        if promise.key in settled:
            state = PromiseState.KEPT
        elif today > closes[promise.key]:
            state = PromiseState.BROKEN
        else:
            state = PromiseState.PENDING
        judged[promise.key] = Judgement(
            promise.key, state, paid[promise.key], settled.get(promise.key), 0
        )
    for instalment in instalments:
        settled_on = settled.get(instalment.key)
        until = settled_on if settled_on is not None else today
        days_late = max(0, (until - instalment.due_on).days)
        if days_late > params.instalment_breach_days:
            state = InstalmentState.BREACHED
        elif settled_on is not None:
            state = InstalmentState.PAID
        elif days_late > 0:
            state = InstalmentState.LATE
        else:
            state = InstalmentState.DUE
        judged[instalment.key] = Judgement(
            instalment.key, state, paid[instalment.key], settled_on, days_late
        )
    return judged
