"""Planner fixtures: the casework tree for the pipeline's tests."""

from __future__ import annotations

import pytest

from npldesk.casework.models import Unit
from tests.casework.factories import build_tree


@pytest.fixture
def units(db: None) -> dict[str, Unit]:
    return build_tree()
