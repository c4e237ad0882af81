"""The figure reports as typed results: asset quality, NPL movement and migration.

Each builder runs the analytics' Ibis functions on a session and returns a frozen dataclass
holding exact values — ``Decimal`` money and ratios (unrounded), dates, codes — never text.
The faces format them for people (``npldesk.core.numbers``, in the reader's language); each
result's ``as_json()`` is the one machine-readable form (``docs/commands.md``): English keys and
codes, money and ratios as decimal strings rounded half-up (docs/figures.md §6), the same in every
language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from npldesk.analytics.groups import KEY, Grouping, resolve_grouping
from npldesk.analytics.migration import (
    BASES,
    CLASS_STATES,
    EXITS,
    MigrationRate,
    bucket_set,
    exit_routes,
    format_rate,
    migration_flows,
    migration_rates,
    own_name,
    roll_rates,
)
from npldesk.analytics.movement import (
    GROUP_LINES,
    LINES,
    identity_holds,
    movement_span,
    npl_movement_period,
)
from npldesk.analytics.quality import (
    QualityFigures,
    asset_quality_by_month,
    choose_baseline,
    format_ratio,
    missing_baseline_warning,
)
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import format_money
from npldesk.core.months import month_label, month_range, previous_december
from npldesk.tape.org import load_org


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class SnapshotSource:
    """One snapshot a figure was computed from: its month, file, SHA-256 and import."""

    as_of: date
    source: str | None
    sha256: str | None
    import_id: str | None

    @classmethod
    def of(cls, session: Analytics, months: Sequence[date]) -> tuple[SnapshotSource, ...]:
        return tuple(
            cls(
                as_of=date.fromisoformat(entry["as_of"]),
                source=entry.get("source"),
                sha256=entry.get("sha256"),
                import_id=entry.get("import_id"),
            )
            for entry in session.lineage(list(months))
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "sha256": self.sha256,
            "import_id": self.import_id,
        }


# -- asset quality ------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityLine:
    """The §2 figures of one group (or the whole book) at a month against its baseline."""

    current: QualityFigures
    baseline: QualityFigures | None

    @property
    def loans(self) -> int:
        return self.current.loans

    @property
    def balance(self) -> Decimal:
        return self.current.balance

    @property
    def npl_balance(self) -> Decimal:
        return self.current.npl_balance

    @property
    def npl_ratio(self) -> Decimal | None:
        return self.current.npl_ratio

    @property
    def npl_loans(self) -> int:
        return self.current.npl_loans

    @property
    def by_class(self) -> dict[str, Decimal]:
        return self.current.by_class

    @property
    def overdue_balance(self) -> Decimal:
        return self.current.overdue_balance

    @property
    def dpd90_balance(self) -> Decimal:
        return self.current.dpd90_balance

    @property
    def provision_coverage(self) -> Decimal | None:
        return self.current.provision_coverage

    @property
    def baseline_balance(self) -> Decimal | None:
        return None if self.baseline is None else self.baseline.balance

    @property
    def baseline_npl_balance(self) -> Decimal | None:
        return None if self.baseline is None else self.baseline.npl_balance

    @property
    def baseline_npl_ratio(self) -> Decimal | None:
        return None if self.baseline is None else self.baseline.npl_ratio

    @property
    def npl_balance_change(self) -> Decimal | None:
        if self.baseline is None:
            return None
        return self.current.npl_balance - self.baseline.npl_balance

    @property
    def npl_ratio_change(self) -> Decimal | None:
        """The difference of the unrounded ratios (docs/figures.md §6)."""
        if self.baseline is None or self.npl_ratio is None or self.baseline_npl_ratio is None:
            return None
        return self.npl_ratio - self.baseline_npl_ratio

    @property
    def double_reduction(self) -> bool | None:
        """NPL balance and NPL ratio both lower than at the baseline (双降)."""
        balance_change, ratio_change = self.npl_balance_change, self.npl_ratio_change
        if balance_change is None or ratio_change is None:
            return None
        return balance_change < 0 and ratio_change < 0

    def as_json(self) -> dict[str, Any]:
        """The row's fields in the order of ``docs/commands.md``; baseline fields null without
        one."""
        return {
            "loans": self.loans,
            "balance": format_money(self.balance),
            "npl_balance": format_money(self.npl_balance),
            "npl_ratio": format_ratio(self.npl_ratio),
            "npl_loans": self.npl_loans,
            "by_class": {name: format_money(value) for name, value in self.by_class.items()},
            "overdue_balance": format_money(self.overdue_balance),
            "dpd90_balance": format_money(self.dpd90_balance),
            "provision_coverage": format_ratio(self.provision_coverage),
            "baseline_balance": format_money(self.baseline_balance),
            "baseline_npl_balance": format_money(self.baseline_npl_balance),
            "baseline_npl_ratio": format_ratio(self.baseline_npl_ratio),
            "npl_balance_change": format_money(self.npl_balance_change),
            "npl_ratio_change": format_ratio(self.npl_ratio_change),
            "double_reduction": self.double_reduction,
        }


@dataclass(frozen=True)
class QualityRow:
    """One group's line: its key (unit code, product, …) and name."""

    key: str | None
    name: str | None
    line: QualityLine

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name} | self.line.as_json()


@dataclass(frozen=True)
class QualityReport:
    """Asset quality at ``as_of`` against ``baseline``: one row per group, and the total."""

    as_of: date
    baseline: date | None
    by: str | None
    level: str | None
    rule_set: str
    rows: tuple[QualityRow, ...]
    total: QualityLine
    # The default baseline (the previous December) when it is not imported.
    missing_baseline: date | None
    snapshots: tuple[SnapshotSource, ...]

    @property
    def warnings(self) -> list[str]:
        if self.missing_baseline is None:
            return []
        return [missing_baseline_warning(self.missing_baseline)]

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "baseline": _iso(self.baseline),
            "by": self.by,
            "level": self.level,
            "rule_set": self.rule_set,
            "rows": [row.as_json() for row in self.rows],
            "total": self.total.as_json(),
            "warnings": [str(warning) for warning in self.warnings],
            "snapshots": [snapshot.as_json() for snapshot in self.snapshots],
        }


def _figures_by_month_and_key(
    session: Analytics, table: ir.Table, months: list[date]
) -> dict[date, dict[str | None, QualityFigures]]:
    found: dict[date, dict[str | None, QualityFigures]] = {month: {} for month in months}
    for row in session.rows(table):
        found[row["as_of"]][row[KEY]] = QualityFigures.from_row(row)
    return found


def _sort_key(key: str | None) -> tuple[bool, str]:
    return (key is None, key or "")


def _row_keys(
    grouping: Grouping,
    current: dict[str | None, QualityFigures],
    baseline: dict[str | None, QualityFigures] | None,
) -> list[str | None]:
    if grouping.rolled_up:
        return [unit.code for unit in grouping.shown_units()]
    keys = set(current) | set(baseline or {})
    return sorted(keys, key=_sort_key)


def quality_report(
    session: Analytics,
    as_of: date,
    *,
    by: str | None = None,
    level: str | None = None,
    baseline: date | None = None,
) -> QualityReport:
    """Asset quality at ``as_of`` against its baseline (default: the previous December)."""
    grouping = resolve_grouping(by, level, load_org(session.store) if by == "org_unit" else [])
    session.require_month(as_of)
    baseline_month, warnings = choose_baseline(session, as_of, baseline)
    months = [as_of] if baseline_month is None else [as_of, baseline_month]

    # The month and its baseline in one query each (the whole book, the groups).
    span = session.figures_span(months)
    by_month = _figures_by_month_and_key(session, asset_quality_by_month(span, by=None), months)
    totals = {month: by_month[month].get(None, QualityFigures.zero()) for month in months}
    rows: list[QualityRow] = []
    if grouping.column is not None:
        table = asset_quality_by_month(span, by=grouping.column, rollup=grouping.rollup())
        figures = _figures_by_month_and_key(session, table, months)
        current = figures[as_of]
        base = figures.get(baseline_month) if baseline_month is not None else None
        for key in _row_keys(grouping, current, base):
            base_figures = None if base is None else base.get(key, QualityFigures.zero())
            line = QualityLine(current.get(key, QualityFigures.zero()), base_figures)
            rows.append(QualityRow(key, grouping.name_of(key), line))
    return QualityReport(
        as_of=as_of,
        baseline=baseline_month,
        by=grouping.column,
        level=grouping.level,
        rule_set=session.params.name,
        rows=tuple(rows),
        total=QualityLine(
            totals[as_of], None if baseline_month is None else totals[baseline_month]
        ),
        missing_baseline=None if not warnings else previous_december(as_of),
        snapshots=SnapshotSource.of(session, sorted(set(months))),
    )


@dataclass(frozen=True)
class TrendPoint:
    """One month-end of a trend: the group's §2 figures at that month."""

    as_of: date
    figures: QualityFigures

    @property
    def npl_balance(self) -> Decimal:
        return self.figures.npl_balance

    @property
    def npl_ratio(self) -> Decimal | None:
        return self.figures.npl_ratio

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "balance": format_money(self.figures.balance),
            "npl_balance": format_money(self.figures.npl_balance),
            "npl_ratio": format_ratio(self.figures.npl_ratio),
        }


@dataclass(frozen=True)
class QualityTrend:
    """Month-end NPL balance and ratio of the whole book (key ``None``) and of every unit
    (rolled up), over the imported months from ``start`` to ``end``."""

    start: date
    end: date
    rule_set: str
    points: Mapping[str | None, tuple[TrendPoint, ...]]
    snapshots: tuple[SnapshotSource, ...]

    def of(self, key: str | None) -> tuple[TrendPoint, ...]:
        """The trend of one unit (``None``: the whole book); empty for a unit not held."""
        return self.points.get(key, ())

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "rule_set": self.rule_set,
            "total": [point.as_json() for point in self.of(None)],
            "units": {
                key: [point.as_json() for point in points]
                for key, points in self.points.items()
                if key is not None
            },
            "snapshots": [snapshot.as_json() for snapshot in self.snapshots],
        }


def quality_trend(session: Analytics, start: date, end: date) -> QualityTrend:
    """The month-end trend from ``start`` to ``end`` over the months imported between them
    (a month not imported is left out, not an error: a trend shows what there is)."""
    session.require_month(end)
    months = [month for month in session.months() if start <= month <= end]
    grouping = resolve_grouping("org_unit", None, load_org(session.store))
    span = session.figures_span(months)
    found = _figures_by_month_and_key(session, asset_quality_by_month(span, by=None), months)
    by_unit = _figures_by_month_and_key(
        session, asset_quality_by_month(span, by=grouping.column, rollup=grouping.rollup()), months
    )
    keys: list[str | None] = [None, *(unit.code for unit in grouping.shown_units())]
    points = {
        key: tuple(
            TrendPoint(
                month, (found if key is None else by_unit)[month].get(key, QualityFigures.zero())
            )
            for month in months
        )
        for key in keys
    }
    return QualityTrend(
        start=start,
        end=end,
        rule_set=session.params.name,
        points=points,
        snapshots=SnapshotSource.of(session, months),
    )


# -- NPL movement -------------------------------------------------------------------------


@dataclass(frozen=True)
class MovementLines:
    """The §3 lines of one group over a period, exact; the whole book has no moves."""

    opening: Decimal
    inflow: Decimal
    increase: Decimal
    cash: Decimal
    upgrade: Decimal
    write_off: Decimal
    transfer: Decimal
    foreclosure: Decimal
    unexplained: Decimal
    closing: Decimal
    moved_in: Decimal
    moved_out: Decimal

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MovementLines:
        return cls(**{name: Decimal(row[name]) for name in GROUP_LINES})

    @classmethod
    def zero(cls) -> MovementLines:
        return cls(**dict.fromkeys(GROUP_LINES, Decimal("0.00")))

    def line(self, name: str) -> Decimal:
        """A line by its code (``opening``, ``cash``, …)."""
        if name not in GROUP_LINES:
            raise KeyError(name)
        value: Decimal = getattr(self, name)
        return value

    @property
    def identity_holds(self) -> bool:
        """closing = opening + inflows − outflows, to the fen (§3)."""
        return identity_holds({f.name: getattr(self, f.name) for f in fields(self)})

    def as_json(self, names: Sequence[str] = GROUP_LINES) -> dict[str, str | None]:
        return {name: format_money(self.line(name)) for name in names}


@dataclass(frozen=True)
class MovementRow:
    key: str | None
    name: str | None
    lines: MovementLines

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name} | self.lines.as_json()


@dataclass(frozen=True)
class MovementReport:
    """The NPL movement from ``start`` to ``end``: the whole book and, when grouped, each group.

    ``identity_breaks`` names the rows (``total``, a key, or ``(none)``) whose lines do not add
    up to the fen; the faces refuse to present such a table as correct."""

    start: date
    end: date
    period: str
    by: str | None
    level: str | None
    rule_set: str
    total: MovementLines
    rows: tuple[MovementRow, ...]
    identity_breaks: tuple[str, ...]
    snapshots: tuple[SnapshotSource, ...]

    @property
    def identity_holds(self) -> bool:
        return not self.identity_breaks

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "period": self.period,
            "by": self.by,
            "level": self.level,
            "rule_set": self.rule_set,
            "total": self.total.as_json(LINES),
            "rows": [row.as_json() for row in self.rows],
            "identity_holds": self.identity_holds,
            "identity_breaks": list(self.identity_breaks),
            "snapshots": [snapshot.as_json() for snapshot in self.snapshots],
        }


def movement_report(
    session: Analytics,
    as_of: date,
    *,
    period: str | None = "month",
    start: date | None = None,
    by: str | None = None,
    level: str | None = None,
) -> MovementReport:
    """The NPL movement up to ``as_of``, the identity checked for the total and every row.

    Every month of the span must be imported (a gap is a ``UsageError`` naming the months).
    """
    grouping = resolve_grouping(by, level, load_org(session.store) if by == "org_unit" else [])
    first, period_name = movement_span(as_of, period=period, start=start)
    session.require_month(as_of)
    months = session.require_span(first, as_of)
    session.figures(as_of)  # classifies every month of the span in one pass
    snapshots = [session.figures(month) for month in months]

    def period_table(column: str | None, units: ir.Table | None) -> ir.Table:
        return npl_movement_period(snapshots, by=column, rollup=units)

    total = MovementLines.from_row(session.rows(period_table(None, None))[0])
    breaks = [] if total.identity_holds else ["total"]
    rows: list[MovementRow] = []
    if grouping.column is not None:
        found = {
            row[KEY]: MovementLines.from_row(row)
            for row in session.rows(period_table(grouping.column, grouping.rollup()))
        }
        if grouping.rolled_up:
            keys: list[str | None] = [unit.code for unit in grouping.shown_units()]
        else:
            keys = sorted(found, key=_sort_key)
        for key in keys:
            lines = found.get(key, MovementLines.zero())
            if not lines.identity_holds:
                breaks.append("(none)" if key is None else key)
            rows.append(MovementRow(key, grouping.name_of(key), lines))
    return MovementReport(
        start=first,
        end=as_of,
        period=period_name,
        by=grouping.column,
        level=grouping.level,
        rule_set=session.params.name,
        total=total,
        rows=tuple(rows),
        identity_breaks=tuple(breaks),
        snapshots=SnapshotSource.of(session, months),
    )


# -- migration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationCell:
    """Loans that went from one state to another, and their balance at the start."""

    count: int
    balance: Decimal

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "balance": format_money(self.balance)}


@dataclass(frozen=True)
class MigrationReport:
    """The migration matrix from ``start`` to ``end`` (rows: state at the start; columns:
    state at the end or the way the loan left) and, on the class basis, the five rates."""

    start: date
    end: date
    basis: str
    buckets: str | None
    states: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[str, str], MigrationCell]
    rates: Mapping[str, MigrationRate] | None
    snapshots: tuple[SnapshotSource, ...]

    def cell(self, source: str, target: str) -> MigrationCell:
        return self.cells[(source, target)]

    def row_balance(self, source: str) -> Decimal:
        return sum((self.cell(source, t).balance for t in self.columns), Decimal(0))

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "basis": self.basis,
        }
        if self.buckets is not None:
            document["buckets"] = self.buckets
        document["matrix"] = {
            source: {target: self.cell(source, target).as_json() for target in self.columns}
            for source in self.states
        }
        if self.rates is not None:
            document["rates"] = {name: format_rate(r.rate) for name, r in self.rates.items()}
            document["rate_inputs"] = {
                name: {
                    "cohort_balance": format_money(r.cohort_balance),
                    "reduction": format_money(r.reduction),
                    "migrated": format_money(r.migrated),
                }
                for name, r in self.rates.items()
            }
        document["snapshots"] = [snapshot.as_json() for snapshot in self.snapshots]
        return document


def _matrix(
    flows: Sequence[Mapping[str, Any]], rows: Sequence[str], columns: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...], dict[tuple[str, str], MigrationCell]]:
    """Every row and column named (zeros where no loan went), then any state found in
    ``flows`` but not named, in name order."""
    found: dict[tuple[str, str], MigrationCell] = {}
    extra_rows: list[str] = []
    extra_columns: list[str] = []
    for flow in flows:
        source, target = str(flow["from_state"]), str(flow["to_state"])
        balance = Decimal(0) if flow["balance"] is None else Decimal(flow["balance"])
        found[(source, target)] = MigrationCell(int(flow["loans"]), balance)
        if source not in rows and source not in extra_rows:
            extra_rows.append(source)
        if target not in columns and target not in extra_columns:
            extra_columns.append(target)
    states = (*rows, *sorted(extra_rows))
    targets = (*columns, *sorted(extra_columns))
    nothing = MigrationCell(0, Decimal(0))
    cells = {(s, t): found.get((s, t), nothing) for s in states for t in targets}
    return states, targets, cells


def migration_report(
    session: Analytics,
    start: date,
    end: date,
    basis: str = "class",
    buckets: str = "s71",
    units: Sequence[str] | None = None,
) -> MigrationReport:
    """The migration matrix and, on the class basis, the rates, from ``start`` to ``end``.

    Every month from ``start`` to ``end`` must be imported: the exit columns need each loan's
    row in the month it left, and a missing month would turn every exit into ``unexplained``.
    With ``units``, the cohort is the loans those units held at ``start``, followed wherever
    they went.
    """
    if basis not in BASES:
        raise UsageError(
            translatable(
                "unknown basis {basis!r}; known: {known}", basis=basis, known=", ".join(BASES)
            )
        )
    chosen = bucket_set(buckets)
    if start >= end:
        raise UsageError(
            translatable(
                "--from {start} must be before --to {end}: "
                "migration compares an earlier snapshot with a later one",
                start=month_label(start),
                end=month_label(end),
            )
        )
    session.require_month(start, what=translatable("--from month"))
    session.require_month(end, what=translatable("--to month"))
    months = session.require_span(start, end)
    start_figures = session.figures(start)
    if units is not None:
        start_figures = start_figures.filter(start_figures.org_unit.isin(list(units)))
    start_table = own_name(session, start_figures)
    end_table = own_name(session, session.figures(end))
    later = own_name(session, session.figures_span([m for m in months if m > start]))
    exits = exit_routes(start_table, later, t0=start, t1=end)
    rates: dict[str, MigrationRate] | None = None
    if basis == "class":
        flows = session.rows(migration_flows(start_table, end_table, exits))
        states, columns, cells = _matrix(flows, CLASS_STATES, [*CLASS_STATES, *EXITS])
        rates = migration_rates(flows)
    else:
        flows = session.rows(roll_rates(start_table, end_table, exits, buckets=chosen))
        states, columns, cells = _matrix(flows, chosen.labels, [*chosen.labels, *EXITS])
    return MigrationReport(
        start=start,
        end=end,
        basis=basis,
        buckets=None if basis == "class" else chosen.name,
        states=states,
        columns=columns,
        cells=cells,
        rates=rates,
        snapshots=SnapshotSource.of(session, list(month_range(start, end))),
    )
