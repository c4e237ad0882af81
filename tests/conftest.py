"""Fixtures shared by the whole suite."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_org

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "real-data"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests make many users: a deliberately slow password hash would dominate their time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
