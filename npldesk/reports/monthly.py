"""The monthly asset-quality report (docs/reports.md): one typed result for a unit and a month.

``monthly_report`` gathers the figures the other commands compute — asset quality by unit
(``npldesk quality``), the NPL movement (``npldesk movement``), migration against the previous
December (``npldesk migration``) and the new-NPL list (``npldesk list new-npl``) — for one unit
of the organisation tree (the bank by default) and the units directly below it. Nothing is
computed twice or re-read from formatted text: the renderers (``reports.render``) only format
what this result holds, so the report's figures are the commands' figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from npldesk.analytics.groups import KEY, resolve_grouping
from npldesk.analytics.lists import run_list
from npldesk.analytics.org import ancestors_of, units_below
from npldesk.analytics.quality import asset_quality_by_month
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import format_money
from npldesk.core.months import month_label, previous_december, previous_month_end
from npldesk.reports.figures import (
    MigrationReport,
    MovementLines,
    MovementReport,
    QualityLine,
    QualityReport,
    QualityRow,
    SnapshotSource,
    migration_report,
    movement_report,
    quality_report,
)
from npldesk.reports.pii import mask_name
from npldesk.tape.org import OrgUnit, load_org

TOP_HOUSEHOLDS = 10


@dataclass(frozen=True)
class TrendPoint:
    """The unit's month-end NPL balance and ratio (§3 of the report)."""

    as_of: date
    balance: Decimal
    npl_balance: Decimal
    npl_ratio: Decimal | None


@dataclass(frozen=True)
class Tally:
    """New NPL loans of one group (a unit, a product, a household): count and balance."""

    key: str
    name: str
    loans: int
    balance: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "loans": self.loans,
            "balance": format_money(self.balance),
        }


@dataclass(frozen=True)
class NewNpl:
    """Loans NPL at the month that were not at the month before (``npldesk list new-npl``)."""

    start: date
    loans: int
    balance: Decimal
    by_unit: tuple[Tally, ...]
    by_product: tuple[Tally, ...]
    # The largest households, their names masked (a report is read beyond the case team).
    top_households: tuple[Tally, ...]


@dataclass(frozen=True)
class EarlyWarning:
    """Loans that become NPL within 30 days unless paid (``npldesk list early-warning``, the
    rows flagged ``becomes_npl_within_30_days``), by the unit directly below."""

    loans: int
    balance: Decimal
    by_unit: tuple[Tally, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "loans": self.loans,
            "balance": format_money(self.balance),
            "by_unit": [t.as_json() for t in self.by_unit],
        }


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the monthly report shows, exact; ``as_json`` is its machine form."""

    as_of: date
    unit: OrgUnit
    baseline: date | None
    rule_set: str
    headline: QualityLine
    by_unit: tuple[QualityRow, ...]
    trend: tuple[TrendPoint, ...]
    movement_month: MovementLines
    movement_ytd: MovementLines | None
    movement_ytd_start: date | None
    migration: MigrationReport | None
    new_npl: NewNpl | None
    early_warning: EarlyWarning
    snapshots: tuple[SnapshotSource, ...]
    generated_at: datetime
    generated_by: str

    @property
    def achieved(self) -> tuple[QualityRow, ...]:
        return tuple(row for row in self.by_unit if row.line.double_reduction)

    @property
    def missed(self) -> tuple[QualityRow, ...]:
        return tuple(row for row in self.by_unit if row.line.double_reduction is False)

    def as_json(self) -> dict[str, Any]:
        new = self.new_npl
        return {
            "as_of": self.as_of.isoformat(),
            "unit": {"code": self.unit.code, "name": self.unit.name, "level": self.unit.level},
            "baseline": None if self.baseline is None else self.baseline.isoformat(),
            "rule_set": self.rule_set,
            "headline": self.headline.as_json(),
            "by_unit": [row.as_json() for row in self.by_unit],
            "movement_month": self.movement_month.as_json(),
            "movement_ytd": None if self.movement_ytd is None else self.movement_ytd.as_json(),
            "migration_rates": None
            if self.migration is None or self.migration.rates is None
            else self.migration.as_json()["rates"],
            "new_npl": None
            if new is None
            else {
                "loans": new.loans,
                "balance": format_money(new.balance),
                "by_unit": [t.as_json() for t in new.by_unit],
                "by_product": [t.as_json() for t in new.by_product],
                "top_households": [t.as_json() for t in new.top_households],
            },
            "early_warning": self.early_warning.as_json(),
            "snapshots": [s.as_json() for s in self.snapshots],
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "generated_by": self.generated_by,
        }


def _unit(units: list[OrgUnit], code: str | None) -> OrgUnit:
    if not units:
        raise UsageError(
            translatable("no organisation file imported: `npldesk org import FILE` first")
        )
    if code is None:
        return next(u for u in units if u.parent_code is None)
    units_below(units, code)  # an unknown code is refused, naming the units
    return next(u for u in units if u.code == code)


def _below(units: list[OrgUnit], top: OrgUnit) -> set[str]:
    """The unit and every unit under it."""
    return set(units_below(units, top.code))


def _tallies(rows: Sequence[dict[str, Any]], key: str, names: dict[str, str]) -> tuple[Tally, ...]:
    found: dict[str, tuple[int, Decimal]] = {}
    for row in rows:
        group = str(row.get(key) or "")
        loans, balance = found.get(group, (0, Decimal("0.00")))
        found[group] = (loans + 1, balance + Decimal(row["principal_balance"]))
    ordered = sorted(found.items(), key=lambda item: (-item[1][1], item[0]))
    return tuple(Tally(k, names.get(k, k), n, b) for k, (n, b) in ordered)


def _child_of(units: list[OrgUnit], top: OrgUnit) -> dict[str, str]:
    """Each unit under ``top`` (and ``top``) → the unit directly below ``top`` it sits under
    (``top`` itself for its own loans)."""
    chains = ancestors_of(units)
    children = {u.code for u in units if u.parent_code == top.code}
    return {
        code: next((c for c in chains[code] if c in children), top.code)
        for code in _below(units, top)
    }


def _early_warning(
    session: Analytics, as_of: date, units: list[OrgUnit], top: OrgUnit
) -> EarlyWarning:
    child_of = _child_of(units, top)
    result = run_list(session, "early-warning", as_of)
    rows = [
        row | {"_child": child_of[row["org_unit"]]}
        for row in result.rows
        if row.get("org_unit") in child_of and row.get("becomes_npl_within_30_days")
    ]
    return EarlyWarning(
        loans=len(rows),
        balance=sum((Decimal(row["principal_balance"]) for row in rows), Decimal("0.00")),
        by_unit=_tallies(rows, "_child", {u.code: u.name for u in units}),
    )


def _new_npl(session: Analytics, as_of: date, units: list[OrgUnit], top: OrgUnit) -> NewNpl | None:
    start = previous_month_end(as_of)
    if start not in set(session.months()):
        return None
    below = _below(units, top)
    result = run_list(session, "new-npl", as_of, start=start)
    rows = [row for row in result.rows if row.get("org_unit") in below]
    # Each loan counts for the child unit it sits under (or the unit itself).
    chains = ancestors_of(units)
    children = {u.code: u.name for u in units if u.parent_code == top.code}
    child_of = {code: next((c for c in chains[code] if c in children), top.code) for code in below}
    names = {u.code: u.name for u in units}
    by_unit = _tallies(
        [row | {"_child": child_of[row["org_unit"]]} for row in rows], "_child", names
    )
    households = {
        str(row["borrower_id"]): mask_name(row.get("borrower_name")) or str(row["borrower_id"])
        for row in rows
    }
    return NewNpl(
        start=start,
        loans=len(rows),
        balance=sum((Decimal(row["principal_balance"]) for row in rows), Decimal("0.00")),
        by_unit=by_unit,
        by_product=_tallies(rows, "product", {}),
        top_households=_tallies(rows, "borrower_id", households)[:TOP_HOUSEHOLDS],
    )


def _trend(session: Analytics, as_of: date, units: list[OrgUnit], top: OrgUnit) -> list[TrendPoint]:
    """Month ends since the start of last year, those imported."""
    first = date(as_of.year - 1, 1, 31)
    months = [m for m in session.months() if first <= m <= as_of]
    grouping = resolve_grouping("org_unit", None, units)
    rollup = grouping.rollup()
    assert rollup is not None
    table = asset_quality_by_month(
        session.figures_span(months),
        by="org_unit",
        rollup=rollup.filter(rollup.unit == top.code),
    )
    points = []
    for row in session.rows(table):
        if row[KEY] != top.code:
            continue
        balance, npl = Decimal(row["balance"]), Decimal(row["npl_balance"])
        ratio = None if balance == 0 else npl / balance
        points.append(TrendPoint(row["as_of"], balance, npl, ratio))
    return sorted(points, key=lambda p: p.as_of)


@dataclass(frozen=True)
class SharedFigures:
    """The figures every unit's report of a month reads whole: asset quality and the NPL
    movement (month and year to date) by unit. The month-end builds the report of every unit
    from one of these, computed once (the movement is most of a report's cost)."""

    as_of: date
    quality: QualityReport
    movement_month: MovementReport
    movement_ytd: MovementReport | None


def shared_figures(session: Analytics, as_of: date) -> SharedFigures:
    """The month's figures by unit that ``monthly_report`` reads for any unit."""
    session.require_month(as_of)
    ytd = None
    if previous_december(as_of) in set(session.months()):
        ytd = movement_report(session, as_of, period="ytd", by="org_unit")
    return SharedFigures(
        as_of=as_of,
        quality=quality_report(session, as_of, by="org_unit"),
        movement_month=movement_report(session, as_of, period="month", by="org_unit"),
        movement_ytd=ytd,
    )


def monthly_report(
    session: Analytics,
    as_of: date,
    *,
    unit: str | None = None,
    generated_by: str,
    generated_at: datetime,
    shared: SharedFigures | None = None,
) -> MonthlyReport:
    """The monthly report of ``unit`` (default: the bank, the root of the tree) at ``as_of``;
    ``shared``: the month's figures by unit when computed already (``shared_figures``)."""
    session.require_month(as_of)
    if shared is not None and shared.as_of != as_of:
        raise ValueError(f"figures of {shared.as_of} given for a report of {as_of}")
    units = load_org(session.store)
    top = _unit(units, unit)
    figures = shared if shared is not None else shared_figures(session, as_of)
    quality = figures.quality
    rows = {row.key: row for row in quality.rows}
    headline = rows[top.code].line
    children = [u.code for u in units if u.parent_code == top.code]
    by_unit = sorted(
        (rows[code] for code in children),
        key=lambda r: (r.line.npl_ratio is None, r.line.npl_ratio or Decimal(0), r.key or ""),
    )
    month_lines = next(r.lines for r in figures.movement_month.rows if r.key == top.code)
    ytd_lines: MovementLines | None = None
    ytd_start: date | None = None
    baseline = previous_december(as_of)
    months = set(session.months())
    if figures.movement_ytd is not None:
        ytd_lines = next(r.lines for r in figures.movement_ytd.rows if r.key == top.code)
        ytd_start = figures.movement_ytd.start
    migration = None
    if baseline in months:
        below = None if top.parent_code is None else sorted(_below(units, top))
        migration = migration_report(session, baseline, as_of, units=below)
    trend = _trend(session, as_of, units, top)
    used = sorted({*(p.as_of for p in trend), as_of, *([baseline] if baseline in months else [])})
    return MonthlyReport(
        as_of=as_of,
        unit=top,
        baseline=quality.baseline,
        rule_set=session.params.name,
        headline=headline,
        by_unit=tuple(by_unit),
        trend=tuple(trend),
        movement_month=month_lines,
        movement_ytd=ytd_lines,
        movement_ytd_start=ytd_start,
        migration=migration,
        new_npl=_new_npl(session, as_of, units, top),
        early_warning=_early_warning(session, as_of, units, top),
        snapshots=SnapshotSource.of(session, used),
        generated_at=generated_at,
        generated_by=generated_by,
    )


def report_title(report: MonthlyReport) -> str:
    """The report's title, marked: the renderers say it in the reader's language."""
    return translatable(
        "{unit} asset-quality report {month}",
        unit=report.unit.name,
        month=month_label(report.as_of),
    )
