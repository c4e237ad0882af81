"""``/health/``: for the bank's monitoring. No data, no sign-in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from npldesk.casework.selectors import database_ready


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    ready = database_ready()
    return JsonResponse(
        {"status": "ok" if ready else "database unavailable"}, status=200 if ready else 503
    )
