"""Stage 4, commit: each month's Parquet file written and the manifest replaced, all at once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from npldesk.core.money import format_money
from npldesk.core.months import month_label
from npldesk.core.system import current_user
from npldesk.tape.convert import quote, sql_string
from npldesk.tape.importer.history import HistoryResult
from npldesk.tape.importer.options import ImportResult, Progress, SnapshotSummary
from npldesk.tape.importer.staging import Staging
from npldesk.tape.manifest import HistoryRecord, SnapshotEntry, SourceRecord
from npldesk.tape.readers import SourceFile
from npldesk.tape.schema import COLUMN_NAMES, SCHEMA_VERSION
from npldesk.tape.store import Store, Transaction


def commit_snapshots(
    store: Store,
    transaction: Transaction,
    staging: Staging,
    months: list[date],
    history: HistoryResult,
    say: Progress,
) -> ImportResult:
    """Write each month's snapshot from the staged table (or move the fast path's file into
    place), record its manifest entry and commit them all in one manifest change."""
    con = staging.con
    options = staging.options
    warning_counts = history.warning_counts
    manifest = store.manifest()
    user = options.user or current_user()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    columns = ", ".join(quote(c) for c in COLUMN_NAMES)
    summaries = []
    # The flushes of the fast path's staged files run on a worker thread; each must be done
    # before its file is moved into place below (a flush that comes late would open a path that
    # is gone, and the import would fail on a busy machine).
    for flush in staging.flushes:
        flush.result()
    # Figures first: the staged files are moved into place below.
    figures = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT as_of, count(*), count(*) FILTER (WHERE status = 'active'), "
            "COALESCE(sum(principal_balance), 0), min(_file) FROM staged GROUP BY as_of"
        ).fetchall()
    }
    single_month = {
        index: count == 1
        for index, count in con.execute(
            "SELECT _file, count(DISTINCT as_of) FROM staged GROUP BY _file"
        ).fetchall()
    }
    for as_of in months:
        say(f"writing {month_label(as_of)}")
        relative = transaction.snapshot_file(as_of)
        target = transaction.stage_path(relative)
        condition = f"as_of = DATE {sql_string(as_of.isoformat())}"
        rows, on_book, balance, file_index = figures[as_of]
        fast_file = staging.staged[file_index].fast_file
        if not staging.general and fast_file is not None and single_month[file_index]:
            fast_file.replace(target)  # the staged file is the snapshot, as written
        else:
            con.execute(
                f"COPY (SELECT {columns} FROM staged WHERE {condition}) "
                f"TO {sql_string(str(target))} (FORMAT parquet)"
            )
        staged = staging.staged[file_index]
        previous = manifest.snapshots.get(as_of)
        entry = SnapshotEntry(
            as_of=as_of,
            file=relative,
            rows=int(rows),
            loans_on_book=int(on_book),
            balance=format_money(balance) or "0.00",  # the sum is never NULL (COALESCE)
            source=staged.source.path.name,
            sha256=staged.source.sha256,
            sources=(
                _source_record(staged.source, "data"),
                *(
                    _source_record(j, f"join:{m.name}")
                    for j, m in zip(staged.joins, staged.mapping.joins, strict=True)
                ),
            ),
            encoding=staged.source.encoding,
            mapping=None if staged.mapping.is_identity else staged.mapping.name,
            mapping_sha256=staged.mapping.sha256,
            imported_at=now,
            imported_by=user,
            import_id=transaction.import_id,
            schema_version=SCHEMA_VERSION,
            warnings=warning_counts.get(as_of, {}),
            replaces=None if previous is None else previous.replaced_record(),
        )
        manifest.snapshots[as_of] = entry
        summaries.append(
            SnapshotSummary(
                as_of,
                entry.rows,
                int(on_book),
                entry.balance,
                staged.source.path.name,
                previous is not None,
            )
        )
    manifest.history.append(
        HistoryRecord(
            import_id=transaction.import_id,
            action="replace" if any(s.replaced for s in summaries) else "import",
            at=now,
            by=user,
            months=tuple(m.isoformat() for m in months),
            replaced=tuple(s.as_of.isoformat() for s in summaries if s.replaced),
            sources=tuple(s.source.path.name for s in staging.staged),
            accepted_exits=tuple(m.isoformat() for m in history.accepted_exits),
        )
    )
    say("committing")
    transaction.commit(manifest)
    return ImportResult(transaction.import_id, summaries)


def _source_record(source: SourceFile, role: str) -> SourceRecord:
    return SourceRecord(
        role=role,
        name=source.path.name,
        sha256=source.sha256,
        format=source.format,
        encoding=source.encoding,
    )
