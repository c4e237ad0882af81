"""``/cases/`` and ``/cases/<case_id>/``: the case list and one case with every action on it.

Each action is a POST: its form parses the input, one service writes it as the signed-in
person, and the page comes back with what happened. A stale form (the object changed in another
tab) gets the conflict message, never an overwrite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from npldesk.casework import access, selectors, services
from npldesk.casework.choices import (
    Ability,
    ActivityKind,
    ActivityParty,
    ActivityPurpose,
    AuditAction,
    CaseKind,
    CaseState,
    ClockWord,
    CloseReason,
    DocumentKind,
    InstalmentState,
    LegalStage,
    Outcome,
    PlanState,
    PromiseState,
    RecoverySource,
    RepaymentPlanKind,
    RepaymentPlanState,
    Strategy,
    Tier,
    Willingness,
    WriteOffState,
)
from npldesk.casework.errors import AccessDenied, Conflict, InvalidAction, NotFound
from npldesk.casework.selectors import CaseDetail, CaseFilters
from npldesk.reports.labels import localise
from npldesk.reports.pii import record_personal_data_export
from npldesk.web.cases import forms as case_forms

PAGE_SIZE = 50
VOCABULARIES = {
    "Ability": Ability,
    "Willingness": Willingness,
    "ActivityKind": ActivityKind,
    "ActivityParty": ActivityParty,
    "ActivityPurpose": ActivityPurpose,
    "CaseKind": CaseKind,
    "CaseState": CaseState,
    "CloseReason": CloseReason,
    "ClockWord": ClockWord,
    "DocumentKind": DocumentKind,
    "AuditAction": AuditAction,
    "InstalmentState": InstalmentState,
    "LegalStage": LegalStage,
    "Outcome": Outcome,
    "PlanState": PlanState,
    "PromiseState": PromiseState,
    "RecoverySource": RecoverySource,
    "RepaymentPlanKind": RepaymentPlanKind,
    "RepaymentPlanState": RepaymentPlanState,
    "Strategy": Strategy,
    "Tier": Tier,
    "WriteOffState": WriteOffState,
}


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    form = case_forms.CaseFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = CaseFilters(
        state=data.get("state") or None,
        unit=data.get("unit") or None,
        team=data.get("team") or None,
        owner=data.get("owner") or None,
        strategy=data.get("strategy") or None,
        tier=data.get("tier") or None,
        legal_stage=data.get("legal_stage") or None,
        overdue=bool(data.get("overdue")),
        open_only=not data.get("closed"),
        query=data.get("q") or None,
        sort=data.get("sort") or "number",
    )
    today = timezone.localdate()
    cases = selectors.case_filter(request.person, filters, today=today)  # type: ignore[attr-defined]
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/cases/list.html",
        {
            "form": form,
            "page": page,
            "rows": selectors.case_rows(page.object_list, today=today),
            "query": query.urlencode(),
            **VOCABULARIES,
        },
    )


def _detail_context(request: HttpRequest, detail: CaseDetail) -> dict[str, Any]:
    person = request.person  # type: ignore[attr-defined]
    case = detail.case
    loans = [loan.loan_id for loan in detail.loans if loan.status == "active"]
    all_loans = [loan.loan_id for loan in detail.loans]
    can = access.allowed_actions(person, case)
    version = {"version": case.version}
    return {
        "detail": detail,
        "case": case,
        "can": can,
        "today": timezone.localdate(),
        "activity_form": blank_form(case_forms.ActivityForm),
        "investigation_form": blank_form(case_forms.InvestigationForm),
        "plan_form": blank_form(case_forms.PlanProposalForm),
        # Whom the case may go to is read only for those who may assign it.
        "assign_form": _assign_form(person, case) if "manage_case" in can else None,
        "override_form": case_forms.OverrideForm(initial=version),
        "close_form": case_forms.CloseForm(initial=version),
        "recovery_form": case_forms.RecoveryForm(loans=all_loans),
        "reverse_form": blank_form(case_forms.ReverseForm),
        "repayment_form": blank_form(case_forms.RepaymentPlanForm),
        "legal_open_form": blank_form(case_forms.LegalOpenForm),
        "writeoff_form": case_forms.WriteOffPrepareForm(loans=loans),
        "document_form": blank_form(case_forms.DocumentForm),
        "documents": selectors.case_documents(person, detail),
        "clocks": selectors.case_clocks(person, detail, today=timezone.localdate()),
        **VOCABULARIES,
    }


def blank_form(form_class: type[forms.Form]) -> SafeString:
    """The markup of an empty ``form_class`` as the case page shows it (no case's data in it).

    The same for every case: made once per form, language and minute (the forms' first values
    are the day and the minute) and shared by the server's threads. A form posted with errors
    never comes back here: its view tells them in messages and returns to the case."""
    moment = timezone.localtime().replace(second=0, microsecond=0)
    return _blank_form_markup(form_class, get_language(), moment)


@functools.lru_cache(maxsize=64)
def _blank_form_markup(form_class: type[forms.Form], language: str, moment: Any) -> SafeString:
    return form_class().as_div()


def _assign_form(person: Any, case: Any) -> forms.Form:
    owners = [
        (p.user.get_username(), p.name) for p in selectors.case_owner_candidates(person, case)
    ]
    teams = [(t.code, t.name) for t in selectors.teams_visible(person)]
    return case_forms.AssignForm(
        initial={
            "version": case.version,
            "owner": case.owner.user.get_username() if case.owner else "",
            "team": case.team.code if case.team else "",
        },
        owners=owners,
        teams=teams,
    )


@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    return render(request, "web/cases/detail.html", _detail_context(request, detail))


@require_POST
def personal_data(request: HttpRequest, number: str) -> HttpResponse:
    """The household's personal data, unmasked on an explicit request (recorded)."""
    try:
        detail = selectors.case_detail(request.person, number, unmask=True)  # type: ignore[attr-defined]
    except AccessDenied as exc:
        messages.error(request, localise(exc.message))
        return redirect("web:case", number=number)
    return render(request, "web/cases/detail.html", _detail_context(request, detail))


def _act(
    request: HttpRequest,
    number: str,
    form: forms.Form,
    call: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Validate ``form``, run the one service ``call`` makes, and go back to the case."""
    target = reverse("web:case", kwargs={"number": number})
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return redirect(target)
    try:
        call(form.cleaned_data)
    except Conflict as exc:
        messages.error(request, _("Not saved: %(message)s") % {"message": localise(exc.message)})
        return redirect(target)
    except InvalidAction as exc:
        messages.error(request, localise(exc.message))
        return redirect(target)
    messages.success(request, done)
    return redirect(target)


def _case(request: HttpRequest, number: str) -> Any:
    return selectors.case_get(request.person, number)  # type: ignore[attr-defined]


def _one(items: list[Any], pk: int) -> Any:
    for item in items:
        if item.pk == pk:
            return item
    raise Http404


@require_POST
def activity(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)

    def call(data: dict[str, Any]) -> Any:
        return services.activity_record(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            party=data["party"],
            purpose=data["purpose"],
            outcome=data["outcome"],
            notes=data["notes"],
            promise_amount=data.get("promise_amount"),
            promise_due_on=data.get("promise_due_on"),
        )

    return _act(
        request, number, case_forms.ActivityForm(request.POST), call, _("Activity recorded.")
    )


@require_POST
def investigation(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    form = case_forms.InvestigationForm(request.POST)

    def call(data: dict[str, Any]) -> Any:
        return services.investigation_record(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            investigated_on=data["investigated_on"],
            family_status=data["family_status"],
            dependants=data["dependants"],
            income_source=data["income_source"],
            monthly_income=data["monthly_income"],
            employment_state=data["employment_state"],
            properties=form.properties(),
            vehicles=data["vehicles"],
            deposits=data["deposits"],
            business_assets=data["business_assets"],
            contactability=data["contactability"],
            health=data["health"],
            notes=data["notes"],
        )

    return _act(request, number, form, call, _("Investigation recorded."))


@require_POST
def plan_propose(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    person = request.person  # type: ignore[attr-defined]

    def call(data: dict[str, Any]) -> Any:
        return services.plan_propose(
            actor=person,
            case=case,
            strategy=data["strategy"],
            reason=data["reason"],
            target_amount=data["target_amount"],
            target_date=data["target_date"],
            milestones=[(task, person, due) for due, task in data["milestones"]],
        )

    return _act(
        request, number, case_forms.PlanProposalForm(request.POST), call, _("Plan proposed.")
    )


@require_POST
def plan_decide(request: HttpRequest, number: str, plan_id: int) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    plan = _one(detail.plans, plan_id)

    def call(data: dict[str, Any]) -> Any:
        return services.plan_decide(
            actor=request.person,  # type: ignore[attr-defined]
            plan=plan,
            version=data["version"],
            approve=data["approve"],
            note=data["note"],
        )

    return _act(
        request, number, case_forms.DecisionForm(request.POST), call, _("Decision recorded.")
    )


@require_POST
def milestone_done(request: HttpRequest, number: str, milestone_id: int) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    milestone = _one([m for plan in detail.plans for m in plan.milestones.all()], milestone_id)

    def call(data: dict[str, Any]) -> Any:
        return services.milestone_complete(
            actor=request.person,  # type: ignore[attr-defined]
            milestone=milestone,
            done_on=data["done_on"],
        )

    return _act(
        request, number, case_forms.MilestoneDoneForm(request.POST), call, _("Milestone done.")
    )


@require_POST
def assign(request: HttpRequest, number: str) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    case = _case(request, number)
    owners = {p.user.get_username(): p for p in selectors.case_owner_candidates(person, case)}
    teams = {t.code: t for t in selectors.teams_visible(person)}
    form = case_forms.AssignForm(
        request.POST,
        owners=[(u, p.name) for u, p in owners.items()],
        teams=[(c, t.name) for c, t in teams.items()],
    )

    def call(data: dict[str, Any]) -> Any:
        return services.case_assign(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            version=data["version"],
            owner=owners.get(data["owner"]) if data["owner"] else None,
            team=teams.get(data["team"]) if data["team"] else None,
            reason=data["reason"],
        )

    return _act(request, number, form, call, _("Case assigned."))


@require_POST
def override(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)

    def call(data: dict[str, Any]) -> Any:
        return services.case_override(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            version=data["version"],
            reason=data["reason"],
            strategy=data["strategy"] or None,
            tier=data["tier"] or None,
            deadline=data["deadline"],
        )

    return _act(
        request, number, case_forms.OverrideForm(request.POST), call, _("Override recorded.")
    )


@require_POST
def close(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)

    def call(data: dict[str, Any]) -> Any:
        return services.case_close(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            version=data["version"],
            reason=data["reason"],
            closed_on=data["closed_on"],
            note=data["note"],
        )

    return _act(request, number, case_forms.CloseForm(request.POST), call, _("Case closed."))


@require_POST
def recovery(request: HttpRequest, number: str) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    form = case_forms.RecoveryForm(request.POST, loans=[loan.loan_id for loan in detail.loans])

    def call(data: dict[str, Any]) -> Any:
        return services.recovery_enter(
            actor=request.person,  # type: ignore[attr-defined]
            case=detail.case,
            loan_id=data["loan_id"],
            received_on=data["received_on"],
            amount=data["amount"],
            source=data["source"],
            note=data["note"],
        )

    return _act(request, number, form, call, _("Recovery entered; it waits for confirmation."))


@require_POST
def recovery_confirm(request: HttpRequest, number: str, recovery_id: int) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    entry = _one(detail.recoveries, recovery_id)

    def call(data: dict[str, Any]) -> Any:
        return services.recovery_confirm(actor=request.person, recovery=entry)  # type: ignore[attr-defined]

    return _act(request, number, forms.Form(request.POST), call, _("Recovery confirmed."))


@require_POST
def recovery_reverse(request: HttpRequest, number: str, recovery_id: int) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    entry = _one(detail.recoveries, recovery_id)

    def call(data: dict[str, Any]) -> Any:
        return services.recovery_reverse(
            actor=request.person,  # type: ignore[attr-defined]
            recovery=entry,
            reversed_on=data["reversed_on"],
            reason=data["reason"],
        )

    return _act(
        request, number, case_forms.ReverseForm(request.POST), call, _("Recovery reversed.")
    )


@require_POST
def repayment_plan(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)

    def call(data: dict[str, Any]) -> Any:
        return services.repayment_plan_agree(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            kind=data["kind"],
            agreed_on=data["agreed_on"],
            instalments=data["instalments"],
            discount=data["discount"],
        )

    return _act(
        request,
        number,
        case_forms.RepaymentPlanForm(request.POST),
        call,
        _("Repayment plan agreed."),
    )


@require_POST
def legal_open(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)

    def call(data: dict[str, Any]) -> Any:
        return services.legal_case_open(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            court=data["court"],
            claim_amount=data["claim_amount"],
            lawyer=data["lawyer"],
            opened_on=data["opened_on"],
        )

    return _act(
        request, number, case_forms.LegalOpenForm(request.POST), call, _("Legal case opened.")
    )


@require_POST
def legal_advance(request: HttpRequest, number: str, legal_id: int) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    legal_case = _one(detail.legal_cases, legal_id)

    def call(data: dict[str, Any]) -> Any:
        return services.legal_case_advance(
            actor=request.person,  # type: ignore[attr-defined]
            legal_case=legal_case,
            version=data["version"],
            stage=data["stage"],
            entered_on=data["entered_on"],
            note=data["note"],
            court_case_number=data["court_case_number"] or None,
            next_hearing_on=data["next_hearing_on"],
        )

    return _act(
        request,
        number,
        case_forms.LegalAdvanceForm(request.POST),
        call,
        _("Legal stage recorded."),
    )


@require_POST
def writeoff_prepare(request: HttpRequest, number: str) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    form = case_forms.WriteOffPrepareForm(
        request.POST, loans=[loan.loan_id for loan in detail.loans if loan.status == "active"]
    )

    def call(data: dict[str, Any]) -> Any:
        return services.writeoff_prepare(
            actor=request.person,  # type: ignore[attr-defined]
            case=detail.case,
            loan_id=data["loan_id"],
            principal=data["principal"],
            interest=data["interest"],
            prepared_on=data["prepared_on"],
            reason=data["reason"],
        )

    return _act(request, number, form, call, _("Write-off prepared."))


@require_POST
def writeoff_decide(request: HttpRequest, number: str, writeoff_id: int) -> HttpResponse:
    detail = selectors.case_detail(request.person, number)  # type: ignore[attr-defined]
    writeoff = _one(detail.writeoffs, writeoff_id)

    def call(data: dict[str, Any]) -> Any:
        person = request.person  # type: ignore[attr-defined]
        return services.writeoff_decide(
            actor=person,
            writeoff=writeoff,
            version=data["version"],
            approve=data["approve"],
            note=data["note"],
            on=timezone.localdate(),
        )

    return _act(
        request, number, case_forms.DecisionForm(request.POST), call, _("Decision recorded.")
    )


@require_POST
def document_generate(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)

    def call(data: dict[str, Any]) -> Any:
        return services.document_generate(
            actor=request.person,  # type: ignore[attr-defined]
            case=case,
            kind=data["kind"],
            as_of=data["as_of"],
        )

    return _act(
        request, number, case_forms.DocumentForm(request.POST), call, _("Document drafted.")
    )


@require_GET
def document_download(request: HttpRequest, number: str, document_id: int, fmt: str) -> Any:
    """A drafted document's DOCX or PDF: an export of personal data, recorded before it is
    sent (``reports/pii.py``)."""
    person = request.person  # type: ignore[attr-defined]
    try:
        found = selectors.document_file(person, number, document_id, fmt)
    except AccessDenied as exc:
        messages.error(request, localise(exc.message))
        return redirect("web:case", number=number)
    except NotFound as exc:
        raise Http404(localise(exc.message)) from exc
    record_personal_data_export(
        found.home,
        actor=person,
        what=f"document {found.document.pk} ({found.document.kind}, {fmt}) of case {number}",
        rows=1,
        case=number,
        document=found.document.pk,
        format=fmt,
    )
    return FileResponse(
        found.path.open("rb"),
        as_attachment=True,
        filename=found.filename,
        content_type=found.content_type,
    )
