"""``/inbox/``: the risk-reminder packs delivered to the signed-in person, to read and to
acknowledge (each one service, recorded). A pack shows names through the reader's own masking
rules (``selectors.reminder_pack_view``); anyone else's delivery is not found.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from npldesk.casework import selectors, services
from npldesk.casework.choices import LegalStage
from npldesk.casework.errors import InvalidAction
from npldesk.reports.labels import localise
from npldesk.reports.reminders import SECTIONS, section_instruction, section_title


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    deliveries = list(selectors.inbox(person))
    rows = [
        {
            "delivery": delivery,
            "total": sum(int(delivery.pack.counts.get(name, 0)) for name in SECTIONS),
        }
        for delivery in deliveries
    ]
    return render(request, "web/inbox/list.html", {"rows": rows})


@require_GET
def pack(request: HttpRequest, delivery_id: int) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    delivery = selectors.inbox_delivery(person, delivery_id)
    view = selectors.reminder_pack_view(person, delivery)
    sections: list[dict[str, Any]] = [
        {
            "name": section.name,
            "title": localise(section_title(section.name)),
            "instruction": localise(section_instruction(section.name)),
            "items": section.items,
        }
        for section in view.sections
    ]
    return render(
        request,
        "web/inbox/pack.html",
        {"view": view, "sections": sections, "delivery": delivery, "LegalStage": LegalStage},
    )


def _act(request: HttpRequest, delivery_id: int, acknowledge: bool) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    delivery = selectors.inbox_delivery(person, delivery_id)
    try:
        if acknowledge:
            services.reminder_delivery_acknowledge(actor=person, delivery=delivery)
            messages.success(request, _("Acknowledged."))
        else:
            services.reminder_delivery_read(actor=person, delivery=delivery)
            messages.success(request, _("Marked read."))
    except InvalidAction as exc:
        messages.error(request, exc.message)
    return redirect("web:inbox_pack", delivery_id=delivery.pk)


@require_POST
def mark_read(request: HttpRequest, delivery_id: int) -> HttpResponse:
    return _act(request, delivery_id, acknowledge=False)


@require_POST
def acknowledge(request: HttpRequest, delivery_id: int) -> HttpResponse:
    return _act(request, delivery_id, acknowledge=True)


def unread(request: HttpRequest) -> dict[str, Any]:
    """Template context: how many packs the signed-in person has not read (the navigation's
    inbox link)."""
    person = getattr(request, "person", None)
    if person is None:
        return {}
    return {"inbox_unread": selectors.inbox_unread(person)}
