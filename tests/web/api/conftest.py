"""API fixtures: the casework world, and clients that call ``/api/v1/`` with a person's token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from npldesk.casework import services
from npldesk.casework.models import Person

Call = Callable[..., Any]


@pytest.fixture
def token_for() -> Callable[[Person], str]:
    """A fresh API token's secret for ``person`` (made by the person themselves)."""

    def make(person: Person, days: int = 30) -> str:
        return services.api_token_create(actor=person, person=person, name="test", days=days).secret

    return make


class ApiClient:
    """A test client whose every request carries ``Authorization: Bearer <secret>``."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.headers = {"Accept-Language": "en"}
        if secret is not None:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.send("post", path, body, headers)

    def send(self, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        """A request with a JSON body (``post``, ``put``, ``patch``)."""
        return getattr(self.client, method)(
            f"/api/v1{path}",
            body,
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )


@pytest.fixture
def api_for(token_for: Callable[[Person], str]) -> Callable[[Person | None], ApiClient]:
    def make(person: Person | None) -> ApiClient:
        return ApiClient(None if person is None else token_for(person))

    return make


@pytest.fixture(autouse=True)
def api_home(tmp_path_factory: pytest.TempPathFactory, settings: Any) -> Any:
    """A home of the test's own as the web's home: uploads sent to the API are kept there."""
    from npldesk.home import create_home

    home, _ = create_home(tmp_path_factory.mktemp("api") / "home")
    settings.HOME = home
    return home
