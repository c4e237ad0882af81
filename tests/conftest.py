"""Fixtures shared by the whole suite."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import override_settings
from django.utils import translation

from npldesk.casework.append_only import erase_permitted
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_org

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "real-data"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """Tests make many users: a deliberately slow password hash would dominate their time.

    For the whole session, not per test: module- and session-scoped fixtures (the demo's
    casework, the browser journeys' homes) create their people before any function-scoped
    fixture runs, and hashed each password at full strength."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests read the product's messages in English (a home's default language is zh-hans);
    the tests of the language itself choose theirs."""
    monkeypatch.setenv("NPLDESK_LANGUAGE", "en")
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True, scope="session")
def flush_may_empty_the_append_only_tables() -> Iterator[None]:
    """A transactional test ends with Django's ``flush``, which empties every table: the audit
    trail's and the ledger's triggers refuse that unless the database is being wiped on purpose
    (``erase_permitted``); anywhere else ``flush`` is refused, as it should be."""
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        with erase_permitted(self.connection):
            original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty tape store with the test organisation tree imported."""
    tape_store = Store(tmp_path / "store")
    import_org(tape_store, write_org(tmp_path / "org_units.csv"), user="tester")
    return tape_store


def tree_state(path: Path) -> dict[str, str]:
    """Every file below ``path`` (but the lock) with its SHA-256: the store's exact state."""
    return {
        file.relative_to(path).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.name != ".lock"
    }


DEMO_LOANS, DEMO_MONTHS = 3000, 24


def clean_environment() -> dict[str, str]:
    """The environment of a child ``npldesk``: this checkout first on the path, and no database,
    backend or home of the caller's (the child uses the home's own SQLite file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    return env | {"PYTHONPATH": str(REPO), "COLUMNS": "200"}


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded demo home (about 3,000 loans over 24 months, casework built), built once
    per session by ``npldesk demo --no-serve`` in a child process. Tests read it; none may
    change it (a test that writes, such as a browser journey, serves a copy: tests/web/live.py).
    """
    home = tmp_path_factory.mktemp("demo") / "home"
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "demo"]
    options = ["--home", str(home), "--no-serve", "--loans", str(DEMO_LOANS)]
    options += ["--months", str(DEMO_MONTHS)]
    # Built in English: the demo writes names of strategies and stages into its casework notes
    # in the language of the build (scripts/golden_outputs.py builds it so too).
    env = clean_environment() | {"NPLDESK_LANGUAGE": "en"}
    built = subprocess.run(
        [*command, *options], capture_output=True, text=True, env=env, timeout=900
    )
    assert built.returncode == 0, built.stderr
    return home
