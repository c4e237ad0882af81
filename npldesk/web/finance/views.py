"""``/finance/``: write-offs to prepare, review and approve; recoveries to confirm; the
month's reconciliation with the movement's cash line.

Each write is one service as the signed-in person; the services hold the four-eyes rules
(who prepared a write-off does not review it, who reviewed it does not approve it, nobody
confirms a recovery they entered) and the page shows their refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from npldesk.casework import selectors, services
from npldesk.casework.choices import RecoverySource, Role, WriteOffState
from npldesk.casework.errors import Conflict, InvalidAction
from npldesk.web.finance.forms import DecisionForm, MonthForm, PrepareForm
from npldesk.web.roles import for_page


@require_GET
@for_page("finance")
def finance_desk(request: HttpRequest) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    month = MonthForm(request.GET or None)
    as_of = month.cleaned_data.get("month") if month.is_valid() else None
    return render(
        request,
        "web/finance/desk.html",
        {
            "desk": selectors.finance_desk(person),
            "reconciliation": selectors.reconciliation(person, as_of=as_of),
            "is_finance": person.has_role(Role.FINANCE),
            "is_leader": person.has_role(Role.LEADER),
            "today": timezone.localdate(),
            "RecoverySource": RecoverySource,
            "WriteOffState": WriteOffState,
        },
    )


def _act(request: HttpRequest, form: forms.Form, call: Callable[[dict[str, Any]], Any]) -> None:
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return
    try:
        call(form.cleaned_data)
    except Conflict as exc:
        messages.error(request, _("Not saved: %(message)s") % {"message": exc.message})
    except InvalidAction as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))


@require_POST
@for_page("finance")
def writeoff_prepare(request: HttpRequest) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    form = PrepareForm(request.POST)

    def call(data: dict[str, Any]) -> Any:
        case = selectors.loss_loan_get(person, data["case"], data["loan_id"])
        return services.writeoff_prepare(
            actor=person,
            case=case,
            loan_id=data["loan_id"],
            principal=data["principal"],
            interest=data["interest"],
            prepared_on=data["prepared_on"],
            reason=data["reason"],
        )

    _act(request, form, call)
    return redirect("web:finance")


@require_POST
@for_page("finance")
def writeoff_decide(request: HttpRequest, writeoff_id: int) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    writeoff = selectors.writeoff_get(person, writeoff_id)

    def call(data: dict[str, Any]) -> Any:
        return services.writeoff_decide(
            actor=person,
            writeoff=writeoff,
            version=data["version"],
            approve=data["approve"],
            note=data["note"],
            on=timezone.localdate(),
        )

    _act(request, DecisionForm(request.POST), call)
    return redirect("web:finance")


@require_POST
@for_page("finance")
def recovery_confirm(request: HttpRequest, recovery_id: int) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    entry = selectors.recovery_get(person, recovery_id)

    def call(data: dict[str, Any]) -> Any:
        return services.recovery_confirm(actor=person, recovery=entry)

    _act(request, forms.Form(request.POST), call)
    return redirect("web:finance")
