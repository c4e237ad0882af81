"""The monthly asset-quality report (docs/reports.md): one typed result for a unit and a month.

``monthly_report`` gathers the figures the other commands compute — asset quality by unit
(``npldesk quality``), the NPL movement (``npldesk movement``), migration against the previous
December (``npldesk migration``) and the new-NPL list (``npldesk list new-npl``) — for one unit
of the organisation tree (the bank by default) and the units directly below it. Nothing is
computed twice or re-read from formatted text: the renderers (``reports.render``) only format
what this result holds, so the report's figures are the commands' figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from npldesk.casework.models import Person

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
class RecoveryLine:
    """Recoveries under one unit directly below the report's (or the unit itself) from one
    source, before or after write-off: in the month and the year to date."""

    key: str
    name: str
    source: str
    after_write_off: bool
    month: Decimal
    year_to_date: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "source": self.source,
            "after_write_off": self.after_write_off,
            "month": format_money(self.month),
            "year_to_date": format_money(self.year_to_date),
        }


@dataclass(frozen=True)
class Casework:
    """§8: the casework of the unit's subtree as a casework reader sees it (the selector
    ``casework_figures``): open cases by state, strategy and tier (codes → counts), deadlines
    past, recoveries by unit below and source, legal cases by stage."""

    open_cases: int
    by_state: dict[str, int]
    by_strategy: dict[str, int]
    by_tier: dict[str, int]
    deadlines_past: int
    recoveries: tuple[RecoveryLine, ...]
    legal_by_stage: dict[str, int]

    def total(self, period: str, after_write_off: bool | None = None) -> Decimal:
        """The recoveries of ``period`` (``month`` or ``year_to_date``), all or one side of
        write-off."""
        return sum(
            (
                getattr(line, period)
                for line in self.recoveries
                if after_write_off is None or line.after_write_off == after_write_off
            ),
            Decimal("0.00"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "open_cases": self.open_cases,
            "by_state": self.by_state,
            "by_strategy": self.by_strategy,
            "by_tier": self.by_tier,
            "deadlines_past": self.deadlines_past,
            "recoveries": [line.as_json() for line in self.recoveries],
            "recoveries_month": format_money(self.total("month")),
            "recoveries_year_to_date": format_money(self.total("year_to_date")),
            "legal_by_stage": self.legal_by_stage,
        }


@dataclass(frozen=True)
class OutlookLine:
    """One unit's row of the month's plan (``npldesk plan --by org_unit``): the year-end NPL
    balance (P10, P50, P90) and ratio (P50), the probability of double reduction, tracking and
    the required reduction (the gap)."""

    key: str
    name: str
    npl_p10: Decimal
    npl_p50: Decimal
    npl_p90: Decimal
    ratio_p50: Decimal | None
    probability: Decimal | None
    tracking: str | None
    required_reduction: Decimal | None

    @classmethod
    def of(cls, row: Mapping[str, Any], name: str) -> OutlookLine:
        def number(value: Any) -> Decimal | None:
            return None if value is None else Decimal(value)

        npl = row["forecast_npl_balance"]
        return cls(
            key=str(row.get("key") or ""),
            name=name,
            npl_p10=Decimal(npl["p10"]),
            npl_p50=Decimal(npl["p50"]),
            npl_p90=Decimal(npl["p90"]),
            ratio_p50=number(row["forecast_npl_ratio"]["p50"]),
            probability=number(row["probability_double_reduction"]),
            tracking=row["tracking"],
            required_reduction=number(row["required_reduction"]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "npl_p10": format_money(self.npl_p10),
            "npl_p50": format_money(self.npl_p50),
            "npl_p90": format_money(self.npl_p90),
            "ratio_p50": None if self.ratio_p50 is None else f"{self.ratio_p50:f}",
            "probability_double_reduction": (
                None if self.probability is None else f"{self.probability:f}"
            ),
            "tracking": self.tracking,
            "required_reduction": (
                None if self.required_reduction is None else format_money(self.required_reduction)
            ),
        }


@dataclass(frozen=True)
class Outlook:
    """§9: the planner's table for the unit and each unit directly below it, from the plan
    document the caller passes (the month-end run's, or ``npldesk plan``'s)."""

    year_end: date
    baseline: date | None
    draws: int
    unit: OutlookLine | None
    rows: tuple[OutlookLine, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "year_end": self.year_end.isoformat(),
            "baseline": None if self.baseline is None else self.baseline.isoformat(),
            "draws": self.draws,
            "unit": None if self.unit is None else self.unit.as_json(),
            "rows": [row.as_json() for row in self.rows],
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
    # §8 without a casework database (or reader) to read, and §9 without a plan: ``None``.
    casework: Casework | None = None
    outlook: Outlook | None = None

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
            "casework": None if self.casework is None else self.casework.as_json(),
            "outlook": None if self.outlook is None else self.outlook.as_json(),
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
    listed: Sequence[dict[str, Any]], units: list[OrgUnit], top: OrgUnit
) -> EarlyWarning:
    """§7 from the early-warning list of the whole book (``npldesk list early-warning``)."""
    child_of = _child_of(units, top)
    rows = [
        row | {"_child": child_of[row["org_unit"]]}
        for row in listed
        if row.get("org_unit") in child_of and row.get("becomes_npl_within_30_days")
    ]
    return EarlyWarning(
        loans=len(rows),
        balance=sum((Decimal(row["principal_balance"]) for row in rows), Decimal("0.00")),
        by_unit=_tallies(rows, "_child", {u.code: u.name for u in units}),
    )


def _new_npl(
    listed: Sequence[dict[str, Any]] | None, start: date, units: list[OrgUnit], top: OrgUnit
) -> NewNpl | None:
    """§6 from the new-NPL list of the whole book (``npldesk list new-npl``); none without the
    month before."""
    if listed is None:
        return None
    below = _below(units, top)
    rows = [row for row in listed if row.get("org_unit") in below]
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


def _trend(session: Analytics, as_of: date, units: list[OrgUnit]) -> dict[str, list[TrendPoint]]:
    """Month ends since the start of last year, those imported, of every unit of the tree."""
    first = date(as_of.year - 1, 1, 31)
    months = [m for m in session.months() if first <= m <= as_of]
    grouping = resolve_grouping("org_unit", None, units)
    rollup = grouping.rollup()
    assert rollup is not None
    table = asset_quality_by_month(session.figures_span(months), by="org_unit", rollup=rollup)
    points: dict[str, list[TrendPoint]] = {}
    for row in session.rows(table):
        balance, npl = Decimal(row["balance"]), Decimal(row["npl_balance"])
        ratio = None if balance == 0 else npl / balance
        points.setdefault(str(row[KEY]), []).append(TrendPoint(row["as_of"], balance, npl, ratio))
    return {code: sorted(found, key=lambda p: p.as_of) for code, found in points.items()}


def _casework(reader: Person, as_of: date, units: list[OrgUnit], top: OrgUnit) -> Casework | None:
    """§8 through the casework selector, as ``reader`` may see it; ``None`` where the
    casework does not know the unit (its units come from the organisation file by the sync)."""
    from npldesk.casework.errors import NotFound
    from npldesk.casework.selectors import casework_figures

    try:
        found = casework_figures(reader, unit=top.code, as_of=as_of)
    except NotFound:
        return None
    child_of = _child_of(units, top)
    names = {u.code: u.name for u in units}
    lines: dict[tuple[str, str, bool], list[Decimal]] = {}
    for tally in found.recoveries:
        key = (child_of.get(tally.unit, top.code), tally.source, tally.after_write_off)
        month, ytd = lines.get(key, [Decimal("0.00"), Decimal("0.00")])
        lines[key] = [month + tally.month, ytd + tally.year_to_date]
    recoveries = tuple(
        RecoveryLine(code, names.get(code, code), source, after, month, ytd)
        for (code, source, after), (month, ytd) in sorted(
            lines.items(), key=lambda item: (-item[1][1], item[0])
        )
    )
    return Casework(
        open_cases=found.open_cases,
        by_state=found.open_by_state,
        by_strategy=found.open_by_strategy,
        by_tier=found.open_by_tier,
        deadlines_past=found.deadlines_past,
        recoveries=recoveries,
        legal_by_stage=found.legal_by_stage,
    )


def _outlook(plan: Mapping[str, Any], units: list[OrgUnit], top: OrgUnit) -> Outlook:
    rows = {row["key"]: row for row in plan["rows"]}
    names = {u.code: u.name for u in units}
    children = [u.code for u in units if u.parent_code == top.code]
    own = rows.get(top.code)
    return Outlook(
        year_end=date.fromisoformat(plan["year_end"]),
        baseline=None if plan["baseline"] is None else date.fromisoformat(plan["baseline"]),
        draws=int(plan["draws"]),
        unit=None if own is None else OutlookLine.of(own, top.name),
        rows=tuple(OutlookLine.of(rows[code], names[code]) for code in children if code in rows),
    )


@dataclass(frozen=True)
class TreeFigures:
    """The month's figures of every unit of the tree (``npldesk quality`` and ``npldesk
    movement`` by org_unit): each unit's report takes its rows, so the reports of the bank and
    every branch compute them once."""

    as_of: date
    quality: QualityReport
    month: MovementReport
    ytd: MovementReport | None
    trend: dict[str, list[TrendPoint]]
    # The lists' rows of the whole book (new NPL: none without the month before).
    new_npl: list[dict[str, Any]] | None
    early_warning: list[dict[str, Any]]


def tree_figures(session: Analytics, as_of: date) -> TreeFigures:
    """Asset quality and the NPL movement of the month and the year to date (when the previous
    December is imported), the trend, by every unit of the tree; the new-NPL and early-warning
    lists of the whole book."""
    months = set(session.months())
    units = load_org(session.store)
    ytd = None
    if previous_december(as_of) in months:
        ytd = movement_report(session, as_of, period="ytd", by="org_unit")
    start = previous_month_end(as_of)
    new_npl = None
    if start in months:
        new_npl = list(run_list(session, "new-npl", as_of, start=start).rows)
    return TreeFigures(
        as_of=as_of,
        quality=quality_report(session, as_of, by="org_unit"),
        month=movement_report(session, as_of, period="month", by="org_unit"),
        ytd=ytd,
        trend=_trend(session, as_of, units),
        new_npl=new_npl,
        early_warning=list(run_list(session, "early-warning", as_of).rows),
    )


def monthly_report(
    session: Analytics,
    as_of: date,
    *,
    unit: str | None = None,
    generated_by: str,
    generated_at: datetime,
    casework_reader: Person | None = None,
    plan: Mapping[str, Any] | None = None,
    tree: TreeFigures | None = None,
) -> MonthlyReport:
    """The monthly report of ``unit`` (default: the bank, the root of the tree) at ``as_of``.

    §8 reads the casework as ``casework_reader`` may see it (none: no §8, as in a tape-only
    home); §9 shows ``plan``, the plan document by unit of the month (``npldesk plan --by
    org_unit --format json``, or what the month-end run kept), computed once by the caller for
    every unit's report (none: no §9). ``tree``: the month's figures of the whole tree
    (``tree_figures``), made once when one caller makes the reports of several units."""
    if plan is not None and plan.get("as_of") != as_of.isoformat():
        raise UsageError(
            translatable(
                "the plan given is from {month}, not the report's month",
                month=str(plan.get("as_of"))[:7],
            )
        )
    session.require_month(as_of)
    units = load_org(session.store)
    top = _unit(units, unit)
    if tree is None or tree.as_of != as_of:
        tree = tree_figures(session, as_of)
    quality = tree.quality
    rows = {row.key: row for row in quality.rows}
    headline = rows[top.code].line
    children = [u.code for u in units if u.parent_code == top.code]
    by_unit = sorted(
        (rows[code] for code in children),
        key=lambda r: (r.line.npl_ratio is None, r.line.npl_ratio or Decimal(0), r.key or ""),
    )
    month_lines = next(r.lines for r in tree.month.rows if r.key == top.code)
    ytd_lines: MovementLines | None = None
    ytd_start: date | None = None
    baseline = previous_december(as_of)
    months = set(session.months())
    if tree.ytd is not None:
        ytd_lines = next(r.lines for r in tree.ytd.rows if r.key == top.code)
        ytd_start = tree.ytd.start
    migration = None
    if baseline in months:
        below = None if top.parent_code is None else sorted(_below(units, top))
        migration = migration_report(session, baseline, as_of, units=below)
    trend = tree.trend.get(top.code, [])
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
        new_npl=_new_npl(tree.new_npl, previous_month_end(as_of), units, top),
        early_warning=_early_warning(tree.early_warning, units, top),
        snapshots=SnapshotSource.of(session, used),
        generated_at=generated_at,
        generated_by=generated_by,
        casework=None if casework_reader is None else _casework(casework_reader, as_of, units, top),
        outlook=None if plan is None else _outlook(plan, units, top),
    )


def report_title(report: MonthlyReport) -> str:
    """The report's title, marked: the renderers say it in the reader's language."""
    return translatable(
        "{unit} asset-quality report {month}",
        unit=report.unit.name,
        month=month_label(report.as_of),
    )
