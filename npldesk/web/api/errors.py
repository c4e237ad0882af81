"""The API's one error table: every error a request can end in, as ``application/problem+json``.

Unlike the web pages, the API tells a role refusal (403) from an object outside the person's
scope (404): the selector that fetched the object already answered 404 for anything the person
may not read, so an ``AccessDenied`` from a service is about the role. Human text (the title) is
in the caller's language (``Accept-Language``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from npldesk.casework.errors import AccessDenied, Conflict, InvalidAction, NotFound
from npldesk.core.errors import NpldeskError
from npldesk.monthend.uploads import UploadTooLarge
from npldesk.reports.labels import localise

PROBLEM_TYPE = "application/problem+json"


class TokenRefused(AuthenticationError):
    """A bearer token that is unknown, expired, revoked or of an inactive person."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Changed by someone else"),
        413: _("Request too large"),
        422: _("Invalid input"),
        429: _("Too many requests"),
    }


def problem(status: int, detail: str, **extra: Any) -> HttpResponse:
    body = {"type": "about:blank", "title": _titles().get(status, ""), "status": status}
    body["detail"] = detail
    body.update(extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_TYPE)


def _token_detail(problem_kind: str) -> str:
    return {
        "expired": _("The API token has expired: make a new one."),
        "revoked": _("The API token was revoked."),
        "inactive": _("The API token's person may no longer sign in."),
    }.get(problem_kind, _("The API token is not known."))


def _field(location: Any) -> str:
    parts = [str(p) for p in location]
    # The first part says where the value came from (body, query, path, header); a body's next
    # part is the operation's parameter name, which the client never sees.
    skip = 2 if parts[:1] == ["body"] and len(parts) > 2 else 1
    return ".".join(parts[skip:]) if len(parts) > skip else "".join(parts)


def install(api: NinjaAPI) -> None:
    """Register the table's handlers on ``api``."""

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        if getattr(request, "upload_too_large", None) is not None:
            # The upload was over the limit and left unread (``npldesk.web.uploads``).
            return on_too_big(request, exc)
        errors = [
            {"field": _field(error.get("loc", ())), "message": str(error.get("msg", ""))}
            for error in exc.errors
        ]
        return problem(422, _("Some fields are not valid."), errors=errors)

    def on_authentication(request: HttpRequest, exc: Any) -> HttpResponse:
        if isinstance(exc, TokenRefused):
            detail = _token_detail(exc.problem)
        else:
            detail = _("Send an API token (Authorization: Bearer …) or sign in.")
        response = problem(401, detail)
        response["WWW-Authenticate"] = "Bearer"
        return response

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem(exc.status_code, str(exc))

    def on_throttled(request: HttpRequest, exc: Any) -> HttpResponse:
        response = problem(429, _("Too many requests with this token: wait a minute."))
        response["Retry-After"] = str(exc.wait or 60)
        return response

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem(404, str(exc) or _("Not found."))

    def on_too_big(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem(413, _("The request body is too large."))

    def on_npldesk(request: HttpRequest, exc: Any) -> HttpResponse:
        detail = localise(exc.message)
        if isinstance(exc, NotFound):
            return problem(404, detail)
        if isinstance(exc, AccessDenied):
            return problem(403, detail)
        if isinstance(exc, UploadTooLarge):
            return problem(413, detail, errors=[])
        if isinstance(exc, Conflict):
            return problem(409, detail, current_version=exc.current_version)
        if isinstance(exc, InvalidAction):
            return problem(422, detail, errors=[])
        return problem(400, detail)

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(AuthenticationError, on_authentication)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
    api.add_exception_handler(NpldeskError, on_npldesk)
