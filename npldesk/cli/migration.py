"""``npldesk migration``: the migration matrix and rates between two snapshots
(``docs/commands.md``)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from npldesk.cli.options import (
    BackendOption,
    FormatOption,
    HomeOption,
    RuleSetOption,
    month_option,
)
from npldesk.cli.output import OutputFormat, console, emit


class Basis(StrEnum):
    """What the matrix's rows and columns are: five-class grades or days-past-due bands."""

    class_ = "class"
    dpd = "dpd"


class Buckets(StrEnum):
    """The days-past-due bands of ``--basis dpd``."""

    s71 = "s71"
    f18 = "f18"


# Short column heads so that the matrix fits a terminal; the cell list below spells them out.
SHORT = {
    "special_mention": "spec.m",
    "substandard": "substd",
    "doubtful": "doubtf",
    "written_off": "w/off",
    "transferred": "transf",
    "foreclosed": "forecl",
    "unexplained": "unexpl",
}


def _print_tables(document: dict[str, Any]) -> None:
    """The count matrix, then every non-empty cell with its balance and its share of the row's
    balance, then the rates (class basis)."""
    from npldesk.analytics.migration import format_rate

    matrix: dict[str, dict[str, dict[str, Any]]] = document["matrix"]
    columns = list(next(iter(matrix.values()))) if matrix else []
    scale = f" ({document['buckets']} bands)" if document["basis"] == "dpd" else ""
    span = f"{document['from'][:7]} → {document['to'][:7]}"
    counts = Table(
        title=f"migration {span}, {document['basis']} basis{scale}: loans",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    heads = ["from \\ to", *(SHORT.get(column, column) for column in [*columns, "total"])]
    width = max((len(source) for source in matrix), default=0)
    counts.add_column(heads[0], no_wrap=True, min_width=width)
    for head in heads[1:]:
        counts.add_column(head, justify="right", no_wrap=True, min_width=len(head))
    cells = []
    for source, row in matrix.items():
        counts.add_row(
            source,
            *(str(row[target]["count"]) for target in columns),
            str(sum(cell["count"] for cell in row.values())),
        )
        row_balance = sum((Decimal(cell["balance"]) for cell in row.values()), Decimal(0))
        for target, cell in row.items():
            if cell["count"]:
                share = Decimal(cell["balance"]) / row_balance if row_balance else None
                cells.append(
                    {
                        "from": source,
                        "to": target,
                        "loans": cell["count"],
                        "balance": cell["balance"],
                        "share_of_row": format_rate(share),
                    }
                )
    out = console()
    # Never squeeze the matrix into "…": wider than the terminal, it wraps but stays whole.
    out.width = max(out.width, width + sum(len(head) + 3 for head in heads[1:]) + 4)
    out.print(counts)
    emit(
        cells,
        ["from", "to", "loans", "balance", "share_of_row"],
        OutputFormat.table,
        title="where the balance at the start went",
    )
    rates: dict[str, str | None] | None = document.get("rates")
    if rates is not None:
        emit(
            [
                {"rate": name, "value": "n/a" if value is None else value}
                for name, value in rates.items()
            ],
            ["rate", "value"],
            OutputFormat.table,
            title="migration rates (n/a: nothing of the cohort left on the books to migrate)",
        )


def migration_command(
    start: Annotated[str, typer.Option("--from", help="The earlier month, YYYY-MM")],
    end: Annotated[str, typer.Option("--to", help="The later month, YYYY-MM")],
    basis: Annotated[
        Basis, typer.Option("--basis", help="class: five-class grades; dpd: days-past-due bands")
    ] = Basis.class_,
    buckets: Annotated[
        Buckets,
        typer.Option("--buckets", help="dpd bands: s71 (China, 1104 S71) or f18 (EBA FINREP)"),
    ] = Buckets.s71,
    output: FormatOption = OutputFormat.table,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
) -> None:
    """Migration matrix between two snapshots, with the migration rates (class basis)."""
    from npldesk.analytics.migration import migration_report
    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home

    first = month_option(start, "--from")
    last = month_option(end, "--to")
    session = Analytics.for_home(load_home(home), backend=backend, rule_set=rule_set)
    document = migration_report(session, first, last, basis=basis.value, buckets=buckets.value)
    if output is OutputFormat.json:
        emit([], [], output, json_document=document)
        return
    if output is OutputFormat.csv:
        rows = [
            {"from": source, "to": target, "count": cell["count"], "balance": cell["balance"]}
            for source, cells in document["matrix"].items()
            for target, cell in cells.items()
        ]
        emit(rows, ["from", "to", "count", "balance"], output)
        return
    _print_tables(document)


def register(app: typer.Typer) -> None:
    """Add ``npldesk migration`` to ``app``."""
    app.command("migration")(migration_command)
