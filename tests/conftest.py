"""Fixtures shared by the whole suite."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.backends.base.operations import BaseDatabaseOperations

from npldesk.casework.append_only import erase_permitted
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_org

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "real-data"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests make many users: a deliberately slow password hash would dominate their time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
