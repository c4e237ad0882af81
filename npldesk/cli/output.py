"""Printing for the CLI: tables for people, JSON and CSV for tools, problems to stderr."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from npldesk.cli.language import say
from npldesk.core.cells import safe_cell
from npldesk.core.errors import Problem, Severity


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
    out = err_console()
    for problem in problems:
        tag = "warning" if problem.severity is Severity.WARNING else "error"
        colour = "yellow" if tag == "warning" else "red"
        said = dataclasses.replace(problem, message=say(problem.message))
        out.print(f"[{colour}]{tag}:[/] {escape(said.describe())}", highlight=False)
    if total is not None and total > len(problems):
        out.print(f"… and {total - len(problems)} more not listed")


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
