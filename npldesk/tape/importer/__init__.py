"""Import: read → map → check → stage → commit, all or nothing.

One import takes one or more files (each holding one month or many) and commits every
snapshot they hold in a single manifest change, in four stages:

1. ``staging``: each file is read and converted, in one DuckDB scan, into a staged table;
2. ``row_checks``: every rule a row breaks, and the rules across rows (a clean import asks
   once whether anything failed and gathers details only if something did);
3. ``history``: each month against the month before it, staged or stored;
4. ``commit``: the snapshots written and the manifest replaced in one atomic step.

A problem found by stage 2 or 3 stops the import before stage 4: nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from npldesk.core.errors import DataError, NpldeskError, UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.tape.importer.commit import commit_snapshots
from npldesk.tape.importer.history import check_history
from npldesk.tape.importer.options import ImportOptions, ImportResult, Progress, SnapshotSummary
from npldesk.tape.importer.row_checks import check_rows
from npldesk.tape.importer.staging import stage_files
from npldesk.tape.org import load_org
from npldesk.tape.store import Store

__all__ = ["ImportOptions", "ImportResult", "SnapshotSummary", "import_files"]


def import_files(
    store: Store,
    files: list[Path],
    options: ImportOptions,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every snapshot in ``files`` in one transaction; raise ``DataError`` with every
    problem found, leaving the store as it was, when any row breaks a rule."""
    say = progress or (lambda _message: None)
    if not files:
        raise UsageError(translatable("no file to import"))
    for path in files:
        if not Path(path).is_file():
            raise UsageError(translatable("file not found: {path}", path=path))
    if options.as_of is not None and len(files) > 1:
        raise UsageError(translatable("--as-of names one month; give one file with it"))
    try:
        return _import(store, files, options, say)
    except OSError as exc:
        # A full disk (ENOSPC), a file-size limit (EFBIG), a permission: nothing was committed.
        raise NpldeskError(
            f"the import could not write its files ({exc.strerror or exc}); the store is unchanged"
        ) from exc
    except duckdb.PermissionException as exc:
        # Only a mapping's `sql:` can name a file the import was not given (the sandbox).
        raise UsageError(
            translatable(
                "the mapping tried to reach outside the files being imported, which a mapping "
                "may not do ({exc}); nothing imported",
                exc=_first_line(exc),
            )
        ) from exc
    except duckdb.IOException as exc:
        raise NpldeskError(
            f"the import could not read or write a file ({_first_line(exc)}); "
            "the store is unchanged"
        ) from exc
    except duckdb.Error as exc:
        # Most often a mapping's `sql:` expression that DuckDB cannot run.
        raise UsageError(
            translatable("the import failed: {exc}; the store is unchanged", exc=_first_line(exc))
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _import(store: Store, files: list[Path], options: ImportOptions, say: Progress) -> ImportResult:
    with store.writing() as transaction:
        org = load_org(store)
        if not org:
            raise UsageError(
                translatable(
                    "no organisation file imported yet: run `npldesk org import FILE` first "
                    "(every loan's org_unit is checked against it)"
                )
            )
        staging = stage_files(transaction, options, files, say)
        try:
            say("converting and checking rows")
            rows = check_rows(staging, {u.code for u in org})
            months = rows.months
            if not months and not staging.problems:
                raise UsageError(translatable("the file(s) hold no rows"))
            existing = [m for m in months if m in set(store.months())]
            if existing and not options.replace:
                raise UsageError(
                    "already imported: "
                    + ", ".join(month_label(m) for m in existing)
                    + "; use --replace to import again (the old snapshot is kept until the new "
                    "one is complete)"
                )
            history = check_history(staging, store, months)
            if staging.problems:
                staging.problems.problems.sort(key=lambda p: (p.file or "", p.row or 0))
                names = ", ".join(Path(p).name for p in files)
                raise DataError(
                    translatable(
                        "{names}: {problems_total} problem(s) found; nothing imported",
                        names=names,
                        problems_total=staging.problems.total,
                    ),
                    problems=staging.problems.problems,
                    total=staging.problems.total,
                )
            result = commit_snapshots(store, transaction, staging, months, history, say)
        finally:
            staging.con.close()
    result.warnings = staging.warnings.problems
    result.warning_total = staging.warnings.total
    return result
