"""The tape store: Parquet snapshots, one folder per month-end, and a manifest with lineage.

Layout (see ADR 0002)::

    store/
      manifest.json                       the only thing readers trust
      tape/2019-12-31/part-<import>.parquet one file per snapshot, named by the import that wrote it
      org/units-<import>.parquet          the organisation tree
      .staging/                           files being written; never read

The manifest is the commit point. An import writes its files under names no committed
snapshot uses, then replaces ``manifest.json`` in one atomic rename; only after that are the
files of a replaced snapshot deleted. A crash, a kill or a full disk before the rename leaves
the manifest as it was; files it left behind are not referenced and are swept the next time
the store is opened for writing. Writers take an exclusive lock on ``.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.core.system import fsync_path
from npldesk.tape.manifest import STORE_FORMAT, Manifest, SnapshotEntry

MANIFEST = "manifest.json"
__all__ = ["MANIFEST", "STORE_FORMAT", "Manifest", "SnapshotEntry", "Store", "Transaction"]


def new_import_id() -> str:
    """A sortable, unique name for one import's files."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class Store:
    """One tape store folder. Read methods never write; writes go through ``commit``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # -- reading -------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def manifest(self) -> Manifest:
        """The committed manifest (empty for a new store); a store written by a newer npldesk
        is refused (``npldesk.tape.manifest``)."""
        if not self.manifest_path.exists():
            return Manifest()
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(
                translatable(
                    "the store manifest {manifest_path} cannot be read: {exc}",
                    manifest_path=self.manifest_path,
                    exc=exc,
                )
            ) from exc
        return Manifest.from_json(data, where=self.manifest_path)

    def snapshots(self) -> list[SnapshotEntry]:
        return [entry for _as_of, entry in sorted(self.manifest().snapshots.items())]

    def snapshot(self, as_of: date) -> SnapshotEntry | None:
        for entry in self.snapshots():
            if entry.as_of == as_of:
                return entry
        return None

    def months(self) -> list[date]:
        return [entry.as_of for entry in self.snapshots()]

    def snapshot_path(self, as_of: date) -> Path:
        entry = self.snapshot(as_of)
        if entry is None:
            raise UsageError(
                translatable(
                    "month {as_of} is not imported in {path}",
                    as_of=month_label(as_of),
                    path=self.path,
                )
            )
        return self.path / entry.file

    def snapshot_paths(self) -> dict[date, Path]:
        return {entry.as_of: self.path / entry.file for entry in self.snapshots()}

    def org_path(self) -> Path | None:
        org = self.manifest().org
        return None if org is None else self.path / org.file

    def referenced_files(self, manifest: Manifest | None = None) -> set[str]:
        """Every path the manifest names: snapshot files, the org file, derived files/folders."""
        manifest = manifest if manifest is not None else self.manifest()
        files = {entry.file for entry in manifest.snapshots.values()}
        if manifest.org is not None:
            files.add(manifest.org.file)
        for months in manifest.derived.values():
            for entry in months.values():
                files.update(entry["files"].values())
        return files

    def derived(self, key: str) -> dict[str, dict[str, Any]]:
        """Derived data (classified snapshots) recorded under ``key``, by month-end."""
        return self.manifest().derived.get(key, {})

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Transaction]:
        """Lock the store, sweep what an interrupted writer left, and open a transaction.

        Leaving the block without ``commit`` (an error, Ctrl-C) removes the staged files.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / ".lock"
        with open(lock_path, "a+b") as lock_file:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise UsageError(
                    translatable(
                        "another import is writing to {path}; wait for it to finish", path=self.path
                    )
                ) from exc
            self.manifest()  # a store of a newer format is refused before anything is swept
            self.sweep()
            transaction = Transaction(self)
            try:
                yield transaction
            finally:
                transaction.discard_staging()

    def sweep(self) -> list[str]:
        """Delete files no committed manifest references (left by an interrupted writer)."""
        removed: list[str] = []
        staging = self.path / ".staging"
        if staging.exists():
            shutil.rmtree(staging)
            removed.append(".staging")
        referenced = self.referenced_files()
        for folder in ("tape", "org", "derived"):
            root = self.path / folder
            if not root.exists():
                continue
            for file in sorted(root.rglob("*")):
                relative = file.relative_to(self.path)
                # A derived entry may name a folder of part files (written by Spark).
                kept = relative.as_posix() in referenced or any(
                    parent.as_posix() in referenced for parent in relative.parents
                )
                if file.is_file() and not kept:
                    file.unlink()
                    removed.append(relative.as_posix())
            for sub in [*sorted(root.rglob("*"), reverse=True), root]:
                if sub.is_dir() and not any(sub.iterdir()):
                    sub.rmdir()
        tmp = self.path / (MANIFEST + ".tmp")
        if tmp.exists():
            tmp.unlink()
            removed.append(tmp.name)
        return removed


class Transaction:
    """Files staged by one writer and the manifest change that commits them, all or nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.import_id = new_import_id()
        self.staging = store.path / ".staging" / self.import_id
        self._staged: list[tuple[Path, Path]] = []
        self.committed = False

    def stage_path(self, relative_final: str) -> Path:
        """Where to write a file that will live at ``relative_final`` once committed."""
        staged = self.staging / relative_final
        staged.parent.mkdir(parents=True, exist_ok=True)
        self._staged.append((staged, self.store.path / relative_final))
        return staged

    def snapshot_file(self, as_of: date) -> str:
        return f"tape/{as_of.isoformat()}/part-{self.import_id}.parquet"

    def org_file(self) -> str:
        return f"org/units-{self.import_id}.parquet"

    def derived_file(self, key: str, as_of: date, kind: str) -> str:
        return f"derived/{key}/{as_of.isoformat()}/{kind}-{self.import_id}.parquet"

    def commit(self, new_manifest: Manifest) -> None:
        """Move staged files into place and replace the manifest atomically (the commit point)."""
        store = self.store
        old_files = store.referenced_files()
        for staged, final in self._staged:
            if not staged.exists():
                continue  # nothing was written there (an empty result)
            for part in [staged, *staged.rglob("*")] if staged.is_dir() else [staged]:
                fsync_path(part)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
            fsync_path(final.parent)
        tmp = store.path / (MANIFEST + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(new_manifest.to_json(), handle, ensure_ascii=False, indent=1, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, store.manifest_path)
        fsync_path(store.path)
        self.committed = True
        # After the commit: files of replaced snapshots are no longer referenced.
        for relative in old_files - store.referenced_files(new_manifest):
            stale = store.path / relative
            if stale.is_dir():  # a folder of part files written by Spark
                shutil.rmtree(stale, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        store.sweep()

    def discard_staging(self) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        parent = self.staging.parent
        with contextlib.suppress(OSError):
            parent.rmdir()
