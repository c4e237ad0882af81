"""Printing for the CLI: tables for people, JSON and CSV for tools, problems to stderr."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from npldesk.cli.language import chinese, say
from npldesk.core import numbers
from npldesk.core.cells import safe_cell
from npldesk.core.errors import Problem, Severity
from npldesk.core.i18n import translatable


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _width() -> int | None:
    """Wide tables stay readable in a pipe or a file (rich would assume 80 columns)."""
    return None if sys.stdout.isatty() else 200


def console() -> Console:
    return Console(highlight=False, soft_wrap=True, markup=False, width=_width())


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_problems(problems: Sequence[Problem], total: int | None = None) -> None:
    """Each problem on a line of its own, said in the active language; then how many more
    there were than are listed."""
    out = err_console()
    for problem in problems:
        warning = problem.severity is Severity.WARNING
        tag = say(_("warning") if warning else _("error"))
        colour = "yellow" if warning else "red"
        out.print(f"[{colour}]{escape(tag)}:[/] {escape(problem_line(problem))}", highlight=False)
    if total is not None and total > len(problems):
        more = translatable("… and {count} more not listed", count=total - len(problems))
        out.print(escape(say(more)), highlight=False)


def print_warnings(warnings: Sequence[str]) -> None:
    """A report's warnings (marked messages) on stderr, in the active language."""
    for warning in warnings:
        tag = escape(say(_("warning")))
        err_console().print(f"[yellow]{tag}:[/] {escape(say(warning))}", highlight=False)


def problem_line(problem: Problem) -> str:
    """``Problem.describe`` in the active language: where (file, row, column), what is wrong,
    the value found; the rule's code stays a code, as the web's problem table shows it."""
    where = []
    if problem.file:
        where.append(problem.file)
    if problem.row is not None:
        where.append(say(translatable("row {row}", row=problem.row)))
    if problem.column:
        where.append(say(translatable("column {column}", column=problem.column)))
    said = say(problem.message)
    if problem.value is not None:
        said = say(
            translatable("{message} (value {value})", message=said, value=repr(problem.value))
        )
    if where:
        # The parts of a place are listed as the language lists things (Chinese: "，").
        said = say(translatable("{where}: {message}", where=say(_(", ")).join(where), message=said))
    return f"{said} [{problem.rule}]"


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


def money_cell(value: Decimal | str | None) -> str:
    """Money for a table comparing units: 万元 in Chinese, yuan with separators otherwise."""
    if value is None:
        return ""
    amount = Decimal(value)
    return numbers.ten_thousands(amount) if chinese() else numbers.money(amount)


def money_header(text: str) -> str:
    """The head of a ``money_cell`` column: ``text`` in the active language, naming 万元 in
    Chinese."""
    said = say(text)
    return say(translatable("{label} (10,000 yuan)", label=said)) if chinese() else said


def ratio_cell(value: Decimal | str | None) -> str:
    return "" if value is None else numbers.percent(Decimal(value))


def yes_no(value: bool | None) -> str:
    from npldesk.reports.labels import TERMS

    if value is None:
        return ""
    return say(TERMS["yes"] if value else TERMS["no"])


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    *,
    json_document: Any = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    right: Collection[str] = (),
) -> None:
    """Print ``rows`` as a table, CSV, or (with ``json_document``) a JSON document.

    ``headers`` names the table's columns for people (CSV keeps the codes); ``right`` are the
    columns of numbers, aligned right."""
    if fmt is OutputFormat.json:
        sys.stdout.write(
            json.dumps(
                json_document if json_document is not None else rows, ensure_ascii=False, indent=2
            )
            + "\n"
        )
        return
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            # Text a spreadsheet would run as a formula leaves with an apostrophe.
            writer.writerow(
                {k: "" if row.get(k) is None else safe_cell(str(row.get(k))) for k in columns}
            )
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(title=title, show_lines=False)
    for column in columns:
        justify: Literal["left", "right"] = "right" if column in right else "left"
        table.add_column((headers or {}).get(column, column), overflow="fold", justify=justify)
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    for row_cells in cells:
        table.add_row(*row_cells)
    out = console()
    if not out.is_terminal:
        # In a pipe or a file nothing is squeezed: the table is as wide as its widest cells.
        heads = [(headers or {}).get(c, c) for c in columns]
        widths = [
            max([cell_len(head), *(cell_len(row_cells[i]) for row_cells in cells)])
            for i, head in enumerate(heads)
        ]
        out.width = max(out.width, sum(widths) + 3 * len(widths) + 1)
    out.print(table)


@contextmanager
def progress_reporter() -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on a terminal; silent in a pipe."""
    out = err_console()
    if not out.is_terminal:
        yield lambda _message: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda message: bar.update(task, description=message)
