"""``npldesk migration``: the migration matrix and rates between two snapshots
(``docs/commands.md``)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.cells import cell_len
from rich.table import Table

from npldesk.cli.language import say, use_language
from npldesk.cli.options import (
    BackendOption,
    FormatOption,
    HomeOption,
    RuleSetOption,
    month_option,
)
from npldesk.cli.output import OutputFormat, console, emit
from npldesk.core import numbers
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.reports.labels import (
    BASIS_LABELS,
    BUCKET_LABELS,
    RATE_LABELS,
    STATE_LABELS,
    TERMS,
    label,
)

if TYPE_CHECKING:
    from npldesk.reports.figures import MigrationReport


class Basis(StrEnum):
    """What the matrix's rows and columns are: five-class grades or days-past-due bands."""

    class_ = "class"
    dpd = "dpd"


class Buckets(StrEnum):
    """The days-past-due bands of ``--basis dpd``."""

    s71 = "s71"
    f18 = "f18"


def _print_tables(report: MigrationReport) -> None:
    """The count matrix, then every non-empty cell with its balance and its share of the row's
    balance, then the rates (class basis)."""
    scale = ""
    if report.buckets is not None:
        bands = label(BUCKET_LABELS, report.buckets)
        scale = say(translatable(" ({bands})", bands=bands))
    title = translatable(
        "Migration {start} → {end}, {basis}{scale}: loans",
        start=month_label(report.start),
        end=month_label(report.end),
        basis=label(BASIS_LABELS, report.basis),
        scale=scale,
    )
    counts = Table(title=say(title), box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    heads = [say(_("from \\ to")), *(label(STATE_LABELS, c) for c in report.columns)]
    heads.append(say(TERMS["total"]))
    names = [label(STATE_LABELS, source) for source in report.states]
    width = max((cell_len(name) for name in names), default=0)
    counts.add_column(heads[0], no_wrap=True, min_width=width)
    for head in heads[1:]:
        counts.add_column(head, justify="right", no_wrap=True, min_width=cell_len(head))
    cells = []
    for source, name in zip(report.states, names, strict=True):
        row = [report.cell(source, target) for target in report.columns]
        counts.add_row(
            name,
            *(numbers.grouped(cell.count) for cell in row),
            numbers.grouped(sum(cell.count for cell in row)),
        )
        row_balance = report.row_balance(source)
        for target in report.columns:
            cell = report.cell(source, target)
            if cell.count:
                share = cell.balance / row_balance if row_balance else None
                cells.append(
                    {
                        "from": name,
                        "to": label(STATE_LABELS, target),
                        "loans": numbers.grouped(cell.count),
                        "balance": numbers.money(cell.balance),
                        "share_of_row": "" if share is None else numbers.percent(share),
                    }
                )
    out = console()
    # Never squeeze the matrix into "…": wider than the terminal, it wraps but stays whole.
    out.width = max(out.width, width + sum(cell_len(head) + 3 for head in heads[1:]) + 4)
    out.print(counts)
    emit(
        cells,
        ["from", "to", "loans", "balance", "share_of_row"],
        OutputFormat.table,
        title=say(_("Where the balance at the start went")),
        headers={
            "from": say(_("From")),
            "to": say(_("To")),
            "loans": say(_("Loans")),
            "balance": say(_("Balance (yuan)")),
            "share_of_row": say(_("Share of the row")),
        },
        right=("loans", "balance", "share_of_row"),
    )
    if report.rates is not None:
        emit(
            [
                {
                    "rate": label(RATE_LABELS, name),
                    "value": say(TERMS["n/a"]) if r.rate is None else numbers.percent(r.rate),
                }
                for name, r in report.rates.items()
            ],
            ["rate", "value"],
            OutputFormat.table,
            title=say(
                _("Migration rates (n/a: nothing of the cohort left on the books to migrate)")
            ),
            headers={"rate": say(_("Rate")), "value": say(_("Value"))},
            right=("value",),
        )


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


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
    from npldesk.analytics.session import Analytics
    from npldesk.home import load_home
    from npldesk.reports.figures import migration_report

    first = month_option(start, "--from")
    last = month_option(end, "--to")
    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    report = migration_report(session, first, last, basis=basis.value, buckets=buckets.value)
    if output is OutputFormat.json:
        emit([], [], output, json_document=report.as_json())
        return
    if output is OutputFormat.csv:
        rows = [
            {"from": source, "to": target, "count": cell["count"], "balance": cell["balance"]}
            for source, cells in report.as_json()["matrix"].items()
            for target, cell in cells.items()
        ]
        emit(rows, ["from", "to", "count", "balance"], output)
        return
    _print_tables(report)


def register(app: typer.Typer) -> None:
    """Add ``npldesk migration`` to ``app``."""
    app.command("migration")(migration_command)
