"""Migration between two snapshots (``docs/figures.md`` §4): the class matrix, the
regulator's migration rates (迁徙率) and roll rates over days-past-due buckets.

Every loan on the books at ``t0`` lands in one cell: its state at ``t1`` when it is on the
books then, otherwise the way it left (``repaid``, ``written_off``, ``transferred``,
``foreclosed``) or ``unexplained``. ``t0`` is compared with ``t1`` directly, never chained
month by month. The table functions are Ibis expressions (DuckDB and PySpark alike); the rates
are divided in Python from the exact decimal sums (§6); the report
(``npldesk.reports.figures.migration_report``) assembles the matrix and the rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.analytics.session import Analytics
from npldesk.core.classes import CLASS_ORDER
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import round_half_up
from npldesk.core.months import months_between

CLASS_STATES: tuple[str, ...] = tuple(c.value for c in CLASS_ORDER)
EXITS: tuple[str, ...] = ("repaid", "written_off", "transferred", "foreclosed", "unexplained")
BASES = ("class", "dpd")
RATE_PLACES = 6
# Wide enough that no rate of two DECIMAL(38,2) sums loses a digit before it is rounded to show.
_DIVISION_PRECISION = 60


# -- days-past-due buckets ---------------------------------------------------------------------


@dataclass(frozen=True)
class BucketSet:
    """Named days-past-due bands: ``upper[i]`` is the last day of band ``labels[i]``."""

    name: str
    labels: tuple[str, ...]
    upper: tuple[int, ...]
    source: str

    def __post_init__(self) -> None:
        if len(self.upper) != len(self.labels) - 1:
            raise ValueError("a bucket set has one upper bound fewer than it has labels")

    def label(self, days_past_due: int) -> str:
        """The band of one value, in Python (the Ibis expression is ``dpd_bucket``)."""
        for label, upper in zip(self.labels, self.upper, strict=False):
            if days_past_due <= upper:
                return label
        return self.labels[-1]


S71 = BucketSet(
    name="s71",
    labels=("current", "1-30", "31-60", "61-90", "91-180", "181-270", "271-360", "360+"),
    upper=(0, 30, 60, 90, 180, 270, 360),
    source=(
        "1104 report S71 (inclusive-finance loans) bands ≤30, 31–60, 61–90, 91–180, 181–270, "
        "271–360, >360, secondary source (docs/figures.md §4); the first band is split into "
        "current (0 days) and 1-30 as docs/figures.md §4 asks"
    ),
)
F18 = BucketSet(
    name="f18",
    labels=("0-30", "31-90", "91-180", "181-365", "366-730", "731-1825", "1826-2555", "2555+"),
    upper=(30, 90, 180, 365, 730, 1825, 2555),
    source=(
        "EBA FINREP template F18 past-due bands (Reg. (EU) 680/2014 Annex III; confirmed, "
        "docs/figures.md §4): not past due or ≤30 days, >30–90, >90–180, "
        ">180 days–1 year, >1–2 years, >2–5 years, >5–7 years, >7 years. A year is read as "
        "365 days: days past due are counted in actual days, and EBA Q&A 2017_3301 ties "
        "360-day years to 30/360 and Act/360 conventions only. F18's 'unlikely to pay' row "
        "is not a band of days and has no column here"
    ),
)
BUCKET_SETS: dict[str, BucketSet] = {"s71": S71, "f18": F18}


def bucket_set(buckets: str | BucketSet) -> BucketSet:
    """A bucket set by name (``s71`` or ``f18``); an unknown name is a usage error."""
    if isinstance(buckets, BucketSet):
        return buckets
    try:
        return BUCKET_SETS[buckets]
    except KeyError:
        raise UsageError(
            translatable(
                "unknown bucket set {buckets!r}; known: {known}",
                buckets=buckets,
                known=", ".join(BUCKET_SETS),
            )
        ) from None


def dpd_bucket(days_past_due: ir.IntegerValue, buckets: str | BucketSet = "s71") -> ir.StringValue:
    """The band label of a days-past-due column (NULL stays NULL)."""
    chosen = bucket_set(buckets)
    return ibis.cases(
        *[
            (days_past_due <= upper, label)
            for label, upper in zip(chosen.labels, chosen.upper, strict=False)
        ],
        (days_past_due.notnull(), chosen.labels[-1]),
        else_=ibis.null("string"),
    )


# -- exits and the cohort's states ---------------------------------------------------------------


def _month_index(as_of: ir.DateValue) -> ir.IntegerValue:
    return as_of.year() * 12 + as_of.month()


def _on_book(table: ir.Table) -> ir.Table:
    """Rows on the books: ``status = 'active'``; a table without ``status`` is all on book."""
    return table.filter(table.status == "active") if "status" in table.columns else table


def exit_routes(start: ir.Table, later: ir.Table, *, t0: date, t1: date) -> ir.Table:
    """(``loan_id``, ``exit``) for each loan on book at ``t0`` that is off the books in some
    month after ``t0`` up to ``t1``: the status of its row in the first such month, or
    ``unexplained`` when it has no row there.

    ``later``: the loans' rows (``loan_id``, ``as_of``, ``status``) of every month after
    ``t0`` up to ``t1``. "Off the books" in a month means no active row in it (docs/figures.md §4);
    a loan missing for a month and reported as written off the month after is therefore an
    unexplained exit, as in the movement table (§3), where the later terminal row of a loan
    already gone counts nothing. A month absent from ``later`` reads as a month the loan was
    off the books, so the caller passes every month (``migration_report`` insists on it).
    """
    last = months_between(t0, t1)
    base = t0.year * 12 + t0.month
    cohort = _on_book(start).select(_cohort_id=start.loan_id)
    rows = later.select("loan_id", "status", _offset=_month_index(later.as_of) - base)
    rows = rows.filter((rows._offset >= 1) & (rows._offset <= last))
    rows = rows.join(cohort, rows.loan_id == cohort._cohort_id).drop("_cohort_id")
    active = rows.filter(rows.status == "active")
    # Within a loan's active months in order, the n-th (from 1) is month n after t0 exactly
    # while the run from t0 is unbroken; so the run's length is how many rows satisfy it.
    active = active.mutate(
        _n=ibis.row_number().over(group_by=active.loan_id, order_by=active._offset) + 1
    )
    runs = active.group_by(_run_id=active.loan_id).aggregate(
        _run=ibis.ifelse(active._offset == active._n, 1, 0).sum()
    )
    first_off = cohort.left_join(runs, cohort._cohort_id == runs._run_id)
    first_off = first_off.select(
        loan_id=first_off._cohort_id, _first=first_off._run.fill_null(0) + 1
    )
    first_off = first_off.filter(first_off._first <= last)
    terminal = rows.filter(rows.status != "active").select(
        _term_id=rows.loan_id, _term_offset=rows._offset, _term_status=rows.status
    )
    routed = first_off.left_join(
        terminal,
        [first_off.loan_id == terminal._term_id, first_off._first == terminal._term_offset],
    )
    return routed.select("loan_id", exit=routed._term_status.fill_null(ibis.literal("unexplained")))


def _states(table: ir.Table, state: ir.StringValue, balance: ir.NumericValue) -> ir.Table:
    return table.select(loan_id=table.loan_id, state=state, balance=balance)


def transition_flows(
    start_states: ir.Table, end_states: ir.Table, exits: ir.Table | None = None
) -> ir.Table:
    """The matrix with the sums the rates need, from (``loan_id``, ``state``, ``balance``) of
    the loans on book at ``t0`` and at ``t1`` and the exits (``loan_id``, ``exit``).

    One row per (``from_state``, ``to_state``): ``loans``; ``balance`` (Σ at ``t0``);
    ``end_balance`` (Σ at ``t1`` of loans on book then; NULL in exit columns); ``reduction``
    (docs/figures.md §4: bal(t0) − bal(t1) where lower, all of bal(t0) for a loan that left).
    A loan on book at ``t1`` is in its ``t1`` state even when it was off the books in
    between; one that is neither on book nor in ``exits`` is ``unexplained``.
    """
    start = start_states.select(
        _id=start_states.loan_id, from_state=start_states.state, _b0=start_states.balance
    )
    end = end_states.select(
        _end_id=end_states.loan_id, _end_state=end_states.state, _b1=end_states.balance
    )
    pairs = start.left_join(end, start._id == end._end_id)
    if exits is not None:
        routes = exits.select(_exit_id=exits.loan_id, _exit=exits.exit)
        pairs = pairs.left_join(routes, pairs._id == routes._exit_id)
        left_by = pairs._exit.fill_null(ibis.literal("unexplained"))
    else:
        left_by = ibis.literal("unexplained")
    on_book = pairs._end_id.notnull()
    zero = ibis.literal(0).cast(pairs._b0.type())
    reduction = ibis.cases(
        (~on_book, pairs._b0),
        (pairs._b1 < pairs._b0, pairs._b0 - pairs._b1),
        else_=zero,
    )
    per_loan = pairs.select(
        from_state=pairs.from_state,
        to_state=ibis.ifelse(on_book, pairs._end_state, left_by),
        _b0=pairs._b0,
        _b1=ibis.ifelse(on_book, pairs._b1, ibis.null(pairs._b1.type())),
        _reduction=reduction,
    )
    return per_loan.group_by("from_state", "to_state").aggregate(
        loans=per_loan.count(),
        balance=per_loan._b0.sum(),
        end_balance=per_loan._b1.sum(),
        reduction=per_loan._reduction.sum(),
    )


def migration_flows(start: ir.Table, end: ir.Table, exits: ir.Table | None = None) -> ir.Table:
    """The class matrix with the rate sums, from classified snapshots at ``t0`` and ``t1``
    (``final_class``, ``principal_balance``, ``status``) and ``exit_routes``."""
    start_on, end_on = _on_book(start), _on_book(end)
    return transition_flows(
        _states(start_on, start_on.final_class, start_on.principal_balance),
        _states(end_on, end_on.final_class, end_on.principal_balance),
        exits,
    )


def migration_matrix(start: ir.Table, end: ir.Table, exits: ir.Table | None = None) -> ir.Table:
    """Rows: final class at ``t0``; columns: final class at ``t1`` or the exit; count
    (``loans``) and balance at ``t0`` (docs/figures.md §4)."""
    return migration_flows(start, end, exits).select("from_state", "to_state", "loans", "balance")


def roll_rates(
    start: ir.Table,
    end: ir.Table,
    exits: ir.Table | None = None,
    *,
    buckets: str | BucketSet = "s71",
    bucket_column: str | None = None,
    dpd_column: str = "days_past_due",
    balance_column: str = "principal_balance",
) -> ir.Table:
    """The migration matrix over days-past-due bands (docs/figures.md §4), on any tables with
    ``loan_id``, a balance and either days past due or a band already computed.

    ``bucket_column`` names a column that already holds each row's band (data whose delinquency
    is not in days, such as months late); otherwise the band is ``dpd_column`` cut by
    ``buckets``. A table with ``status`` counts only its active rows; one without is all on
    book. Same columns as ``transition_flows``.
    """

    def states(table: ir.Table) -> ir.Table:
        on_book = _on_book(table)
        band = (
            on_book[bucket_column]
            if bucket_column is not None
            else dpd_bucket(on_book[dpd_column], buckets)
        )
        return _states(on_book, band, on_book[balance_column])

    return transition_flows(states(start), states(end), exits)


# -- the rates ----------------------------------------------------------------------------------

_NPL = ("substandard", "doubtful", "loss")
# docs/figures.md §4: rate name → (cohort classes at t0, target classes at t1). The substandard
# rate targets doubtful and loss: the exam answer key names 可疑 only, other texts add 损失
# (docs/figures.md §4); npldesk takes both.
RATE_DEFINITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "normal": (("normal",), ("special_mention", *_NPL)),
    "special_mention": (("special_mention",), _NPL),
    "substandard": (("substandard",), ("doubtful", "loss")),
    "doubtful": (("doubtful",), ("loss",)),
    "performing": (("normal", "special_mention"), _NPL),
}


@dataclass(frozen=True)
class MigrationRate:
    """One migration rate and the exact sums behind it."""

    name: str
    cohort_balance: Decimal
    reduction: Decimal
    migrated: Decimal

    @property
    def denominator(self) -> Decimal:
        return self.cohort_balance - self.reduction

    @property
    def rate(self) -> Decimal | None:
        """``migrated / (Σ bal(t0) − reduction)``, unrounded; None when that is 0."""
        if self.denominator == 0:
            return None
        with localcontext() as context:
            context.prec = _DIVISION_PRECISION
            return self.migrated / self.denominator


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


def migration_rates(flows: Iterable[Mapping[str, Any]]) -> dict[str, MigrationRate]:
    """The five rates of docs/figures.md §4 from the rows of ``migration_flows`` (exact values).

    Reading (secondary sources, docs/figures.md §4): the reduction is the cohort's
    repayment, disposal or write-off during the period, taken loan by loan as §4 states; a
    cohort loan that moves to a target class counts with its balance at ``t1``.
    """
    rows = list(flows)
    rates: dict[str, MigrationRate] = {}
    for name, (cohort, targets) in RATE_DEFINITIONS.items():
        members = [r for r in rows if r["from_state"] in cohort]
        rates[name] = MigrationRate(
            name=name,
            cohort_balance=sum((_decimal(r["balance"]) for r in members), Decimal(0)),
            reduction=sum((_decimal(r["reduction"]) for r in members), Decimal(0)),
            migrated=sum(
                (_decimal(r["end_balance"]) for r in members if r["to_state"] in targets),
                Decimal(0),
            ),
        )
    return rates


def format_rate(value: Decimal | None) -> str | None:
    """A ratio as shown: half-up to six places (docs/figures.md §6), as a decimal string."""
    return None if value is None else f"{round_half_up(value, RATE_PLACES):f}"


# -- the report -----------------------------------------------------------------------------------


def own_name(session: Analytics, table: ir.Table) -> ir.Table:
    """``table`` behind a view with a name of its own (an Ibis call, on every engine).

    ``Engine.read_parquet`` names its tables ``t1``, ``t2``, … — the names Ibis gives the
    subqueries of a compiled query — so in a query deep enough a subquery's alias shadows a
    snapshot ("Referenced table "t1" not found"). Drop this once backend.py names its tables
    outside that space.
    """
    return session.engine.con.create_view(ibis.util.gen_name("npldesk_view"), table)


__all__ = [
    "BUCKET_SETS",
    "CLASS_STATES",
    "EXITS",
    "F18",
    "RATE_DEFINITIONS",
    "S71",
    "BucketSet",
    "MigrationRate",
    "bucket_set",
    "dpd_bucket",
    "exit_routes",
    "format_rate",
    "migration_flows",
    "migration_matrix",
    "migration_rates",
    "own_name",
    "roll_rates",
    "transition_flows",
]
