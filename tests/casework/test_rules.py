"""The casework rules of ``docs/casework-rules.md``: promise and instalment judgement
(property-based), segment derivation and the policy table at their boundaries, and the settings
they read."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from npldesk.casework.choices import (
    Ability,
    ActivityKind,
    InstalmentState,
    Outcome,
    PromiseState,
    Strategy,
    Tier,
    Willingness,
)
from npldesk.casework.rules import (
    DEFAULT_POLICY,
    Attempt,
    CaseworkParams,
    Judgement,
    Obligation,
    casework_params,
    derive_ability,
    derive_willingness,
    judge_obligations,
    policy_from_config,
    propose,
)
from npldesk.core.errors import UsageError

PARAMS = CaseworkParams()
START = date(2020, 1, 1)
CENT = Decimal("0.01")

# -- strategies ---------------------------------------------------------------------------

days = st.integers(min_value=0, max_value=120)
dates = days.map(lambda n: START + timedelta(days=n))
amounts = st.integers(min_value=1, max_value=2_000_000).map(lambda fen: Decimal(fen) * CENT)
recoveries_st = st.lists(st.tuples(dates, amounts), max_size=8)


@st.composite
def obligation_st(draw: Any, key: Any) -> Obligation:
    opens = draw(st.integers(min_value=0, max_value=90))
    due = opens + draw(st.integers(min_value=0, max_value=40))
    return Obligation(
        key, draw(amounts), START + timedelta(days=opens), START + timedelta(days=due)
    )


@st.composite
def books(draw: Any) -> tuple[list[Obligation], list[Obligation]]:
    n_promises = draw(st.integers(min_value=0, max_value=4))
    n_instalments = draw(st.integers(min_value=0, max_value=4))
    promises = [draw(obligation_st(("p", n))) for n in range(n_promises)]
    instalments = [draw(obligation_st(("i", n))) for n in range(n_instalments)]
    return promises, instalments


def judge(
    promises: list[Obligation],
    instalments: list[Obligation],
    recoveries: list[tuple[date, Decimal]],
    today: date,
    params: CaseworkParams = PARAMS,
) -> dict[Any, Judgement]:
    return judge_obligations(
        promises=promises,
        instalments=instalments,
        recoveries=recoveries,
        today=today,
        params=params,
    )


def window(obligation: Obligation, is_promise: bool) -> tuple[date, date]:
    closes = obligation.due_on + timedelta(days=PARAMS.promise_grace_days)
    return obligation.opens_on, closes if is_promise else date.max


# -- the reference: the rule of docs/casework-rules.md written out plainly, in whole fen -----


def reference(
    promises: list[Obligation],
    instalments: list[Obligation],
    recoveries: list[tuple[date, Decimal]],
    today: date,
) -> dict[Any, tuple[str, int]]:
    """(state, fen paid) per obligation, by a second, independent reading of the rule."""
    book = []
    for obligation, is_promise in [(p, True) for p in promises] + [(i, False) for i in instalments]:
        opens, closes = window(obligation, is_promise)
        need = int(obligation.amount * 100)
        share = (need * PARAMS.promise_tolerance_share).quantize(Decimal(1))
        cap = (need * PARAMS.promise_tolerance_max_share).quantize(Decimal(1))
        tolerance = min(max(int(share), 1000), int(cap))
        book.append(
            {
                "key": obligation.key,
                "promise": is_promise,
                "rank": (obligation.due_on, obligation.opens_on, str(obligation.key)),
                "opens": opens,
                "closes": closes,
                "due": obligation.due_on,
                "need": need,
                "enough": need - tolerance,
                "paid": 0,
                "settled": None,
            }
        )
    book.sort(key=lambda entry: entry["rank"])
    money_in = sorted((on, int(amount * 100)) for on, amount in recoveries)
    for on, fen in money_in:
        for entry in book:
            if fen == 0:
                break
            if entry["settled"] is None and entry["opens"] <= on <= entry["closes"]:
                applied = min(fen, entry["need"] - entry["paid"])
                entry["paid"] += applied
                fen -= applied
                if entry["paid"] >= entry["enough"]:
                    entry["settled"] = on
    result: dict[Any, tuple[str, int]] = {}
    for entry in book:
        if entry["promise"]:
            if entry["settled"] is not None:
                state = PromiseState.KEPT
            elif today > entry["closes"]:
                state = PromiseState.BROKEN
            else:
                state = PromiseState.PENDING
        else:
            late = max(0, ((entry["settled"] or today) - entry["due"]).days)
            if late > PARAMS.instalment_breach_days:
                state = InstalmentState.BREACHED
            elif entry["settled"] is not None:
                state = InstalmentState.PAID
            else:
                state = InstalmentState.LATE if late else InstalmentState.DUE
        result[entry["key"]] = (state, entry["paid"])
    return result


# -- properties of judge_obligations ------------------------------------------------------


# Recoveries bunched on a few days, so that several fall on the same day.
bunched_recoveries = st.lists(
    st.tuples(st.integers(0, 6).map(lambda n: START + timedelta(days=n * 7)), amounts),
    max_size=8,
)


@given(books(), bunched_recoveries, dates, st.randoms(use_true_random=False))
def test_judgement_does_not_depend_on_the_order_recoveries_are_given_in(
    book: tuple[list[Obligation], list[Obligation]],
    recoveries: list[tuple[date, Decimal]],
    today: date,
    shuffler: Any,
) -> None:
    promises, instalments = book
    shuffled = list(recoveries)
    shuffler.shuffle(shuffled)
    assert judge(promises, instalments, recoveries, today) == judge(
        promises, instalments, shuffled, today
    )


def test_two_recoveries_on_one_day_judge_the_same_in_either_order() -> None:
    first = Obligation("a", Decimal("100.00"), START, START + timedelta(days=5))
    second = Obligation("b", Decimal("100.00"), START, START + timedelta(days=6))
    on = START + timedelta(days=1)
    one_way = judge([first, second], [], [(on, Decimal("95.00")), (on, Decimal("50.00"))], START)
    other = judge([first, second], [], [(on, Decimal("50.00")), (on, Decimal("95.00"))], START)
    assert one_way == other


@given(books(), recoveries_st, dates)
def test_what_is_applied_stays_within_the_window_and_the_amount(
    book: tuple[list[Obligation], list[Obligation]],
    recoveries: list[tuple[date, Decimal]],
    today: date,
) -> None:
    promises, instalments = book
    judged = judge(promises, instalments, recoveries, today)
    for obligation, is_promise in [(p, True) for p in promises] + [(i, False) for i in instalments]:
        opens, closes = window(obligation, is_promise)
        in_window = sum((a for on, a in recoveries if opens <= on <= closes), Decimal(0))
        paid = judged[obligation.key].paid
        assert Decimal(0) <= paid <= obligation.amount
        assert paid <= in_window
    assert sum((j.paid for j in judged.values()), Decimal(0)) <= sum(
        (a for _, a in recoveries), Decimal(0)
    )


@given(obligation_st("p"), st.integers(-5, 5))
def test_a_promise_with_nothing_paid_is_pending_until_the_grace_ends_then_broken(
    promise: Obligation, offset: int
) -> None:
    grace_ends = promise.due_on + timedelta(days=PARAMS.promise_grace_days)
    today = grace_ends + timedelta(days=offset)
    verdict = judge([promise], [], [], today)["p"]
    assert verdict.paid == 0
    assert verdict.state == (PromiseState.PENDING if today <= grace_ends else PromiseState.BROKEN)


@given(obligation_st("p"), st.data())
def test_one_recovery_in_the_window_keeps_a_promise_iff_it_reaches_amount_less_tolerance(
    promise: Obligation, data: Any
) -> None:
    opens, closes = window(promise, True)
    on = data.draw(st.integers(0, (closes - opens).days).map(lambda n: opens + timedelta(n)))
    threshold = promise.amount - PARAMS.tolerance(promise.amount)
    assume(threshold > 0)
    enough = data.draw(st.decimals(min_value=threshold, max_value=threshold * 3, places=2))
    short = threshold - data.draw(st.decimals(min_value=CENT, max_value=threshold, places=2))
    today = closes + timedelta(days=1)
    kept = judge([promise], [], [(on, enough)], today)["p"]
    assert kept.state == PromiseState.KEPT
    assert kept.settled_on == on
    if short > 0:
        assert judge([promise], [], [(on, short)], today)["p"].state == PromiseState.BROKEN


@given(obligation_st("p"), amounts)
def test_a_recovery_outside_the_window_does_not_count(promise: Obligation, amount: Decimal) -> None:
    opens, closes = window(promise, True)
    today = closes + timedelta(days=5)
    for on in (opens - timedelta(days=1), closes + timedelta(days=1)):
        verdict = judge([promise], [], [(on, amount)], today)["p"]
        assert (verdict.state, verdict.paid) == (PromiseState.BROKEN, 0)


@given(books(), recoveries_st, st.tuples(dates, amounts), dates)
def test_adding_a_recovery_never_turns_kept_into_broken(
    book: tuple[list[Obligation], list[Obligation]],
    recoveries: list[tuple[date, Decimal]],
    extra: tuple[date, Decimal],
    today: date,
) -> None:
    promises, instalments = book
    before = judge(promises, instalments, recoveries, today)
    after = judge(promises, instalments, [*recoveries, extra], today)
    for promise in promises:
        if before[promise.key].state == PromiseState.KEPT:
            assert after[promise.key].state == PromiseState.KEPT
    for instalment in instalments:
        if before[instalment.key].settled_on is not None:
            assert after[instalment.key].settled_on is not None


@given(amounts, amounts, st.integers(1, 30))
def test_recoveries_go_to_the_obligation_due_first(
    first_amount: Decimal, second_amount: Decimal, gap: int
) -> None:
    assume(first_amount >= Decimal("20.00"))
    earlier = Obligation("earlier", first_amount, START, START + timedelta(days=10))
    later = Obligation("later", second_amount, START, START + timedelta(days=10 + gap))
    today = later.due_on + timedelta(days=30)
    # One recovery that covers the first by due date exactly, given in either order of the two.
    for promises in ([earlier, later], [later, earlier]):
        judged = judge(promises, [], [(START + timedelta(days=5), first_amount)], today)
        assert judged["earlier"].state == PromiseState.KEPT
        assert judged["earlier"].paid == first_amount
        assert judged["later"].state == PromiseState.BROKEN
        assert judged["later"].paid == 0


@given(obligation_st("i"), st.one_of(st.none(), st.integers(-5, 40)), st.integers(0, 40))
def test_an_instalment_is_breached_iff_more_than_the_breach_days_late(
    instalment: Obligation, paid_after: int | None, judged_after: int
) -> None:
    today = instalment.due_on + timedelta(days=judged_after)
    recoveries = []
    if paid_after is not None:
        paid_on = max(instalment.opens_on, instalment.due_on + timedelta(days=paid_after))
        recoveries = [(paid_on, instalment.amount)]
    verdict = judge([], [instalment], recoveries, today)["i"]
    settled = verdict.settled_on
    late = max(0, ((settled if settled is not None else today) - instalment.due_on).days)
    assert verdict.days_late == late
    assert (verdict.state == InstalmentState.BREACHED) == (late > PARAMS.instalment_breach_days)
    if paid_after is not None:
        assert settled == recoveries[0][0]


@settings(max_examples=300)
@given(books(), recoveries_st, dates)
def test_judgement_agrees_with_a_plain_reference(
    book: tuple[list[Obligation], list[Obligation]],
    recoveries: list[tuple[date, Decimal]],
    today: date,
) -> None:
    promises, instalments = book
    judged = judge(promises, instalments, recoveries, today)
    expected = reference(promises, instalments, recoveries, today)
    assert {k: (j.state, int(j.paid * 100)) for k, j in judged.items()} == expected


def test_keys_must_be_distinct() -> None:
    twin = Obligation("x", Decimal("1.00"), START, START)
    with pytest.raises(ValueError, match="distinct"):
        judge([twin], [twin], [], START)


@pytest.mark.parametrize(
    ("amount", "tolerance"),
    [
        ("0.01", "0.00"),
        ("5.00", "0.50"),
        ("10.00", "1.00"),
        ("99.99", "10.00"),
        ("100.00", "10.00"),
        ("1000.00", "10.00"),
        ("1500.00", "15.00"),
    ],
)
def test_tolerance_is_one_percent_at_least_ten_yuan_at_most_ten_percent(
    amount: str, tolerance: str
) -> None:
    assert PARAMS.tolerance(Decimal(amount)) == Decimal(tolerance)


@pytest.mark.parametrize(
    ("paid", "state"), [("0.01", "broken"), ("8.99", "broken"), ("9.00", "kept")]
)
def test_a_promise_of_ten_yuan_needs_nine_of_them(paid: str, state: str) -> None:
    promise = Obligation("p", Decimal("10.00"), START, START)
    instalment = Obligation("i", Decimal("10.00"), START, START + timedelta(days=30))
    later = START + timedelta(days=60)
    judged = judge([promise], [], [(START, Decimal(paid))], later)
    assert judged["p"].state == state
    # An instalment is held to the same tolerance.
    judged = judge([], [instalment], [(START, Decimal(paid))], later)
    assert (judged["i"].settled_on is not None) == (state == "kept")


# -- ability --------------------------------------------------------------------------------


def ability(income: str, assets: str, balance: str = "120000.00", **kwargs: Any) -> str:
    return derive_ability(
        monthly_income=Decimal(income),
        unencumbered_assets=Decimal(assets),
        npl_balance=Decimal(balance),
        params=kwargs.pop("params", PARAMS),
        investigated=kwargs.pop("investigated", True),
    )


@pytest.mark.parametrize(
    ("income", "assets", "expected"),
    [
        ("10000.00", "0.00", Ability.ABLE),  # twelve months exactly cover 120 000
        ("9999.99", "0.01", Ability.PARTLY_ABLE),  # 119 999.89: just short
        ("0.00", "120000.00", Ability.ABLE),
        ("3000.00", "0.00", Ability.PARTLY_ABLE),  # 36 000 = exactly 30 %
        ("2999.99", "0.00", Ability.UNABLE),  # 35 999.88
        ("2000.00", "12000.00", Ability.PARTLY_ABLE),  # 24 000 + 12 000 = 30 %
        ("0.00", "0.00", Ability.UNABLE),
    ],
)
def test_ability_at_its_boundaries(income: str, assets: str, expected: str) -> None:
    assert ability(income, assets) == expected


def test_ability_is_unknown_before_any_investigation() -> None:
    assert ability("99999.00", "0.00", investigated=False) == Ability.UNKNOWN


def test_ability_follows_its_parameters() -> None:
    params = CaseworkParams(income_months=6, partly_able_share=Decimal("0.50"))
    assert ability("10000.00", "0.00", params=params) == Ability.PARTLY_ABLE  # 60 000 = 50 %
    assert ability("9999.00", "0.00", params=params) == Ability.UNABLE


# -- willingness ----------------------------------------------------------------------------

TODAY = date(2020, 6, 30)


def attempt(days_ago: int, outcome: str, kind: str = ActivityKind.PHONE) -> Attempt:
    return Attempt(TODAY - timedelta(days=days_ago), kind, outcome)


def willingness(attempts: list[Attempt], broken: int = 0) -> str:
    return derive_willingness(attempts=attempts, broken_promises=broken, today=TODAY, params=PARAMS)


def test_three_failed_attempts_make_a_household_unreachable() -> None:
    attempts = [
        attempt(80, Outcome.CONTACTED),
        attempt(75, Outcome.NO_ANSWER),
        attempt(70, Outcome.WRONG_NUMBER),
        attempt(65, Outcome.NO_ANSWER),
    ]
    assert willingness(attempts) == Willingness.UNREACHABLE


def test_two_failed_attempts_after_a_contact_are_not_enough() -> None:
    attempts = [
        attempt(70, Outcome.NO_ANSWER),
        attempt(65, Outcome.CONTACTED),
        attempt(64, Outcome.NO_ANSWER),
        attempt(63, Outcome.NO_ANSWER),
    ]
    assert willingness(attempts) == Willingness.WILLING


def test_every_attempt_of_the_last_60_days_failed() -> None:
    attempts = [attempt(61, Outcome.CONTACTED), attempt(59, Outcome.NO_ANSWER)]
    assert willingness(attempts) == Willingness.UNREACHABLE
    attempts = [attempt(60, Outcome.CONTACTED), attempt(59, Outcome.NO_ANSWER)]
    assert willingness(attempts) == Willingness.WILLING


def test_attempts_older_than_90_days_do_not_count() -> None:
    old_failures = [attempt(d, Outcome.NO_ANSWER) for d in (95, 93, 91)]
    assert willingness(old_failures) == Willingness.WILLING
    assert willingness([attempt(91, Outcome.REFUSAL)]) == Willingness.WILLING
    assert willingness([attempt(90, Outcome.REFUSAL)]) == Willingness.UNWILLING


def test_activities_that_are_not_contact_attempts_do_not_count_as_failures() -> None:
    letters = [attempt(d, Outcome.NO_ANSWER, ActivityKind.LETTER) for d in (30, 20, 10)]
    assert willingness(letters) == Willingness.WILLING


def test_a_refusal_or_two_broken_promises_make_a_household_unwilling() -> None:
    assert willingness([attempt(10, Outcome.REFUSAL)]) == Willingness.UNWILLING
    assert willingness([attempt(10, Outcome.CONTACTED)], broken=2) == Willingness.UNWILLING
    assert willingness([attempt(10, Outcome.CONTACTED)], broken=1) == Willingness.WILLING


def test_unreachable_comes_before_unwilling() -> None:
    attempts = [attempt(d, Outcome.NO_ANSWER) for d in (30, 20, 10)]
    assert willingness(attempts, broken=5) == Willingness.UNREACHABLE


# -- the policy table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ability_", "willingness_", "collateral", "expected"),
    [
        # Row 1: any × unreachable, even with collateral that covers.
        (Ability.ABLE, Willingness.UNREACHABLE, "0", (Strategy.TRACE_AND_LITIGATE, Tier.LONG)),
        (
            Ability.UNABLE,
            Willingness.UNREACHABLE,
            "200000",
            (Strategy.TRACE_AND_LITIGATE, Tier.LONG),
        ),
        # Row 2: collateral ≥ balance and unwilling or unable.
        (
            Ability.ABLE,
            Willingness.UNWILLING,
            "100000",
            (Strategy.COLLATERAL_ENFORCEMENT, Tier.MEDIUM),
        ),
        (
            Ability.UNABLE,
            Willingness.WILLING,
            "100000",
            (Strategy.COLLATERAL_ENFORCEMENT, Tier.MEDIUM),
        ),
        # Collateral just short of the balance: rows 4 and 6 instead.
        (
            Ability.ABLE,
            Willingness.UNWILLING,
            "99999.99",
            (Strategy.LAWYERS_LETTER_LITIGATION, Tier.MEDIUM),
        ),
        (Ability.UNABLE, Willingness.WILLING, "99999.99", (Strategy.REPAYMENT_PLAN, Tier.MEDIUM)),
        # Row 3: able × willing (collateral does not matter when willing and able).
        (Ability.ABLE, Willingness.WILLING, "100000", (Strategy.NEGOTIATED_REPAYMENT, Tier.SHORT)),
        # Row 5, 6, 7.
        (
            Ability.PARTLY_ABLE,
            Willingness.UNWILLING,
            "0",
            (Strategy.LETTER_AND_SETTLEMENT, Tier.MEDIUM),
        ),
        (Ability.PARTLY_ABLE, Willingness.WILLING, "0", (Strategy.REPAYMENT_PLAN, Tier.MEDIUM)),
        (Ability.UNABLE, Willingness.WILLING, "0", (Strategy.REPAYMENT_PLAN, Tier.MEDIUM)),
        (
            Ability.UNABLE,
            Willingness.UNWILLING,
            "0",
            (Strategy.LITIGATION_ENFORCEMENT, Tier.LONG),
        ),
        # Not investigated: investigate first (unless unreachable, or collateral and unwilling).
        (Ability.UNKNOWN, Willingness.WILLING, "0", (Strategy.INVESTIGATE, Tier.SHORT)),
        (Ability.UNKNOWN, Willingness.UNWILLING, "0", (Strategy.INVESTIGATE, Tier.SHORT)),
    ],
)
def test_each_row_of_the_default_policy(
    ability_: str, willingness_: str, collateral: str, expected: tuple[str, str]
) -> None:
    proposed = propose(
        ability=ability_,
        willingness=willingness_,
        collateral_value=Decimal(collateral),
        npl_balance=Decimal("100000"),
    )
    assert proposed == expected


def test_collateral_never_covers_a_zero_balance() -> None:
    proposed = propose(
        ability=Ability.UNABLE,
        willingness=Willingness.UNWILLING,
        collateral_value=Decimal("0"),
        npl_balance=Decimal("0"),
    )
    assert proposed == (Strategy.LITIGATION_ENFORCEMENT, Tier.LONG)


def test_deadline_is_opened_plus_the_tier_length() -> None:
    opened = date(2020, 1, 31)
    assert PARAMS.deadline(opened, Tier.SHORT) == date(2020, 4, 30)
    assert PARAMS.deadline(opened, Tier.MEDIUM) == date(2021, 1, 31)
    assert PARAMS.deadline(opened, Tier.LONG) == date(2023, 1, 31)


# -- settings from npldesk.toml -----------------------------------------------------------


def test_params_default_without_a_casework_table() -> None:
    assert casework_params({}) == CaseworkParams()
    assert policy_from_config({}) == DEFAULT_POLICY


def test_params_from_the_casework_table() -> None:
    params = casework_params(
        {
            "casework": {
                "promise_grace_days": 5,
                "partly_able_share": 0.25,
                "promise_tolerance_min": "20",
                "tier_months": {"short": 6},
                "policy": [],
            }
        }
    )
    assert params.promise_grace_days == 5
    assert params.partly_able_share == Decimal("0.25")
    assert params.promise_tolerance_min == Decimal("20")
    assert params.tier_months == {"short": 6, "medium": 12, "long": 36}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"no_such_setting": 1}, "unknown setting 'no_such_setting'"),
        ({"promise_grace_days": -1}, "promise_grace_days: a whole number"),
        ({"promise_grace_days": 2.5}, "promise_grace_days: a whole number"),
        ({"promise_grace_days": True}, "promise_grace_days: a whole number"),
        ({"partly_able_share": "a third"}, "partly_able_share: a number"),
        ({"partly_able_share": -0.1}, "partly_able_share: a number of zero or more"),
        ({"promise_tolerance_min": [1]}, "promise_tolerance_min: a number"),
        ({"tier_months": 3}, "tier_months: a table"),
        ({"tier_months": {"tiny": 1}}, "unknown tier 'tiny'"),
        ({"tier_months": {"short": 0}}, "tier_months.short: a whole number of months"),
    ],
)
def test_bad_params_are_a_usage_error_naming_the_setting(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        casework_params({"casework": table})


def test_casework_must_be_a_table() -> None:
    with pytest.raises(UsageError, match="a table of settings"):
        casework_params({"casework": 3})


def test_policy_from_config_puts_its_rows_first_and_keeps_the_catch_all() -> None:
    policy = policy_from_config(
        {
            "casework": {
                "policy": [
                    {"strategy": "bulk_transfer", "tier": "long", "ability": "unable"},
                    {
                        "strategy": "write_off",
                        "tier": "long",
                        "willingness": ["unwilling", "unreachable"],
                        "collateral_covers": False,
                    },
                ]
            }
        }
    )
    assert len(policy) == 3
    assert policy[-1] == DEFAULT_POLICY[-1]
    assert policy[0].ability == frozenset({"unable"})

    def proposed(ability_: str, willingness_: str) -> tuple[str, str]:
        return propose(
            ability=ability_,
            willingness=willingness_,
            collateral_value=Decimal(0),
            npl_balance=Decimal(100),
            policy=policy,
        )

    assert proposed(Ability.UNABLE, Willingness.WILLING) == (Strategy.BULK_TRANSFER, Tier.LONG)
    assert proposed(Ability.ABLE, Willingness.UNREACHABLE) == (Strategy.WRITE_OFF, Tier.LONG)
    assert proposed(Ability.ABLE, Willingness.WILLING) == (Strategy.INVESTIGATE, Tier.SHORT)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"strategy": "pray", "tier": "long"}, "row 1: unknown strategy 'pray'"),
        ({"strategy": "write_off", "tier": "forever"}, "row 1: unknown tier 'forever'"),
        ({"strategy": "write_off", "tier": "long", "ability": ["rich"]}, "unknown ability"),
        ({"strategy": "write_off", "tier": "long", "willingness": "keen"}, "unknown willingness"),
        (
            {"strategy": "write_off", "tier": "long", "collateral_covers": "no"},
            "collateral_covers is true or false",
        ),
        ({"strategy": "write_off", "tier": "long", "segment": "x"}, "unknown keys"),
        ("write_off", "row 1: a table"),
    ],
)
def test_bad_policy_rows_are_a_usage_error(row: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        policy_from_config({"casework": {"policy": [row]}})
