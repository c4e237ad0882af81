"""Web fixtures: the casework world, and browsers-as-clients signed in as one of its people."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from npldesk.casework.models import Person, Unit
from tests.casework.world import World, build_world

PASSWORD = "correct-horse-battery"


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


@pytest.fixture
def units(db: None) -> dict[str, Unit]:
    from tests.casework.factories import build_tree

    return build_tree()


@pytest.fixture
def client_for() -> Callable[[Person], Client]:
    """A client signed in as ``person`` (a session, as a browser has after signing in)."""

    def sign_in(person: Person) -> Client:
        client = Client()
        client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in
