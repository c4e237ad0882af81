"""``npldesk plan`` and ``npldesk plan backtest``: the double-reduction planner
(``docs/planner.md``).

Thin: parse the options, open an analytics session, read the casework pipeline where the home
has a casework database, call the planner's report builder and print its document.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

import typer

from npldesk.cli.language import say, use_language
from npldesk.cli.options import (
    AsOption,
    BackendOption,
    FormatOption,
    HomeOption,
    RuleSetOption,
    acting_person,
    month_option,
)
from npldesk.cli.output import (
    OutputFormat,
    console,
    emit,
    money_cell,
    money_header,
    print_warnings,
    progress_reporter,
    ratio_cell,
    yes_no,
)
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.reports.labels import BASIS_LABELS, LEVER_LABELS, TERMS, TRACKING_LABELS, label


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


plan_app = typer.Typer(
    help="The double-reduction planner: year-end forecast, gap and levers per unit.",
    invoke_without_command=True,
    no_args_is_help=False,
)


class Basis(StrEnum):
    """The states balances move between: five-class grades or days-past-due bands."""

    class_ = "class"
    dpd = "dpd"


SeasonalOption = Annotated[
    bool,
    typer.Option(
        "--seasonal-exits",
        help="Take write-offs, transfers and foreclosures of each month to go from the same "
        "calendar month of the window (the bank's year-end push), the rest from the draw",
    ),
]


LEVER_NAMES = ("cash", "upgrade", "write_off", "transfer")
TABLE_COLUMNS = (
    "key",
    "name",
    "current_npl",
    "npl_p10",
    "npl_p50",
    "npl_p90",
    "baseline_ratio",
    "ratio_p50",
    "p_double",
    "tracking",
    "required",
)
LEVER_TABLE_COLUMNS = ("key", "name", *LEVER_NAMES, "expected_loss", "closes_gap")
CSV_COLUMNS = (
    "key",
    "name",
    "current_npl_balance",
    "baseline_npl_balance",
    "baseline_npl_ratio",
    "npl_p10",
    "npl_p50",
    "npl_p90",
    "ratio_p10",
    "ratio_p50",
    "ratio_p90",
    "forecast_balance",
    "probability_double_reduction",
    "tracking",
    "required_reduction",
    *(f"{lever}_{part}" for lever in LEVER_NAMES for part in ("capacity", "proposed")),
    "expected_loss",
    "closes_gap",
)


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise UsageError(
            translatable("{option} {text!r}: not a number", option=option, text=text)
        ) from None
    if not value.is_finite():
        raise UsageError(translatable("{option} {text!r}: not a number", option=option, text=text))
    return value


def parse_capacities(items: list[str] | None) -> dict[str, dict[str, Decimal]]:
    """``[UNIT:]LEVER=AMOUNT`` → {row key: {lever: amount}}; without UNIT the whole book."""
    found: dict[str, dict[str, Decimal]] = {}
    for item in items or []:
        target, sep, amount = item.partition("=")
        unit, colon, lever = target.rpartition(":")
        if not sep or not lever:
            raise UsageError(
                translatable("--capacity {item!r}: expected [UNIT:]LEVER=AMOUNT", item=item)
            )
        if lever not in LEVER_NAMES:
            raise UsageError(
                translatable(
                    "--capacity {item!r}: levers are {levers}",
                    item=item,
                    levers=", ".join(LEVER_NAMES),
                )
            )
        value = _decimal(amount, "--capacity")
        if value < 0:
            raise UsageError(
                translatable("--capacity {item!r}: a capacity cannot be negative", item=item)
            )
        found.setdefault(unit if colon else "total", {})[lever] = value
    return found


def parse_quotas(items: list[str] | None) -> dict[str, Decimal]:
    """``[UNIT:]AMOUNT`` → {row key: quota}; without UNIT the whole book."""
    found: dict[str, Decimal] = {}
    for item in items or []:
        unit, colon, amount = item.rpartition(":")
        value = _decimal(amount, "--write-off-quota")
        if value < 0:
            raise UsageError(
                translatable("--write-off-quota {item!r}: a quota cannot be negative", item=item)
            )
        found[unit if colon else "total"] = value
    return found


def _pipeline(home: Any, as_of: Any, username: str | None) -> Any:
    """The casework pipeline of the home up to the forecast's year end, as the system actor
    (or ``--as``) may see it; none without a casework database, or with one not set up."""
    from npldesk.analytics.forecast import year_end_of
    from npldesk.planner.pipeline import no_pipeline, read_pipeline

    if not home.has_casework_database:
        return no_pipeline(
            translatable("no casework database in this home (tape only): pipeline levers are 0")
        )
    from django.db import DatabaseError

    from npldesk.bootstrap import setup_django
    from npldesk.casework.errors import NotFound

    setup_django(home)
    try:
        person = acting_person(username)
    except (DatabaseError, NotFound) as exc:
        return no_pipeline(
            translatable(
                "the casework database cannot be read ({exc}): pipeline levers are 0", exc=str(exc)
            )
        )
    return read_pipeline(person, as_of=as_of, until=year_end_of(as_of))


def _flat(key: str | None, name: str | None, row: dict[str, Any]) -> dict[str, Any]:
    levers = row["levers"]
    flat = {
        "key": key,
        "name": name,
        "current_npl_balance": row["current_npl_balance"],
        "current_npl": row["current_npl_balance"],
        "baseline_npl_balance": row["baseline_npl_balance"],
        "baseline_npl_ratio": row["baseline_npl_ratio"],
        "baseline_ratio": row["baseline_npl_ratio"],
        "forecast_balance": row["forecast_balance"],
        "probability_double_reduction": row["probability_double_reduction"],
        "p_double": row["probability_double_reduction"],
        "tracking": row["tracking"],
        "required_reduction": row["required_reduction"],
        "required": row["required_reduction"],
        "closes_gap": row["closes_gap"],
        "expected_loss": f"{sum(Decimal(v['expected_loss']) for v in levers.values()):f}",
    }
    for part in ("p10", "p50", "p90"):
        flat[f"npl_{part}"] = row["forecast_npl_balance"][part]
        flat[f"ratio_{part}"] = row["forecast_npl_ratio"][part]
    for lever, value in levers.items():
        flat[f"{lever}_capacity"] = value["capacity"]
        flat[f"{lever}_proposed"] = value["proposed"]
        flat[lever] = f"{value['proposed']}/{value['capacity']}"
    return flat


@plan_app.callback()
def plan_command(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The month to forecast from, YYYY-MM")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="org_unit: one row per unit (default: the book)")
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="With --by org_unit: the units of one level")
    ] = None,
    growth: Annotated[
        str, typer.Option("--growth", help="Annual growth of new lending, e.g. 0.05")
    ] = "0",
    window: Annotated[
        int, typer.Option("--window", help="Months of history the rates come from (K)")
    ] = 12,
    draws: Annotated[int, typer.Option("--draws", help="Bootstrap draws")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed, the same figures")] = (
        20191231
    ),
    basis: Annotated[
        Basis, typer.Option("--basis", help="class: five classes; dpd: days-past-due bands")
    ] = Basis.class_,
    seasonal_exits: SeasonalOption = False,
    price_ratio: Annotated[
        str, typer.Option("--price-ratio", help="Price of a bulk transfer per yuan of balance")
    ] = "0.30",
    capacity: Annotated[
        list[str] | None,
        typer.Option(
            "--capacity",
            help="[UNIT:]LEVER=AMOUNT: a lever's capacity for a unit (no UNIT: the whole book);"
            " levers cash, upgrade, write_off, transfer; repeatable",
        ),
    ] = None,
    write_off_quota: Annotated[
        list[str] | None,
        typer.Option(
            "--write-off-quota",
            help="[UNIT:]AMOUNT: the year's write-off quota (no UNIT: the whole book)",
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
    as_user: AsOption = None,
) -> None:
    """Where each unit ends the year if nothing changes, how sure that is, and the mix of
    cash, upgrades, write-offs and transfers that makes double reduction."""
    if ctx.invoked_subcommand is not None:
        return
    if as_of is None:
        raise UsageError(
            translatable("npldesk plan needs --as-of YYYY-MM (or: npldesk plan backtest)")
        )
    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home
    from npldesk.planner.plan import PlanRequest, plan_report

    month = month_option(as_of, "--as-of")
    request = PlanRequest(
        as_of=month,
        by=by,
        level=level,
        basis=basis.value,
        growth=_decimal(growth, "--growth"),
        window=window,
        draws=draws,
        seed=seed,
        price_ratio=_decimal(price_ratio, "--price-ratio"),
        seasonal_exits=seasonal_exits,
        capacities=parse_capacities(capacity),
        write_off_quotas=parse_quotas(write_off_quota),
    )
    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    pipeline = _pipeline(loaded, month, as_user)
    with progress_reporter() as say_progress:
        session.progress = say_progress
        document = plan_report(session, request, pipeline)
    print_warnings(document["warnings"])
    if output is OutputFormat.json:
        emit([], [], output, json_document=document)
        return
    if output is OutputFormat.csv:
        rows = [_flat(r["key"], r["name"], r) for r in document["rows"]]
        rows.append(_flat("total", "whole book", document["total"]))
        emit(rows, CSV_COLUMNS, output)
        return
    shown = [_plan_cells(row) for row in document["rows"]]
    shown.append(_plan_cells(document["total"] | {"key": None, "name": say(TERMS["total"])}))
    title = translatable(
        "Plan from {start} to {year_end} against {baseline}: the year-end NPL balance and "
        "ratio over {draws} draws from {window} months of history",
        start=document["as_of"][:7],
        year_end=document["year_end"][:7],
        baseline=(document["baseline"] or "")[:7] or translatable("no baseline"),
        draws=document["draws"],
        window=document["window_used"],
    )
    emit(
        shown,
        TABLE_COLUMNS,
        output,
        title=say(title),
        headers=_headers(TABLE_COLUMNS),
        right=_NUMBER_COLUMNS,
    )
    emit(
        shown,
        LEVER_TABLE_COLUMNS,
        output,
        title=say(_("Proposed levers beyond business as usual (proposed / capacity)")),
        headers=_headers(LEVER_TABLE_COLUMNS),
        right=_NUMBER_COLUMNS,
    )


# How the planner names a unit's own book (``analytics.forecast``): its row key and its name.
_OWN_BOOK_KEY, _OWN_BOOK_NAME = " own book", " (own book)"


def _plan_cells(row: dict[str, Any]) -> dict[str, str]:
    """A plan row for people: the unit's code and name (a unit's own book said so), money
    (万元 in Chinese), ratios as percentages, tracking and yes/no in words."""
    name = row["name"] or ""
    if row.get("own_book") and name.endswith(_OWN_BOOK_NAME):
        name = say(translatable("{unit} (own book)", unit=name.removesuffix(_OWN_BOOK_NAME)))
    levers = row["levers"]
    cells = {
        "key": (row["key"] or "").removesuffix(_OWN_BOOK_KEY),
        "name": name,
        "current_npl": money_cell(row["current_npl_balance"]),
        "npl_p10": money_cell(row["forecast_npl_balance"]["p10"]),
        "npl_p50": money_cell(row["forecast_npl_balance"]["p50"]),
        "npl_p90": money_cell(row["forecast_npl_balance"]["p90"]),
        "baseline_ratio": ratio_cell(row["baseline_npl_ratio"]),
        "ratio_p50": ratio_cell(row["forecast_npl_ratio"]["p50"]),
        "p_double": ratio_cell(row["probability_double_reduction"]),
        "tracking": label(TRACKING_LABELS, row["tracking"]),
        "required": money_cell(row["required_reduction"]),
        "closes_gap": yes_no(row["closes_gap"]),
        "expected_loss": money_cell(
            sum((Decimal(v["expected_loss"]) for v in levers.values()), Decimal(0))
        ),
    }
    for lever, value in levers.items():
        cells[lever] = f"{money_cell(value['proposed'])} / {money_cell(value['capacity'])}"
    return cells


# The heads of the plan's tables for people (CSV keeps the codes); money heads name 万元 in
# Chinese.
_HEADS = {
    "key": _("Code"),
    "name": _("Unit"),
    "current_npl": _("NPL balance now"),
    "npl_p10": _("Year-end NPL balance P10"),
    "npl_p50": _("Year-end NPL balance P50"),
    "npl_p90": _("Year-end NPL balance P90"),
    "baseline_ratio": _("Baseline NPL ratio"),
    "ratio_p50": _("Year-end NPL ratio P50"),
    "p_double": _("Probability of double reduction"),
    "tracking": _("Tracking"),
    "required": _("Gap"),
    "closes_gap": _("Closes the gap"),
    "expected_loss": _("Expected loss"),
    **LEVER_LABELS,
}
_MONEY_COLUMNS = frozenset(
    {"current_npl", "npl_p10", "npl_p50", "npl_p90", "required", "expected_loss", *LEVER_NAMES}
)
_NUMBER_COLUMNS = _MONEY_COLUMNS | {"baseline_ratio", "ratio_p50", "p_double"}


def _headers(columns: tuple[str, ...]) -> dict[str, str]:
    return {
        column: money_header(_HEADS[column]) if column in _MONEY_COLUMNS else say(_HEADS[column])
        for column in columns
    }


@plan_app.command("backtest")
def backtest_command(
    window: Annotated[int, typer.Option("--window", help="Months of history (K)")] = 12,
    draws: Annotated[int, typer.Option("--draws", help="Bootstrap draws")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the first forecast")] = 20191231,
    basis: Annotated[Basis, typer.Option("--basis", help="class or dpd")] = Basis.class_,
    growth: Annotated[str, typer.Option("--growth", help="Annual growth of new lending")] = "0",
    seasonal_exits: SeasonalOption = False,
    output: FormatOption = OutputFormat.table,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
) -> None:
    """Forecast every past month's year end and compare with what happened: mean absolute
    error of the NPL ratio (percentage points) and the share inside P10–P90, by months ahead."""
    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home
    from npldesk.planner.plan import backtest_report

    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    with progress_reporter() as say_progress:
        session.progress = say_progress
        document = backtest_report(
            session,
            basis=basis.value,
            window=window,
            draws=draws,
            seed=seed,
            growth=_decimal(growth, "--growth"),
            seasonal_exits=seasonal_exits,
        )
    if output is OutputFormat.json:
        emit([], [], output, json_document=document)
        return
    if output is OutputFormat.csv:
        emit(
            document["forecasts"],
            ["as_of", "year_end", "months_ahead", "window_used", "p10", "p50", "p90", "actual",
             "covered"],
            output,
        )  # fmt: skip
        return
    columns = ["months_ahead", "forecasts", "short_history", "mae_points", "coverage"]
    emit(
        [
            {
                "months_ahead": say(_("all"))
                if row["months_ahead"] == "all"
                else str(row["months_ahead"]),
                "forecasts": str(row["forecasts"]),
                "short_history": str(row["short_history"]),
                "mae_points": "" if row["mae_points"] is None else row["mae_points"],
                "coverage": ratio_cell(row["coverage"]),
            }
            for row in document["summary"]
        ],
        columns,
        output,
        title=say(
            translatable(
                "Backtest of the year-end NPL ratio ({basis}, window {window} months, {draws} "
                "draws): mean absolute error in percentage points; coverage: the share of actual "
                "year ends within P10–P90",
                basis=label(BASIS_LABELS, document["basis"]),
                window=document["window"],
                draws=document["draws"],
            )
        ),
        headers={
            "months_ahead": say(_("Months ahead")),
            "forecasts": say(_("Forecasts")),
            "short_history": say(_("From a short history")),
            "mae_points": say(_("Mean absolute error (points)")),
            "coverage": say(_("Coverage")),
        },
        right=columns,
    )
    console().print(
        say(
            translatable(
                "{count} forecasts; from a short history: from fewer than {window} months of "
                "history",
                count=len(document["forecasts"]),
                window=document["window"],
            )
        )
    )


def register(app: typer.Typer) -> None:
    """Add ``npldesk plan`` (and ``plan backtest``) to ``app``."""
    app.add_typer(plan_app, name="plan")
