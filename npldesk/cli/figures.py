"""The figure commands: ``npldesk quality`` and ``npldesk movement`` (``docs/commands.md``).

Thin: parse the options, open an analytics session on the home, call the report function
and print its document as a table, JSON or CSV. ``register`` adds them to the main app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from npldesk.analytics.groups import GROUP_CHOICES
from npldesk.analytics.movement import GROUP_LINES, LINES, movement_report
from npldesk.analytics.quality import quality_report
from npldesk.analytics.session import Analytics
from npldesk.cli.options import (
    BackendOption,
    FormatOption,
    HomeOption,
    RuleSetOption,
    month_option,
    optional_month,
)
from npldesk.cli.output import OutputFormat, console, emit, err_console, progress_reporter
from npldesk.core.errors import DataError
from npldesk.core.months import month_label
from npldesk.home import load_home

AsOfOption = Annotated[str, typer.Option("--as-of", help="The month, YYYY-MM")]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help=f"Group by {' | '.join(GROUP_CHOICES)} (default: the whole book)"),
]
LevelOption = Annotated[
    str | None,
    typer.Option("--level", help="With --by org_unit: only the units of this level"),
]

QUALITY_TABLE_COLUMNS = (
    "key",
    "name",
    "loans",
    "balance",
    "npl_balance",
    "npl_ratio",
    "npl_loans",
    "dpd90_balance",
    "provision_coverage",
    "baseline_npl_balance",
    "baseline_npl_ratio",
    "npl_balance_change",
    "npl_ratio_change",
    "double_reduction",
)
QUALITY_CSV_COLUMNS = (
    "key",
    "name",
    "loans",
    "balance",
    "npl_balance",
    "npl_ratio",
    "npl_loans",
    "normal",
    "special_mention",
    "substandard",
    "doubtful",
    "loss",
    "overdue_balance",
    "dpd90_balance",
    "provision_coverage",
    "baseline_balance",
    "baseline_npl_balance",
    "baseline_npl_ratio",
    "npl_balance_change",
    "npl_ratio_change",
    "double_reduction",
)
MOVEMENT_COLUMNS = ("key", "name", *GROUP_LINES)


@contextmanager
def _session(home: Path | None, backend: str | None, rule_set: str | None) -> Iterator[Analytics]:
    """An analytics session on the home, reporting classification progress on a terminal."""
    loaded = load_home(home)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    with progress_reporter() as say:
        session.progress = say
        yield session


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A report row for a table or CSV: classes as columns, booleans as true/false."""
    flat = {k: v for k, v in row.items() if k != "by_class"}
    flat.update(row.get("by_class") or {})
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in flat.items()}


def _total_row(total: dict[str, Any]) -> dict[str, Any]:
    return {"key": None, "name": "total"} | total


def _say_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        err_console().print(f"[yellow]warning:[/] {warning}", highlight=False)


def quality(
    as_of: AsOfOption,
    by: ByOption = None,
    level: LevelOption = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Compare with this month (default: previous December)"),
    ] = None,
    output: FormatOption = OutputFormat.table,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
) -> None:
    """Asset quality: balance, NPL balance and ratio, classes, overdue, provision coverage."""
    month = month_option(as_of, "--as-of")
    baseline_month = optional_month(baseline, "--baseline")
    with _session(home, backend, rule_set) as session:
        document = quality_report(session, month, by=by, level=level, baseline=baseline_month)
    _say_warnings(document["warnings"])
    rows = [_flat(r) for r in [*document["rows"], _total_row(document["total"])]]
    columns = QUALITY_TABLE_COLUMNS if output is OutputFormat.table else QUALITY_CSV_COLUMNS
    compared = f" against {document['baseline'][:7]}" if document["baseline"] else ""
    grouped = f" by {document['by']}" if document["by"] else ""
    emit(
        rows,
        columns,
        output,
        json_document=document,
        title=f"asset quality {month_label(month)}{compared}{grouped}",
    )


def movement(
    as_of: AsOfOption,
    period: Annotated[
        str | None,
        typer.Option("--period", help="month (default) or ytd (from the previous December)"),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Start month, YYYY-MM, instead of a period")
    ] = None,
    by: ByOption = None,
    level: LevelOption = None,
    output: FormatOption = OutputFormat.table,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
) -> None:
    """NPL movement: opening, inflow, increase, cash, upgrade, exits, closing."""
    month = month_option(as_of, "--as-of")
    start_month = optional_month(start, "--from")
    with _session(home, backend, rule_set) as session:
        document = movement_report(
            session, month, period=period, start=start_month, by=by, level=level
        )
    rows = [*document["rows"], _total_row(document["total"])]
    columns = MOVEMENT_COLUMNS if document["by"] else ("key", "name", *LINES)
    emit(
        rows,
        columns,
        output,
        json_document=document,
        title=f"NPL movement {document['from'][:7]} to {document['to'][:7]} ({document['period']})",
    )
    if not document["identity_holds"]:
        raise DataError(
            "the movement identity does not hold to the fen for: "
            + ", ".join(document["identity_breaks"])
        )
    _say_identity(output)


def _say_identity(output: OutputFormat) -> None:
    # On stdout under a table; on stderr when stdout is JSON or CSV for a tool.
    if output is OutputFormat.table:
        console().print("identity holds to the fen")
    else:
        err_console().print("identity holds to the fen", highlight=False)


COMMANDS: dict[str, Callable[..., None]] = {"quality": quality, "movement": movement}


def register(app: typer.Typer) -> None:
    """Add ``quality`` and ``movement`` to ``app``."""
    for name, command in COMMANDS.items():
        app.command(name)(command)
