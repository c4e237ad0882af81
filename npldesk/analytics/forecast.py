"""The year-end NPL forecast of the double-reduction planner (``docs/planner.md``).

From the classified month-end snapshots of a store, for a month ``as_of`` and its year end:

1. ``load_history``: one engine query (DuckDB or PySpark alike) returns the exact decimal sums
   per own-book unit, state and month that everything else needs: where the balance of each
   state at ``s−1`` went at ``s`` (another state, or an exit: cash, written off, transferred,
   foreclosed, unexplained), how much grew, how much entered the books, and the balance on the
   books per state. States are the five classes, or with ``basis="dpd"`` the S71
   days-past-due bands (migration.py).
2. ``forecast``: the projection and a seeded bootstrap in numpy on those sums — balance-weighted
   monthly transition rates per unit (a state with no balance in a unit takes the rate of the
   nearest unit above it that has some), carried month by month to the year end, new lending
   entering each month; each draw picks for every month still to go one of the last ``K``
   monthly transitions, the same pick for every unit. Units are rolled up within each draw, so
   a parent's projected balances are the sum of its children's, and the quantiles are taken
   over those sums.

Only the tape store is read (through ``Analytics``): the levers and the gap, which read the
casework, live in ``npldesk.planner``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt

from npldesk.analytics.groups import tree_order
from npldesk.analytics.migration import CLASS_STATES, S71, dpd_bucket, own_name
from npldesk.analytics.org import ancestors_of
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import FEN
from npldesk.core.months import month_end, month_label, months_between, shift_month_end
from npldesk.tape.org import OrgUnit, load_org

FloatArray = npt.NDArray[np.float64]

BASES = ("class", "dpd")
# Where balance goes that is not carried into a state at the next month-end. ``cash`` is
# pay-down and repayment (and the part of a terminal balance its exit amount does not cover,
# as in the NPL movement of docs/figures.md §3); ``unexplained`` a loan with no row at all.
EXITS: tuple[str, ...] = ("cash", "written_off", "transferred", "foreclosed", "unexplained")
_TERMINAL = ("written_off", "transferred", "foreclosed")
NPL_CLASSES = ("substandard", "doubtful", "loss")
DEFAULT_WINDOW = 12
DEFAULT_DRAWS = 1000
DEFAULT_SEED = 20191231
QUANTILES = (0.1, 0.5, 0.9)
TOTAL = "total"


def states_of(basis: str) -> tuple[str, ...]:
    """The states of a basis: the five classes, or the S71 days-past-due bands."""
    if basis == "class":
        return CLASS_STATES
    if basis == "dpd":
        return S71.labels
    raise UsageError(
        translatable("unknown basis {basis!r}; known: {known}", basis=basis, known=", ".join(BASES))
    )


def npl_states(basis: str) -> tuple[str, ...]:
    """The states counted as NPL: substandard, doubtful and loss; on the dpd basis the bands
    beyond 90 days past due (npldesk's reading: the bands carry no class, and more than 90 days
    past due is the floor of substandard in both rule sets)."""
    if basis == "class":
        return NPL_CLASSES
    states = states_of(basis)
    return tuple(label for label, upper in zip(states, (*S71.upper, None), strict=True)
                 if upper is None or upper > 90)  # fmt: skip


def year_end_of(as_of: date) -> date:
    """The December a forecast from ``as_of`` runs to: this year's, or from a December the
    next one."""
    if as_of.month == 12:
        return shift_month_end(as_of, 12)
    return date(as_of.year, 12, 31)


def baseline_of(year_end: date) -> date:
    """The December before the year end: the balance and ratio the year is judged against."""
    return shift_month_end(year_end, -12)


# -- the engine's sums -----------------------------------------------------------------------


@dataclass
class History:
    """Exact sums of a run of consecutive months, as float arrays for the projection.

    ``months``: consecutive month-ends. ``units``: the own-book unit codes found (the loans'
    ``org_unit``). For the step into ``months[t + 1]``, per unit and state at ``months[t]``:
    ``opening`` (balance), ``flows`` (``[..., :S]`` balance carried into each state at the
    later month, ``[..., S:]`` balance leaving by each of ``EXITS``), ``increase`` (balance
    grown on loans that stayed). ``entered[t]``: balance on the books at ``months[t + 1]`` of
    loans not on the books at ``months[t]``, by unit and state. ``balances``: the exact balance
    on the books per month, unit and state (also months outside the run, such as a baseline).
    The identity of every step, exact in the engine's decimals:
    ``opening + increase = Σ flows`` and ``Σ balances(s) = Σ flows[:S] + entered``.
    """

    basis: str
    months: list[date]
    units: list[str]
    opening: FloatArray
    flows: FloatArray
    increase: FloatArray
    entered: FloatArray
    balances: dict[date, dict[tuple[str, str], Decimal]]

    @property
    def states(self) -> tuple[str, ...]:
        return states_of(self.basis)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.states, *EXITS)

    def balance_array(self, month: date) -> FloatArray:
        """(units, states) balances on the books at ``month``."""
        found = self.balances.get(month, {})
        array = np.zeros((len(self.units), len(self.states)))
        for u, unit in enumerate(self.units):
            for i, state in enumerate(self.states):
                array[u, i] = float(found.get((unit, state), 0))
        return array


def _state_column(table: ir.Table, basis: str) -> ir.StringValue:
    if basis == "class":
        column: ir.StringValue = table.final_class
        return column
    return dpd_bucket(table.days_past_due, S71)


def _month_index(as_of: ir.DateValue) -> ir.IntegerValue:
    return as_of.year() * 12 + as_of.month()


FLOW, ENTERED = "flow", "entered"


def _step_query(rows: ir.Table, first: int, last: int) -> ir.Table:
    """The sums of ``History`` for every step of the run, from one outer join of each month's
    rows with the next month's by loan.

    ``kind = 'flow'``: per step (the later month's index), unit and state at the earlier month
    and where the balance went (a state, or an exit). ``kind = 'entered'``: per month after the
    first, unit and state, the balance on the books of loans not on the books the month before
    (``from_state`` NULL, ``carried`` the balance)."""
    active = rows.filter(rows.status == "active")
    prev = active.select(
        _p_id=active.loan_id,
        _p_idx=active._idx,
        _p_unit=active.org_unit,
        _p_state=active.state,
        _b0=active.balance,
    )
    prev = prev.filter(prev._p_idx < last)
    nxt = rows.filter(rows._idx > first).select(
        _n_id=rows.loan_id,
        _n_idx=rows._idx,
        _n_unit=rows.org_unit,
        _n_status=rows.status,
        _n_state=rows.state,
        _b1=rows.balance,
        _exit_amount=rows.exit_amount,
    )
    pairs = prev.outer_join(nxt, [prev._p_id == nxt._n_id, prev._p_idx + 1 == nxt._n_idx])
    had = pairs._p_id.notnull()
    present = pairs._n_id.notnull()
    on_book = present & (pairs._n_status == "active")
    pairs = pairs.filter(had | on_book)  # a terminal row of a loan not on the books: nothing
    zero = ibis.literal(0).cast(pairs._b1.type())
    b0 = pairs._b0.fill_null(zero)
    terminal = present & pairs._n_status.isin(list(_TERMINAL))
    exit_amount = ibis.ifelse(terminal, pairs._exit_amount.fill_null(b0), zero)
    b1 = ibis.ifelse(on_book, pairs._b1, zero)
    to_state = ibis.cases(
        (~present, ibis.literal("unexplained")),
        (on_book, pairs._n_state),
        (pairs._n_status == "repaid", ibis.literal("cash")),
        else_=pairs._n_status,
    )
    cash = ibis.cases(
        (~had, zero),
        (on_book & (b1 < b0), b0 - b1),
        (present & (pairs._n_status == "repaid"), b0),
        (terminal, b0 - exit_amount),
        else_=zero,
    )
    per_loan = pairs.select(
        kind=ibis.ifelse(had, ibis.literal(FLOW), ibis.literal(ENTERED)),
        step=ibis.ifelse(had, pairs._p_idx + 1, pairs._n_idx),
        unit=ibis.ifelse(had, pairs._p_unit, pairs._n_unit),
        from_state=ibis.ifelse(had, pairs._p_state, ibis.null("string")),
        to_state=to_state,
        opening=b0,
        carried=b1,
        exit_amount=exit_amount,
        cash=cash,
        increase=ibis.ifelse(had & on_book & (b1 > b0), b1 - b0, zero),
    )
    return per_loan.group_by("kind", "step", "unit", "from_state", "to_state").aggregate(
        opening=per_loan.opening.sum(),
        carried=per_loan.carried.sum(),
        exit_amount=per_loan.exit_amount.sum(),
        cash=per_loan.cash.sum(),
        increase=per_loan.increase.sum(),
    )


def _balance_query(rows: ir.Table) -> ir.Table:
    active = rows.filter(rows.status == "active")
    return active.group_by(step=active._idx, unit=active.org_unit, state=active.state).aggregate(
        balance=active.balance.sum()
    )


def _index_month(index: int) -> date:
    year, month = divmod(index - 1, 12)
    return month_end(date(year, month + 1, 1))


def consecutive_run(available: Sequence[date], end: date, length: int) -> list[date]:
    """The longest run of consecutive imported months ending at ``end``, at most ``length``."""
    have = set(available)
    run = [end]
    while len(run) < length and shift_month_end(run[0], -1) in have:
        run.insert(0, shift_month_end(run[0], -1))
    return run


def load_history(
    session: Analytics,
    months: list[date],
    *,
    basis: str = "class",
    extra_balance_months: Sequence[date] = (),
) -> History:
    """The sums of ``History`` for consecutive ``months`` (and the balances of
    ``extra_balance_months``), in one pass of the engine per kind of sum."""
    states = states_of(basis)
    if not months:
        raise UsageError(translatable("no month to forecast from"))
    if any(shift_month_end(a, 1) != b for a, b in itertools.pairwise(months)):
        raise ValueError("load_history takes consecutive months")
    wanted = sorted(set(months) | set(extra_balance_months))

    def rows_of(chosen: list[date]) -> ir.Table:
        # Filtered on the month itself, which the engine prunes files and row groups by.
        span = own_name(session, session.figures_span(chosen))
        return span.select(
            loan_id=span.loan_id,
            _idx=_month_index(span.as_of),
            status=span.status,
            org_unit=span.org_unit,
            state=_state_column(span, basis),
            balance=span.principal_balance,
            exit_amount=span.exit_amount,
        )

    rows = rows_of(wanted)
    first = months[0].year * 12 + months[0].month
    # One query per step, each joining two months only: the join's hash table holds one
    # month's loans, not the whole run's (a million loans × 13 months took 3 GB at once).
    step_rows = []
    for earlier, later in itertools.pairwise(months):
        index = earlier.year * 12 + earlier.month
        step_rows += session.rows(_step_query(rows_of([earlier, later]), index, index + 1))
    flow_rows = [row for row in step_rows if row["kind"] == FLOW]
    entered_rows = [
        {"step": row["step"], "unit": row["unit"], "state": row["to_state"],
         "balance": row["carried"]}
        for row in step_rows
        if row["kind"] == ENTERED
    ]  # fmt: skip
    balance_rows = session.rows(_balance_query(rows))

    balances: dict[date, dict[tuple[str, str], Decimal]] = {m: {} for m in wanted}
    for row in balance_rows:
        month = _index_month(int(row["step"]))
        balances.setdefault(month, {})[(str(row["unit"]), str(row["state"]))] = Decimal(
            row["balance"]
        )
    units = sorted(
        {str(r["unit"]) for r in flow_rows}
        | {str(r["unit"]) for r in entered_rows}
        | {unit for month in wanted for unit, _ in balances.get(month, {})}
    )
    position = {unit: u for u, unit in enumerate(units)}
    state_index = {state: i for i, state in enumerate(states)}
    column_index = {name: c for c, name in enumerate((*states, *EXITS))}
    steps = len(months) - 1
    opening = np.zeros((steps, len(units), len(states)))
    flows = np.zeros((steps, len(units), len(states), len(states) + len(EXITS)))
    increase = np.zeros((steps, len(units), len(states)))
    entered = np.zeros((steps, len(units), len(states)))
    cash = column_index["cash"]
    for row in flow_rows:
        t = int(row["step"]) - first - 1
        u, i = position[str(row["unit"])], state_index[str(row["from_state"])]
        target = column_index[str(row["to_state"])]
        opening[t, u, i] += float(row["opening"])
        increase[t, u, i] += float(row["increase"])
        flows[t, u, i, cash] += float(row["cash"])
        if target < len(states):
            flows[t, u, i, target] += float(row["carried"])
        elif str(row["to_state"]) == "unexplained":
            flows[t, u, i, target] += float(row["opening"])
        elif str(row["to_state"]) != "cash":
            flows[t, u, i, target] += float(row["exit_amount"])
    for row in entered_rows:
        t = int(row["step"]) - first - 1
        entered[t, position[str(row["unit"])], state_index[str(row["state"])]] += float(
            row["balance"]
        )
    return History(basis, list(months), units, opening, flows, increase, entered, balances)


# -- the projection ---------------------------------------------------------------------------


def transition_rates(
    opening: FloatArray,
    flows: FloatArray,
    chains: Sequence[Sequence[Sequence[int]]] | None = None,
) -> FloatArray:
    """Balance-weighted rates ``flows / opening`` per step, unit and state, over the columns
    of ``History.flows`` (each row sums to 1 plus the balance's growth).

    A state with no opening balance in a unit takes the rate of the first group in the unit's
    ``chains`` entry (indices of units whose pooled sums stand for the unit's parent, its
    grandparent, …, the whole book) that has some; with none anywhere it stays where it is."""
    steps, units, states = opening.shape
    rates = np.zeros_like(flows)
    stay = np.zeros(flows.shape[-1])
    for t in range(steps):
        for u in range(units):
            for i in range(states):
                if opening[t, u, i] > 0:
                    rates[t, u, i] = flows[t, u, i] / opening[t, u, i]
                    continue
                chosen = None
                for group in chains[u] if chains is not None else []:
                    members = np.asarray(group, dtype=np.int64)
                    pooled = opening[t, members, i].sum()
                    if pooled > 0:
                        chosen = flows[t, members, i].sum(axis=0) / pooled
                        break
                if chosen is None:
                    chosen = stay.copy()
                    chosen[i] = 1.0
                rates[t, u, i] = chosen
    return rates


def project(
    start: FloatArray,
    rates: FloatArray,
    picks: npt.NDArray[np.int64],
    new_lending: FloatArray,
    *,
    growth: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Carry ``start`` (units, states) through ``picks`` (draws, months): in draw ``d`` month
    ``h`` every unit's balance moves by ``rates[picks[d, h]]`` (units, states, states + exits);
    then ``new_lending`` (units, states) × ``(1 + growth) ** (h / 12)`` enters.

    Returns the balances at the end (draws, units, states) and the balance that went each way
    over the months (draws, units, states, states + exits): what moved between states and left
    by each exit, for the levers' business-as-usual figures."""
    draws, months = picks.shape
    states = start.shape[1]
    balances = np.broadcast_to(start, (draws, *start.shape)).copy()
    moved = np.zeros((draws, *rates.shape[-3:]))
    for h in range(months):
        # draws, units, states, columns; rates by month to go when they differ by month
        chosen = rates[picks[:, h], h] if rates.ndim == 5 else rates[picks[:, h]]
        step = balances[:, :, :, None] * chosen
        moved += step
        balances = step[..., :states].sum(axis=2) + new_lending * (1.0 + growth) ** ((h + 1) / 12.0)
    return balances, moved


# Exits the bank decides and times by its calendar (bulk sales and write-offs are pushed into
# quarter and year ends), as opposed to the borrowers' behaviour.
POLICY_EXITS = ("written_off", "transferred", "foreclosed")


def with_seasonal_exits(
    rates: FloatArray, later: Sequence[date], as_of: date, horizon: int, states: int
) -> FloatArray:
    """Rates by pick and month to go (picks, months, units, states, columns): each pick's
    behaviour (moves between states, cash, unexplained) with the policy exits of the window's
    month of the same calendar month as the month to go, where the window has one.

    The pick's non-policy share of each row is scaled to what the seasonal month's policy exits
    leave, so a row still sums to one plus the pick's growth net of its own policy exits: a
    December forecast writes off and sells as the last December did, whatever month's
    behaviour it drew."""
    policy = [states + EXITS.index(name) for name in POLICY_EXITS]
    picks = rates.shape[0]
    by_month = np.broadcast_to(rates[:, None], (picks, horizon, *rates.shape[1:])).copy()
    for h in range(horizon):
        calendar_month = shift_month_end(as_of, h + 1).month
        same = [k for k, month in enumerate(later) if month.month == calendar_month]
        if not same:
            continue
        seasonal = rates[same[-1]][..., policy]  # units, states, policy exits
        for k in range(picks):
            own = rates[k][..., policy].sum(axis=-1, keepdims=True)
            behaviour = rates[k].copy()
            behaviour[..., policy] = 0.0
            room = 1.0 - own
            scale = np.where(
                room > 0,
                (1.0 - seasonal.sum(axis=-1, keepdims=True)) / np.where(room > 0, room, 1.0),
                1.0,
            )
            mixed = behaviour * scale
            mixed[..., policy] = seasonal
            # A row that left wholly by policy in the pick has no behaviour to scale: keep it.
            by_month[k, h] = np.where(room > 0, mixed, rates[k])
    return by_month


# -- the forecast -----------------------------------------------------------------------------


def _money(value: float) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else numerator / denominator


@dataclass
class UnitDraws:
    """One unit's projected year end in every draw: balances per state (draws, states) and what
    moved over the months (draws, states, states + exits)."""

    balances: FloatArray
    moved: FloatArray

    def __add__(self, other: UnitDraws) -> UnitDraws:
        return UnitDraws(self.balances + other.balances, self.moved + other.moved)


@dataclass(frozen=True)
class UnitRow:
    """A row of the forecast: a unit, an own-book child, or the whole book."""

    key: str | None
    name: str | None
    unit: str | None  # the organisation unit (the parent for an own-book row)
    own_book: bool = False
    depth: int = 0


@dataclass
class Forecast:
    """The forecast of every unit and the whole book from ``as_of`` to ``year_end``."""

    as_of: date
    year_end: date
    baseline: date | None
    basis: str
    window: int
    window_used: int
    draws: int
    seed: int
    growth: float
    rows: list[UnitRow]
    unit_draws: dict[str | None, UnitDraws]
    current: dict[str | None, tuple[Decimal, Decimal]]
    baseline_figures: dict[str | None, tuple[Decimal, Decimal]]
    own_units: dict[str | None, list[str]]
    warnings: list[str] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        return months_between(self.as_of, self.year_end)

    @property
    def states(self) -> tuple[str, ...]:
        return states_of(self.basis)

    def _npl_mask(self) -> npt.NDArray[np.bool_]:
        npl = set(npl_states(self.basis))
        return np.array([s in npl for s in self.states])

    def npl_draws(self, key: str | None) -> FloatArray:
        balances = self.unit_draws[key].balances
        return np.asarray(balances[:, self._npl_mask()].sum(axis=1))

    def total_draws(self, key: str | None) -> FloatArray:
        return np.asarray(self.unit_draws[key].balances.sum(axis=1))

    def figures(self, key: str | None) -> dict[str, Any]:
        """The forecast of one row, exact where it is a sum and rounded to the fen where it is
        a projection: quantiles of the NPL balance and ratio, the P50 book, the probability of
        double reduction, and what business as usual moves by the year end (P50)."""
        npl = self.npl_draws(key)
        total = self.total_draws(key)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = np.where(total > 0, npl / np.where(total > 0, total, 1.0), np.nan)
        base_npl, base_total = self.baseline_figures.get(key, (Decimal(0), Decimal(0)))
        base_ratio = _ratio(base_npl, base_total) if self.baseline is not None else None
        probability: float | None = None
        if self.baseline is not None and base_ratio is not None:
            met = (npl < float(base_npl)) & (np.nan_to_num(ratios, nan=np.inf) < float(base_ratio))
            probability = float(met.mean())
        npl_q = np.quantile(npl, QUANTILES)
        ratio_q: list[Decimal | None]
        if np.all(np.isnan(ratios)):
            ratio_q = [None, None, None]
        else:
            ratio_q = [Decimal(repr(float(q))) for q in np.nanquantile(ratios, QUANTILES)]
        return {
            "baseline_npl_balance": base_npl if self.baseline is not None else None,
            "baseline_balance": base_total if self.baseline is not None else None,
            "baseline_npl_ratio": base_ratio,
            "current_npl_balance": self.current.get(key, (Decimal(0), Decimal(0)))[0],
            "current_balance": self.current.get(key, (Decimal(0), Decimal(0)))[1],
            "npl_balance": [_money(float(q)) for q in npl_q],
            "npl_ratio": ratio_q,
            "balance": _money(float(np.quantile(total, 0.5))),
            "probability_double_reduction": probability,
            "expected": self.expected_flows(key),
        }

    def expected_flows(self, key: str | None) -> dict[str, Decimal]:
        """What business as usual moves out of NPL by the year end, P50 over the draws:
        ``upgrade`` (NPL to a state that is not), and each exit from an NPL state."""
        moved = self.unit_draws[key].moved
        npl = self._npl_mask()
        states = len(self.states)
        from_npl = moved[:, npl, :].sum(axis=1)  # draws, columns
        flows = {"upgrade": from_npl[:, :states][:, ~npl].sum(axis=1)}
        for e, name in enumerate(EXITS):
            flows[name] = from_npl[:, states + e]
        return {name: _money(float(np.quantile(v, 0.5))) for name, v in flows.items()}


def _unit_chains(units: list[str], org: list[OrgUnit]) -> list[list[list[int]]]:
    """For each own-book unit, the groups of own-book units that stand for its ancestors, from
    the parent up to the whole book."""
    chains = ancestors_of(org)
    below: dict[str, list[int]] = {}
    for u, unit in enumerate(units):
        for ancestor in chains.get(unit, [unit])[1:]:
            below.setdefault(ancestor, []).append(u)
    everything = list(range(len(units)))
    result = []
    for unit in units:
        groups = [below[a] for a in chains.get(unit, [unit])[1:] if a in below]
        result.append([*groups, everything])
    return result


def forecast_rows(org: list[OrgUnit], level: str | None, by_unit: bool) -> list[UnitRow]:
    """The rows shown: every unit in tree order (a parent that books loans itself followed by
    its ``own book`` child) or the units of one level; none without ``by_unit``."""
    if not by_unit:
        return []
    rows = []
    depth = {u.code: len(ancestors_of(org)[u.code]) - 1 for u in org}
    has_children = {u.parent_code for u in org if u.parent_code}
    for unit in tree_order(org):
        if level is not None and unit.level != level:
            continue
        rows.append(UnitRow(unit.code, unit.name, unit.code, depth=depth[unit.code]))
        if level is None and unit.code in has_children:
            rows.append(
                UnitRow(
                    f"{unit.code} own book",
                    f"{unit.name} (own book)",
                    unit.code,
                    own_book=True,
                    depth=depth[unit.code] + 1,
                )
            )
    return rows


def _baseline_and_current(
    history: History, month: date | None, npl: set[str]
) -> dict[str, tuple[Decimal, Decimal]]:
    found: dict[str, tuple[Decimal, Decimal]] = {}
    if month is None:
        return found
    for (unit, state), balance in history.balances.get(month, {}).items():
        npl_balance, total = found.get(unit, (Decimal(0), Decimal(0)))
        found[unit] = (npl_balance + (balance if state in npl else 0), total + balance)
    return found


def run_forecast(
    history: History,
    org: list[OrgUnit],
    as_of: date,
    *,
    window: int = DEFAULT_WINDOW,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    growth: float = 0.0,
    rows: Sequence[UnitRow] = (),
    year_end: date | None = None,
    seasonal_exits: bool = False,
) -> Forecast:
    """The forecast from ``as_of`` on sums already loaded (``history`` holds ``as_of`` and the
    months before it): numpy only, so a backtest runs it for many months on one load."""
    if window < 1:
        raise UsageError(translatable("--window must be at least 1"))
    if draws < 1:
        raise UsageError(translatable("--draws must be at least 1"))
    if growth <= -1:
        raise UsageError(
            translatable("--growth must be above -1 (a rate such as 0.05 for 5 % a year)")
        )
    end = year_end or year_end_of(as_of)
    position = history.months.index(as_of)
    used = min(window, position)
    warnings: list[str] = []
    if used == 0:
        raise UsageError(
            translatable(
                "a forecast from {month} needs the month before it: no transition "
                "between consecutive months is imported up to it",
                month=month_label(as_of),
            )
        )
    if used < window:
        # Two wordings rather than a plural form (docs/language.md): one month, or several.
        warnings.append(
            translatable(
                "forecast from {used} month of history, fewer than the "
                "window of {window}: the bootstrap draws from those {used} only",
                used=used,
                window=window,
            )
            if used == 1
            else translatable(
                "forecast from {used} months of history, fewer than the "
                "window of {window}: the bootstrap draws from those {used} only",
                used=used,
                window=window,
            )
        )
    steps = slice(position - used, position)
    chains = _unit_chains(history.units, org)
    rates = transition_rates(history.opening[steps], history.flows[steps], chains)
    new_lending = history.entered[steps].mean(axis=0)
    horizon = months_between(as_of, end)
    if seasonal_exits:
        later = history.months[position - used + 1 : position + 1]
        rates = with_seasonal_exits(rates, later, as_of, horizon, len(history.states))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, used, size=(draws, horizon))
    start = history.balance_array(as_of)
    balances, moved = project(start, rates, picks, new_lending, growth=growth)

    # Roll up within each draw, bottom-up: a node is its own book plus its children.
    states = len(history.states)
    own = {
        unit: UnitDraws(balances[:, u, :], moved[:, u, :, :])
        for u, unit in enumerate(history.units)
    }
    zero = UnitDraws(np.zeros((draws, states)), np.zeros((draws, states, moved.shape[-1])))
    children: dict[str, list[str]] = {}
    for unit in org:
        if unit.parent_code:
            children.setdefault(unit.parent_code, []).append(unit.code)
    unit_draws: dict[str | None, UnitDraws] = {}
    own_units: dict[str | None, list[str]] = {}

    def node(code: str) -> UnitDraws:
        if code not in unit_draws:
            total = own.get(code, zero)
            covered = [code] if code in own else []
            for child in children.get(code, []):
                total = total + node(child)
                covered += own_units[child]
            unit_draws[code] = total
            own_units[code] = covered
        return unit_draws[code]

    for unit in org:
        node(unit.code)
    for unit in org:
        unit_draws[f"{unit.code} own book"] = own.get(unit.code, zero)
        own_units[f"{unit.code} own book"] = [unit.code] if unit.code in own else []
    whole = zero
    for part in own.values():
        whole = whole + part
    unit_draws[None] = whole
    own_units[None] = list(history.units)

    npl = set(npl_states(history.basis))
    baseline = baseline_of(end)
    has_baseline = baseline in history.balances and bool(history.balances[baseline])
    if not has_baseline:
        warnings.append(
            translatable(
                "baseline {month} (the December before the year end) is not imported: no "
                "baseline, no required reduction, no probability of double reduction",
                month=month_label(baseline),
            )
        )
    base_own = _baseline_and_current(history, baseline if has_baseline else None, npl)
    current_own = _baseline_and_current(history, as_of, npl)

    def summed(
        source: dict[str, tuple[Decimal, Decimal]], units: list[str]
    ) -> tuple[Decimal, Decimal]:
        parts = [source.get(u, (Decimal(0), Decimal(0))) for u in units]
        return (sum((p[0] for p in parts), Decimal(0)), sum((p[1] for p in parts), Decimal(0)))

    return Forecast(
        as_of=as_of,
        year_end=end,
        baseline=baseline if has_baseline else None,
        basis=history.basis,
        window=window,
        window_used=used,
        draws=draws,
        seed=seed,
        growth=growth,
        rows=list(rows),
        unit_draws=unit_draws,
        current={k: summed(current_own, v) for k, v in own_units.items()},
        baseline_figures={k: summed(base_own, v) for k, v in own_units.items()},
        own_units=own_units,
        warnings=warnings,
    )


def forecast(
    session: Analytics,
    as_of: date,
    *,
    basis: str = "class",
    window: int = DEFAULT_WINDOW,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    growth: float = 0.0,
    by_unit: bool = False,
    level: str | None = None,
    seasonal_exits: bool = False,
) -> Forecast:
    """The year-end forecast from ``as_of``: the last ``window`` monthly transitions (fewer,
    with a warning, where fewer consecutive months are imported), new lending at their average
    scaled by ``growth`` a year, ``draws`` bootstrap draws seeded by ``seed``."""
    states_of(basis)
    session.require_month(as_of)
    org = load_org(session.store) if by_unit else _org_or_empty(session)
    if by_unit and not org:
        raise UsageError(
            translatable("no organisation file imported: `npldesk org import FILE` first")
        )
    if level is not None:
        levels = sorted({u.level for u in org})
        if level not in levels:
            raise UsageError(
                translatable(
                    "unknown level {level!r}; levels in the organisation file: {levels}",
                    level=level,
                    levels=", ".join(levels),
                )
            )
    end = year_end_of(as_of)
    baseline = baseline_of(end)
    run = consecutive_run(session.months(), as_of, window + 1)
    run = sorted(set(run) | set(_since(session.months(), baseline, as_of)))
    run = consecutive_run(run, as_of, len(run))
    extra = [baseline] if baseline in set(session.months()) else []
    history = load_history(session, run, basis=basis, extra_balance_months=extra)
    return run_forecast(
        history,
        org,
        as_of,
        window=window,
        draws=draws,
        seed=seed,
        growth=growth,
        rows=forecast_rows(org, level, by_unit),
        year_end=end,
        seasonal_exits=seasonal_exits,
    )


def _since(available: Sequence[date], start: date, end: date) -> list[date]:
    return [m for m in available if start <= m <= end]


def _org_or_empty(session: Analytics) -> list[OrgUnit]:
    return load_org(session.store) if session.store.org_path() is not None else []


# -- what the levers start from ----------------------------------------------------------------


def lever_bases(session: Analytics, as_of: date, year_end: date) -> dict[str, dict[str, Decimal]]:
    """Per own-book unit, the balances at ``as_of`` the planner's levers are sized on:
    ``loss`` (loss class, the write-off candidates), ``npl`` and ``probation_release`` (held
    on probation only, with ``dpd = 0`` and few enough clean months to go that probation ends
    by ``year_end`` if they stay clean)."""
    table = session.figures(as_of)
    on_book = table.filter(table.status == "active")
    horizon = months_between(as_of, year_end)
    still_to_go = ibis.literal(session.params.probation_months) - on_book.clean_run.fill_null(0)
    releasing = (
        on_book.held & ~on_book.hard_npl & (on_book.days_past_due == 0) & (still_to_go <= horizon)
    )
    balance = on_book.principal_balance
    zero = ibis.literal(0).cast(balance.type())
    sums = on_book.group_by(unit=on_book.org_unit).aggregate(
        loss=ibis.coalesce(
            on_book.principal_balance.sum(where=on_book.final_class == "loss"), zero
        ),
        npl=ibis.coalesce(on_book.principal_balance.sum(where=on_book.is_npl), zero),
        probation_release=ibis.coalesce(on_book.principal_balance.sum(where=releasing), zero),
    )
    return {
        str(row["unit"]): {
            "loss": Decimal(row["loss"]),
            "npl": Decimal(row["npl"]),
            "probation_release": Decimal(row["probation_release"]),
        }
        for row in session.rows(sums)
    }


def written_off_since(history: History, start: date, end: date) -> dict[str, Decimal]:
    """Per own-book unit, the balance written off in the steps after ``start`` up to ``end``
    (what an annual write-off quota has already used this year)."""
    column = len(history.states) + EXITS.index("written_off")
    found: dict[str, Decimal] = {}
    for t in range(len(history.months) - 1):
        later = history.months[t + 1]
        if start < later <= end:
            for u, unit in enumerate(history.units):
                found[unit] = found.get(unit, Decimal(0)) + _money(
                    float(history.flows[t, u, :, column].sum())
                )
    return found


# -- backtest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestPoint:
    """One forecast of a past month's year end, against what happened."""

    as_of: date
    year_end: date
    months_ahead: int
    window_used: int
    p10: Decimal | None
    p50: Decimal | None
    p90: Decimal | None
    actual: Decimal | None

    @property
    def covered(self) -> bool | None:
        if self.p10 is None or self.p90 is None or self.actual is None:
            return None
        return self.p10 <= self.actual <= self.p90

    @property
    def error_points(self) -> Decimal | None:
        """|P50 − actual| of the NPL ratio in percentage points."""
        if self.p50 is None or self.actual is None:
            return None
        return abs(self.p50 - self.actual) * 100


def backtest(
    session: Analytics,
    *,
    basis: str = "class",
    window: int = DEFAULT_WINDOW,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    growth: float = 0.0,
    progress: Callable[[str], None] | None = None,
    seasonal_exits: bool = False,
) -> list[BacktestPoint]:
    """Every past month from which a year end in the store can be forecast (one month of
    history before it at least), forecast as ``forecast`` would have then (the whole book),
    beside the year end's actual NPL ratio. One load of the engine's sums for every run of
    consecutive months."""
    states_of(basis)
    available = session.months()
    if not available:
        raise UsageError(translatable("no month is imported yet"))
    npl = set(npl_states(basis))
    points: list[BacktestPoint] = []
    runs: list[list[date]] = []
    for month in available:
        if runs and shift_month_end(runs[-1][-1], 1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    have = set(available)
    for run in runs:
        targets = [m for m in run[1:] if year_end_of(m) in have]
        if not targets:
            continue
        history = load_history(session, run, basis=basis, extra_balance_months=sorted(
            {year_end_of(m) for m in targets} - set(run)))  # fmt: skip
        for n, as_of in enumerate(targets):
            if progress is not None:
                progress(f"backtest from {month_label(as_of)}")
            result = run_forecast(
                history,
                [],
                as_of,
                window=window,
                draws=draws,
                seed=seed + n,
                growth=growth,
                seasonal_exits=seasonal_exits,
            )
            figures = result.figures(None)
            actual_npl, actual_total = Decimal(0), Decimal(0)
            for (_, state), balance in history.balances.get(result.year_end, {}).items():
                actual_total += balance
                actual_npl += balance if state in npl else 0
            p10, p50, p90 = figures["npl_ratio"]
            points.append(
                BacktestPoint(
                    as_of=as_of,
                    year_end=result.year_end,
                    months_ahead=result.horizon,
                    window_used=result.window_used,
                    p10=p10,
                    p50=p50,
                    p90=p90,
                    actual=_ratio(actual_npl, actual_total),
                )
            )
    return points


def backtest_summary(points: Sequence[BacktestPoint], window: int) -> list[dict[str, Any]]:
    """Per months before year end (and ``all``): forecasts, how many from fewer than
    ``window`` months of history, mean absolute error of the NPL ratio in percentage points,
    and the share of actual year ends within P10–P90."""

    def summary(label: str | int, chosen: list[BacktestPoint]) -> dict[str, Any]:
        errors = [p.error_points for p in chosen if p.error_points is not None]
        covered = [p.covered for p in chosen if p.covered is not None]
        return {
            "months_ahead": label,
            "forecasts": len(chosen),
            "short_history": sum(1 for p in chosen if p.window_used < window),
            "mae_points": (sum(errors, Decimal(0)) / len(errors)) if errors else None,
            "coverage": (Decimal(sum(covered)) / len(covered)) if covered else None,
        }

    rows = [
        summary(ahead, [p for p in points if p.months_ahead == ahead])
        for ahead in sorted({p.months_ahead for p in points})
    ]
    rows.append(summary("all", list(points)))
    return rows


__all__ = [
    "BASES",
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "DEFAULT_WINDOW",
    "EXITS",
    "BacktestPoint",
    "Forecast",
    "History",
    "UnitDraws",
    "UnitRow",
    "backtest",
    "backtest_summary",
    "baseline_of",
    "consecutive_run",
    "forecast",
    "forecast_rows",
    "lever_bases",
    "load_history",
    "npl_states",
    "project",
    "run_forecast",
    "states_of",
    "transition_rates",
    "written_off_since",
    "year_end_of",
]
