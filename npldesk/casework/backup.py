"""The casework database in a backup: a consistent copy out, and back into an empty database.

SQLite is copied with SQLite's online backup API, which reads one consistent state of the
database while other connections keep working. PostgreSQL is dumped with ``pg_dump`` (custom
format): it reads every table in one repeatable-read snapshot, and carries the schema, the
append-only triggers and the sequences with the rows, so ``pg_restore`` brings back the
database exactly (ADR 0007). Restoring never writes into a database that holds tables unless
told to replace them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from npldesk.core.errors import DataError, UsageError
from npldesk.core.i18n import translatable

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class DatabaseCopy:
    """What ``copy_database`` wrote: the kind of database and the file holding it."""

    kind: str
    file: Path


def copy_database(target_folder: Path) -> DatabaseCopy:
    """Copy the database Django is connected to into ``target_folder`` (one consistent state)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        target = target_folder / "npldesk.sqlite3"
        connection.ensure_connection()
        source: sqlite3.Connection = connection.connection
        copy = sqlite3.connect(target)
        try:
            # All pages in one step: the copy is the database as one transaction saw it.
            source.backup(copy)
        finally:
            copy.close()
        return DatabaseCopy(SQLITE, target)
    if connection.vendor == "postgresql":
        target = target_folder / "casework.pgdump"
        settings = connection.settings_dict
        command = [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            *_connection_options(settings),
        ]
        _run(command, settings.get("PASSWORD") or "", "pg_dump")
        return DatabaseCopy(POSTGRESQL, target)
    raise UsageError(
        translatable(
            "backing up a {connection_vendor} database is not supported",
            connection_vendor=connection.vendor,
        )
    )


def restore_database(copy: DatabaseCopy, database_url: str, *, replace: bool) -> None:
    """Bring ``copy`` back into the database at ``database_url`` (of the same kind)."""
    kind = database_kind(database_url)
    if kind != copy.kind:
        raise UsageError(
            translatable(
                "the backup holds a {copy_kind} database but the target home's database is "
                "{kind} ({database_url}): restore into a home on {copy_kind}",
                copy_kind=copy.kind,
                kind=kind,
                database_url=safe_url(database_url),
            )
        )
    if kind == SQLITE:
        target = sqlite_path(database_url)
        if target.exists() and not replace:
            raise UsageError(
                translatable("{target} exists: give --force to replace it", target=target)
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(copy.file, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
        return
    tables = _postgresql_tables(database_url)
    if tables and not replace:
        raise UsageError(
            translatable(
                "the database {database_url} already holds {tables} tables: restore into an "
                "empty database, or give --force to replace what it holds",
                database_url=safe_url(database_url),
                tables=tables,
            )
        )
    parts = urlsplit(database_url)
    command = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        *(["--clean", "--if-exists"] if tables else []),
        f"--dbname={_libpq_url(database_url)}",
        str(copy.file),
    ]
    _run(command, unquote(parts.password or ""), "pg_restore")


def database_kind(url: str) -> str:
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        return SQLITE
    if scheme in ("postgres", "postgresql", "pgsql"):
        return POSTGRESQL
    raise UsageError(
        translatable("{url}: the casework database is SQLite or PostgreSQL", url=safe_url(url))
    )


def sqlite_path(url: str) -> Path:
    """``sqlite:////abs/path.sqlite3`` → the file."""
    return Path(url.partition("://")[2][1:] or ".").expanduser()


def safe_url(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username}@{host}{port}").geturl()


def _connection_options(settings: dict[str, Any]) -> list[str]:
    options = [f"--dbname={settings['NAME']}"]
    if settings.get("HOST"):
        options.append(f"--host={settings['HOST']}")
    if settings.get("PORT"):
        options.append(f"--port={settings['PORT']}")
    if settings.get("USER"):
        options.append(f"--username={settings['USER']}")
    return options


def _libpq_url(url: str) -> str:
    """The URL without its password (given through the environment, never on a command line)."""
    parts = urlsplit(url)
    scheme = "postgresql"
    netloc = parts.netloc.rsplit("@", 1)
    host = netloc[-1]
    user = netloc[0].split(":", 1)[0] + "@" if len(netloc) == 2 else ""
    return f"{scheme}://{user}{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def _postgresql_tables(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(_libpq_url(url), password=_password(url), connect_timeout=10) as db:
            row = db.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                "('pg_catalog', 'information_schema')"
            ).fetchone()
    except psycopg.Error as exc:
        raise UsageError(
            translatable(
                "the database {url} cannot be reached ({exc}): create it first (an empty "
                "database the home's user owns)",
                url=safe_url(url),
                exc=exc,
            )
        ) from exc
    return int(row[0]) if row else 0


def _password(url: str) -> str | None:
    password = urlsplit(url).password
    return unquote(password) if password else None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise UsageError(
            translatable(
                "{name} is not installed: a PostgreSQL database is backed up and restored with "
                "the PostgreSQL client tools (postgresql-client, the server's version or newer)",
                name=name,
            )
        )
    return found


def _run(command: list[str], password: str, name: str) -> None:
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    # The PostgreSQL client tools, found on PATH, with arguments npldesk built (no shell).
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise DataError(
            translatable(
                "{name} failed (exit {returncode}): {output}",
                name=name,
                returncode=result.returncode,
                output=result.stderr.strip(),
            )
        )
