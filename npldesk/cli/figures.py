"""The figure commands: ``npldesk quality`` and ``npldesk movement`` (``docs/commands.md``).

Thin: parse the options, open an analytics session on the home in its language, call the
report builder and print its typed result: a table for people (numbers for people, words in the
home's language), or its JSON or CSV (English codes, exact decimal strings). ``register``
adds them to the main app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from npldesk.analytics.classify import CLASS_NAMES
from npldesk.analytics.groups import GROUP_CHOICES
from npldesk.analytics.movement import GROUP_LINES, LINES
from npldesk.analytics.session import Analytics
from npldesk.cli.language import say, use_language
from npldesk.cli.options import (
    BackendOption,
    FormatOption,
    HomeOption,
    RuleSetOption,
    month_option,
    optional_month,
)
from npldesk.cli.output import (
    OutputFormat,
    console,
    emit,
    err_console,
    money_cell,
    money_header,
    print_warnings,
    progress_reporter,
    ratio_cell,
    yes_no,
)
from npldesk.core import numbers
from npldesk.core.errors import DataError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.home import load_home
from npldesk.reports.figures import (
    MovementLines,
    QualityLine,
    QualityReport,
    movement_report,
    quality_report,
)
from npldesk.reports.labels import (
    CLASS_LABELS,
    GROUP_LABELS,
    MOVEMENT_LABELS,
    PERIOD_LABELS,
    QUALITY_LABELS,
    TERMS,
    group_name,
    label,
)

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
    *CLASS_NAMES,
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
CLASS_TABLE_COLUMNS = ("key", "name", *CLASS_NAMES, "overdue_balance", "dpd90_balance")
MOVEMENT_COLUMNS = ("key", "name", *GROUP_LINES)
_MONEY = frozenset(
    {
        "balance",
        "npl_balance",
        "overdue_balance",
        "dpd90_balance",
        "baseline_balance",
        "baseline_npl_balance",
        "npl_balance_change",
        *CLASS_NAMES,
        *GROUP_LINES,
    }
)
_RATIOS = frozenset({"npl_ratio", "provision_coverage", "baseline_npl_ratio"})
_COUNTS = frozenset({"loans", "npl_loans"})
_NUMBERS = _MONEY | _RATIOS | _COUNTS | {"npl_ratio_change"}


@contextmanager
def _session(home: Path | None, backend: str | None, rule_set: str | None) -> Iterator[Analytics]:
    """An analytics session on the home in its language, reporting classification progress on
    a terminal."""
    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    with progress_reporter() as say_progress:
        session.progress = say_progress
        yield session


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON row for CSV: classes as columns, booleans as true/false."""
    flat = {k: v for k, v in row.items() if k != "by_class"}
    flat.update(row.get("by_class") or {})
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in flat.items()}


def _total_row(total: dict[str, Any]) -> dict[str, Any]:
    return {"key": None, "name": "total"} | total


def headers_of(columns: Sequence[str], labels: Mapping[str, Any]) -> dict[str, str]:
    """The column heads people read: money columns name their unit in Chinese."""
    return {
        c: money_header(labels.get(c, c)) if c in _MONEY else say(labels.get(c, c)) for c in columns
    }


def _quality_cells(key: str | None, name: str | None, line: QualityLine) -> dict[str, str]:
    change = line.npl_ratio_change
    cells = {
        "key": key or "",
        "name": name or "",
        "loans": numbers.grouped(line.loans),
        "balance": money_cell(line.balance),
        "npl_balance": money_cell(line.npl_balance),
        "npl_ratio": ratio_cell(line.npl_ratio),
        "npl_loans": numbers.grouped(line.npl_loans),
        "overdue_balance": money_cell(line.overdue_balance),
        "dpd90_balance": money_cell(line.dpd90_balance),
        "provision_coverage": ratio_cell(line.provision_coverage),
        "baseline_npl_balance": money_cell(line.baseline_npl_balance),
        "baseline_npl_ratio": ratio_cell(line.baseline_npl_ratio),
        "npl_balance_change": money_cell(line.npl_balance_change),
        "npl_ratio_change": "" if change is None else numbers.points(change),
        "double_reduction": yes_no(line.double_reduction),
    }
    cells.update({name: money_cell(value) for name, value in line.by_class.items()})
    return cells


def quality_title(report: QualityReport) -> str:
    title = say(translatable("Asset quality {month}", month=month_label(report.as_of)))
    if report.baseline is not None:
        title += say(translatable(" against {month}", month=month_label(report.baseline)))
    if report.by is not None:
        title += say(translatable(" by {group}", group=label(GROUP_LABELS, report.by)))
    return title


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
        report = quality_report(session, month, by=by, level=level, baseline=baseline_month)
    print_warnings(report.warnings)
    if output is not OutputFormat.table:
        document = report.as_json()
        rows = [_flat(r) for r in [*document["rows"], _total_row(document["total"])]]
        emit(rows, QUALITY_CSV_COLUMNS, output, json_document=document)
        return
    shown = [
        _quality_cells(row.key, group_name(report.by, row.key, row.name), row.line)
        for row in report.rows
    ]
    shown.append(_quality_cells(None, say(TERMS["total"]), report.total))
    labels = {**QUALITY_LABELS, **CLASS_LABELS}
    if report.by is not None:
        labels["key"] = GROUP_LABELS.get(report.by, labels["key"])
    title = quality_title(report)
    emit(
        shown,
        QUALITY_TABLE_COLUMNS,
        output,
        title=title,
        headers=headers_of(QUALITY_TABLE_COLUMNS, labels),
        right=_NUMBERS,
    )
    emit(
        shown,
        CLASS_TABLE_COLUMNS,
        output,
        title=say(translatable("{title}: balance by class", title=title)),
        headers=headers_of(CLASS_TABLE_COLUMNS, labels),
        right=_NUMBERS,
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
        report = movement_report(
            session, month, period=period, start=start_month, by=by, level=level
        )
    columns = MOVEMENT_COLUMNS if report.by else ("key", "name", *LINES)
    if output is OutputFormat.table:
        rows = [
            _movement_cells(row.key, group_name(report.by, row.key, row.name), row.lines)
            for row in report.rows
        ]
        rows.append(_movement_cells(None, say(TERMS["total"]), report.total))
        labels = {**QUALITY_LABELS, **MOVEMENT_LABELS}
        if report.by is not None:
            labels["key"] = GROUP_LABELS.get(report.by, labels["key"])
        title = say(
            translatable(
                "NPL movement {start} to {end} ({period})",
                start=month_label(report.start),
                end=month_label(report.end),
                period=label(PERIOD_LABELS, report.period),
            )
        )
        if report.by is not None:
            title += say(translatable(" by {group}", group=label(GROUP_LABELS, report.by)))
        emit(
            rows,
            columns,
            output,
            title=title,
            headers=headers_of(columns, labels),
            right=_NUMBERS,
        )
    else:
        document = report.as_json()
        rows = [*document["rows"], _total_row(document["total"])]
        emit(rows, columns, output, json_document=document)
    if not report.identity_holds:
        raise DataError(
            translatable(
                "the movement identity does not hold to the fen for: {rows}",
                rows=", ".join(report.identity_breaks),
            )
        )
    _say_identity(output)


def _movement_cells(key: str | None, name: str | None, lines: MovementLines) -> dict[str, str]:
    return {"key": key or "", "name": name or ""} | {
        line: money_cell(lines.line(line)) for line in GROUP_LINES
    }


def _say_identity(output: OutputFormat) -> None:
    # On stdout under a table; on stderr when stdout is JSON or CSV for a tool.
    holds = say(_("identity holds to the fen"))
    if output is OutputFormat.table:
        console().print(holds)
    else:
        err_console().print(holds, highlight=False)


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


COMMANDS: dict[str, Callable[..., None]] = {"quality": quality, "movement": movement}


def register(app: typer.Typer) -> None:
    """Add ``quality`` and ``movement`` to ``app``."""
    for name, command in COMMANDS.items():
        app.command(name)(command)
