"""The year-end forecast (docs/planner.md): the projection against hand-worked cases, its
invariants as properties, the engine's sums on small tapes, units rolled up within each draw,
and the same figures from DuckDB and PySpark for the same seed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from npldesk.analytics import connect
from npldesk.analytics.forecast import (
    EXITS,
    backtest,
    backtest_summary,
    consecutive_run,
    forecast,
    load_history,
    project,
    transition_rates,
    with_seasonal_exits,
    year_end_of,
)
from npldesk.analytics.quality import format_ratio
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.months import month_range, shift_month_end
from tests.analytics.conftest import month
from tests.tape_factory import loan_row

DEC18 = month("2018-12")


def months_from(start: date, count: int) -> list[date]:
    return list(month_range(start, shift_month_end(start, count - 1)))


def history(n: int, steps: list[Any], start: date = DEC18, **fields: Any) -> list[dict[str, str]]:
    """One loan's rows from ``start``: per month ``None`` (no row), ``(dpd, balance)`` on the
    books, or a terminal status (``"repaid"``, ``"written_off"`` …)."""
    rows = []
    for as_of, step in zip(months_from(start, len(steps)), steps, strict=True):
        if step is None:
            continue
        if isinstance(step, str):
            exit_amount = "" if step == "repaid" else fields.get("exit_amount", "")
            rows.append(
                loan_row(
                    n,
                    as_of,
                    status=step,
                    principal_balance="0.00",
                    exit_amount=exit_amount,
                    reported_class="",
                    **{k: v for k, v in fields.items() if k != "exit_amount"},
                )
            )
            continue
        dpd, balance = step
        rows.append(
            loan_row(
                n,
                as_of,
                days_past_due=dpd,
                overdue_principal="1.00" if dpd else "0.00",
                principal_balance=balance,
                reported_class="",
                **{k: v for k, v in fields.items() if k != "exit_amount"},
            )
        )
    return rows


# -- the projection, worked by hand -------------------------------------------------------------


def one_month(rows: list[list[float]]) -> np.ndarray:
    """Rates of one month and one unit: ``rows[i]`` over the states then the exits."""
    return np.array([[rows]], dtype=float)  # (months=1, units=1, states, columns)


def test_a_two_state_chain_moves_balance_both_ways():
    rates = one_month([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0]])
    picks = np.zeros((1, 2), dtype=np.int64)
    end, moved = project(np.array([[100.0, 0.0]]), rates, picks, np.zeros((1, 2)))
    # Month 1: 90 | 10. Month 2: 90·0.9 + 10·0.2 = 83 | 90·0.1 + 10·0.8 = 17.
    np.testing.assert_allclose(end[0, 0], [83.0, 17.0])
    # What left state 0 over the two months: 100 → 90 | 10, then 90 → 81 | 9.
    np.testing.assert_allclose(moved[0, 0, 0], [171.0, 19.0, 0.0])


def test_an_absorbing_exit_takes_its_share_every_month():
    rates = one_month([[0.9, 0.1]])  # one state; a tenth leaves every month and never returns
    picks = np.zeros((1, 3), dtype=np.int64)
    end, moved = project(np.array([[100.0]]), rates, picks, np.zeros((1, 1)))
    np.testing.assert_allclose(end[0, 0], [72.9])  # 100 · 0.9³
    np.testing.assert_allclose(moved[0, 0, 0, 1], 10 + 9 + 8.1)  # 27.1 left by the exit


def test_amortisation_pays_down_into_cash_and_new_lending_grows():
    rates = one_month([[0.98, 0.02]])  # 2 % of the balance repaid each month
    picks = np.zeros((1, 2), dtype=np.int64)
    end, moved = project(np.array([[100.0]]), rates, picks, np.array([[10.0]]), growth=0.12)
    first = 100 * 0.98 + 10 * 1.12 ** (1 / 12)
    second = first * 0.98 + 10 * 1.12 ** (2 / 12)
    np.testing.assert_allclose(end[0, 0], [second])
    np.testing.assert_allclose(moved[0, 0, 0, 1], 100 * 0.02 + first * 0.02)


def test_each_draw_uses_its_pick_of_month_for_every_unit():
    rates = np.array(
        [
            [[[1.0, 0.0]], [[1.0, 0.0]]],  # month 0: nothing leaves, in both units
            [[[0.5, 0.5]], [[0.5, 0.5]]],  # month 1: half leaves, in both units
        ]
    )
    picks = np.array([[0, 0], [1, 0], [1, 1]], dtype=np.int64)
    end, _ = project(np.array([[100.0], [40.0]]), rates, picks, np.zeros((2, 1)))
    np.testing.assert_allclose(end[:, :, 0], [[100, 40], [50, 20], [25, 10]])


def test_a_state_without_balance_takes_the_rate_of_the_units_above():
    opening = np.array([[[100.0, 0.0], [0.0, 0.0]]])  # one month, two units, two states
    flows = np.zeros((1, 2, 2, 3))
    flows[0, 0, 0] = [60.0, 30.0, 10.0]
    rates = transition_rates(opening, flows, chains=[[[0, 1]], [[0, 1]]])
    np.testing.assert_allclose(rates[0, 1, 0], [0.6, 0.3, 0.1])  # unit 1 takes the pooled row
    np.testing.assert_allclose(rates[0, 0, 1], [0.0, 1.0, 0.0])  # nowhere: the balance stays


def test_seasonal_exits_take_the_policy_exits_of_the_same_calendar_month():
    # One state; columns: the state, then cash, written_off, transferred, foreclosed,
    # unexplained. November: 10 % paid down. December: 10 % paid down and 20 % sold in bulk.
    november = [0.9, 0.1, 0.0, 0.0, 0.0, 0.0]
    december = [0.7, 0.1, 0.0, 0.2, 0.0, 0.0]
    rates = np.array([[[november]], [[december]]])
    later = [month("2018-11"), month("2018-12")]
    by_month = with_seasonal_exits(rates, later, month("2019-11"), 1, states=1)
    # Into December 2019 whatever the draw: last December's sale; the November draw's
    # behaviour scaled to the 80 % the sale leaves (0.9 and 0.1 of it).
    np.testing.assert_allclose(by_month[0, 0, 0, 0], [0.72, 0.08, 0.0, 0.2, 0.0, 0.0])
    np.testing.assert_allclose(by_month[1, 0, 0, 0], december)
    assert np.allclose(by_month.sum(axis=-1), 1.0)  # still conserved
    # A month to go with no month of its calendar month in the window keeps the draw's rates.
    into_october = with_seasonal_exits(rates, later, month("2019-09"), 1, states=1)
    np.testing.assert_allclose(into_october[:, 0], rates)
    # Into November: November's policy exits (none), so the December draw sells nothing and
    # its behaviour takes the whole row.
    into_november = with_seasonal_exits(rates, later, month("2019-10"), 1, states=1)
    np.testing.assert_allclose(into_november[1, 0, 0, 0], [0.875, 0.125, 0.0, 0.0, 0.0, 0.0])


# -- properties -----------------------------------------------------------------------------------

SMALL = settings(max_examples=40, deadline=None)
positive = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)


@st.composite
def chains(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    months = draw(st.integers(1, 3))
    units = draw(st.integers(1, 3))
    states = draw(st.integers(1, 4))
    columns = states + draw(st.integers(1, 3))
    weights = np.array(
        draw(
            st.lists(
                st.floats(min_value=0.0, max_value=1.0),
                min_size=months * units * states * columns,
                max_size=months * units * states * columns,
            )
        )
    ).reshape(months, units, states, columns)
    weights[..., 0] += 1e-3  # never an empty row
    rates = weights / weights.sum(axis=-1, keepdims=True)
    start = np.array(draw(st.lists(positive, min_size=units * states, max_size=units * states)))
    new = np.array(draw(st.lists(positive, min_size=units * states, max_size=units * states)))
    horizon = draw(st.integers(1, 12))
    picks = np.array(
        draw(st.lists(st.integers(0, months - 1), min_size=3 * horizon, max_size=3 * horizon))
    ).reshape(3, horizon)
    growth = draw(st.floats(min_value=-0.5, max_value=0.5))
    return rates, start.reshape(units, states), new.reshape(units, states), picks, growth


@SMALL
@given(chains())
def test_balance_is_conserved_between_states_and_exits(case):
    rates, start, new, picks, growth = case
    states = start.shape[1]
    end, moved = project(start, rates, picks, new, growth=growth)
    entered = sum(new.sum() * (1 + growth) ** ((h + 1) / 12) for h in range(picks.shape[1]))
    left = moved[..., states:].sum(axis=(1, 2, 3))
    np.testing.assert_allclose(end.sum(axis=(1, 2)) + left, start.sum() + entered, rtol=1e-9)


@SMALL
@given(chains())
def test_a_history_where_nothing_moves_forecasts_no_change(case):
    rates, start, _, picks, _ = case
    units, states = start.shape
    still = np.zeros_like(rates)
    for i in range(states):
        still[..., i, i] = 1.0
    end, moved = project(start, still, picks, np.zeros((units, states)))
    assert np.array_equal(end, np.broadcast_to(start, end.shape))
    assert not moved[..., states:].any()


# -- the engine's sums ----------------------------------------------------------------------------

active_step = st.tuples(
    st.sampled_from([0, 10, 100, 300, 400]),
    st.integers(100, 90000).map(lambda c: f"{c * 10}.00"),
)


@st.composite
def lives(draw: st.DrawFn) -> list[Any]:
    """A loan's four months as the import accepts them: absent at first or not, on the books
    for a while, then gone with a terminal row, without a row, or still on the books."""
    start = draw(st.integers(0, 2))
    active = draw(st.lists(active_step, min_size=1, max_size=4 - start))
    ending = draw(st.sampled_from([None, "repaid", "written_off", "transferred"]))
    steps: list[Any] = [None] * start + active
    if len(steps) < 4:
        steps.append(ending)
    return steps + [None] * (4 - len(steps))


@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a store is slow
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(lives(), min_size=1, max_size=5))
def test_every_step_of_the_engines_sums_balances_to_the_fen(make_session, loans):
    rows = []
    for n, steps in enumerate(loans, start=1):
        rows += history(n, steps, exit_amount="500.00", org_unit="HB0101" if n % 2 else "HB0201")
    if not any(r["status"] == "active" for r in rows):
        return
    session = make_session(rows)
    months = consecutive_run(session.months(), session.months()[-1], 4)
    if len(months) < 2:
        return
    loaded = load_history(session, months)
    np.testing.assert_allclose(loaded.opening + loaded.increase, loaded.flows.sum(axis=-1))
    states = len(loaded.states)
    for t in range(len(loaded.months) - 1):
        carried = loaded.flows[t, :, :, :states].sum(axis=1) + loaded.entered[t]
        np.testing.assert_allclose(loaded.balance_array(loaded.months[t + 1]), carried)


def test_the_sums_route_each_exit_and_the_pay_down(make_session):
    session = make_session(
        history(1, [(0, "10000.00"), (0, "9000.00")])  # 1000 paid down
        + history(2, [(0, "5000.00"), "repaid"])
        + history(3, [(400, "8000.00"), "written_off"], exit_amount="6000.00")
        + history(4, [(100, "7000.00"), None])  # no row: unexplained
        + history(5, [None, (0, "3000.00")])  # new lending
    )
    loaded = load_history(session, months_from(DEC18, 2))
    unit = loaded.units.index("HB0101")
    columns = loaded.columns
    normal, loss, substandard = (loaded.states.index(s) for s in ("normal", "loss", "substandard"))
    flows = loaded.flows[0, unit]
    assert flows[normal, columns.index("normal")] == 9000
    assert flows[normal, columns.index("cash")] == 6000  # 1000 pay-down + 5000 repaid
    assert flows[loss, columns.index("written_off")] == 6000
    assert flows[loss, columns.index("cash")] == 2000  # what the exit amount did not cover
    assert flows[substandard, columns.index("unexplained")] == 7000
    assert loaded.entered[0, unit, normal] == 3000
    assert set(EXITS) <= set(columns)


# -- the forecast through a store ---------------------------------------------------------------


def test_a_book_where_nothing_moves_forecasts_no_change(make_session):
    rows = []
    for n, (dpd, balance, unit) in enumerate(
        [(0, "100000.00", "HB0101"), (0, "50000.00", "HB0201"), (120, "25000.00", "HB0102")],
        start=1,
    ):
        rows += history(n, [(dpd, balance)] * 13, org_unit=unit)
    session = make_session(rows)
    result = forecast(session, month("2019-12"), by_unit=True, draws=50)
    figures = result.figures(None)
    assert figures["npl_balance"] == [Decimal("25000.00")] * 3
    assert [format_ratio(r) for r in figures["npl_ratio"]] == ["0.142857"] * 3
    assert figures["balance"] == Decimal("175000.00")
    assert result.figures("HB01")["npl_balance"] == [Decimal("25000.00")] * 3
    assert result.figures("HB02")["balance"] == Decimal("50000.00")
    # Level with the baseline is not below it: no double reduction in any draw.
    assert figures["probability_double_reduction"] == 0.0
    assert all(value == 0 for value in figures["expected"].values())
    assert result.warnings == []


def amortising_book() -> list[dict[str, str]]:
    """An NPL loan (dpd > 90 throughout) paying down 1000 a month from 82000 in October."""
    start = month("2019-10")
    return history(1, [(120, "82000.00"), (150, "81000.00")], start=start) + history(
        2, [(0, "100000.00"), (0, "100000.00")], start=start
    )


def test_amortisation_through_the_store_continues_at_the_last_months_rate(make_session):
    session = make_session(amortising_book())
    result = forecast(session, month("2019-11"), draws=20)
    assert (result.year_end, result.window_used) == (month("2019-12"), 1)
    npl = result.figures(None)["npl_balance"]
    # One month to go at the October → November rate: 81000 · 81000 / 82000.
    expected = (Decimal(81000) * 81000 / 82000).quantize(Decimal("0.01"))
    assert npl == [expected] * 3
    assert result.warnings[0].startswith("forecast from 1 month of history, fewer than")
    assert any("baseline 2018-12" in w for w in result.warnings)


def test_a_single_month_cannot_be_forecast(make_session):
    session = make_session(history(1, [(0, "1000.00")]))
    with pytest.raises(UsageError, match="needs the month before it"):
        forecast(session, DEC18)


def test_from_a_december_the_forecast_runs_to_the_next_december():
    assert year_end_of(month("2018-12")) == month("2019-12")
    assert year_end_of(month("2019-01")) == month("2019-12")
    imported = [month("2019-01"), month("2019-03"), month("2019-04")]
    assert consecutive_run(imported, month("2019-04"), 12) == imported[1:]


def mixed_book() -> list[dict[str, str]]:
    """Loans in three sub-branches and on a county branch's own book, with movement: some
    turn NPL, some pay down, one is written off, one new loan a month."""
    rows = []
    units = ["HB0101", "HB0102", "HB01", "HB0201"]
    for n in range(1, 13):
        unit = units[n % len(units)]
        if n % 3 == 0:
            steps = [(0, "60000.00"), (40, "59000.00"), (100, "59000.00"), (130, "58000.00")]
        elif n % 5 == 0:
            steps = [(200, "30000.00"), (400, "30000.00"), "written_off", None]
        else:
            steps = [(0, f"{40000 + n * 1000}.00"), (0, f"{39000 + n * 1000}.00"),
                     (0, f"{38000 + n * 1000}.00"), (0, f"{37500 + n * 1000}.00")]  # fmt: skip
        rows += history(n, steps, org_unit=unit, exit_amount="25000.00")
    for k in range(1, 4):
        rows += history(100 + k, [None] * k + [(0, "20000.00")] * (4 - k), org_unit=units[k])
    return rows


def test_a_parents_projected_balances_are_the_sum_of_its_childrens_in_every_draw(make_session):
    session = make_session(mixed_book())
    result = forecast(session, month("2019-03"), by_unit=True, draws=200, seed=7)
    draws = result.unit_draws
    county = draws["HB01 own book"].balances + draws["HB0101"].balances + draws["HB0102"].balances
    assert np.array_equal(draws["HB01"].balances, county)
    city = draws["HB00 own book"].balances + draws["HB01"].balances + draws["HB02"].balances
    assert np.array_equal(draws["HB00"].balances, city)
    assert np.array_equal(draws[None].balances, draws["HB00"].balances)
    keys = [row.key for row in result.rows]
    assert keys[:5] == ["HB00", "HB00 own book", "HB01", "HB01 own book", "HB0101"]
    assert result.own_units["HB01"] == ["HB01", "HB0101", "HB0102"]


def test_the_same_seed_gives_the_same_figures_and_another_seed_others(make_session):
    session = make_session(mixed_book())
    first = forecast(session, month("2019-03"), draws=200, seed=7).figures(None)
    seasonal = forecast(session, month("2019-03"), draws=200, seed=7, seasonal_exits=True)
    assert seasonal.figures(None)["balance"] > 0
    again = forecast(session, month("2019-03"), draws=200, seed=7).figures(None)
    other = forecast(session, month("2019-03"), draws=200, seed=8).figures(None)
    assert first == again
    assert first["npl_balance"] != other["npl_balance"]


def test_the_same_seed_gives_the_same_figures_on_duckdb_and_pyspark(make_session, engine_name):
    session = make_session(mixed_book())
    on_engine = forecast(session, month("2019-03"), by_unit=True, draws=300, seed=11)
    reference = Analytics(store=session.store, engine=connect("duckdb"), params=session.params)
    on_duckdb = forecast(reference, month("2019-03"), by_unit=True, draws=300, seed=11)
    for key in [None, "HB00", "HB01", "HB01 own book", "HB0101", "HB0201"]:
        assert on_engine.figures(key) == on_duckdb.figures(key), (engine_name, key)


def test_the_dpd_basis_counts_bands_beyond_90_days_as_npl(make_session):
    session = make_session(mixed_book())
    result = forecast(session, month("2019-03"), basis="dpd", draws=50)
    assert result.states[0] == "current"
    current_npl, current_total = result.current[None]
    assert current_npl == Decimal("232000.00")  # the four 130-day loans
    assert current_total > current_npl


def test_the_backtest_compares_each_year_end_forecast_with_what_happened(make_session):
    rows = []
    for n in range(1, 5):
        steps = [(0, "10000.00")] * 14
        steps[8 + n] = (100 if n % 2 else 0, "10000.00")
        rows += history(n, steps)
    session = make_session(rows)
    points = backtest(session, draws=100)
    assert [p.as_of for p in points] == months_from(month("2019-01"), 11)
    assert {p.year_end for p in points} == {month("2019-12")}
    assert points[0].window_used == 1 and points[-1].window_used == 11
    actual = points[0].actual
    assert all(p.actual == actual for p in points)
    summary = backtest_summary(points, 12)
    assert summary[-1]["months_ahead"] == "all"
    assert summary[-1]["forecasts"] == 11 and summary[-1]["short_history"] == 11
