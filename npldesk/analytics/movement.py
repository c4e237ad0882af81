"""NPL movement (``docs/figures.md`` §3): where the NPL balance came from and where it went.

``npl_movement_step`` is one month-on-month step as an Ibis table (one row per group);
``npl_movement_period`` sums consecutive steps into a period (a month, the year to date, any
range), so the identity ``closing = opening + inflow + increase (+ moved_in − moved_out) − cash −
upgrade − write_off − transfer − foreclosure − unexplained`` holds for the period as it does for
every step. The report (``npldesk.reports.figures.movement_report``) checks that identity, to
the fen, for the total and every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from itertools import pairwise

import ibis
import ibis.expr.types as ir

from npldesk.analytics.groups import KEY, group_key
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label, previous_december, previous_month_end

# The lines of the whole book, in the order of docs/commands.md; groups add the two moves.
LINES = (
    "opening",
    "inflow",
    "increase",
    "cash",
    "upgrade",
    "write_off",
    "transfer",
    "foreclosure",
    "unexplained",
    "closing",
)
MOVE_LINES = ("moved_in", "moved_out")
GROUP_LINES = LINES + MOVE_LINES
# Terminal statuses whose exit_amount leaves through a non-cash route, and the line it goes to.
EXIT_LINES = {"written_off": "write_off", "transferred": "transfer", "foreclosed": "foreclosure"}
PERIODS = ("month", "ytd")
MONEY = "decimal(38, 2)"
# Per loan, the lines that follow it from its group at s−1 (exits, the opening) and those that
# follow it into its group at s; ``moving`` is bal(s−1) of a loan NPL at s−1 still on book at s,
# which becomes moved_out/moved_in where the two groups differ.
BEFORE_LINES = ("opening", "exit_cash", "write_off", "transfer", "foreclosure", "unexplained")
AFTER_LINES = ("closing", "inflow", "continuing_cash", "increase", "upgrade")
PAIR = ("_b_key", "_a_key", "_was_npl", "_present")


def npl_movement_step(
    previous: ir.Table, current: ir.Table, *, by: str | None, rollup: ir.Table | None = None
) -> ir.Table:
    """The §3 lines per group (``key``) from ``previous`` (s−1) to ``current`` (s).

    Inflow, increase, cash and upgrade of a loan on book at s count in its group at s; exits
    count in its group at s−1; a loan NPL at s−1 and on book at s in another group moves out of
    the old one and into the new one at bal(s−1).

    ``by`` is a tape column or ``None`` (the whole book: one row, ``key`` NULL, no moves);
    ``rollup`` (with ``by="org_unit"``) counts a loan in its unit and every unit above it.
    """
    return npl_movement_period([previous, current], by=by, rollup=rollup)


def npl_movement_period(
    snapshots: Sequence[ir.Table], *, by: str | None, rollup: ir.Table | None = None
) -> ir.Table:
    """The steps between consecutive classified ``snapshots`` summed into one period.

    Every line is the sum of the steps' lines; ``opening`` is the first snapshot's NPL balance
    and ``closing`` the last one's. Same groups and columns as ``npl_movement_step``.
    """
    if rollup is not None and by != "org_unit":
        raise ValueError("a rollup groups by org_unit only")
    if len(snapshots) < 2:
        raise ValueError("a period needs at least two snapshots")
    steps = [
        _loan_lines(before, after, by).mutate(_step=ibis.literal(index).cast("int32"))
        for index, (before, after) in enumerate(pairwise(snapshots))
    ]
    loans = steps[0] if len(steps) == 1 else ibis.union(*steps, distinct=False)
    # The lines are additive, so loans (and steps) with the same two groups are summed first;
    # groups are then assigned to these few pairs rather than to every loan.
    first, last = loans._step == 0, loans._step == len(steps) - 1
    where = {"opening": first, "closing": last}
    pairs = loans.group_by(list(PAIR)).aggregate(
        **{
            line: loans[line].sum(where=where.get(line)).cast(MONEY)
            for line in (*BEFORE_LINES, *AFTER_LINES, "moving")
        }
    )
    if by is None:
        return _whole_book(pairs)
    before = _before_side(pairs, rollup)
    after = _after_side(pairs, rollup)
    both = before.union(after, distinct=False)
    return both.group_by(KEY).aggregate(**{line: _total(both[line]) for line in GROUP_LINES})


def _zero() -> ir.Value:
    return ibis.literal(0).cast(MONEY)


def _total(column: ir.Value) -> ir.Value:
    return ibis.coalesce(column.sum(), _zero()).cast(MONEY)


def _loan_lines(previous: ir.Table, current: ir.Table, column: str | None) -> ir.Table:
    """Each loan NPL at s−1 or at s with its two group keys, presence flags and line shares."""
    npl_before = previous.filter(previous.is_npl)
    before = npl_before.select(
        _b_loan=npl_before.loan_id,
        _b_key=group_key(npl_before, column),
        _b_balance=npl_before.principal_balance,
    )
    after = current.select(
        _a_loan=current.loan_id,
        _a_key=group_key(current, column),
        _a_balance=current.principal_balance,
        _a_npl=current.is_npl.fill_null(False),
        _a_status=current.status,
        _a_exit=current.exit_amount,
    )
    joined = before.outer_join(after, before._b_loan == after._a_loan)
    # Only loans NPL on one side or the other contribute to any line.
    joined = joined.filter(joined._b_loan.notnull() | joined._a_npl.fill_null(False))
    zero = ibis.literal(0).cast(current.principal_balance.type())
    was_npl = joined._b_loan.notnull()
    present = joined._a_loan.notnull()
    is_npl = joined._a_npl.fill_null(False)
    on_book = (joined._a_status == "active").fill_null(False)
    status = joined._a_status
    exit_amount = joined._a_exit.fill_null(zero)
    balance_before, balance_after = joined._b_balance, joined._a_balance

    def amount(condition: ir.BooleanValue, value: ir.Value) -> ir.Value:
        return ibis.ifelse(condition, value, zero)

    continuing = was_npl & on_book
    exiting = was_npl & present & ~on_book
    exits = {
        line: amount(exiting & (status == exit_status), exit_amount)
        for exit_status, line in EXIT_LINES.items()
    }
    return joined.select(
        _b_key=joined._b_key,
        _a_key=joined._a_key,
        _was_npl=was_npl,
        _present=present,
        opening=amount(was_npl, balance_before),
        exit_cash=amount(exiting & status.isin(list(EXIT_LINES)), balance_before - exit_amount)
        + amount(exiting & (status == "repaid"), balance_before),
        unexplained=amount(was_npl & ~present, balance_before),
        closing=amount(is_npl, balance_after),
        inflow=amount(is_npl & ~was_npl, balance_after),
        continuing_cash=amount(continuing, ibis.greatest(balance_before - balance_after, zero)),
        increase=amount(continuing, ibis.greatest(balance_after - balance_before, zero)),
        upgrade=amount(continuing & ~is_npl, balance_after),
        moving=amount(continuing, balance_before),
        **exits,
    )


def _whole_book(pairs: ir.Table) -> ir.Table:
    sums = {
        line: _total(pairs[line])
        for line in (*BEFORE_LINES, *AFTER_LINES, "moving")
        if line not in ("exit_cash", "continuing_cash")
    }
    sums["cash"] = (_total(pairs.exit_cash) + _total(pairs.continuing_cash)).cast(MONEY)
    sums["moved_in"] = sums["moved_out"] = _zero()
    totals = pairs.aggregate(**sums)
    return totals.select(ibis.null("string").name(KEY), *GROUP_LINES)


def _rollup_pairs(rollup: ir.Table, prefix: str) -> ir.Table:
    copy = rollup.view()
    return copy.select(**{f"{prefix}_unit": copy.org_unit, f"{prefix}_group": copy.unit})


def _side(
    pairs: ir.Table, rollup: ir.Table | None, *, own: str, other: str, other_flag: str
) -> tuple[ir.Table, ir.BooleanValue]:
    """Pairs once per group of their ``own`` key, and whether the ``other`` key is in it too."""
    if rollup is None:
        with_key = pairs.mutate(**{KEY: pairs[own]})
        return with_key, with_key[other_flag] & with_key[other].identical_to(with_key[KEY])
    mine = _rollup_pairs(rollup, "_mine")
    grouped = pairs.inner_join(mine, pairs[own] == mine._mine_unit)
    grouped = grouped.mutate(**{KEY: grouped._mine_group})
    theirs = _rollup_pairs(rollup, "_theirs")
    matched = grouped.left_join(
        theirs, (grouped[other] == theirs._theirs_unit) & (grouped[KEY] == theirs._theirs_group)
    )
    return matched, matched[other_flag] & matched._theirs_unit.notnull()


def _before_side(pairs: ir.Table, rollup: ir.Table | None) -> ir.Table:
    """Lines that count in the group at s−1: the opening, the exits, moved_out."""
    table, also_after = _side(
        pairs.filter(pairs._was_npl), rollup, own="_b_key", other="_a_key", other_flag="_present"
    )
    zero = _zero()
    lines = {
        "opening": table.opening,
        "inflow": zero,
        "increase": zero,
        "cash": table.exit_cash,
        "upgrade": zero,
        "write_off": table.write_off,
        "transfer": table.transfer,
        "foreclosure": table.foreclosure,
        "unexplained": table.unexplained,
        "closing": zero,
        "moved_in": zero,
        "moved_out": ibis.ifelse(also_after, zero, table.moving),
    }
    return table.select(table[KEY], **{k: v.cast(MONEY) for k, v in lines.items()})


def _after_side(pairs: ir.Table, rollup: ir.Table | None) -> ir.Table:
    """Lines that count in the group at s: inflow, increase, cash, upgrade, closing, moved_in."""
    table, also_before = _side(
        pairs.filter(pairs._present), rollup, own="_a_key", other="_b_key", other_flag="_was_npl"
    )
    zero = _zero()
    lines = {
        "opening": zero,
        "inflow": table.inflow,
        "increase": table.increase,
        "cash": table.continuing_cash,
        "upgrade": table.upgrade,
        "write_off": zero,
        "transfer": zero,
        "foreclosure": zero,
        "unexplained": zero,
        "closing": table.closing,
        "moved_in": ibis.ifelse(also_before, zero, table.moving),
        "moved_out": zero,
    }
    return table.select(table[KEY], **{k: v.cast(MONEY) for k, v in lines.items()})


# -- the report -------------------------------------------------------------------------


def identity_holds(lines: Mapping[str, Decimal]) -> bool:
    """Whether the lines add up exactly: closing = opening + inflows − outflows (§3)."""
    nothing = Decimal(0)
    explained = (
        lines["opening"]
        + lines["inflow"]
        + lines["increase"]
        + lines.get("moved_in", nothing)
        - lines.get("moved_out", nothing)
        - lines["cash"]
        - lines["upgrade"]
        - lines["write_off"]
        - lines["transfer"]
        - lines["foreclosure"]
        - lines["unexplained"]
    )
    return explained == lines["closing"]


def movement_span(
    as_of: date, *, period: str | None = "month", start: date | None = None
) -> tuple[date, str]:
    """The period's first snapshot and name: previous month, previous December, or ``start``."""
    if start is not None:
        if period not in (None, "month"):
            raise UsageError(
                translatable("give the period {period!r} or a start month, not both", period=period)
            )
        if start >= as_of:
            raise UsageError(
                translatable(
                    "the start month {start} must be before {month}",
                    start=month_label(start),
                    month=month_label(as_of),
                )
            )
        return start, "range"
    if period == "month" or period is None:
        return previous_month_end(as_of), "month"
    if period == "ytd":
        return previous_december(as_of), "ytd"
    raise UsageError(
        translatable(
            "unknown period {period!r}; known: {known}", period=period, known=", ".join(PERIODS)
        )
    )
