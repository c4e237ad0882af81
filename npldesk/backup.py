"""Backup and restore of a home: one owner-only archive holding everything an installation
cannot compute again (ADR 0007).

An archive is an uncompressed tar (the Parquet files and a PostgreSQL dump are compressed
already) of::

    home/npldesk.toml, home/secret.key, home/demo-credentials.txt (if any),
    home/audit/...              the export log
    home/documents/...          the legal documents drafted from cases (ADR 0019)
    home/legaldocs/...          the bank's own document templates and contract numbers
    store/manifest.json and every file it names (snapshots, organisation tree, derived files)
    database/npldesk.sqlite3    SQLite's online backup, or database/casework.pgdump (pg_dump)
    backup.json                 what the archive holds, with every file's SHA-256

It is taken while nothing writes to the store (its write lock is held from the database copy
to the last file) and the database copy is one consistent state of the database, so the
store and the casework of the archive belong together. This module is wiring: the store lives
in ``tape``, the database copy in ``casework.backup``; the command line only calls these two
functions and prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import npldesk
from npldesk.core.errors import DataError, UsageError
from npldesk.core.i18n import translatable
from npldesk.core.system import current_user, fsync_path
from npldesk.home import CONFIG_NAME, SECRET_KEY_NAME, Home, resolve_home_path
from npldesk.tape.manifest import Manifest

ARCHIVE_FORMAT = 1
INDEX = "backup.json"
HOME_FILES = (CONFIG_NAME, SECRET_KEY_NAME, "demo-credentials.txt")
HOME_FOLDERS = ("audit", "documents", "legaldocs")
DATABASE_FILES = {"sqlite": "database/npldesk.sqlite3", "postgresql": "database/casework.pgdump"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    files: int
    size: int
    months: list[str]
    database: str


@dataclass(frozen=True)
class RestoreResult:
    home: Path
    files: int
    months: list[str]
    database: str
    database_url: str


# -- backup -----------------------------------------------------------------------------------


def backup_home(home: Home, out: Path) -> BackupResult:
    """Write the archive of ``home`` to ``out`` (a new file, owner-only, complete or absent).

    The casework database is the one Django is connected to for this home.
    """
    from npldesk.casework.backup import copy_database
    from npldesk.tape.store import Store

    out = Path(out).expanduser().absolute()
    if out.exists():
        raise UsageError(
            translatable("{out} exists: a backup never replaces a file; choose a new name", out=out)
        )
    if not out.parent.is_dir():
        raise UsageError(
            translatable(
                "cannot write {out}: the folder {parent} does not exist", out=out, parent=out.parent
            )
        )
    store = Store(home.store_path)
    files: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as scratch,
        store.writing(),
    ):
        # Under the store's lock: no import, replacement or classification until the last file.
        database = copy_database(Path(scratch))
        manifest = store.manifest()
        members = _home_members(home) + _store_members(store.path, manifest)
        members.append((DATABASE_FILES[database.kind], database.file))
        descriptor, partial_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        partial = Path(partial_name)
        try:
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
                for name, source in members:
                    files[name] = _add_file(tar, name, source)
                index = {
                    "format": ARCHIVE_FORMAT,
                    "npldesk": npldesk.__version__,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "created_by": current_user(),
                    "home": str(home.path),
                    "database": {"kind": database.kind, "file": DATABASE_FILES[database.kind]},
                    "months": [as_of.isoformat() for as_of in sorted(manifest.snapshots)],
                    "files": files,
                }
                _add_bytes(tar, INDEX, json.dumps(index, indent=1, sort_keys=True).encode())
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, out)
            fsync_path(out.parent)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(
        archive=out,
        files=len(files),
        size=out.stat().st_size,
        months=[as_of.isoformat()[:7] for as_of in sorted(manifest.snapshots)],
        database=database.kind,
    )


def _home_members(home: Home) -> list[tuple[str, Path]]:
    members = [
        (f"home/{name}", home.path / name) for name in HOME_FILES if (home.path / name).is_file()
    ]
    for folder in HOME_FOLDERS:
        root = home.path / folder
        if root.is_dir():
            members += [
                (f"home/{file.relative_to(home.path).as_posix()}", file)
                for file in sorted(root.rglob("*"))
                if file.is_file()
            ]
    return members


def _store_members(store_path: Path, manifest: Manifest) -> list[tuple[str, Path]]:
    """The manifest and every file it names (a derived entry may be a folder of parts)."""
    from npldesk.tape.store import MANIFEST, Store

    if not (store_path / MANIFEST).is_file():
        return []
    members = [(f"store/{MANIFEST}", store_path / MANIFEST)]
    for relative in sorted(Store(store_path).referenced_files(manifest)):
        path = store_path / relative
        parts = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for part in parts:
            if not part.is_file():
                raise DataError(
                    translatable(
                        "the store manifest names {part}, which is missing: the store is "
                        "damaged; nothing was written",
                        part=part.relative_to(store_path),
                    )
                )
            members.append((f"store/{part.relative_to(store_path).as_posix()}", part))
    return members


class _Hashing:
    """A file read through, its SHA-256 computed on the way."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, name: str, source: Path) -> dict[str, Any]:
    with open(source, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        hashing = _Hashing(stream)
        tar.addfile(_member(name, size), hashing)
    return {"sha256": hashing.digest.hexdigest(), "size": size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    tar.addfile(_member(name, len(data)), io.BytesIO(data))


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    return info


# -- restore ----------------------------------------------------------------------------------


def restore_home(
    archive: Path,
    target: Path | str | None,
    *,
    replace: bool = False,
    database_url: str | None = None,
) -> RestoreResult:
    """Bring the archive back into the home ``target``: an empty or new folder, unless
    ``replace`` (then what the archive holds replaces the same things there). The database
    goes to ``database_url``, else ``NPLDESK_DATABASE_URL``, else the archived configuration's,
    else SQLite in the home; a given URL is written into the restored configuration."""
    from npldesk.casework.backup import DatabaseCopy, restore_database, safe_url

    archive = Path(archive)
    home_path = resolve_home_path(target)
    if home_path.exists() and not home_path.is_dir():
        raise UsageError(
            translatable("{home_path} exists and is not a folder", home_path=home_path)
        )
    if home_path.is_dir() and any(home_path.iterdir()) and not replace:
        raise UsageError(
            translatable(
                "{home_path} is not empty: restore into a new folder, or give --force to "
                "replace what the backup holds there",
                home_path=home_path,
            )
        )
    home_path.parent.mkdir(parents=True, exist_ok=True)
    created = not home_path.exists()
    staging = Path(tempfile.mkdtemp(dir=home_path.parent, prefix=f".{home_path.name}.restore-"))
    try:
        index = _extract(archive, staging)
        config_file = staging / "home" / CONFIG_NAME
        config = _read_config(config_file)
        url = (
            database_url
            or os.environ.get("NPLDESK_DATABASE_URL", "").strip()
            or str(config.get("database", {}).get("url", "")).strip()
            or f"sqlite:///{home_path / 'npldesk.sqlite3'}"
        )
        if database_url:
            config_file.write_text(
                _with_database_url(config_file.read_text(encoding="utf-8"), database_url),
                encoding="utf-8",
            )
            config = _read_config(config_file)
        restored = Home(path=home_path, config=config)
        home_path.mkdir(mode=0o700, exist_ok=True)
        home_path.chmod(0o700)
        kind = index["database"]["kind"]
        try:
            restore_database(
                DatabaseCopy(kind, staging / index["database"]["file"]), url, replace=replace
            )
        except BaseException:
            if created:
                with contextlib.suppress(OSError):
                    home_path.rmdir()
            raise
        _move_into_place(staging, restored)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(
        home=home_path,
        files=len(index["files"]),
        months=[m[:7] for m in index["months"]],
        database=kind,
        database_url=safe_url(url),
    )


def _extract(archive: Path, staging: Path) -> dict[str, Any]:
    """Every file of the archive into ``staging``, each checked against its SHA-256."""
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError as exc:
        raise UsageError(translatable("file not found: {archive}", archive=archive)) from exc
    except (tarfile.TarError, OSError) as exc:
        raise DataError(
            translatable("{archive} is not an npldesk backup: {exc}", archive=archive, exc=exc)
        ) from exc
    with tar:
        index = _index(archive, tar)
        expected: dict[str, dict[str, Any]] = index["files"]
        seen: set[str] = set()
        for member in tar:
            if member.name == INDEX:
                continue
            if member.name not in expected or not member.isfile() or not _safe(member.name):
                raise DataError(
                    translatable(
                        "{archive} holds {name!r}, which its index does not name",
                        archive=archive,
                        name=member.name,
                    )
                )
            target = staging / member.name
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            digest = hashlib.sha256()
            source = tar.extractfile(member)
            assert source is not None  # a regular file
            with source, open(target, "xb") as out:
                os.fchmod(out.fileno(), 0o600)
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected[member.name]["sha256"]:
                raise DataError(
                    translatable(
                        "{archive}: {name} does not match its checksum; the archive is damaged "
                        "and nothing was restored",
                        archive=archive,
                        name=member.name,
                    )
                )
            seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise DataError(
            translatable(
                "{archive} lacks {names}; nothing was restored",
                archive=archive,
                names=", ".join(missing),
            )
        )
    return index


def _index(archive: Path, tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(INDEX)
        stream = tar.extractfile(member)
        assert stream is not None
        index: dict[str, Any] = json.loads(stream.read())
    except (KeyError, ValueError, AssertionError) as exc:
        raise DataError(
            translatable(
                "{archive} is not an npldesk backup (no readable {INDEX})",
                archive=archive,
                INDEX=INDEX,
            )
        ) from exc
    if index.get("format") != ARCHIVE_FORMAT:
        raise DataError(
            translatable(
                "{archive} is a backup of format {found!r}; this npldesk reads format {format}",
                archive=archive,
                found=index.get("format"),
                format=ARCHIVE_FORMAT,
            )
        )
    return index


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and path.parts[0] in ("home", "store", "database")
    )


def _read_config(config_file: Path) -> dict[str, Any]:
    if not config_file.is_file():
        return {}
    try:
        return tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            translatable(
                "the archived {CONFIG_NAME} is not valid TOML: {exc}",
                CONFIG_NAME=CONFIG_NAME,
                exc=exc,
            )
        ) from exc


def _with_database_url(text: str, url: str) -> str:
    """The configuration ``text`` with ``[database] url`` set to ``url``."""
    lines = text.splitlines()
    value = f"url = {json.dumps(url)}"
    section = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            if section == "database":
                lines.insert(index, value)
                return "\n".join(lines) + "\n"
            section = stripped.strip("[]").strip()
        elif section == "database" and stripped.split("=", 1)[0].strip() == "url":
            lines[index] = value
            return "\n".join(lines) + "\n"
    if section == "database":
        return "\n".join([*lines, value]) + "\n"
    return "\n".join([*lines, "", "[database]", value]) + "\n"


def _move_into_place(staging: Path, home: Home) -> None:
    for staged in sorted((staging / "home").rglob("*")):
        if staged.is_file():
            final = home.path / staged.relative_to(staging / "home")
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(staged, final)
    staged_store = staging / "store"
    store_path = home.store_path
    if store_path.exists():
        shutil.rmtree(store_path)
    if staged_store.is_dir():
        store_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.move(str(staged_store), str(store_path))
    else:
        store_path.mkdir(parents=True, mode=0o700)
    for folder in [store_path, *(p for p in store_path.rglob("*") if p.is_dir())]:
        folder.chmod(0o700)
