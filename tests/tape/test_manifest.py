"""The manifest as typed records: its JSON on disk is read and written back unchanged, and a
store written by a newer npldesk is refused before anything is read or swept."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from npldesk.core.errors import UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.manifest import (
    STORE_FORMAT,
    HistoryRecord,
    Manifest,
    OrgEntry,
    SnapshotEntry,
    SourceRecord,
)
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.conftest import tree_state
from tests.tape_factory import loan_rows, write_csv, write_org

DEC = date(2019, 12, 31)
NOV = date(2019, 11, 30)


def _imported_twice(store: Store, tmp_path: Path) -> None:
    import_files(store, [write_csv(tmp_path / "a.csv", loan_rows(3))], ImportOptions(user="u"))
    import_files(
        store,
        [write_csv(tmp_path / "b.csv", loan_rows(2))],
        ImportOptions(user="v", replace=True),
    )


def test_the_manifest_on_disk_reads_into_typed_records_and_writes_back_unchanged(
    store: Store, tmp_path: Path
):
    _imported_twice(store, tmp_path)
    on_disk = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    manifest = store.manifest()
    entry = manifest.snapshots[DEC]
    assert isinstance(entry, SnapshotEntry)
    assert (entry.rows, entry.loans_on_book, entry.balance) == (2, 2, "160000.00")
    assert (entry.source, entry.imported_by, entry.mapping) == ("b.csv", "v", None)
    assert entry.sources == (SourceRecord("data", "b.csv", entry.sha256 or "", "csv", "utf-8"),)
    assert entry.replaces is not None and entry.replaces.source == "a.csv"
    assert entry.replaces.rows == 3
    assert isinstance(manifest.org, OrgEntry) and manifest.org.imported_by == "tester"
    assert [type(h) for h in manifest.history] == [HistoryRecord] * 3
    assert [h.action for h in manifest.history] == ["org_import", "import", "replace"]
    assert manifest.to_json() == on_disk


def test_keys_a_later_npldesk_added_are_kept_by_a_commit(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "a.csv", loan_rows(1))], ImportOptions())
    on_disk = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    on_disk["snapshots"]["2019-12-31"]["reviewed_by"] = "auditor"
    on_disk["retention"] = {"years": 10}
    store.manifest_path.write_text(json.dumps(on_disk), encoding="utf-8")
    nov = loan_rows(1, as_of=NOV)
    import_files(store, [write_csv(tmp_path / "nov.csv", nov)], ImportOptions())
    after = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    assert after["snapshots"]["2019-12-31"]["reviewed_by"] == "auditor"
    assert after["retention"] == {"years": 10}


def test_a_manifest_without_a_format_reads_as_format_one(tmp_path: Path):
    """A store written before the format was recorded reads as it is."""
    store = Store(tmp_path / "store")
    store.path.mkdir()
    store.manifest_path.write_text(
        json.dumps({"snapshots": {}, "org": None, "history": []}), encoding="utf-8"
    )
    assert store.manifest() == Manifest(format=STORE_FORMAT)
    assert store.months() == []


def test_a_store_written_by_a_newer_npldesk_is_refused_and_left_alone(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "a.csv", loan_rows(1))], ImportOptions())
    on_disk = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    on_disk["format"] = STORE_FORMAT + 1
    # A file the newer format refers to in a way this npldesk does not know.
    (store.path / "tape" / "index.bin").write_bytes(b"newer")
    (store.path / ".staging" / "newer-writer").mkdir(parents=True)
    (store.path / ".staging" / "newer-writer" / "part.parquet").write_bytes(b"newer")
    store.manifest_path.write_text(json.dumps(on_disk), encoding="utf-8")
    before = tree_state(store.path)
    message = f"written by a newer npldesk \\(store format {STORE_FORMAT + 1}"
    with pytest.raises(UsageError, match=message):
        store.months()
    with pytest.raises(UsageError, match=message):
        import_files(store, [write_csv(tmp_path / "nov.csv", loan_rows(1, NOV))], ImportOptions())
    with pytest.raises(UsageError, match=message):
        import_org(store, write_org(tmp_path / "org.csv"))
    assert tree_state(store.path) == before  # nothing swept, nothing written


def test_a_snapshot_with_newer_canonical_columns_is_refused(store: Store, tmp_path: Path):
    import_files(store, [write_csv(tmp_path / "a.csv", loan_rows(1))], ImportOptions())
    on_disk = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    on_disk["snapshots"]["2019-12-31"]["schema_version"] = 2
    store.manifest_path.write_text(json.dumps(on_disk), encoding="utf-8")
    with pytest.raises(UsageError, match="snapshot 2019-12-31 holds canonical columns version 2"):
        store.snapshots()


def test_a_store_format_nobody_wrote_is_refused(tmp_path: Path):
    store = Store(tmp_path / "store")
    store.path.mkdir()
    store.manifest_path.write_text(json.dumps({"format": "two", "snapshots": {}}), "utf-8")
    with pytest.raises(UsageError, match="store format 'two' is not one npldesk writes"):
        store.manifest()
