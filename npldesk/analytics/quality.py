"""Asset quality at one snapshot (``docs/figures.md`` §2) and the ``quality`` report.

``asset_quality`` is an Ibis function (classified snapshot in, one row per group out, exact
decimal sums), ``asset_quality_by_month`` the same for every month of a span at once;
``QualityFigures`` holds one group's exact sums. The report
(``npldesk.reports.figures.quality_report``) runs them on a session for a month and its
baseline. Ratios are divided in Python from the exact sums, because
the engines divide decimals differently (§6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.analytics.classify import CLASS_NAMES
from npldesk.analytics.groups import KEY, group_key
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import round_half_up
from npldesk.core.months import month_label, previous_december

RATIO_PLACES = 6
# §2 fixes these two thresholds in the figures themselves (they are not rule parameters).
OVERDUE_DPD = 1
DPD90 = 90
CLASS_BALANCE_COLUMNS = {name: f"{name}_balance" for name in CLASS_NAMES}
_FIGURE_NAMES = (
    "loans",
    "balance",
    "npl_balance",
    "npl_loans",
    *CLASS_BALANCE_COLUMNS.values(),
    "overdue_balance",
    "dpd90_balance",
    "provision",
    "provision_count",
)


def asset_quality(
    classified: ir.Table, *, by: str | None, rollup: ir.Table | None = None
) -> ir.Table:
    """§2 sums per group (``key``) of the on-book rows of one classified snapshot.

    Columns: loans, balance, npl_balance, npl_loans, ``<class>_balance`` for each final class,
    overdue_balance (dpd ≥ 1), dpd90_balance (dpd > 90), provision (sum), provision_count.

    ``by`` is a tape column (``org_unit``, ``product``, ``officer_id``, ``borrower_type``) or
    ``None`` for the whole book (one row, ``key`` NULL). With ``rollup`` (``org_unit``, ``unit``
    pairs, see ``analytics.org.rollup_table``) groups are the rollup's units, each including
    the units below it, and every unit gets a row, with zeros where it holds nothing.
    """
    on_book = classified.filter(classified.status == "active")
    if rollup is not None:
        if by != "org_unit":
            raise ValueError("a rollup groups by org_unit only")
        # Every figure is a sum or a count: each unit's own figures first (a million loans
        # into a few hundred groups), then the units rolled up the tree, rather than every
        # loan repeated once per unit above it.
        own = on_book.group_by(_own_unit=on_book.org_unit).aggregate(**_figures(on_book))
        units = rollup.select(_rollup_unit=rollup.org_unit, _rollup_group=rollup.unit)
        joined = units.left_join(own, units._rollup_unit == own._own_unit)
        return _sums_of_groups(joined, own, {KEY: joined._rollup_group})
    if by is None:
        whole_book = on_book.aggregate(**_figures(on_book))
        return whole_book.select(group_key(on_book, None).name(KEY), *_FIGURE_NAMES)
    return on_book.group_by(group_key(on_book, by).name(KEY)).aggregate(**_figures(on_book))


def asset_quality_by_month(
    classified: ir.Table, *, by: str | None, rollup: ir.Table | None = None
) -> ir.Table:
    """``asset_quality`` of every month a table of several classified snapshots holds (a
    trend, from ``Analytics.figures_span``) in one query: ``as_of``, then the columns of
    ``asset_quality``. The whole book (``by=None``) and, with ``rollup``, every unit have a
    row in every month the table holds (zeros where nothing is on the book); other groups
    have rows where they hold loans, as in ``asset_quality``."""
    on_book = classified.filter(classified.status == "active")
    months = classified.select(_month=classified.as_of).distinct()
    if by is not None and rollup is None:
        return on_book.group_by(as_of=on_book.as_of, **{KEY: group_key(on_book, by)}).aggregate(
            **_figures(on_book)
        )
    if rollup is not None and by != "org_unit":
        raise ValueError("a rollup groups by org_unit only")
    own_keys = {"_own_month": on_book.as_of}
    if rollup is None:
        groups = months.mutate(_group=ibis.null("string"))
    else:
        own_keys["_own_unit"] = on_book.org_unit
        units = rollup.select(_rollup_unit=rollup.org_unit, _group=rollup.unit)
        groups = units.cross_join(months)
    own = on_book.group_by(**own_keys).aggregate(**_figures(on_book))
    matches = groups._month == own._own_month
    if rollup is not None:
        matches = matches & (groups._rollup_unit == own._own_unit)
    joined = groups.left_join(own, matches)
    # Each unit's own figures first, then rolled up the tree (see ``asset_quality``).
    return _sums_of_groups(joined, own, {"as_of": joined._month, KEY: joined._group})


def _sums_of_groups(joined: ir.Table, own: ir.Table, keys: dict[str, ir.Value]) -> ir.Table:
    """The figures of ``own`` (per unit, per month) left-joined to the groups, summed per
    group: zeros, in each figure's own type, where a group matched nothing."""
    return joined.group_by(**keys).aggregate(
        **{
            name: ibis.coalesce(joined[name].sum(), ibis.literal(0).cast(own[name].type()))
            for name in _FIGURE_NAMES
        }
    )


def _figures(loans: ir.Table) -> dict[str, ir.Value]:
    balance = loans.principal_balance
    zero = ibis.literal(0).cast(balance.type())

    def total(where: ir.BooleanValue | None = None) -> ir.Value:
        return ibis.coalesce(balance.sum(where=where), zero)

    figures: dict[str, ir.Value] = {
        "loans": loans.loan_id.count(),
        "balance": total(),
        "npl_balance": total(loans.is_npl),
        "npl_loans": loans.loan_id.count(where=loans.is_npl),
    }
    for name, column in CLASS_BALANCE_COLUMNS.items():
        figures[column] = total(loans.final_class == name)
    figures["overdue_balance"] = total(loans.days_past_due >= OVERDUE_DPD)
    figures["dpd90_balance"] = total(loans.days_past_due > DPD90)
    figures["provision"] = ibis.coalesce(loans.provision.sum(), zero)
    figures["provision_count"] = loans.provision.count()
    return figures


# -- the report -------------------------------------------------------------------------


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """Exact quotient of two sums; ``None`` when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


def format_ratio(value: Decimal | None) -> str | None:
    """Half-up to six places, as the decimal string written to output (no ``-0.000000``)."""
    if value is None:
        return None
    shown = round_half_up(value, RATIO_PLACES)
    return f"{shown.copy_abs() if shown == 0 else shown:f}"


@dataclass(frozen=True)
class QualityFigures:
    """The §2 figures of one group at one snapshot, exact."""

    loans: int
    balance: Decimal
    npl_balance: Decimal
    npl_loans: int
    by_class: dict[str, Decimal]
    overdue_balance: Decimal
    dpd90_balance: Decimal
    provision: Decimal
    provision_count: int

    @classmethod
    def zero(cls) -> QualityFigures:
        """A group that holds nothing."""
        nothing = Decimal("0.00")
        return cls(
            0,
            nothing,
            nothing,
            0,
            dict.fromkeys(CLASS_NAMES, nothing),
            nothing,
            nothing,
            nothing,
            0,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> QualityFigures:
        """From one row of ``asset_quality``."""
        return cls(
            loans=int(row["loans"]),
            balance=Decimal(row["balance"]),
            npl_balance=Decimal(row["npl_balance"]),
            npl_loans=int(row["npl_loans"]),
            by_class={n: Decimal(row[c]) for n, c in CLASS_BALANCE_COLUMNS.items()},
            overdue_balance=Decimal(row["overdue_balance"]),
            dpd90_balance=Decimal(row["dpd90_balance"]),
            provision=Decimal(row["provision"]),
            provision_count=int(row["provision_count"]),
        )

    @property
    def npl_ratio(self) -> Decimal | None:
        """NPL balance over balance, unrounded."""
        return ratio(self.npl_balance, self.balance)

    @property
    def provision_coverage(self) -> Decimal | None:
        """Provisions over NPL balance; ``None`` without provision values or without NPL."""
        if self.provision_count == 0:
            return None
        return ratio(self.provision, self.npl_balance)


def choose_baseline(
    session: Analytics, as_of: date, baseline: date | None
) -> tuple[date | None, list[str]]:
    """The baseline month (default: previous December) and a warning when the default is absent.

    A baseline asked for explicitly that is not imported is a ``UsageError``.
    """
    if baseline is not None:
        session.require_month(baseline, what=translatable("baseline"))
        if baseline > as_of:
            raise UsageError(
                translatable(
                    "baseline {baseline} is after {month}",
                    baseline=month_label(baseline),
                    month=month_label(as_of),
                )
            )
        return baseline, []
    default = previous_december(as_of)
    if default in set(session.months()):
        return default, []
    return None, [missing_baseline_warning(default)]


def missing_baseline_warning(default: date) -> str:
    """What a report says when its default baseline (the previous December) is not imported."""
    return translatable(
        "baseline {month} (the previous December) is not imported: baseline figures, "
        "changes and double reduction are left empty",
        month=month_label(default),
    )
