"""The served schema against the API itself (schemathesis): for every operation, 25 generated
requests as an officer, an administrator and a leader (who reads the figures of a small home)
of a small casework world; no 5xx, and every response as the schema says (status, content
type, body)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from npldesk.casework import services
from tests.casework.world import World, propose_plan

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _run(operation: Any, headers: dict[str, str], number: str, seen: set[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if "number" in (case.path_parameters or {}):
            # A real case most of the time, so writes reach the services, not only the 404.
            case.path_parameters["number"] = number
        response = case.call(headers=headers)
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The app as a WSGI server runs it, on the test's database connection: as Django's test
    client does, requests do not close it (that would end the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ["officer", "admin", "leader"])
def test_every_operation_keeps_to_its_schema(
    world: World, role: str, settings: Any, wsgi_app: Any, figures_home: Any
) -> None:
    settings.NPLDESK_API_RATE_PER_MINUTE = 100_000
    propose_plan(world)
    person = getattr(world, role)
    secret = services.api_token_create(actor=person, person=person, name="fuzz").secret
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    seen: set[int] = set()
    for operation in operations:
        _run(operation, {"Authorization": f"Bearer {secret}"}, world.case.number, seen)
    # The requests reached the operations: reads answered, bad input refused field by field.
    assert {200, 422} <= seen, seen
