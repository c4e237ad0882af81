"""The tape page's work, once for the web and the API: the manifest as a document, a month file
uploaded and queued as a ``tape_import`` job, and an upload's status (progress, what it
imported and the month-end run that follows, or its validation report row by row).

Who may: the roles that may queue a tape import (``ENQUEUERS``); anyone else is refused with
``AccessDenied`` (the web answers 404, the API 403). An upload's status is read through
``selectors.job_get`` (a job the person may not follow is ``NotFound``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from npldesk.casework import selectors
from npldesk.casework.choices import JobKind, JobState, RunKind
from npldesk.casework.errors import AccessDenied, InvalidAction, NotFound
from npldesk.casework.models import Job, Person, Run
from npldesk.casework.services.jobs import ENQUEUERS
from npldesk.core.i18n import from_data, translatable
from npldesk.core.months import month_label
from npldesk.home import Home
from npldesk.monthend.worker import enqueue_tape_import
from npldesk.tape.mapping import shipped_mappings
from npldesk.tape.store import Store

# The roles that see the tape page and may upload a month.
TAPE_ROLES = ENQUEUERS[JobKind.TAPE_IMPORT]
# ``[import] max_upload_mb`` of ``npldesk.toml``: the largest month file a browser or a client
# may upload.
DEFAULT_MAX_UPLOAD_MB = 512
# The files the importer reads, by their ending.
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")


class UploadTooLarge(InvalidAction):
    """A month file over the home's upload limit (the API answers 413)."""


def may_use_tape(person: Person | None) -> bool:
    return person is not None and person.active and person.has_role(*TAPE_ROLES)


def require_tape(person: Person | None) -> Person:
    """``person``, when their roles may read the manifest and upload a month."""
    if person is None or not may_use_tape(person):
        raise AccessDenied(translatable("your roles may not import loan tapes"))
    return person


def upload_limit(home: Home) -> int:
    """The upload limit in bytes (``[import] max_upload_mb``, default 512)."""
    raw = home.config.get("import", {}).get("max_upload_mb", DEFAULT_MAX_UPLOAD_MB)
    try:
        megabytes = int(raw)
    except (TypeError, ValueError):
        megabytes = DEFAULT_MAX_UPLOAD_MB
    return max(megabytes, 1) * 1024 * 1024


def mapping_choices() -> list[str]:
    """The mappings an upload may name: those shipped with npldesk (never a path)."""
    return sorted(shipped_mappings())


def tape_upload(
    home: Home,
    *,
    actor: Person,
    name: str,
    size: int,
    chunks: Iterable[bytes],
    as_of: date | None = None,
    mapping: str | None = None,
) -> Job:
    """Keep an uploaded month file in the home and queue its import (``tape_import``)."""
    require_tape(actor)
    limit = upload_limit(home)
    if size > limit:
        raise UploadTooLarge(
            translatable(
                "the file is larger than the upload limit of {megabytes} MB",
                megabytes=limit // (1024 * 1024),
            )
        )
    if not name or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InvalidAction(
            translatable(
                "{name!r} is not a file the importer reads: CSV, XLSX or Parquet", name=name
            )
        )
    if mapping and mapping not in mapping_choices():
        raise InvalidAction(
            translatable(
                "mapping {mapping!r} is not known: one of {names}",
                mapping=mapping,
                names=", ".join(mapping_choices()),
            )
        )
    return enqueue_tape_import(
        home, actor=actor, name=Path(name).name, chunks=chunks, as_of=as_of, mapping=mapping or None
    )


# -- the manifest ---------------------------------------------------------------------------


def manifest_document(home: Home, person: Person) -> dict[str, Any]:
    """The manifest for people and clients: each month with its rows, balance, checksums, who
    imported it when, its mapping and lineage (sources, what it replaced); the organisation
    tree; the history of changes, latest first."""
    require_tape(person)
    manifest = Store(home.store_path).manifest()
    months = []
    for as_of, entry in sorted(manifest.snapshots.items(), reverse=True):
        months.append(
            {
                "as_of": as_of.isoformat(),
                "month": month_label(as_of),
                "rows": entry.rows,
                "loans_on_book": entry.loans_on_book,
                "balance": entry.balance,
                "source": entry.source,
                "sha256": entry.sha256,
                "encoding": entry.encoding,
                "mapping": entry.mapping,
                "mapping_sha256": entry.mapping_sha256,
                "imported_at": entry.imported_at,
                "imported_by": entry.imported_by,
                "import_id": entry.import_id,
                "warnings": dict(entry.warnings),
                "sources": [s.to_json() for s in entry.sources],
                "replaces": None if entry.replaces is None else entry.replaces.to_json(),
            }
        )
    org = manifest.org
    return {
        "months": months,
        "org": None
        if org is None
        else {
            "rows": org.rows,
            "source": org.source,
            "sha256": org.sha256,
            "imported_at": org.imported_at,
            "imported_by": org.imported_by,
            "levels": list(org.levels),
        },
        "history": [
            {
                "import_id": record.import_id,
                "action": record.action,
                "at": record.at,
                "by": record.by,
                "months": list(record.months or ()),
                "replaced": list(record.replaced or ()),
                "sources": list(record.sources),
            }
            for record in reversed(manifest.history)
        ],
    }


# -- an upload's status ---------------------------------------------------------------------


@dataclass(frozen=True)
class MonthEndLink:
    """The month-end run that follows an imported month: run (its steps), or only queued."""

    as_of: date
    state: str
    run: Run | None
    job_id: int | None


def _month_end_of(person: Person, as_of: date) -> MonthEndLink | None:
    run = selectors.run_find(person, as_of, kind=RunKind.MONTH_END)
    if run is not None:
        return MonthEndLink(as_of, run.state, run, None)
    job = (
        selectors.jobs_visible(person)
        .filter(kind=JobKind.MONTH_END, parameters__as_of=as_of.isoformat())
        .first()
    )
    if job is not None:
        return MonthEndLink(as_of, job.state, None, job.pk)
    return None


def upload_get(person: Person, job_id: int) -> Job:
    """A tape upload ``person`` may follow, or ``NotFound``."""
    require_tape(person)
    job = selectors.job_get(person, job_id)
    if job.kind != JobKind.TAPE_IMPORT:
        raise NotFound(translatable("no tape upload {job_id}", job_id=job_id))
    return job


def upload_status(person: Person, job: Job) -> dict[str, Any]:
    """An upload's status as a document: its state and progress, what it was asked, and when
    done the months imported (each with its month-end run), when refused its problems."""
    parameters = job.parameters or {}
    result = job.result or {}
    imported = []
    if job.state == JobState.DONE:
        for snapshot in result.get("snapshots") or ():
            as_of = date.fromisoformat(str(snapshot["as_of"]))
            link = _month_end_of(person, as_of)
            imported.append(
                {
                    **snapshot,
                    "month": month_label(as_of),
                    "month_end": None
                    if link is None
                    else {"state": link.state, "job_id": link.job_id, "run": month_label(as_of)},
                }
            )
    problems = []
    if job.state == JobState.FAILED:
        for problem in result.get("problems") or ():
            problems.append(
                {
                    "file": Path(str(problem.get("file") or "")).name or None,
                    "row": problem.get("row"),
                    "column": problem.get("column"),
                    "value": problem.get("value"),
                    "code": problem.get("rule"),
                    "message": from_data(problem.get("message_data") or problem.get("message")),
                    "severity": problem.get("severity"),
                }
            )
    return {
        "id": job.pk,
        "state": job.state,
        "file": parameters.get("name"),
        "as_of": parameters.get("as_of"),
        "mapping": parameters.get("mapping"),
        "created_at": job.created_at.isoformat(),
        "created_by": job.created_by.user.get_username(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "progress": {"text": job.progress_text, "fraction": job.progress_fraction},
        "error": job.error or None,
        "import_id": result.get("import_id"),
        "imported": imported,
        "warning_total": int(result.get("warning_total") or 0),
        "problems": problems,
        "problem_total": int(result.get("problem_total") or len(problems)),
    }


def recent_uploads(person: Person, *, limit: int = 10) -> list[Job]:
    """The latest tape uploads ``person`` may follow."""
    require_tape(person)
    return list(selectors.jobs_visible(person).filter(kind=JobKind.TAPE_IMPORT)[:limit])
