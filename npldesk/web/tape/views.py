"""``/tape/``: the manifest, a month uploaded from the browser, its progress and report, and
the month-end runs — for the roles that may import (``roles.PAGE_ROLES["tape"]``); anyone else
gets a 404.

An upload is kept in the home and queued as a ``tape_import`` job that ``npldesk worker`` runs;
its page polls the job's progress (htmx) and, when the importer refused the file, lists the
problems row by row (nothing was imported). The work is ``npldesk.monthend.uploads``, shared
with the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from npldesk.casework import selectors
from npldesk.casework.choices import JobState, RunState
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Person
from npldesk.core.errors import UsageError
from npldesk.core.months import parse_month
from npldesk.monthend import uploads
from npldesk.reports.labels import localise
from npldesk.web.roles import for_page

# Problems of a refused upload per page of its report.
PROBLEMS_PER_PAGE = 100


def _person(request: HttpRequest) -> Person:
    person: Person = request.person  # type: ignore[attr-defined]
    return person


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Month file (CSV, XLSX or Parquet)"))
    as_of = forms.CharField(
        label=gettext_lazy("Month (YYYY-MM), for a file without an as_of column"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"placeholder": "2019-12", "inputmode": "numeric"}),
    )
    mapping = forms.ChoiceField(label=gettext_lazy("Mapping"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mapping = self.fields["mapping"]
        assert isinstance(mapping, forms.ChoiceField)
        mapping.choices = [("", _("canonical columns (no mapping)"))] + [
            (name, name) for name in uploads.mapping_choices()
        ]

    def clean_as_of(self) -> date | None:
        text = self.cleaned_data.get("as_of") or ""
        if not text.strip():
            return None
        try:
            return parse_month(text)
        except (UsageError, ValueError) as error:
            raise forms.ValidationError(_("Give the month as YYYY-MM, e.g. 2019-12.")) from error


def _tape_page(
    request: HttpRequest, form: UploadForm, status: int = 200, error: str | None = None
) -> HttpResponse:
    person = _person(request)
    home = settings.HOME
    runs = list(selectors.runs_visible(person)[:24])
    latest = selectors.latest_month_end_run(person)
    manifest = uploads.manifest_document(home, person)
    replaced = [m["replaces"] for m in manifest["months"] if m["replaces"]]
    for entry in [*manifest["months"], *replaced, manifest["org"] or {}]:
        entry["imported_local"] = _local(entry.get("imported_at"))
    context = {
        "manifest": manifest,
        "uploads": uploads.recent_uploads(person),
        "runs": runs,
        "latest_summary": latest.summary() if latest is not None else None,
        "form": form,
        "error": error,
        "limit_mb": uploads.upload_limit(home) // (1024 * 1024),
        "JobState": JobState,
    }
    return render(request, "web/tape/tape.html", context, status=status)


def _local(moment: str | None) -> datetime | None:
    """A manifest's time (ISO 8601, UTC) in the home's time zone, for people."""
    found = parse_datetime(moment) if moment else None
    if found is None:
        return None
    return timezone.localtime(found) if timezone.is_aware(found) else found


@require_GET
@for_page("tape")
def tape(request: HttpRequest) -> HttpResponse:
    return _tape_page(request, UploadForm())


@require_POST
@for_page("tape")
def upload(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = UploadForm(request.POST, request.FILES)
    too_large = getattr(request, "upload_too_large", None)
    if too_large is not None:
        message = _("The file is larger than the upload limit of %(megabytes)s MB.") % {
            "megabytes": too_large // (1024 * 1024)
        }
        return _tape_page(request, UploadForm(), status=413, error=message)
    if not form.is_valid():
        return _tape_page(request, form, status=400)
    sent = form.cleaned_data["file"]
    try:
        job = uploads.tape_upload(
            settings.HOME,
            actor=person,
            name=sent.name or "",
            size=sent.size or 0,
            chunks=sent.chunks(),
            as_of=form.cleaned_data["as_of"],
            mapping=form.cleaned_data["mapping"] or None,
        )
    except InvalidAction as exc:
        form.add_error(None, localise(exc.message))
        return _tape_page(request, form, status=400)
    target = reverse("web:tape_job", args=[job.pk])
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def _status(request: HttpRequest, job_id: int) -> dict[str, Any]:
    person = _person(request)
    return uploads.upload_status(person, uploads.upload_get(person, job_id))


def _finished(status: dict[str, Any]) -> bool:
    return status["state"] in (JobState.DONE, JobState.FAILED)


@require_GET
@for_page("tape")
def upload_page(request: HttpRequest, job_id: int) -> HttpResponse:
    status = _status(request, job_id)
    for problem in status["problems"]:
        problem["message"] = localise(problem["message"])
    page = Paginator(status["problems"], PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "job": status,
        "month": status["as_of"][:7] if status["as_of"] else None,
        "finished": _finished(status),
        "problems": page,
        "more": status["problem_total"] - len(status["problems"]),
        "JobState": JobState,
        "RunState": RunState,
    }
    return render(request, "web/tape/upload.html", context)


@require_GET
@for_page("tape")
def upload_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress bar alone (the upload page polls it); once the job has finished, a poll
    from the page reloads it to show the result."""
    status = _status(request, job_id)
    response = render(
        request,
        "web/tape/progress.html",
        {"job": status, "finished": _finished(status), "JobState": JobState},
    )
    if _finished(status) and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@for_page("tape")
def run(request: HttpRequest, month: str) -> HttpResponse:
    person = _person(request)
    try:
        as_of = parse_month(month)
    except (UsageError, ValueError) as error:
        raise Http404(str(error)) from error
    found = selectors.run_get(person, as_of)
    steps = [
        (step, [(k, v) for k, v in step.counts.items() if isinstance(v, int | float | str)])
        for step in selectors.run_steps(person, found)
    ]
    context = {"run": found, "steps": steps, "RunState": RunState}
    return render(request, "web/tape/run.html", context)
