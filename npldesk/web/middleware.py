"""The signed-in person on every request, and application errors turned into pages."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from npldesk.casework import selectors
from npldesk.casework.errors import AccessDenied, NotFound


class SessionRenewalMiddleware:
    """Keeps a signed-in session alive while it is used: the session is saved again (its 30
    minutes counted from now) when it was last saved ``SESSION_RENEWAL_SECONDS`` or more ago.
    A session idle for its whole age ends; one in use ends no sooner than a minute short of it.
    """

    KEY = "_renewed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            renewed = request.session.get(self.KEY)
            if not isinstance(renewed, int) or now - renewed >= settings.SESSION_RENEWAL_SECONDS:
                request.session[self.KEY] = now  # saved by the session middleware, renewed
        return self.get_response(request)


class PersonMiddleware:
    """Sets ``request.person``: the active casework person of the signed-in user.

    A signed-in account with no active person (a person made inactive, a bare Django superuser,
    the system account) is signed out: nothing reaches data without a person.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.person = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            person = selectors.person_signed_in(request.user)
            if person is None:
                logout(request)
                messages.error(request, _("This account has no active place in npldesk."))
                return redirect("web:login")
            request.person = person  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Outside the person's scope reads as "no such page", never a 403: a refusal would tell
        # a stranger that the case exists.
        if isinstance(exception, NotFound | AccessDenied):
            raise Http404(str(exception)) from exception
