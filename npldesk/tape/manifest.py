"""The store's manifest as typed records, read from and written to ``manifest.json``.

The manifest is the store's commit point (ADR 0002). Its JSON keeps the keys it has always had:
each record reads its keys and writes them back unchanged, and keeps any key it does not know
(written by a later npldesk of the same store format) so that a commit never drops it.

``format`` is the store format. A store written by a newer npldesk is refused (its files may
mean something this version cannot read); an older one is upgraded in memory when it is read
(``UPGRADES``) and written in the current format by the next commit, or, when no upgrade is
known, refused with the command that converts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label

STORE_FORMAT = 1
# Store format n → n + 1, applied to the manifest's JSON when an older store is read. Format 1
# is the first; an entry is added here with the format that needs it.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
# The canonical columns' version a snapshot is written with (``npldesk.tape.schema``).
SNAPSHOT_SCHEMA_VERSION = 1


def _known(raw: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys of ``raw`` this module does not read, kept as they are."""
    return {k: v for k, v in raw.items() if k not in keys}


@dataclass(frozen=True)
class SourceRecord:
    """One file an import read: the data file, or a joined file (``role`` ``join:<name>``)."""

    role: str
    name: str
    sha256: str
    format: str
    encoding: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "sha256": self.sha256,
            "format": self.format,
            "encoding": self.encoding,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SourceRecord:
        return cls(
            role=str(raw.get("role", "data")),
            name=str(raw.get("name", "")),
            sha256=str(raw.get("sha256", "")),
            format=str(raw.get("format", "")),
            encoding=raw.get("encoding"),
        )


_REPLACED_KEYS = ("import_id", "source", "sha256", "rows", "balance", "imported_at", "imported_by")


@dataclass(frozen=True)
class ReplacedSnapshot:
    """What a re-imported month held before (``--replace``)."""

    import_id: str | None
    source: str | None
    sha256: str | None
    rows: int
    balance: str
    imported_at: str | None
    imported_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "source": self.source,
            "sha256": self.sha256,
            "rows": self.rows,
            "balance": self.balance,
            "imported_at": self.imported_at,
            "imported_by": self.imported_by,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ReplacedSnapshot:
        return cls(
            import_id=raw.get("import_id"),
            source=raw.get("source"),
            sha256=raw.get("sha256"),
            rows=int(raw.get("rows", 0)),
            balance=str(raw.get("balance", "0.00")),
            imported_at=raw.get("imported_at"),
            imported_by=raw.get("imported_by"),
        )


_SNAPSHOT_KEYS = (
    "as_of",
    "file",
    "rows",
    "loans_on_book",
    "balance",
    "source",
    "sha256",
    "sources",
    "encoding",
    "mapping",
    "mapping_sha256",
    "imported_at",
    "imported_by",
    "import_id",
    "schema_version",
    "warnings",
    "replaces",
)


@dataclass(frozen=True)
class SnapshotEntry:
    """A committed snapshot and its lineage: what it holds, what it was read from, when, by
    whom, the warnings its import gave and what it replaced."""

    as_of: date
    file: str
    rows: int
    balance: str
    loans_on_book: int | None = None
    source: str | None = None
    sha256: str | None = None
    sources: tuple[SourceRecord, ...] = ()
    encoding: str | None = None
    mapping: str | None = None
    mapping_sha256: str | None = None
    imported_at: str | None = None
    imported_by: str | None = None
    import_id: str | None = None
    schema_version: int = SNAPSHOT_SCHEMA_VERSION
    warnings: dict[str, int] = field(default_factory=dict)
    replaces: ReplacedSnapshot | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return month_label(self.as_of)

    def replaced_record(self) -> ReplacedSnapshot:
        """This entry as the next import of its month records it."""
        return ReplacedSnapshot(
            import_id=self.import_id,
            source=self.source,
            sha256=self.sha256,
            rows=self.rows,
            balance=self.balance,
            imported_at=self.imported_at,
            imported_by=self.imported_by,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "as_of": self.as_of.isoformat(),
            "file": self.file,
            "rows": self.rows,
            "loans_on_book": self.loans_on_book,
            "balance": self.balance,
            "source": self.source,
            "sha256": self.sha256,
            "sources": [s.to_json() for s in self.sources],
            "encoding": self.encoding,
            "mapping": self.mapping,
            "mapping_sha256": self.mapping_sha256,
            "imported_at": self.imported_at,
            "imported_by": self.imported_by,
            "import_id": self.import_id,
            "schema_version": self.schema_version,
            "warnings": dict(self.warnings),
            "replaces": None if self.replaces is None else self.replaces.to_json(),
        }

    @classmethod
    def from_json(cls, key: str, raw: dict[str, Any]) -> SnapshotEntry:
        replaces = raw.get("replaces")
        on_book = raw.get("loans_on_book")
        return cls(
            as_of=date.fromisoformat(str(raw.get("as_of", key))),
            file=str(raw["file"]),
            rows=int(raw["rows"]),
            balance=str(raw["balance"]),
            loans_on_book=None if on_book is None else int(on_book),
            source=raw.get("source"),
            sha256=raw.get("sha256"),
            sources=tuple(SourceRecord.from_json(s) for s in raw.get("sources") or ()),
            encoding=raw.get("encoding"),
            mapping=raw.get("mapping"),
            mapping_sha256=raw.get("mapping_sha256"),
            imported_at=raw.get("imported_at"),
            imported_by=raw.get("imported_by"),
            import_id=raw.get("import_id"),
            schema_version=int(raw.get("schema_version", SNAPSHOT_SCHEMA_VERSION)),
            warnings={str(k): int(v) for k, v in (raw.get("warnings") or {}).items()},
            replaces=None if replaces is None else ReplacedSnapshot.from_json(replaces),
            extra=_known(raw, _SNAPSHOT_KEYS),
        )


_ORG_KEYS = (
    "file",
    "rows",
    "source",
    "sha256",
    "imported_at",
    "imported_by",
    "import_id",
    "levels",
)


@dataclass(frozen=True)
class OrgEntry:
    """The organisation tree in force: its file, what it was read from, when and by whom."""

    file: str
    rows: int
    source: str
    sha256: str
    imported_at: str
    imported_by: str
    import_id: str
    levels: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "file": self.file,
            "rows": self.rows,
            "source": self.source,
            "sha256": self.sha256,
            "imported_at": self.imported_at,
            "imported_by": self.imported_by,
            "import_id": self.import_id,
            "levels": list(self.levels),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> OrgEntry:
        return cls(
            file=str(raw["file"]),
            rows=int(raw.get("rows", 0)),
            source=str(raw.get("source", "")),
            sha256=str(raw.get("sha256", "")),
            imported_at=str(raw.get("imported_at", "")),
            imported_by=str(raw.get("imported_by", "")),
            import_id=str(raw.get("import_id", "")),
            levels=tuple(str(v) for v in raw.get("levels") or ()),
            extra=_known(raw, _ORG_KEYS),
        )


_HISTORY_KEYS = (
    "import_id",
    "action",
    "at",
    "by",
    "months",
    "replaced",
    "sources",
    "accepted_exits",
)


@dataclass(frozen=True)
class HistoryRecord:
    """One change to the store: an import, a replacement, an organisation update.

    ``months`` and ``replaced`` are None on records that have no such key (organisation
    updates), so that their JSON stays as it was written."""

    import_id: str
    action: str
    at: str
    by: str
    sources: tuple[str, ...] = ()
    months: tuple[str, ...] | None = None
    replaced: tuple[str, ...] | None = None
    # The months imported with --accept-exits although the whole-book check refused them.
    accepted_exits: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            **self.extra,
            "import_id": self.import_id,
            "action": self.action,
            "at": self.at,
            "by": self.by,
        }
        if self.months is not None:
            document["months"] = list(self.months)
        if self.replaced is not None:
            document["replaced"] = list(self.replaced)
        document["sources"] = list(self.sources)
        if self.accepted_exits:
            document["accepted_exits"] = list(self.accepted_exits)
        return document

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HistoryRecord:
        months = raw.get("months")
        replaced = raw.get("replaced")
        return cls(
            import_id=str(raw.get("import_id", "")),
            action=str(raw.get("action", "")),
            at=str(raw.get("at", "")),
            by=str(raw.get("by", "")),
            sources=tuple(str(s) for s in raw.get("sources") or ()),
            months=None if months is None else tuple(str(m) for m in months),
            replaced=None if replaced is None else tuple(str(m) for m in replaced),
            accepted_exits=tuple(str(m) for m in raw.get("accepted_exits") or ()),
            extra=_known(raw, _HISTORY_KEYS),
        )


_MANIFEST_KEYS = ("format", "snapshots", "org", "history", "derived")


@dataclass
class Manifest:
    """The whole manifest. Mutable: a writer changes a copy read under the lock and commits it.

    ``derived`` (classified snapshots) is written and read by ``npldesk.analytics.classify``,
    which owns its shape; it is kept here as the JSON it is.
    """

    format: int = STORE_FORMAT
    snapshots: dict[date, SnapshotEntry] = field(default_factory=dict)
    org: OrgEntry | None = None
    history: list[HistoryRecord] = field(default_factory=list)
    derived: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            **self.extra,
            "format": self.format,
            "snapshots": {
                as_of.isoformat(): entry.to_json()
                for as_of, entry in sorted(self.snapshots.items())
            },
            "org": None if self.org is None else self.org.to_json(),
            "history": [record.to_json() for record in self.history],
            "derived": self.derived,
        }
        return document

    @classmethod
    def from_json(cls, raw: Any, *, where: Path | str = "the store") -> Manifest:
        """Read a manifest's JSON, refusing a store format this npldesk cannot read."""
        if not isinstance(raw, dict) or not isinstance(raw.get("snapshots", {}), dict):
            raise UsageError(translatable("{where} is not an npldesk store manifest", where=where))
        raw = upgraded(raw, where)
        org = raw.get("org")
        return cls(
            format=STORE_FORMAT,
            snapshots={
                date.fromisoformat(key): SnapshotEntry.from_json(key, value)
                for key, value in (raw.get("snapshots") or {}).items()
            },
            org=None if not org else OrgEntry.from_json(org),
            history=[HistoryRecord.from_json(r) for r in raw.get("history") or ()],
            derived=raw.get("derived") or {},
            extra=_known(raw, _MANIFEST_KEYS),
        )


def store_format_of(raw: dict[str, Any], where: Path | str) -> int:
    """The manifest's store format; a store written before the format was recorded is 1."""
    value = raw.get("format", 1)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UsageError(
            translatable(
                "{where}: the store format {value!r} is not one npldesk writes",
                where=where,
                value=value,
            )
        )
    return value


def upgraded(raw: dict[str, Any], where: Path | str) -> dict[str, Any]:
    """The manifest's JSON in the current store format, or a ``UsageError`` saying what to do."""
    found = store_format_of(raw, where)
    if found > STORE_FORMAT:
        raise UsageError(
            translatable(
                "{where} was written by a newer npldesk (store format {found}; this npldesk "
                "reads formats up to {STORE_FORMAT}): upgrade npldesk to read this store; "
                "nothing was changed",
                where=where,
                found=found,
                STORE_FORMAT=STORE_FORMAT,
            )
        )
    while found < STORE_FORMAT:
        upgrade = UPGRADES.get(found)
        if upgrade is None:
            raise UsageError(
                translatable(
                    "{where} is in store format {found}, which this npldesk cannot upgrade: "
                    "import its source files (the manifest names each with its SHA-256) into a "
                    "new home with `npldesk init --home NEW`, `npldesk org import FILE --home "
                    "NEW` and `npldesk tape import FILE... --home NEW`",
                    where=where,
                    found=found,
                )
            )
        raw = upgrade(raw)
        found += 1
    for key, entry in (raw.get("snapshots") or {}).items():
        version = entry.get("schema_version", SNAPSHOT_SCHEMA_VERSION)
        if isinstance(version, int) and version > SNAPSHOT_SCHEMA_VERSION:
            raise UsageError(
                translatable(
                    "{where}: snapshot {key} holds canonical columns version {version}, written "
                    "by a newer npldesk (this npldesk reads version {SNAPSHOT_SCHEMA_VERSION}): "
                    "upgrade npldesk to read this store",
                    where=where,
                    key=key,
                    version=version,
                    SNAPSHOT_SCHEMA_VERSION=SNAPSHOT_SCHEMA_VERSION,
                )
            )
    return raw
