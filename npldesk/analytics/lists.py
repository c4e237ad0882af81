"""Loan lists at a snapshot (``docs/figures.md`` §5): new NPL, early warning, upgraded, the
largest NPL households and reported-grade deviations.

Each list compares two classified snapshots directly: the end ``s`` and a start (by default
``s−1``, any imported month earlier than ``s`` when asked). Over several months that differs
from the summed movement inflow on purpose: a loan that turned NPL and was repaid in between
is in the inflow, not in the new-NPL list. The list functions take classified tables and
return an Ibis table; ``run_list`` is the one place that looks months up in a session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.analytics.classify import class_rank
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label, previous_month_end

LIST_NAMES = ("new-npl", "early-warning", "upgraded", "top-npl", "deviation")
# Lists that are defined by the start snapshot (the others only take previous_class from it).
NEEDS_START = frozenset({"new-npl", "upgraded"})
DEFAULT_TOP = 20
# The columns every list row carries, in this order; scripts read the first nine (docs/commands.md).
LIST_COLUMNS = (
    "loan_id",
    "borrower_id",
    "org_unit",
    "officer_id",
    "product",
    "principal_balance",
    "days_past_due",
    "class",
    "previous_class",
    "reasons",
)
PERSONAL_COLUMNS = ("borrower_name", "id_number", "phone")
EXTRA_COLUMNS = {
    "new-npl": (),
    "early-warning": ("days_to_npl", "becomes_npl_within_30_days"),
    "upgraded": (),
    "top-npl": ("household_rank", "household_npl_balance", "household_npl_loans"),
    "deviation": ("reported_class",),
}
MONEY_COLUMNS = frozenset({"principal_balance", "household_npl_balance"})
# An early-warning loan this many days or fewer from the NPL threshold is flagged.
WARNING_DAYS = 30


def list_columns(name: str) -> tuple[str, ...]:
    """The columns of list ``name``: the common ones, its own, then the personal data."""
    return LIST_COLUMNS + EXTRA_COLUMNS[name] + PERSONAL_COLUMNS


def _on_book(table: ir.Table) -> ir.BooleanValue:
    return table.status == "active"


def _with_previous(end: ir.Table, start: ir.Table | None) -> ir.Table:
    """``end`` with ``previous_class`` (final class at the start) and ``_start_npl`` by loan."""
    if start is None:
        return end.mutate(previous_class=ibis.null("string"), _start_npl=ibis.literal(False))
    previous = start.select(
        _start_loan_id=start.loan_id,
        previous_class=start.final_class,
        _start_npl=start.is_npl,
    )
    joined = end.left_join(previous, end.loan_id == previous._start_loan_id)
    joined = joined.drop("_start_loan_id")
    return joined.mutate(_start_npl=joined._start_npl.fill_null(False))


def _project(table: ir.Table, name: str) -> ir.Table:
    return table.mutate(**{"class": table.final_class}).select(*list_columns(name))


def _largest_first(table: ir.Table) -> list[Any]:
    return [ibis.desc(table.principal_balance), table.loan_id]


def new_npl(start: ir.Table, end: ir.Table) -> ir.Table:
    """Loans NPL at ``end`` that were not NPL (or not on book, or absent) at ``start``."""
    joined = _with_previous(end.filter(end.is_npl), start)
    listed = _project(joined.filter(~joined._start_npl), "new-npl")
    return listed.order_by(_largest_first(listed))


def upgraded(start: ir.Table, end: ir.Table) -> ir.Table:
    """Loans NPL at ``start`` that are on book and not NPL at ``end``."""
    performing = end.filter(_on_book(end) & ~end.is_npl)
    joined = _with_previous(performing, start)
    listed = _project(joined.filter(joined._start_npl), "upgraded")
    return listed.order_by(_largest_first(listed))


def early_warning(end: ir.Table, start: ir.Table | None = None, *, npl_dpd: int = 90) -> ir.Table:
    """On-book, past-due loans that are not NPL, the nearest to ``dpd > npl_dpd`` first."""
    # Then the largest balance, then loan_id; 30 days or fewer to go (dpd 61-90) is flagged.
    overdue = end.filter(_on_book(end) & ~end.is_npl & (end.days_past_due >= 1))
    joined = _with_previous(overdue, start)
    joined = joined.mutate(
        days_to_npl=(ibis.literal(npl_dpd + 1) - joined.days_past_due).cast("int32"),
        becomes_npl_within_30_days=joined.days_past_due.between(
            npl_dpd + 1 - WARNING_DAYS, npl_dpd
        ),
    )
    listed = _project(joined, "early-warning")
    return listed.order_by([listed.days_to_npl, *_largest_first(listed)])


def top_npl(end: ir.Table, limit: int = DEFAULT_TOP, start: ir.Table | None = None) -> ir.Table:
    """The NPL loans of the ``limit`` households (borrower_id) with the largest NPL balance."""
    # One row per loan, so the list keeps the columns of every list; each row carries its
    # household's rank (by NPL balance, largest first, then borrower_id), balance and count.
    npl = end.filter(end.is_npl)
    households = npl.group_by(_household=npl.borrower_id).aggregate(
        household_npl_balance=npl.principal_balance.sum(),
        household_npl_loans=npl.count(),
    )
    ranking = ibis.row_number().over(
        order_by=[ibis.desc(households.household_npl_balance), households._household]
    )
    ranked = households.mutate(household_rank=ranking + 1)
    top = ranked.filter(ranked.household_rank <= limit)
    loans = npl.join(top, npl.borrower_id == top._household).drop("_household")
    listed = _project(_with_previous(loans, start), "top-npl")
    return listed.order_by([listed.household_rank, *_largest_first(listed)])


def deviations(end: ir.Table, start: ir.Table | None = None) -> ir.Table:
    """On-book loans whose reported grade is better than the final class; worst class first."""
    deviating = end.filter(end.deviation)
    listed = _project(_with_previous(deviating, start), "deviation")
    return listed.order_by([ibis.desc(class_rank(listed["class"])), *_largest_first(listed)])


# -- running a list in a session -------------------------------------------------------


@dataclass(frozen=True)
class ListResult:
    """One list computed at a snapshot: its rows as exact Python values, and their sources."""

    name: str
    as_of: date
    start: date | None
    rule_set: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    lineage: list[dict[str, Any]]
    limit: int | None = None


def check_list_name(name: str) -> str:
    """``name`` if it is a list npldesk knows; a usage error naming the known lists if not."""
    if name not in LIST_NAMES:
        raise UsageError(
            translatable(
                "unknown list {name!r}; known: {known}", name=name, known=", ".join(LIST_NAMES)
            )
        )
    return name


def resolve_start(session: Analytics, name: str, as_of: date, start: date | None) -> date | None:
    """The start month: ``start`` if given, else the month before ``as_of`` when imported."""
    # Without the month before, only new-npl and upgraded fail; the other lists use the start
    # for previous_class alone and go without it.
    if start is not None:
        if start >= as_of:
            raise UsageError(
                translatable(
                    "the start {start} must be a month before {month}",
                    start=month_label(start),
                    month=month_label(as_of),
                )
            )
        return session.require_month(start, what=translatable("start month"))
    default = previous_month_end(as_of)
    if default in set(session.months()):
        return default
    if name in NEEDS_START:
        raise UsageError(
            translatable(
                "{name} compares {month} with {start}, which is not imported; choose an imported "
                "start month (--from)",
                name=name,
                month=month_label(as_of),
                start=month_label(default),
            )
        )
    return None


def run_list(
    session: Analytics,
    name: str,
    as_of: date,
    *,
    start: date | None = None,
    limit: int | None = None,
    units: Sequence[str] | None = None,
) -> ListResult:
    """List ``name`` at ``as_of`` against ``start`` (default: the month before), computed; with
    ``units``, only the loans those units hold at ``as_of`` (top-npl ranks their households)."""
    check_list_name(name)
    if limit is not None and name != "top-npl":
        raise UsageError(translatable("a limit applies to top-npl only"))
    if limit is not None and limit < 1:
        raise UsageError(translatable("the limit must be at least 1, not {limit}", limit=limit))
    top = DEFAULT_TOP if limit is None else limit
    session.require_month(as_of)
    chosen_start = resolve_start(session, name, as_of, start)
    end_table = session.classified(as_of)
    if units is not None:
        end_table = end_table.filter(end_table.org_unit.isin(list(units)))
    start_table = session.classified(chosen_start) if chosen_start is not None else None
    builders: dict[str, Callable[[], ir.Table]] = {
        "new-npl": lambda: new_npl(_required(start_table), end_table),
        "early-warning": lambda: early_warning(
            end_table, start_table, npl_dpd=session.params.substandard_dpd
        ),
        "upgraded": lambda: upgraded(_required(start_table), end_table),
        "top-npl": lambda: top_npl(end_table, top, start_table),
        "deviation": lambda: deviations(end_table, start_table),
    }
    rows = session.rows(builders[name]())
    months = [m for m in (chosen_start, as_of) if m is not None]
    return ListResult(
        name=name,
        as_of=as_of,
        start=chosen_start,
        rule_set=session.params.name,
        columns=list_columns(name),
        rows=rows,
        lineage=session.lineage(months),
        limit=top if name == "top-npl" else None,
    )


def _required(table: ir.Table | None) -> ir.Table:
    if table is None:  # resolve_start guarantees a start for the lists that need one
        raise UsageError(translatable("this list needs a start month"))
    return table
