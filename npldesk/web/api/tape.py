"""``/api/v1/tape/uploads`` and ``/api/v1/manifest``: a month file uploaded and queued for the
worker's import, its status (progress, what it imported, or its problems row by row), and the
tape store's manifest — for the roles that may import (``npldesk.monthend.uploads``); any other
role is refused (403). The work is the tape page's (``npldesk.monthend.uploads``)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import File, Form, Header, Router, Schema, Status, UploadedFile

from npldesk.casework.errors import InvalidAction
from npldesk.core.errors import UsageError
from npldesk.core.months import parse_month
from npldesk.monthend import uploads
from npldesk.web.api.common import PROBLEMS, Problem, once, person

router = Router(tags=["tape"])

UPLOAD_PROBLEMS = {**PROBLEMS, 409: Problem, 413: Problem}


class ProgressOut(Schema):
    text: str
    fraction: float | None = None


class ProblemOut(Schema):
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    code: str | None = None
    message: str | None = None
    severity: str | None = None


class MonthEndOut(Schema):
    run: str
    state: str
    job_id: int | None = None


class ImportedOut(Schema):
    as_of: str
    month: str
    rows: int
    loans_on_book: int | None = None
    balance: str
    action: str
    month_end: MonthEndOut | None = None


class UploadOut(Schema):
    id: int
    state: str
    file: str | None = None
    as_of: str | None = None
    mapping: str | None = None
    created_at: str
    created_by: str
    started_at: str | None = None
    finished_at: str | None = None
    progress: ProgressOut
    error: str | None = None
    import_id: str | None = None
    imported: list[ImportedOut]
    warning_total: int
    problems: list[ProblemOut]
    problem_total: int


def _as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return parse_month(text)
    except (UsageError, ValueError) as error:
        raise InvalidAction(f"as_of {text!r} is not a month as YYYY-MM") from error


@router.post(
    "/tape/uploads",
    response={202: UploadOut, **UPLOAD_PROBLEMS},
    operation_id="tape_upload",
)
def tape_upload(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008
    as_of: str | None = Form(None, max_length=10),
    mapping: str | None = Form(None, max_length=100),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Upload a month file (CSV, XLSX or Parquet) and queue its import; ``as_of`` (YYYY-MM) for
    a file without an as_of column, ``mapping`` a shipped mapping's name. The answer is the
    upload's status (202): follow it at ``GET /tape/uploads/{id}``. Over the home's upload
    limit: 413, nothing kept.

    Send an ``Idempotency-Key``: the same key again returns the first response and queues
    nothing; the same key with another file is refused (422).
    """
    acting = person(request)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    payload = {
        "name": file.name,
        "size": file.size,
        "sha256": digest.hexdigest(),
        "as_of": as_of,
        "mapping": mapping,
    }

    def write() -> tuple[int, Any]:
        job = uploads.tape_upload(
            settings.HOME,
            actor=acting,
            name=file.name or "",
            size=file.size or 0,
            chunks=file.chunks(),
            as_of=_as_of(as_of),
            mapping=mapping or None,
        )
        return 202, uploads.upload_status(acting, job)

    return once(request, idempotency_key, payload, write)


@router.get(
    "/tape/uploads/{upload_id}",
    response={200: UploadOut, **PROBLEMS},
    operation_id="tape_upload_show",
)
def tape_upload_show(request: HttpRequest, upload_id: int) -> dict[str, Any]:
    """An upload's status: queued, running (progress text and fraction), done (the months
    imported, each with its month-end run) or failed (the problems row by row: nothing was
    imported)."""
    acting = person(request)
    return uploads.upload_status(acting, uploads.upload_get(acting, upload_id))


class SourceOut(Schema):
    role: str
    name: str
    sha256: str
    format: str
    encoding: str | None = None


class ReplacedOut(Schema):
    import_id: str | None = None
    source: str | None = None
    sha256: str | None = None
    rows: int
    balance: str
    imported_at: str | None = None
    imported_by: str | None = None


class MonthOut(Schema):
    as_of: str
    month: str
    rows: int
    loans_on_book: int | None = None
    balance: str
    source: str | None = None
    sha256: str | None = None
    encoding: str | None = None
    mapping: str | None = None
    mapping_sha256: str | None = None
    imported_at: str | None = None
    imported_by: str | None = None
    import_id: str | None = None
    warnings: dict[str, int]
    sources: list[SourceOut]
    replaces: ReplacedOut | None = None


class OrgOut(Schema):
    rows: int
    source: str
    sha256: str
    imported_at: str
    imported_by: str
    levels: list[str]


class HistoryOut(Schema):
    import_id: str
    action: str
    at: str
    by: str
    months: list[str]
    replaced: list[str]
    sources: list[str]


class ManifestOut(Schema):
    months: list[MonthOut]
    org: OrgOut | None = None
    history: list[HistoryOut]


@router.get("/manifest", response={200: ManifestOut, **PROBLEMS}, operation_id="manifest")
def manifest(request: HttpRequest) -> dict[str, Any]:
    """The tape store's manifest: each month's rows, balance (exact yuan), checksums, who
    imported it when, its mapping and lineage; the organisation tree; the history, latest
    first."""
    return uploads.manifest_document(settings.HOME, person(request))
