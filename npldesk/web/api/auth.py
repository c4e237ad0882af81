"""Who calls the API: a personal token (``Authorization: Bearer …``) or a browser's session.

Either way the request acts as one person (``request.person``), whose roles and units apply and
whom every service call records in the audit trail. A token's calls are counted per minute in
Django's cache (the per-process memory cache unless ``CACHES`` names a shared one).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import Throttled
from ninja.security import HttpBearer, SessionAuth

from npldesk.casework.accounts import token_check
from npldesk.casework.models import Person
from npldesk.web.api.errors import TokenRefused

DEFAULT_RATE_PER_MINUTE = 600


def rate_per_minute() -> int:
    return int(getattr(settings, "NPLDESK_API_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE))


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Person | None:
        check = token_check(token)
        if check.person is None or check.token is None:
            raise TokenRefused(check.problem)
        now = timezone.now()
        key = f"npldesk:api-rate:{check.token.digest[:24]}:{now:%Y%m%d%H%M}"
        cache.add(key, 0, timeout=120)
        if cache.incr(key) > rate_per_minute():
            # Until the minute's window ends.
            raise Throttled(wait=60 - now.second)
        request.person = check.person  # type: ignore[attr-defined]
        return check.person


class PersonSessionAuth(SessionAuth):
    """A browser's session (CSRF checked on writes); its person is set by the middleware."""

    def authenticate(self, request: HttpRequest, key: Any) -> Person | None:
        person: Person | None = getattr(request, "person", None)
        return person


AUTH = [TokenAuth(), PersonSessionAuth()]
