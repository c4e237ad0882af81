"""``npldesk backup`` and ``npldesk restore``: a round trip gives the same figures, cases,
recovery ledger and audit trail, on SQLite and on PostgreSQL (restored into another database);
the archive is owner-only; a damaged archive, a non-empty target and an existing output are
refused without writing anything.

The casework is written committed (``transaction=True``): the backup reads the database as
another connection (``pg_dump``) or a copy of it would, and the restored home is read by a
command in a fresh process, as a user would run it after a restore.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from npldesk.casework import services
from npldesk.cli import run
from npldesk.home import load_home
from npldesk.reports.pii import record_export
from npldesk.tape.store import Store
from tests.casework.factories import build_tree, system_actor_present
from tests.casework.world import OPENED, build_world
from tests.cli.conftest import make_home
from tests.cli.test_figures import tape

REPO = Path(__file__).resolve().parents[1]

# Every audit record and ledger entry, as the ORM reads them (full precision, sorted keys).
DUMP_HISTORY = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
django.setup()
from npldesk.casework.models import AuditRecord, Recovery
print(json.dumps({
    "audit": list(AuditRecord.objects.order_by("id").values()),
    "ledger": list(Recovery.objects.order_by("id").values()),
}, default=str, sort_keys=True))
"""


def _history() -> dict[str, Any]:
    from npldesk.casework.models import AuditRecord, Recovery

    document = {
        "audit": list(AuditRecord.objects.order_by("id").values()),
        "ledger": list(Recovery.objects.order_by("id").values()),
    }
    loaded: dict[str, Any] = json.loads(json.dumps(document, default=str, sort_keys=True))
    return loaded


def _in_process(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _fresh_process(home: Path, *argv: str, code: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "NPLDESK_HOME": str(home), "NPLDESK_USER": "ops"}
    program = code or "from npldesk.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", program, *argv], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def restore_database() -> Iterator[str | None]:
    """Where the restore puts the database: None on SQLite (the restored home's own file); on
    PostgreSQL a new, empty database beside the test database, dropped afterwards."""
    if connection.vendor != "postgresql":
        yield None
        return
    import psycopg

    server = os.environ["NPLDESK_DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    name = f"npldesk_restored_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.django_db(transaction=True)
def test_a_round_trip_gives_the_same_figures_cases_ledger_and_audit_trail(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restore_database: str | None,
) -> None:
    monkeypatch.setenv("NPLDESK_USER", "ops")
    system_actor_present()  # an earlier transactional test's flush took it away
    home = make_home(tmp_path / "home", tape())
    world = build_world(build_tree())
    entry = services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=OPENED,
        amount=Decimal("1250.50"),
        source="borrower",
    )
    services.recovery_reverse(
        actor=world.finance, recovery=entry, reversed_on=date(2020, 1, 2), reason="bounced"
    )
    record_export(home, what="new-npl", rows=3)
    quality = ["quality", "--as-of", "2019-02", "--format", "json"]
    cases = ["cases", "list", "--format", "json"]
    figures_before = _in_process(capsys, *quality, "--home", str(home))
    cases_before = _in_process(capsys, *cases, "--home", str(home))
    history_before = _history()
    assert len(history_before["ledger"]) == 2 and history_before["audit"]
    assert json.loads(cases_before)["cases"]

    archive = tmp_path / "home.tar"
    _in_process(capsys, "backup", "--out", str(archive), "--home", str(home))
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    restored = tmp_path / "restored"
    target = ["--database-url", restore_database] if restore_database else []
    out = _in_process(capsys, "restore", str(archive), "--home", str(restored), *target)
    assert "2018-12 to 2019-02" in out

    assert _fresh_process(restored, *quality) == figures_before
    assert _fresh_process(restored, *cases) == cases_before
    assert json.loads(_fresh_process(restored, code=DUMP_HISTORY)) == history_before
    assert (restored / "audit" / "exports.jsonl").read_bytes() == (
        home / "audit" / "exports.jsonl"
    ).read_bytes()
    assert (restored / "secret.key").read_bytes() == (home / "secret.key").read_bytes()
    # The restored database keeps the trail append-only: its triggers came with it.
    if restore_database is None:
        import sqlite3

        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            sqlite3.connect(restored / "npldesk.sqlite3").execute(
                "UPDATE casework_auditrecord SET reason = 'x'"
            )
    else:
        import psycopg

        with (
            pytest.raises(psycopg.Error, match="append-only"),
            psycopg.connect(restore_database.replace("postgres://", "postgresql://", 1)) as db,
        ):
            db.execute("DELETE FROM casework_recovery")


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_target_that_is_not_empty_and_a_damaged_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_database: str | None
) -> None:
    home = make_home(tmp_path / "home", tape())
    archive = tmp_path / "home.tar"
    _in_process(capsys, "backup", "--out", str(archive), "--home", str(home))
    assert run(["backup", "--out", str(archive), "--home", str(home)]) == 2
    assert "a backup never replaces a file" in capsys.readouterr().err

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    assert run(["restore", str(archive), "--home", str(occupied)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]

    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as copy:
        for member in source:
            data = source.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name.startswith("store/tape/"):
                content = content[:-1] + bytes([content[-1] ^ 1])
            copy.addfile(member, io.BytesIO(content))
    target = ["--database-url", restore_database] if restore_database else []
    assert run(["restore", str(damaged), "--home", str(tmp_path / "new"), *target]) == 1
    assert "does not match its checksum" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()

    assert run(["restore", str(home / "npldesk.toml"), "--home", str(tmp_path / "x")]) == 1
    assert "is not an npldesk backup" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_taken_only_while_nothing_writes_to_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The backup holds the store's write lock from the database copy to the last file: while
    an import (here, a writer holding the lock) is writing, it stops and writes nothing."""
    home = make_home(tmp_path / "home", tape())
    archive = tmp_path / "home.tar"
    with Store(load_home(home).store_path).writing():
        assert run(["backup", "--out", str(archive), "--home", str(home)]) == 2
        assert "another import is writing to" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    _in_process(capsys, "backup", "--out", str(archive), "--home", str(home))
    assert archive.is_file()
