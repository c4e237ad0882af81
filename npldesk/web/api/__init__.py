"""npldesk's HTTP API, ``/api/v1/``: the web app's reads and writes for machines.

Routers by area, each operation one selector or one service as the calling person (a personal
token or the browser's session), errors from one table as ``application/problem+json``
(``errors.py``), OpenAPI at ``/api/v1/openapi.json`` and its docs page at ``/api/v1/docs``
(served from the app's own static files, no CDN).
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from npldesk.web.api import (
    administration,
    cases,
    errors,
    figures,
    households,
    ledger,
    legal,
    people,
    tape,
    transfers,
    work,
    worklist,
)
from npldesk.web.api.auth import AUTH


class Api(NinjaAPI):
    """The API whose schema says what its errors are: ``application/problem+json``."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[errors.PROBLEM_TYPE] = content.pop("application/json")
        return schema


def build() -> NinjaAPI:
    api = Api(
        title="npldesk API",
        version="1",
        description="Casework of npldesk for machines: see docs/api.md.",
        urls_namespace="api-v1",
        auth=AUTH,
        docs=Swagger(),
    )
    errors.install(api)
    api.add_router("", cases.router)
    api.add_router("", worklist.router)
    api.add_router("", work.router)
    api.add_router("", ledger.router)
    api.add_router("", households.router)
    api.add_router("", legal.router)
    api.add_router("", transfers.router)
    api.add_router("", people.router)
    api.add_router("", tape.router)
    api.add_router("", figures.router)
    api.add_router("", administration.router)
    return api


api = build()


def urls() -> Any:
    """The API's URL patterns, open to requests without a session: the API checks its own
    callers (a token or the session) and answers 401, never a redirect to the sign-in page."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        setattr(pattern.callback, "login_required", False)  # noqa: B010
    return patterns, app_name, namespace
