"""The required reduction and the proposed mix (docs/planner.md): exact in fen, cheapest first,
and honest where the capacities cannot close the gap."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from npldesk.planner.levers import (
    LEVERS,
    loss_rates,
    meets_both,
    propose_mix,
    required_reduction,
)

FEN = Decimal("0.01")
fen_amounts = st.integers(min_value=1, max_value=10**12).map(lambda n: Decimal(n) * FEN)


@st.composite
def books(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(N, T, B0, T0): forecast NPL and book, baseline NPL and book, NPL within its book."""
    t0 = draw(fen_amounts)
    b0 = draw(st.integers(1, int(t0 / FEN))) * FEN
    t = draw(fen_amounts)
    n = draw(st.integers(0, int(t / FEN))) * FEN
    return n, t, b0, t0


@settings(max_examples=300, deadline=None)
@given(books())
def test_the_required_reduction_is_the_least_whole_fen_meeting_both_conditions(book):
    n, t, b0, t0 = book
    x = required_reduction(n, t, b0, t0)
    if x is None:  # only when even the whole NPL balance leaving would not do
        assert b0 == t0 or not meets_both(Decimal(0), t - n, b0, t0)
        return
    assert x >= 0
    assert meets_both(n - x, t - x, b0, t0)
    if x > 0:
        assert not meets_both(n - x + FEN, t - x + FEN, b0, t0)
    else:
        assert meets_both(n, t, b0, t0)


def test_a_forecast_already_below_both_needs_nothing():
    assert required_reduction(Decimal(90), Decimal(1000), Decimal(100), Decimal(1000)) == 0


def test_a_worked_gap():
    # N 120, T 1000, B0 100, T0 1000 (ratio 10 %): the balance needs x > 20; the ratio
    # (120 − x)/(1000 − x) < 0.1 needs x > 22.22…: the least fen is 22.23.
    assert required_reduction(Decimal(120), Decimal(1000), Decimal(100), Decimal(1000)) == Decimal(
        "22.23"
    )


def rates() -> dict[str, Decimal]:
    return loss_rates(Decimal("0.30"), Decimal("0.10"))


def test_the_mix_takes_the_cheapest_lever_first_within_each_capacity():
    capacities = {
        "cash": Decimal("10.00"),
        "upgrade": Decimal("5.00"),
        "write_off": Decimal("100.00"),
        "transfer": Decimal("100.00"),
    }
    mix = propose_mix(Decimal("40.00"), capacities, rates())
    proposed = {name: lever.proposed for name, lever in mix.levers.items()}
    # Loss per yuan: cash 0, upgrade 0, transfer 0.70, write-off 0.90.
    assert proposed == {
        "cash": Decimal("10.00"),
        "upgrade": Decimal("5.00"),
        "write_off": Decimal("0.00"),
        "transfer": Decimal("25.00"),
    }
    assert mix.levers["transfer"].expected_loss == Decimal("17.50")
    assert mix.closes_gap


def test_a_gap_larger_than_every_capacity_is_not_closable():
    capacities = dict.fromkeys(LEVERS, Decimal("10.00"))
    mix = propose_mix(Decimal("40.01"), capacities, rates())
    assert not mix.closes_gap
    assert mix.proposed == Decimal("40.00")  # everything there is, and still short


def test_no_possible_reduction_is_not_closable():
    mix = propose_mix(None, dict.fromkeys(LEVERS, Decimal("10.00")), rates())
    assert not mix.closes_gap
    assert mix.proposed == 0


@settings(max_examples=200, deadline=None)
@given(books(), st.lists(fen_amounts, min_size=4, max_size=4))
def test_applying_a_closing_mix_makes_double_reduction(book, amounts):
    n, t, b0, t0 = book
    x = required_reduction(n, t, b0, t0)
    capacities = dict(zip(LEVERS, amounts, strict=True))
    mix = propose_mix(x, capacities, rates())
    if x is None:
        assert not mix.closes_gap
        return
    npl_after, book_after = mix.applied(n, t)
    if mix.closes_gap:
        assert mix.proposed == x
        assert meets_both(npl_after, book_after, b0, t0)
    else:
        assert sum(capacities.values()) < x
