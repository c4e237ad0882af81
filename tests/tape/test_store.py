"""The store's promises: whole or nothing, --replace keeps the old snapshot until the new one is
complete, a kill or a full disk at any moment leaves it as it was, lineage in the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from npldesk.core.errors import NpldeskError, UsageError
from npldesk.home import create_home
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.schema import COLUMN_NAMES
from npldesk.tape.store import Store, Transaction
from tests.conftest import tree_state
from tests.tape_factory import loan_rows, write_csv, write_org

DEC = date(2019, 12, 31)


def _rows_in(store: Store, as_of: date) -> list[tuple]:
    return duckdb.sql(
        f"SELECT loan_id, principal_balance FROM read_parquet('{store.snapshot_path(as_of)}') "
        "ORDER BY loan_id"
    ).fetchall()


def test_manifest_records_lineage(store: Store, tmp_path: Path):
    source = write_csv(tmp_path / "2019-12.csv", loan_rows(3))
    result = import_files(store, [source], ImportOptions(user="analyst"))
    assert [s.as_of for s in result.snapshots] == [DEC]
    entry = store.manifest().to_json()["snapshots"]["2019-12-31"]
    assert entry["source"] == "2019-12.csv"
    assert entry["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert entry["rows"] == 3 and entry["loans_on_book"] == 3
    assert entry["balance"] == "240000.00"
    assert entry["imported_by"] == "analyst"
    assert entry["mapping"] is None and entry["replaces"] is None
    assert entry["sources"] == [
        {
            "role": "data",
            "name": "2019-12.csv",
            "sha256": entry["sha256"],
            "format": "csv",
            "encoding": "utf-8",
        }
    ]
    assert store.manifest().to_json()["history"][-1]["action"] == "import"
    # The snapshot holds the canonical columns with their storage types, rows in file order.
    stored = pq.read_table(store.snapshot_path(DEC))
    assert stored.schema.names == list(COLUMN_NAMES)
    assert stored.schema.field("principal_balance").type == pa.decimal128(18, 2)
    assert stored.column("loan_id").to_pylist() == ["L000001", "L000002", "L000003"]


def test_import_again_needs_replace_and_replace_records_both(store: Store, tmp_path: Path):
    first = write_csv(tmp_path / "a.csv", loan_rows(3))
    second = write_csv(tmp_path / "b.csv", loan_rows(2, principal_balance="5000.00"))
    import_files(store, [first], ImportOptions())
    old_file = store.snapshot_path(DEC)
    with pytest.raises(UsageError, match="already imported: 2019-12; use --replace"):
        import_files(store, [second], ImportOptions())
    import_files(store, [second], ImportOptions(replace=True))
    entry = store.manifest().to_json()["snapshots"]["2019-12-31"]
    assert entry["source"] == "b.csv"
    assert entry["replaces"]["source"] == "a.csv" and entry["replaces"]["rows"] == 3
    assert store.manifest().to_json()["history"][-1]["replaced"] == ["2019-12-31"]
    assert _rows_in(store, DEC) == [("L000001", 5000), ("L000002", 5000)]
    assert not old_file.exists()  # deleted once the new snapshot was committed


def test_replace_keeps_old_snapshot_when_the_commit_never_happens(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import_files(store, [write_csv(tmp_path / "a.csv", loan_rows(3))], ImportOptions())
    before = tree_state(store.path)
    old_rows = _rows_in(store, DEC)

    def crash(self: Transaction, manifest: dict) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Transaction, "commit", crash)
    replacement = write_csv(tmp_path / "b.csv", loan_rows(2, principal_balance="1.00"))
    with pytest.raises(NpldeskError, match=r"No space left on device.*store is unchanged"):
        import_files(store, [replacement], ImportOptions(replace=True))
    assert tree_state(store.path) == before
    assert _rows_in(store, DEC) == old_rows


def test_a_second_writer_is_told_to_wait(store: Store, tmp_path: Path):
    source = write_csv(tmp_path / "a.csv", loan_rows(1))
    with store.writing(), pytest.raises(UsageError, match="another import is writing"):
        import_files(store, [source], ImportOptions())


def test_sweep_removes_what_an_interrupted_writer_left(store: Store):
    before = tree_state(store.path)
    (store.path / ".staging" / "x").mkdir(parents=True)
    (store.path / ".staging" / "x" / "part.parquet").write_bytes(b"half")
    (store.path / "tape" / "2019-12-31").mkdir(parents=True)
    (store.path / "tape" / "2019-12-31" / "part-orphan.parquet").write_bytes(b"orphan")
    (store.path / "manifest.json.tmp").write_text("{")
    with store.writing():
        pass
    assert tree_state(store.path) == before
    assert not (store.path / "tape").exists()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


IMPORT_SCRIPT = """
import sys
from pathlib import Path
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.store import Store
import_files(Store(Path(sys.argv[1])), [Path(sys.argv[2])], ImportOptions(replace=True))
"""


@pytest.mark.slow
def test_kill_at_a_random_moment_leaves_the_store_as_it_was_or_complete(
    store: Store, tmp_path: Path
):
    """Run the replacing import in a child process and SIGKILL it at random moments."""
    import_files(store, [write_csv(tmp_path / "old.csv", loan_rows(50))], ImportOptions())
    new_file = write_csv(tmp_path / "new.csv", loan_rows(120_000, principal_balance="7.00"))

    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, str(store.path), str(new_file)],
        check=True,
        env=_child_env(),
    )
    full_run = time.monotonic() - started
    # Put the old snapshot back for the kill runs.
    import_files(store, [tmp_path / "old.csv"], ImportOptions(replace=True))
    before = tree_state(store.path)
    before_manifest = store.manifest_path.read_bytes()

    rng = random.Random(20191231)
    outcomes = {"before": 0, "after": 0}
    for _ in range(25):
        child = subprocess.Popen(
            [sys.executable, "-c", IMPORT_SCRIPT, str(store.path), str(new_file)],
            env=_child_env(),
        )
        time.sleep(rng.uniform(0.0, full_run * 1.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        manifest = json.loads(store.manifest_path.read_text())
        if store.manifest_path.read_bytes() == before_manifest:
            outcomes["before"] += 1
            assert len(_rows_in(store, DEC)) == 50  # the old snapshot is still whole
            with store.writing():
                pass  # the next writer sweeps the leftovers
            assert tree_state(store.path) == before
        else:
            outcomes["after"] += 1  # killed after the commit: the new snapshot is complete
            assert manifest["snapshots"]["2019-12-31"]["rows"] == 120_000
            assert len(_rows_in(store, DEC)) == 120_000
            with store.writing():
                pass
            assert set(tree_state(store.path)) == {"manifest.json"} | store.referenced_files()
            import_files(store, [tmp_path / "old.csv"], ImportOptions(replace=True))
            before = tree_state(store.path)
            before_manifest = store.manifest_path.read_bytes()
    # Most kills must land inside the import for the test to mean anything.
    assert outcomes["before"] >= 15, outcomes


FULL_DISK_SCRIPT = """
import resource, signal, sys
from npldesk.cli import run
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
sys.exit(run(["tape", "import", sys.argv[2], "--replace", "--home", sys.argv[1]]))
"""


def test_a_full_disk_leaves_the_store_as_it_was(tmp_path: Path):
    from npldesk.cli import run

    home = tmp_path / "home"
    create_home(home)  # the tape needs no database; `init` is tested on its own

    assert run(["org", "import", str(write_org(tmp_path / "org.csv")), "--home", str(home)]) == 0
    old = write_csv(tmp_path / "old.csv", loan_rows(10))
    assert run(["tape", "import", str(old), "--home", str(home)]) == 0
    store = Store(home / "store")
    before = tree_state(store.path)
    big = write_csv(tmp_path / "big.csv", loan_rows(30_000))
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, str(home), str(big)],
        env=_child_env(),
        capture_output=True,
        text=True,
    )
    assert child.returncode == 1, child.stderr
    assert "store is unchanged" in child.stderr
    assert "Traceback" not in child.stderr
    with store.writing():
        pass
    assert tree_state(store.path) == before
