"""The commands of ``npldesk`` (``docs/commands.md``)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from npldesk.bootstrap import setup_django
from npldesk.cli.language import say, use_language
from npldesk.cli.options import FormatOption, HomeOption, month_option, optional_month
from npldesk.cli.output import OutputFormat, console, emit, err_console, print_problems
from npldesk.cli.output import progress_reporter as progress
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import round_half_up
from npldesk.core.months import month_label
from npldesk.home import Home, create_home, load_home, restrict_sqlite_files


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


app = typer.Typer(
    name="npldesk",
    help="A bank branch network's non-performing-loan work: loan tape, asset quality, casework.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tape_app = typer.Typer(
    help="Import month-end loan snapshots and list what is imported.", no_args_is_help=True
)
org_app = typer.Typer(
    help="The organisation tree (city branch, county branches, sub-branches).", no_args_is_help=True
)
app.add_typer(tape_app, name="tape")
app.add_typer(org_app, name="org")


def _migrate(home: Home) -> None:
    setup_django(home)
    from django.core.management import call_command
    from django.db import DatabaseError

    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as exc:
        raise UsageError(
            translatable(
                "the database at {url} cannot be set up: {reason}",
                url=_safe_url(home.database_url),
                reason=str(exc),
            )
        ) from exc
    restrict_sqlite_files(home)


@app.command()
def init(home: HomeOption = None) -> None:
    """Create the home: configuration, database (migrated), tape store."""
    created_home, created = create_home(home)
    _migrate(created_home)
    verb = "created" if created else "already existed; database brought up to date"
    console().print(f"npldesk home {created_home.path} {verb}")
    console().print(f"  configuration  {created_home.config_file}")
    console().print(f"  tape store     {created_home.store_path}")
    console().print(f"  database       {_safe_url(created_home.database_url)}")


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into")],
    profile: Annotated[str, typer.Option(help="Book profile")] = "huaibei",
    layout: Annotated[
        str, typer.Option(help="canonical, or cn-core (a Chinese core-banking export)")
    ] = "canonical",
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed writes the same files")
    ] = 20191231,
    loans: Annotated[
        int | None, typer.Option(help="Loans on the book (default: the profile's)")
    ] = None,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM")] = "2018-01",
    months: Annotated[int, typer.Option(help="Number of months")] = 24,
    file_format: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx")] = "csv",
) -> None:
    """Write a synthetic branch network: org_units.csv and one loan file per month."""
    from npldesk.synth import generate

    first = month_option(start, "--start")
    if months < 1:
        raise UsageError(translatable("--months must be at least 1"))
    if loans is not None and loans < 1:
        raise UsageError(translatable("--loans must be at least 1"))
    with progress() as say_progress:
        result = generate(
            out,
            profile=profile,
            layout=layout,
            seed=seed,
            loans=loans,
            start=first,
            months=months,
            file_format=file_format,
            progress=lambda done, total: say_progress(f"simulating {done}/{total}"),
        )
    console().print(
        f"wrote {len(result.tape_files)} monthly files ({result.rows:,} rows, {result.loans:,} "
        f"loans, {result.households:,} households) and {result.org_file.name} to {result.out_dir}"
    )


def _store(home: Home) -> Any:
    from npldesk.tape.store import Store

    return Store(home.store_path)


@org_app.command("import")
def org_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with code, name, parent_code, level")],
    home: HomeOption = None,
) -> None:
    """Load or update the organisation tree."""
    from npldesk.tape.org import import_org

    loaded = load_home(home)
    use_language(loaded)
    entry = import_org(_store(loaded), file)
    said = translatable(
        "organisation tree: {rows} units from {source} (levels: {levels})",
        rows=entry.rows,
        source=entry.source,
        levels=", ".join(entry.levels),
    )
    console().print(say(said))


IMPORT_COLUMNS = ("as_of", "rows", "loans_on_book", "balance", "source", "action")
# The heads of the tape's tables for people (JSON and CSV keep the codes).
TAPE_HEADERS = {
    "month": _("Month"),
    "rows": _("Rows"),
    "loans_on_book": _("Loans on book"),
    "balance": _("Balance (yuan)"),
    "source": _("Source file"),
    "action": _("Action"),
    "sha256": _("Checksum (SHA-256)"),
    "mapping": _("Mapping"),
    "imported_at": _("Imported at"),
    "imported_by": _("Imported by"),
}


LIST_COLUMNS = (
    "month",
    "rows",
    "balance",
    "source",
    "sha256",
    "mapping",
    "imported_at",
    "imported_by",
)


def _headers(labels: dict[str, str]) -> dict[str, str]:
    return {column: say(text) for column, text in labels.items()}


def _count(value: int | None) -> str:
    return "" if value is None else numbers.grouped(value)


@tape_app.command("import")
def tape_import(
    files: Annotated[list[Path], typer.Argument(help="Files to import (CSV, XLSX, Parquet)")],
    home: HomeOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The month of a file without an as_of column, YYYY-MM"),
    ] = None,
    mapping: Annotated[
        str | None, typer.Option(help="Mapping file, or a shipped mapping's name")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Re-import months already imported")
    ] = False,
    join: Annotated[
        list[str] | None, typer.Option("--join", help="NAME=FILE for a mapping's joined file")
    ] = None,
    accept_exits: Annotated[
        bool,
        typer.Option(
            "--accept-exits",
            help="Import a month even when many of last month's loans have no row in it",
        ),
    ] = False,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Import snapshots: every bad row is reported; a month is imported whole or not at all."""
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.mapping import load_mapping

    loaded = load_home(home)
    # The refused month's problems and the warnings are said in the home's language.
    use_language(loaded)
    join_files: dict[str, Path] = {}
    for item in join or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UsageError(translatable("--join {item!r}: expected NAME=FILE", item=item))
        join_files[name] = Path(path)
    options = ImportOptions(
        mapping=load_mapping(mapping) if mapping else None,
        as_of=optional_month(as_of, "--as-of"),
        replace=replace,
        join_files=join_files,
        max_problems=loaded.max_problems,
        unexplained_exits_limit=loaded.unexplained_exits_limit,
        accept_exits=accept_exits,
    )
    with progress() as say_progress:
        result = import_files(_store(loaded), list(files), options, progress=say_progress)
    if result.warnings:
        print_problems(result.warnings, result.warning_total)
    rows = [
        {
            "as_of": s.as_of.isoformat(),
            "rows": s.rows,
            "loans_on_book": s.loans_on_book,
            "balance": s.balance,
            "source": s.source,
            "action": "replaced" if s.replaced else "imported",
        }
        for s in result.snapshots
    ]
    document = {
        "import_id": result.import_id,
        "snapshots": rows,
        "warnings": [w.as_dict() for w in result.warnings],
    }
    if output is not OutputFormat.table:
        emit(rows, IMPORT_COLUMNS, output, json_document=document)
        return
    emit(
        [
            {
                "month": month_label(s.as_of),
                "rows": numbers.grouped(s.rows),
                "loans_on_book": _count(s.loans_on_book),
                "balance": numbers.money(Decimal(s.balance)),
                "source": s.source,
                "action": say(_("replaced") if s.replaced else _("imported")),
            }
            for s in result.snapshots
        ],
        ["month", *IMPORT_COLUMNS[1:]],
        output,
        title=say(translatable("Imported (import {import_id})", import_id=result.import_id)),
        headers=_headers(TAPE_HEADERS),
        right=("rows", "loans_on_book", "balance"),
    )


@tape_app.command("list")
def tape_list(home: HomeOption = None, output: FormatOption = OutputFormat.table) -> None:
    """The manifest: snapshots, rows, totals, source, checksum, when, by whom."""
    loaded = load_home(home)
    rows = []
    for entry in _store(loaded).snapshots():
        rows.append(
            {
                "as_of": entry.as_of.isoformat(),
                "rows": entry.rows,
                "balance": entry.balance,
                "source": entry.source,
                "sha256": entry.sha256,
                "mapping": entry.mapping,
                "imported_at": entry.imported_at,
                "imported_by": entry.imported_by,
            }
        )
    if output is OutputFormat.table:
        use_language(loaded)
        shown = [
            dict(
                r,
                month=r["as_of"][:7],
                rows=numbers.grouped(r["rows"]),
                balance=numbers.money(Decimal(r["balance"])),
                sha256=(r["sha256"] or "")[:12],
            )
            for r in rows
        ]
        emit(
            shown,
            LIST_COLUMNS,
            output,
            title=say(translatable("Loan tape store {path}", path=str(loaded.store_path))),
            headers=_headers(TAPE_HEADERS),
            right=("rows", "balance"),
        )
        if not rows:
            err_console().print(
                say(_("no snapshots imported yet: `npldesk tape import FILE...`")),
                highlight=False,
            )
        return
    emit(rows, list(rows[0]) if rows else ["as_of"], output, json_document={"snapshots": rows})


@app.command()
def demo(
    home: HomeOption = None,
    loans: Annotated[int | None, typer.Option(help="Loans in the synthetic book")] = None,
    months: Annotated[int, typer.Option(help="Months to simulate from 2018-01")] = 24,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Delete the demo home and empty its casework database, then rebuild"
        ),
    ] = False,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Build the demo home only; do not serve the web app")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 for the web app")] = 8000,
) -> None:
    """Build a demo home from the synthetic branch network, show what was imported, then serve
    the web app on 127.0.0.1 until stopped (--no-serve: build only)."""
    from npldesk.demo import build_demo
    from npldesk.demo.hashers import FAST_HASHING_SWITCH

    target = Path(home) if home else Path(os.environ.get("NPLDESK_HOME") or "npldesk-home")
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: a port is between 1 and 65535")
    # Before Django reads its settings: this process hashes the demo people's passwords fast.
    os.environ[FAST_HASHING_SWITCH] = "1"
    with progress() as say_progress:
        built = build_demo(
            target,
            open_database=_migrate,
            loans=loans,
            months=months,
            rebuild=rebuild,
            progress=say_progress,
        )
    out = console()
    if built.book is None:
        out.print(f"the demo home {built.home.path} is already built (use --rebuild to start over)")
    else:
        out.print(
            f"demo home {built.home.path}: synthetic branch network "
            f"({built.book.loans:,} loans, {built.book.households:,} households) imported"
        )
    if built.casework is not None:
        _print_demo_people(built.casework)
    rows = [
        {
            "month": month_label(e.as_of),
            "rows": e.rows,
            "loans_on_book": e.loans_on_book,
            "balance": e.balance,
            "source": e.source,
        }
        for e in built.snapshots
    ]
    emit(
        rows,
        ["month", "rows", "loans_on_book", "balance", "source"],
        OutputFormat.table,
        title="loan tape",
    )
    _print_headline(built.home, _store(built.home))
    _print_casework_summary(built.summary)
    out.print(
        f"next: npldesk quality --as-of {month_label(built.snapshots[-1].as_of)} --by org_unit "
        f"--home {built.home.path}"
    )
    if not no_serve:
        _serve_demo(built.home, port=port)


def _serve_demo(home: Home, *, port: int) -> None:
    """Say where the web app is and how each demo role signs in (read again from the home's
    credentials file on every run), then become ``npldesk serve`` on 127.0.0.1.

    The server is a fresh process (``exec``): this one lists the demo's fast password hasher
    first, and the server must hash as every other server does (``npldesk.demo.hashers``).
    """
    import sys

    from npldesk.demo.credentials import credentials_path, one_per_role, read_credentials

    chosen = one_per_role(read_credentials(home.path))
    every = credentials_path(home.path)
    emit(
        [
            {"role": role, "username": s.username, "password": s.password}
            for role, s in chosen.items()
        ],
        ["role", "username", "password"],
        OutputFormat.table,
        title=f"sign in at http://127.0.0.1:{port}/ (every demo user: {every})",
    )
    sys.stdout.flush()
    sys.stderr.flush()
    from npldesk.demo.hashers import FAST_HASHING_SWITCH

    env = {k: v for k, v in os.environ.items() if k != FAST_HASHING_SWITCH}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()"]
    serve = ["serve", "--home", str(home.path), "--port", str(port)]
    os.execve(sys.executable, [*command, *serve], env)  # noqa: S606 - our own interpreter


def _print_demo_people(casework: Any) -> None:
    """The demo users with their passwords and what the history holds."""
    emit(
        [
            {
                "username": c.username,
                "roles": " ".join(c.roles),
                "units": " ".join(c.units),
                "password": c.password,
            }
            for c in casework.credentials
        ],
        ["username", "roles", "units", "password"],
        OutputFormat.table,
        title="demo users (their passwords also in the home's demo-credentials.txt, owner-only)",
    )
    console().print(
        f"casework: {casework.counts.get('recoveries', 0):,} recoveries and "
        f"{casework.counts.get('writeoffs', 0):,} write-offs as the tape shows them; "
        "investigations, activities, plans and legal cases for a seeded "
        f"{casework.sample_share:.0%} of the cases"
    )


def _print_casework_summary(summary: dict[str, Any]) -> None:
    """Cases open and closed, by state and strategy, legal stages, what was recovered."""
    out = console()

    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{key} {n}" for key, n in counts.items()) or "none"

    out.print(
        f"cases: {summary['cases']:,} ({summary['open']:,} open, {summary['closed']:,} closed); "
        f"recovered {_millions(summary['recovered'])} million yuan in "
        f"{summary['recoveries']:,} entries ({_millions(summary['recovered_after_write_off'])} "
        "million after write-off)"
    )
    out.print(f"  open by state     {listed(summary['by_state'])}")
    out.print(f"  open by strategy  {listed(summary['by_strategy'])}")
    out.print(f"  legal stages      {listed(summary['legal_stages'])}")


def _print_headline(home: Home, store: Any) -> None:
    """The asset-quality headline of the latest month against the December before."""
    from npldesk.analytics.session import Analytics
    from npldesk.reports.figures import quality_report

    latest = store.months()[-1]
    session = Analytics.for_home(home)
    with progress() as say_progress:
        session.progress = say_progress
        report = quality_report(session, latest)
    total = report.total
    out = console()
    if report.baseline is None:
        out.print(
            f"{month_label(latest)}: NPL balance {total.npl_balance} yuan, "
            f"ratio {_percent(total.npl_ratio)}"
        )
        return
    verdict = "double reduction" if total.double_reduction else "no double reduction"
    out.print(
        f"{month_label(latest)} against {month_label(report.baseline)}: NPL balance "
        f"{_millions(total.npl_balance)} million yuan, ratio {_percent(total.npl_ratio)}; "
        f"change {_millions(total.npl_balance_change)} million yuan and "
        f"{_points(total.npl_ratio_change)} percentage points: {verdict}"
    )


def _millions(value: Decimal | str | None) -> str:
    return "n/a" if value is None else f"{round_half_up(Decimal(value) / 1_000_000, 2):f}"


def _percent(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{round_half_up(value * 100, 2)} %"


def _points(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{round_half_up(value * 100, 2):f}"


def _register_figure_commands() -> None:
    """The analytics and administration commands live in their own modules; each adds itself
    here."""
    from npldesk.cli import (
        admin,
        cases,
        figures,
        lists,
        migration,
        monthend,
        ops,
        plan,
        report,
        tokens,
        web,
    )

    for module in (
        figures,
        lists,
        migration,
        admin,
        cases,
        monthend,
        ops,
        plan,
        report,
        tokens,
        web,
    ):
        module.register(app)


_register_figure_commands()
