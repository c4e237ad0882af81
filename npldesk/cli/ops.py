"""Operating a home: ``npldesk backup`` and ``npldesk restore`` (ADR 0007)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from npldesk.cli.options import HomeOption
from npldesk.cli.output import console
from npldesk.home import load_home


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``npldesk`` command."""
    app.command()(backup)
    app.command()(restore)


def backup(
    out: Annotated[Path, typer.Option("--out", help="The archive to write (a new file)")],
    home: HomeOption = None,
) -> None:
    """Write a consistent, owner-only archive of the home: configuration, secret key, tape
    store with its manifest, casework database, export log."""
    from npldesk.backup import backup_home
    from npldesk.bootstrap import setup_django

    loaded = load_home(home)
    setup_django(loaded)
    result = backup_home(loaded, out)
    months = f"{result.months[0]} to {result.months[-1]}" if result.months else "no snapshots"
    console().print(
        f"backup of {loaded.path} written to {result.archive} (owner-only): {result.files} "
        f"files, {result.size / 1_000_000:.1f} MB; tape {months}; {result.database} database"
    )


def restore(
    archive: Annotated[Path, typer.Argument(help="An archive written by `npldesk backup`")],
    home: HomeOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Restore into a home that is not empty, replacing it"),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The database to restore into (PostgreSQL: an empty database); written "
            "into the restored configuration",
        ),
    ] = None,
) -> None:
    """Bring a backup back into a new (or, with --force, an existing) home."""
    from npldesk.backup import restore_home

    result = restore_home(archive, home, replace=force, database_url=database_url)
    months = f"{result.months[0]} to {result.months[-1]}" if result.months else "no snapshots"
    console().print(
        f"restored {archive} into {result.home}: {result.files} files; tape {months}; "
        f"{result.database} database at {result.database_url}"
    )
    console().print(f"if npldesk is newer than the backup: npldesk init --home {result.home}")
