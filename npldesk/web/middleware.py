"""The signed-in person on every request, and application errors turned into pages."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from npldesk.casework import selectors
from npldesk.casework.errors import AccessDenied, NotFound


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
