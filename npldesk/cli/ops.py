"""Operating a home: ``npldesk backup`` and ``npldesk restore`` (ADR 0007)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from npldesk.cli.language import say, use_language
from npldesk.cli.options import HomeOption
from npldesk.cli.output import console
from npldesk.core.i18n import Translatable, translatable
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

    loaded = load_home(home)
    use_language(loaded)
    result = backup_home(loaded, out)
    said = translatable(
        "backup of {home} written to {archive} (owner-only): {files} files, {size} MB; tape "
        "{months}; {database} database",
        home=str(loaded.path),
        archive=str(result.archive),
        files=result.files,
        size=f"{result.size / 1_000_000:.1f}",
        months=_months(result.months),
        database=result.database,
    )
    console().print(say(said))


def _months(months: list[str]) -> Translatable:
    if not months:
        return translatable("no snapshots")
    return translatable("{first} to {last}", first=months[0], last=months[-1])


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
    # Said in the language of the home just restored.
    use_language(load_home(result.home))
    restored = translatable(
        "restored {archive} into {home}: {files} files; tape {months}; {database} database at "
        "{url}",
        archive=str(archive),
        home=str(result.home),
        files=result.files,
        months=_months(result.months),
        database=result.database,
        url=result.database_url,
    )
    console().print(say(restored))
    console().print(
        say(
            translatable(
                "if npldesk is newer than the backup: npldesk init --home {home}",
                home=str(result.home),
            )
        )
    )
