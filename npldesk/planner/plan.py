"""The ``plan`` document (``docs/planner.md``): per unit the year-end forecast with its band,
the required reduction, the levers with their capacities and the proposed mix.

``plan_report`` is what every face shows (the command line, the web page, the monthly report);
what-if is the same call with other inputs. ``month_plan`` is the month's plan as they all read
it: the one the month-end run kept while it is still the month's, else computed (ADR 0020).
``backtest_report`` is ``npldesk plan backtest``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from npldesk.analytics.forecast import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    DEFAULT_WINDOW,
    Forecast,
    backtest,
    backtest_summary,
    baseline_of,
    forecast,
    lever_bases,
    load_history,
    written_off_since,
    year_end_of,
)
from npldesk.analytics.quality import format_ratio
from npldesk.analytics.session import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import format_money
from npldesk.core.months import month_label
from npldesk.planner.levers import (
    DEFAULT_PRICE_RATIO,
    LEVERS,
    Mix,
    loss_rates,
    propose_mix,
    required_reduction,
)
from npldesk.planner.pipeline import Pipeline

# Probability of double reduction at or above which a unit is on track, or at risk.
ON_TRACK = 0.8
AT_RISK = 0.5
TOTAL_KEY = "total"


@dataclass(frozen=True)
class PlanRequest:
    """Everything a user may change in a plan (each one a what-if).

    ``capacities``: row key (``"total"`` for the whole book) → lever → capacity in yuan,
    replacing the default; ``write_off_quotas``: row key → the annual write-off quota in yuan
    (the default: no quota)."""

    as_of: date
    by: str | None = None
    level: str | None = None
    basis: str = "class"
    growth: Decimal = Decimal(0)
    window: int = DEFAULT_WINDOW
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    price_ratio: Decimal = DEFAULT_PRICE_RATIO
    seasonal_exits: bool = False
    capacities: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    write_off_quotas: Mapping[str, Decimal] = field(default_factory=dict)


def tracking(probability: float | None) -> str | None:
    """on_track (≥ 0.8), at_risk (≥ 0.5) or off_track; ``None`` without a baseline."""
    if probability is None:
        return None
    if probability >= ON_TRACK:
        return "on_track"
    return "at_risk" if probability >= AT_RISK else "off_track"


def _quantiles(values: list[Any], shown: Any) -> dict[str, Any]:
    return dict(zip(("p10", "p50", "p90"), (shown(v) for v in values), strict=True))


def _sum_over(units: list[str], found: Mapping[str, Any], name: str) -> Decimal:
    return sum((Decimal(getattr(found[u], name)) for u in units if u in found), Decimal(0))


def default_capacities(
    result: Forecast,
    key: str | None,
    bases: Mapping[str, Mapping[str, Decimal]],
    pipeline: Pipeline,
    written_ytd: Mapping[str, Decimal],
    quota: Decimal | None,
) -> dict[str, Decimal]:
    """Each lever's capacity beyond what the business-as-usual forecast already expects of the
    row's loans, never below 0 (``docs/planner.md``, "never the same yuan twice")."""
    units = result.own_units[key]
    expected = result.expected_flows(key)

    def base(name: str) -> Decimal:
        return sum((bases.get(u, {}).get(name, Decimal(0)) for u in units), Decimal(0))

    npl_now = base("npl")
    # Cash: the pipeline's expected cash, less the cash business as usual already expects of
    # the same loans (the row's expected NPL cash in proportion to their share of its NPL).
    pipeline_cash = _sum_over(units, pipeline.units, "expected")
    pipeline_npl = _sum_over(units, pipeline.units, "npl_balance")
    share = min(pipeline_npl / npl_now, Decimal(1)) if npl_now > 0 else Decimal(0)
    cash = pipeline_cash - expected["cash"] * share
    # Upgrades: loans whose probation ends by the year end, less the upgrades expected anyway.
    upgrade = base("probation_release") - expected["upgrade"]
    # Write-offs: loss-class loans, less what is written off anyway; within the quota left.
    write_off = base("loss") - expected["written_off"]
    if quota is not None:
        used = sum((written_ytd.get(u, Decimal(0)) for u in units), Decimal(0))
        write_off = min(write_off, quota - used - expected["written_off"])
    # Transfers: the other NPL (substandard and doubtful: loss is the write-off's), less the
    # transfers expected anyway.
    transfer = npl_now - base("loss") - expected["transferred"]
    return {
        "cash": max(cash, Decimal(0)).quantize(Decimal("0.01")),
        "upgrade": max(upgrade, Decimal(0)),
        "write_off": max(write_off, Decimal(0)),
        "transfer": max(transfer, Decimal(0)),
    }


def _row_document(
    result: Forecast,
    key: str | None,
    capacities: dict[str, Decimal],
    rates: dict[str, Decimal],
) -> dict[str, Any]:
    figures = result.figures(key)
    npl_p50 = figures["npl_balance"][1]
    balance_p50 = figures["balance"]
    required: Decimal | None = None
    if result.baseline is not None:
        required = required_reduction(
            npl_p50, balance_p50, figures["baseline_npl_balance"], figures["baseline_balance"]
        )
    mix: Mix = propose_mix(required, capacities, rates)
    probability = figures["probability_double_reduction"]
    return {
        "current_npl_balance": format_money(figures["current_npl_balance"]),
        "current_balance": format_money(figures["current_balance"]),
        "baseline_balance": format_money(figures["baseline_balance"]),
        "baseline_npl_balance": format_money(figures["baseline_npl_balance"]),
        "baseline_npl_ratio": format_ratio(figures["baseline_npl_ratio"]),
        "forecast_npl_balance": _quantiles(figures["npl_balance"], format_money),
        "forecast_npl_ratio": _quantiles(figures["npl_ratio"], format_ratio),
        "forecast_balance": format_money(balance_p50),
        "probability_double_reduction": None if probability is None else f"{probability:.3f}",
        "tracking": tracking(probability),
        "expected": {name: format_money(v) for name, v in figures["expected"].items()},
        "required_reduction": None if result.baseline is None else format_money(required),
        "levers": {
            name: {
                "capacity": format_money(lever.capacity),
                "proposed": format_money(lever.proposed),
                "expected_loss": format_money(lever.expected_loss),
            }
            for name, lever in mix.levers.items()
        },
        "closes_gap": None if result.baseline is None else mix.closes_gap,
    }


def _override(
    capacities: dict[str, Decimal], overrides: Mapping[str, Decimal] | None
) -> dict[str, Decimal]:
    if not overrides:
        return capacities
    unknown = sorted(set(overrides) - set(LEVERS))
    if unknown:
        raise UsageError(
            translatable(
                "unknown lever {lever!r}; levers: {levers}",
                lever=unknown[0],
                levers=", ".join(LEVERS),
            )
        )
    return capacities | {name: Decimal(value) for name, value in overrides.items()}


def plan_report(session: Analytics, request: PlanRequest, pipeline: Pipeline) -> dict[str, Any]:
    """The ``plan`` document for ``request`` on the store of ``session`` and the casework
    ``pipeline`` (``no_pipeline(reason)`` for a tape-only home)."""
    if request.by not in (None, "org_unit"):
        raise UsageError(
            translatable("plan groups by org_unit only (--by org_unit), or the whole book")
        )
    if request.level is not None and request.by is None:
        raise UsageError(translatable("--level applies only to --by org_unit"))
    result = forecast(
        session,
        request.as_of,
        basis=request.basis,
        window=request.window,
        draws=request.draws,
        seed=request.seed,
        growth=float(request.growth),
        by_unit=request.by == "org_unit",
        level=request.level,
        seasonal_exits=request.seasonal_exits,
    )
    keys = {row.key for row in result.rows} | {TOTAL_KEY}
    for key in [*request.capacities, *request.write_off_quotas]:
        if key not in keys:
            raise UsageError(
                translatable(
                    "no row {key!r} in this plan: name a unit shown (--by org_unit, --level) "
                    "or leave the unit out for the whole book",
                    key=key,
                )
            )
    bases = lever_bases(session, request.as_of, result.year_end)
    written_ytd: dict[str, Decimal] = {}
    if request.write_off_quotas and result.baseline is not None:
        months = [m for m in session.months() if result.baseline <= m <= request.as_of]
        history = load_history(session, months, basis=request.basis)
        written_ytd = written_off_since(history, result.baseline, request.as_of)
    rates = loss_rates(request.price_ratio, pipeline.rates.after_write_off or Decimal(0))

    def row(key: str | None, label: str) -> dict[str, Any]:
        capacities = default_capacities(
            result, key, bases, pipeline, written_ytd, request.write_off_quotas.get(label)
        )
        capacities = _override(capacities, request.capacities.get(label))
        return _row_document(result, key, capacities, rates)

    rows = []
    for shown in result.rows:
        assert shown.key is not None
        rows.append(
            {
                "key": shown.key,
                "name": shown.name,
                "unit": shown.unit,
                "own_book": shown.own_book,
                "depth": shown.depth,
            }
            | row(shown.key, shown.key)
        )
    warnings = list(result.warnings)
    if pipeline.note:
        warnings.append(pipeline.note)
    if pipeline.rates.after_write_off is None:
        warnings.append(
            translatable(
                "no write-off with recoveries after it in the casework history: a write-off is "
                "taken to recover nothing afterwards (loss 1 per yuan)"
            )
        )
    shown_months = [request.as_of] + ([result.baseline] if result.baseline else [])
    return {
        "as_of": request.as_of.isoformat(),
        "year_end": result.year_end.isoformat(),
        "baseline": None if result.baseline is None else result.baseline.isoformat(),
        "basis": result.basis,
        "window": result.window,
        "window_used": result.window_used,
        "draws": result.draws,
        "seed": result.seed,
        "growth": f"{request.growth:f}",
        "seasonal_exits": request.seasonal_exits,
        "price_ratio": f"{request.price_ratio:f}",
        "recovery_rates": pipeline.rates.as_dict(),
        "pipeline": pipeline.available,
        "rule_set": session.params.name,
        "rows": rows,
        "total": row(None, TOTAL_KEY),
        "warnings": warnings,
        "snapshots": session.lineage(shown_months),
    }


def backtest_report(
    session: Analytics,
    *,
    basis: str = "class",
    window: int = DEFAULT_WINDOW,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    growth: Decimal = Decimal(0),
    seasonal_exits: bool = False,
) -> dict[str, Any]:
    """``npldesk plan backtest``: every past month's year-end forecast (the whole book) beside
    what happened, and the error and coverage by months before the year end."""
    points = backtest(
        session,
        basis=basis,
        window=window,
        draws=draws,
        seed=seed,
        growth=float(growth),
        seasonal_exits=seasonal_exits,
    )
    if not points:
        months = session.months()
        span = (
            translatable(
                "{first} to {last}", first=month_label(months[0]), last=month_label(months[-1])
            )
            if months
            else translatable("none")
        )
        raise UsageError(
            translatable(
                "no year end can be backtested: the store needs a December and a month before it "
                "with the month before that (imported: {span})",
                span=span,
            )
        )
    summary = backtest_summary(points, window)
    return {
        "basis": basis,
        "window": window,
        "draws": draws,
        "seed": seed,
        "growth": f"{growth:f}",
        "seasonal_exits": seasonal_exits,
        "summary": [
            {
                "months_ahead": s["months_ahead"],
                "forecasts": s["forecasts"],
                "short_history": s["short_history"],
                "mae_points": None if s["mae_points"] is None else f"{s['mae_points']:.4f}",
                "coverage": None if s["coverage"] is None else f"{s['coverage']:.4f}",
            }
            for s in summary
        ],
        "forecasts": [
            {
                "as_of": p.as_of.isoformat(),
                "year_end": p.year_end.isoformat(),
                "months_ahead": p.months_ahead,
                "window_used": p.window_used,
                "p10": format_ratio(p.p10),
                "p50": format_ratio(p.p50),
                "p90": format_ratio(p.p90),
                "actual": format_ratio(p.actual),
                "covered": p.covered,
            }
            for p in points
        ],
    }


def stored_plan_path(home: Path, as_of: date) -> Path:
    """Where the month-end run of ``as_of`` keeps its plan document under the home ``home``
    (the plan of record, ADR 0020)."""
    return home / "runs" / f"month-end-{month_label(as_of)}" / "plan.json"


def stored_plan(home: Path, as_of: date) -> dict[str, Any] | None:
    """The plan document the month-end run of ``as_of`` kept (``npldesk plan --by org_unit``
    with the defaults, as the bank's system actor), or ``None`` before that run."""
    path = stored_plan_path(home, as_of)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    found: dict[str, Any] = json.loads(text)
    return found


def _checksums(snapshots: Any) -> list[tuple[Any, Any]]:
    """The months and checksums of a plan's snapshots: what makes it the plan of the month
    (when and from where they were imported does not: the same tape imported elsewhere is the
    same month)."""
    return [(entry.get("as_of"), entry.get("sha256")) for entry in snapshots or []]


def kept_plan(session: Analytics, home: Path, as_of: date) -> dict[str, Any] | None:
    """The plan the month-end run of ``as_of`` kept (``stored_plan``) while it is still the
    plan of the month: its snapshots' months and checksums and its rule set are those a plan
    made on ``session`` now would name. ``None`` before the run, and for a kept plan gone stale
    (a snapshot replaced or imported since, or ``session`` under another rule set)."""
    kept = stored_plan(home, as_of)
    if kept is None:
        return None
    # The months a plan from ``as_of`` names (``plan_report``'s ``snapshots``): the month, and
    # the December it is judged against once that is imported.
    baseline = baseline_of(year_end_of(as_of))
    months = [as_of] + ([baseline] if baseline in set(session.months()) else [])
    now = (_checksums(session.lineage(months)), session.params.name)
    if (_checksums(kept.get("snapshots")), kept.get("rule_set")) != now:
        return None
    return kept


PlanBuilder = Callable[[Analytics, PlanRequest, Pipeline], dict[str, Any]]


def month_plan(
    session: Analytics,
    request: PlanRequest,
    *,
    home: Path,
    pipeline: Callable[[], Pipeline],
    build: PlanBuilder = plan_report,
) -> dict[str, Any]:
    """The plan document for ``request`` as every face shows it: with the defaults (``npldesk
    plan --by org_unit``), the one the month-end run kept while it is still the month's
    (``kept_plan``, the plan of record of ADR 0020); otherwise ``build`` (``plan_report``, or a
    face's cache in front of it) on ``session`` with the casework ``pipeline()``. The pipeline
    is read only when a plan is built: it is queries on the casework, as whoever asks."""
    if request == PlanRequest(as_of=request.as_of, by="org_unit"):
        kept = kept_plan(session, home, request.as_of)
        if kept is not None:
            return kept
    return build(session, request, pipeline())
