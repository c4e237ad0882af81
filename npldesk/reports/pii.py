"""Personal data on the way out: masking rules, and the log of every unmasked export.

Lists and reports carry borrowers' names, ID numbers and phones. They leave npldesk masked
unless a user asks for the personal data; every export that shows it is recorded, before any
of it is written or shown, by ``record_personal_data_export``: one line in the home's export
log (``<home>/audit/exports.jsonl``, ``record_export``) and one record in casework's audit
trail when the home has a casework database. Every face that exports calls it, so the rule
"log, then show" is written once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from npldesk.core.masking import MASK, mask_id_number, mask_middle, mask_name, mask_phone
from npldesk.core.system import current_user, fsync_path
from npldesk.home import Home

if TYPE_CHECKING:
    from npldesk.casework.models import Person

EXPORT_LOG = Path("audit") / "exports.jsonl"

__all__ = ["MASK", "mask_id_number", "mask_middle", "mask_name", "mask_phone"]

# Every personal column of the loan tape (``tape.schema`` marks them) and its rule.
MASKS: dict[str, Callable[[str | None], str | None]] = {
    "borrower_name": mask_name,
    "id_number": mask_id_number,
    "phone": mask_phone,
}


def mask_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``rows`` with every personal column masked (other columns untouched)."""
    masked = []
    for row in rows:
        copy = dict(row)
        for column, rule in MASKS.items():
            if column in copy:
                copy[column] = rule(copy[column])
        masked.append(copy)
    return masked


def export_log_path(home_path: Path) -> Path:
    """Where a home records its unmasked exports."""
    return Path(home_path) / EXPORT_LOG


def record_export(home_path: Path, **details: Any) -> dict[str, Any]:
    """Append a record (who, when, ``details``) of an export that shows personal data."""
    # One write() to a file opened with O_APPEND, then fsync: concurrent exporters never
    # interleave their lines, and the record is on disk before the caller shows any data.
    record: dict[str, Any] = {
        "who": current_user(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        **details,
    }
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path = export_log_path(home_path)
    new_folder = not path.parent.is_dir()
    new_file = new_folder or not path.exists()
    # Who saw whose personal data is itself personal: the log is its owner's only.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(descriptor, line)
        if written != len(line):
            raise OSError(f"{path}: only {written} of {len(line)} bytes of the record written")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    # A new file (or folder) is durable only once the entry in its folder is.
    if new_folder:
        fsync_path(path.parent.parent)
    if new_file:
        fsync_path(path.parent)
    return record


def record_personal_data_export(
    home: Home, *, actor: Person | None, what: str, rows: int, **details: Any
) -> dict[str, Any]:
    """Record an export that shows personal data, before any of it is shown: a line in the
    home's export log (who ran it on the server, ``details``), then a record in casework's
    audit trail naming ``actor``. Returns the log line.

    ``actor`` is the person exporting (the system actor for the command line). It may be
    ``None`` only on a home without a casework database (an analytics-only home), whose
    export log is then the only record; with a database, ``None`` is refused before anything
    is written. Django must be set up on the home when it has a database.
    """
    if home.has_casework_database and actor is None:
        from npldesk.casework.errors import NoActor

        raise NoActor("a personal-data export")
    # The log first: an export that then fails is over-recorded, never an export that
    # succeeds unrecorded.
    record = record_export(home.path, rows=rows, **details)
    if actor is not None:
        from npldesk.casework.audit import record_personal_data_access

        record_personal_data_access(actor=actor, what=what, case=None, rows=rows)
    return record
