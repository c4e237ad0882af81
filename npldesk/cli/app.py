"""The commands of ``npldesk`` (``docs/commands.md``)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len

from npldesk.bootstrap import setup_django
from npldesk.cli.language import chinese, home_language, say, use_language
from npldesk.cli.options import FormatOption, HomeOption, month_option, optional_month
from npldesk.cli.output import OutputFormat, console, emit, err_console, print_problems
from npldesk.cli.output import progress_reporter as progress
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import round_half_up
from npldesk.core.months import month_label
from npldesk.home import Home, create_home, load_home, restrict_sqlite_files
from npldesk.reports.labels import TERMS, case_value, choice_label


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
    use_language(created_home)
    out = console()
    path = str(created_home.path)
    if created:
        out.print(say(translatable("npldesk home {path} created", path=path)))
    else:
        again = translatable(
            "npldesk home {path} already existed; database brought up to date", path=path
        )
        out.print(say(again))
    facts = [
        (say(_("configuration")), str(created_home.config_file)),
        (say(_("tape store")), str(created_home.store_path)),
        (say(_("database")), _safe_url(created_home.database_url)),
    ]
    width = max(cell_len(name) for name, _value in facts)
    for name, value in facts:
        out.print(f"  {name}{' ' * (width - cell_len(name))}  {value}")


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
    with home_language(), progress() as say_progress:
        result = generate(
            out,
            profile=profile,
            layout=layout,
            seed=seed,
            loans=loans,
            start=first,
            months=months,
            file_format=file_format,
            progress=lambda done, total: say_progress(
                say(translatable("simulating {done}/{total}", done=done, total=total))
            ),
        )
        wrote = translatable(
            "wrote {files} monthly files ({rows} rows, {loans} loans, {households} households) "
            "and {org_file} to {out}",
            files=len(result.tape_files),
            rows=f"{result.rows:,}",
            loans=f"{result.loans:,}",
            households=f"{result.households:,}",
            org_file=result.org_file.name,
            out=str(result.out_dir),
        )
        console().print(say(wrote))


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
        raise UsageError(translatable("--port {port}: a port is between 1 and 65535", port=port))
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
    # Said in the home's language once it is built (the build writes its notes in it).
    use_language(built.home)
    out = console()
    path = str(built.home.path)
    if built.book is None:
        said = translatable(
            "the demo home {path} is already built (use --rebuild to start over)", path=path
        )
    else:
        said = translatable(
            "demo home {path}: synthetic branch network ({loans} loans, {households} "
            "households) imported",
            path=path,
            loans=f"{built.book.loans:,}",
            households=f"{built.book.households:,}",
        )
    out.print(say(said))
    if built.casework is not None:
        _print_demo_people(built.casework)
    rows = [
        {
            "month": month_label(e.as_of),
            "rows": numbers.grouped(e.rows),
            "loans_on_book": _count(e.loans_on_book),
            "balance": numbers.money(Decimal(e.balance)),
            "source": e.source,
        }
        for e in built.snapshots
    ]
    emit(
        rows,
        ["month", "rows", "loans_on_book", "balance", "source"],
        OutputFormat.table,
        title=say(_("Loan tape")),
        headers=_headers(TAPE_HEADERS),
        right=("rows", "loans_on_book", "balance"),
    )
    _print_headline(built.home, _store(built.home))
    _print_casework_summary(built.summary)
    command = (
        f"npldesk quality --as-of {month_label(built.snapshots[-1].as_of)} --by org_unit "
        f"--home {built.home.path}"
    )
    out.print(say(translatable("next: {command}", command=command)))
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
            {"role": _role(role), "username": s.username, "password": s.password}
            for role, s in chosen.items()
        ],
        ["role", "username", "password"],
        OutputFormat.table,
        title=say(
            translatable(
                "sign in at {address} (every demo user: {every})",
                address=f"http://127.0.0.1:{port}/",
                every=str(every),
            )
        ),
        headers=_headers(PEOPLE_HEADERS),
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
                "roles": say(_(", ")).join(_role(role) for role in c.roles),
                "units": " ".join(c.units),
                "password": c.password,
            }
            for c in casework.credentials
        ],
        ["username", "roles", "units", "password"],
        OutputFormat.table,
        title=say(
            _("demo users (their passwords also in the home's demo-credentials.txt, owner-only)")
        ),
        headers=_headers(PEOPLE_HEADERS),
    )
    said = translatable(
        "casework: {recoveries} recoveries and {writeoffs} write-offs as the tape shows them; "
        "investigations, activities, plans and legal cases for a seeded {share} of the cases",
        recoveries=f"{casework.counts.get('recoveries', 0):,}",
        writeoffs=f"{casework.counts.get('writeoffs', 0):,}",
        share=f"{casework.sample_share:.0%}",
    )
    console().print(say(said))


# The heads of the demo's people tables.
PEOPLE_HEADERS = {
    "role": _("Role"),
    "username": _("Username"),
    "roles": _("Roles"),
    "units": _("Units"),
    "password": _("Password"),
}


def _role(code: str) -> str:
    from npldesk.casework.choices import Role

    return choice_label(Role, code)


def _print_casework_summary(summary: dict[str, Any]) -> None:
    """Cases open and closed, by state and strategy, legal stages, what was recovered."""
    out = console()

    def listed(column: str, counts: dict[str, int]) -> str:
        said = [f"{case_value(column, key)} {n:,}" for key, n in counts.items()]
        return say(_(", ")).join(said) or say(TERMS["none"])

    cases = translatable(
        "cases: {cases} ({open} open, {closed} closed); recovered {recovered} in {entries} "
        "entries ({after_write_off} after write-off)",
        cases=f"{summary['cases']:,}",
        open=f"{summary['open']:,}",
        closed=f"{summary['closed']:,}",
        recovered=_amount(summary["recovered"]),
        entries=f"{summary['recoveries']:,}",
        after_write_off=_amount(summary["recovered_after_write_off"]),
    )
    out.print(say(cases))
    facts = [
        (say(_("open by state")), listed("state", summary["by_state"])),
        (say(_("open by strategy")), listed("strategy", summary["by_strategy"])),
        (say(_("legal stages")), listed("legal_stage", summary["legal_stages"])),
    ]
    width = max(cell_len(name) for name, _value in facts)
    for name, value in facts:
        out.print(f"  {name}{' ' * (width - cell_len(name))}  {value}")


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
        said = translatable(
            "{month}: NPL balance {npl_balance}, ratio {npl_ratio}",
            month=month_label(latest),
            npl_balance=_amount(total.npl_balance),
            npl_ratio=_percent(total.npl_ratio),
        )
        out.print(say(said))
        return
    said = translatable(
        "{month} against {baseline}: NPL balance {npl_balance}, ratio {npl_ratio}; change "
        "{change} and {points} percentage points: {verdict}",
        month=month_label(latest),
        baseline=month_label(report.baseline),
        npl_balance=_amount(total.npl_balance),
        npl_ratio=_percent(total.npl_ratio),
        change=_amount(total.npl_balance_change),
        points=_points(total.npl_ratio_change),
        verdict=translatable("double reduction")
        if total.double_reduction
        else translatable("no double reduction"),
    )
    out.print(say(said))


def _amount(value: Decimal | str | None) -> str:
    """An amount of the headline: in millions of yuan, or in 万元 where Chinese is spoken."""
    if value is None:
        return say(TERMS["n/a"])
    if chinese():
        ten_thousands = numbers.ten_thousands(Decimal(value))
        return say(translatable("{amount} ten thousand yuan", amount=ten_thousands))
    millions = f"{round_half_up(Decimal(value) / 1_000_000, 2):f}"
    return say(translatable("{amount} million yuan", amount=millions))


def _percent(value: Decimal | None) -> str:
    return say(TERMS["n/a"]) if value is None else f"{round_half_up(value * 100, 2)} %"


def _points(value: Decimal | None) -> str:
    return say(TERMS["n/a"]) if value is None else f"{round_half_up(value * 100, 2):f}"


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
