"""Legal documents drafted from a case, and the bank unit's legal details they name
(``npldesk.casework.legaldocs``, ADR 0019)."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from django.utils import timezone

from npldesk.casework import audit, legaldocs, validation
from npldesk.casework.access import Action, require, require_unit, works_case
from npldesk.casework.choices import ActivityKind, ActivityParty, Outcome
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import Activity, Case, Document, Person, Unit, UnitLegalDetails
from npldesk.casework.services._common import compare_and_swap
from npldesk.core.i18n import translatable
from npldesk.core.system import fsync_path, make_owner_only
from npldesk.home import Home, load_home

DOCUMENTS_FOLDER = "documents"
FORMATS = ("docx", "pdf")


def current_home() -> Home:
    """The home Django runs in (where the tape store and the documents are)."""
    return load_home(os.environ.get("NPLDESK_HOME"), must_exist=False)


def _safe(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]", "_", text)


def _write_owner_only(path: Path, content: bytes) -> None:
    """``content`` at ``path`` (owner-only), written whole before it takes the name."""
    for folder in (path.parent.parent, path.parent):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        make_owner_only(folder)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, content)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(partial, path)
    fsync_path(path.parent)


@audit.service()
def document_generate(
    *, actor: Person, case: Case, kind: str, as_of: date, home: Home | None = None
) -> Document:
    """Draft a legal document of ``kind`` from ``case`` with the amounts owed on ``as_of``:
    its DOCX and PDF kept under the home (owner-only), a document record, an activity on the
    case. Refused, with nothing written, when the case lacks a value the document needs."""
    require(actor, Action.DRAFT_DOCUMENT, case)
    if not works_case(actor, case):
        raise AccessDenied(
            translatable(
                "{username} does not work case {case_number}: only those who work a case draft "
                "its documents (they show the household's personal data)",
                username=actor.user.get_username(),
                case_number=case.number,
            )
        )
    if not case.is_open:
        raise InvalidAction(translatable("case {case_number} is closed", case_number=case.number))
    validation.event_date(case, as_of, translatable("a document"))
    home = home or current_home()
    context = legaldocs.document_context(home, case, kind, as_of)
    owed: legaldocs.Owed = context.pop("owed")
    content = {
        "docx": legaldocs.render_docx(home, kind, context),
        "pdf": legaldocs.render_pdf(home, kind, context),
    }
    title = legaldocs.TITLES[kind]
    activity = Activity.objects.create(
        case=case,
        kind=ActivityKind.DOCUMENT,
        occurred_on=as_of,
        party=ActivityParty.BORROWER,
        person=actor,
        outcome=Outcome.DRAFTED,
        notes=f"{title}（截至{as_of.isoformat()}，依据{owed.snapshot_as_of.isoformat()}贷款数据）",
    )
    document = Document.objects.create(
        case=case,
        kind=kind,
        as_of=as_of,
        snapshot_as_of=owed.snapshot_as_of,
        generated_by=actor,
        generated_at=timezone.now(),
        activity=activity,
        figures=owed.as_dict(),
    )
    folder = Path(DOCUMENTS_FOLDER) / _safe(case.number)
    files = {
        fmt: (folder / f"{document.pk}-{kind}-{as_of.isoformat()}.{fmt}").as_posix()
        for fmt in FORMATS
    }
    written: list[Path] = []
    try:
        for fmt in FORMATS:
            path = home.path / files[fmt]
            _write_owner_only(path, content[fmt])
            written.append(path)
        document.files = files
        document.checksums = {fmt: hashlib.sha256(content[fmt]).hexdigest() for fmt in FORMATS}
        document.save(update_fields=["files", "checksums"])
        Activity.objects.filter(pk=activity.pk).update(attachments=[files[fmt] for fmt in FORMATS])
        audit.record(
            actor=actor,
            action="document_generate",
            obj=document,
            case=case,
            after={
                "kind": kind,
                "as_of": as_of,
                "snapshot_as_of": owed.snapshot_as_of,
                "activity": activity.pk,
                "figures": document.figures,
                "files": files,
                "checksums": document.checksums,
            },
        )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return document


LEGAL_DETAILS_FIELDS = ["legal_name", "address", "legal_representative", "phone"]


@audit.service()
def unit_legal_details_set(
    *,
    actor: Person,
    unit: Unit,
    legal_name: str,
    address: str,
    legal_representative: str,
    phone: str = "",
    version: int | None = None,
) -> UnitLegalDetails:
    """Set a unit's legal details (the name, address and legal representative its documents
    state). ``version`` is the one read when the details already exist."""
    require_unit(actor, unit)
    values: dict[str, Any] = {
        "legal_name": legal_name.strip(),
        "address": address.strip(),
        "legal_representative": legal_representative.strip(),
        "phone": phone.strip(),
    }
    for key, what in (
        ("legal_name", translatable("the legal name")),
        ("address", translatable("the address")),
        ("legal_representative", translatable("the legal representative")),
    ):
        if not values[key]:
            raise InvalidAction(translatable("{what} is required", what=what))
    existing = UnitLegalDetails.objects.filter(unit=unit).first()
    if existing is None:
        details = UnitLegalDetails.objects.create(unit=unit, **values)
        before = None
    else:
        before = audit.snapshot(existing, LEGAL_DETAILS_FIELDS)
        details = compare_and_swap(
            existing,
            version=version if version is not None else existing.version,
            what=translatable("the legal details of unit {unit_code}", unit_code=unit.code),
            **values,
        )
    audit.record(
        actor=actor,
        action="unit_legal_details_set",
        obj=details,
        before=before,
        after=audit.snapshot(details, LEGAL_DETAILS_FIELDS),
    )
    return details
