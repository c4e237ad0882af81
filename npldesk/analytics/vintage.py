"""Vintage curves (``docs/figures.md`` §4): for each origination quarter and month on book,
the balance more than 90 days past due as a share of the amount the quarter lent.

``vintage_curves`` is an Ibis expression over rows of many months (DuckDB and PySpark alike)
returning the exact sums; ``vintage_shares`` divides them in Python (§6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.analytics.migration import own_name
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_range

_DIVISION_PRECISION = 60


def _month_index(day: ir.DateValue) -> ir.IntegerValue:
    return day.year() * 12 + day.month()


def vintage_curves(span: ir.Table, *, dpd_over: int = 90) -> ir.Table:
    """(``origination_quarter``, ``mob``, ``loans_on_book``, ``balance``, ``dpd90_balance``,
    ``originated_loans``, ``originated_amount``) from the rows of several snapshots.

    ``mob`` is whole calendar months from the origination month to ``as_of`` (0 in the month
    of origination). The denominator is Σ ``original_amount`` of every loan originated in the
    quarter that has a row in ``span``, on the books or not; a loan's quarter and amount are
    taken from its earliest row, so a loan whose tape changes them is still counted once.
    A (quarter, mob) appears where at least one of the quarter's loans has a row (of any
    status) that many months after its origination month, so a curve stops where the store
    (or the quarter's last loan) stops.
    """
    rows = span.select(
        "loan_id",
        "as_of",
        "status",
        "days_past_due",
        "principal_balance",
        "origination_date",
        "original_amount",
    )
    ordered = rows.mutate(_n=ibis.row_number().over(group_by=rows.loan_id, order_by=rows.as_of))
    first = ordered.filter(ordered._n == 0)
    loans = first.select(
        _loan_id=first.loan_id,
        origination_quarter=(
            first.origination_date.year().cast("string")
            + ibis.literal("Q")
            + first.origination_date.quarter().cast("string")
        ),
        _origination_month=_month_index(first.origination_date),
        _original_amount=first.original_amount,
    )
    cohorts = loans.group_by(_quarter=loans.origination_quarter).aggregate(
        originated_loans=loans.count(),
        originated_amount=loans._original_amount.sum(),
    )
    joined = rows.join(loans, rows.loan_id == loans._loan_id)
    on_book = joined.status == "active"
    zero = ibis.literal(0).cast(joined.principal_balance.type())
    staged = joined.select(
        origination_quarter=joined.origination_quarter,
        mob=(_month_index(joined.as_of) - joined._origination_month).cast("int32"),
        _on_book=ibis.ifelse(on_book, 1, 0),
        _balance=ibis.ifelse(on_book, joined.principal_balance, zero),
        _late=ibis.ifelse(
            on_book & (joined.days_past_due > dpd_over), joined.principal_balance, zero
        ),
    )
    curves = staged.group_by("origination_quarter", "mob").aggregate(
        loans_on_book=staged._on_book.sum(),
        balance=staged._balance.sum(),
        dpd90_balance=staged._late.sum(),
    )
    result = curves.join(cohorts, curves.origination_quarter == cohorts._quarter)
    return result.select(
        "origination_quarter",
        "mob",
        "loans_on_book",
        "balance",
        "dpd90_balance",
        "originated_loans",
        "originated_amount",
    ).order_by("origination_quarter", "mob")


@dataclass(frozen=True)
class VintagePoint:
    """One point of one quarter's curve, with the exact sums behind its share."""

    origination_quarter: str
    mob: int
    loans_on_book: int
    balance: Decimal
    dpd90_balance: Decimal
    originated_loans: int
    originated_amount: Decimal

    @property
    def share(self) -> Decimal | None:
        """``dpd90_balance / originated_amount``, unrounded; None when nothing was lent."""
        if self.originated_amount == 0:
            return None
        with localcontext() as context:
            context.prec = _DIVISION_PRECISION
            return self.dpd90_balance / self.originated_amount


def vintage_shares(rows: Iterable[Mapping[str, Any]]) -> list[VintagePoint]:
    """The points of ``vintage_curves`` as exact values with their shares."""
    return [
        VintagePoint(
            origination_quarter=str(r["origination_quarter"]),
            mob=int(r["mob"]),
            loans_on_book=int(r["loans_on_book"] or 0),
            balance=Decimal(r["balance"] or 0),
            dpd90_balance=Decimal(r["dpd90_balance"] or 0),
            originated_loans=int(r["originated_loans"]),
            originated_amount=Decimal(r["originated_amount"] or 0),
        )
        for r in rows
    ]


def vintage_report(
    session: Analytics, start: date | None = None, end: date | None = None
) -> list[VintagePoint]:
    """Vintage curves over the store's months from ``start`` to ``end`` (default: all)."""
    months = session.months()
    if not months:
        raise UsageError(
            translatable("no snapshot imported yet: `npldesk tape import FILE...` first")
        )
    first = start or months[0]
    last = end or months[-1]
    if first > last:
        raise UsageError(
            translatable("the first month of a vintage span must not be after its last")
        )
    imported = set(months)
    wanted = [m for m in month_range(first, last) if m in imported]
    if not wanted:
        raise UsageError(translatable("no imported month in the vintage span"))
    span = own_name(session, session.figures_span(wanted))
    return vintage_shares(session.rows(vintage_curves(span)))
