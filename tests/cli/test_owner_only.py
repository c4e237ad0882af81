"""Files holding personal data are their owner's only (0600 files, 0700 folders), whatever the
umask the command was started with: the home, the store, the SQLite database, exports, the
export log. ``init`` writes a random owner-only secret key, which the settings read; a real
home refuses to run on the development key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from npldesk.cli import run
from npldesk.home import load_home
from npldesk.reports.pii import export_log_path
from tests.tape_factory import ID_NUMBERS, loan_row, write_csv, write_org

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The umask of a careless shell: group and others could read what it creates."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _open_to_others(root: Path) -> list[str]:
    """Everything below ``root`` (and ``root``) that group or others may read or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        if path.name == ".lock":  # holds nothing: the store's write lock
            continue
        expected = 0o700 if path.is_dir() else 0o600
        if _mode(path) != expected:
            found.append(f"{path.relative_to(root)} {oct(_mode(path))}")
    return found


def _npldesk(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``npldesk ARGV`` in a fresh process started with umask 022 on SQLite."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    clean["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.umask(0o022); from npldesk.cli import main; main()",
            *argv,
        ],
        capture_output=True,
        text=True,
        env=clean | (env or {}),
    )


def test_init_makes_an_owner_only_home_database_and_secret_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = _npldesk("init", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert (home / "npldesk.sqlite3").is_file() and (home / "secret.key").is_file()
    assert _open_to_others(home) == []
    key = (home / "secret.key").read_text().strip()
    assert len(key) >= 50
    other = tmp_path / "other"
    assert _npldesk("init", "--home", str(other)).returncode == 0
    assert (other / "secret.key").read_text().strip() != key  # random, not a constant
    # init again keeps the key: sessions signed with it stay valid.
    assert _npldesk("init", "--home", str(home)).returncode == 0
    assert (home / "secret.key").read_text().strip() == key


def test_the_settings_read_the_homes_secret_key_and_refuse_the_development_key(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    assert _npldesk("init", "--home", str(home)).returncode == 0
    show_key = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'npldesk.settings'; "
        "django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "NPLDESK_HOME": str(home)}
    shown = subprocess.run(
        [sys.executable, "-c", show_key], capture_output=True, text=True, env=env
    )
    assert shown.stdout.strip() == (home / "secret.key").read_text().strip()

    (home / "secret.key").unlink()
    refused = _npldesk("cases", "list", "--home", str(home))
    assert refused.returncode == 2
    assert "has no secret key" in refused.stderr and "npldesk init" in refused.stderr
    assert "Traceback" not in refused.stderr
    development = {"NPLDESK_SECRET_KEY": "npldesk-development-key-not-for-production"}
    assert _npldesk("cases", "list", "--home", str(home), env=development).returncode == 2
    given = _npldesk("cases", "list", "--home", str(home), env={"NPLDESK_SECRET_KEY": "k" * 60})
    assert given.returncode == 0, given.stderr
    debug = _npldesk("cases", "list", "--home", str(home), env={"NPLDESK_DEBUG": "1"})
    assert debug.returncode == 0, debug.stderr


def test_store_exports_and_the_export_log_are_owner_only(
    tmp_path: Path, db: None, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("NPLDESK_USER", "analyst-1")
    assert run(["init", "--home", str(home)]) == 0
    rows = [
        loan_row(1, date(2019, 11, 30), days_past_due=0, id_number=ID_NUMBERS[0]),
        loan_row(1, date(2019, 12, 31), days_past_due=95, id_number=ID_NUMBERS[0]),
    ]
    tape = write_csv(tmp_path / "tape.csv", rows)
    assert run(["org", "import", str(write_org(tmp_path / "org.csv")), "--home", str(home)]) == 0
    assert run(["tape", "import", str(tape), "--home", str(home)]) == 0
    exports = tmp_path / "exports"
    exports.mkdir(mode=0o700)
    for out in ("new-npl.xlsx", "new-npl.csv"):
        argv = ["list", "new-npl", "--as-of", "2019-12", "--pii", "--out", str(exports / out)]
        assert run([*argv, "--home", str(home)]) == 0
    assert export_log_path(home).is_file()
    assert any(load_home(home).store_path.rglob("*.parquet"))
    assert _open_to_others(home) == []
    assert _open_to_others(exports) == []
