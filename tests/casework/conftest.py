"""Casework fixtures: the organisation tree and the database (SQLite or PostgreSQL, whichever
``NPLDESK_DATABASE_URL`` points at)."""

from __future__ import annotations

import pytest

from npldesk.casework.models import Unit
from tests.casework.factories import build_tree


@pytest.fixture
def units(db: None) -> dict[str, Unit]:
    return build_tree()
