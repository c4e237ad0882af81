"""The organisation tree (city branch → county branches → sub-branches) the tape refers to.

Imported from a file with columns ``code, name, parent_code, level`` and kept in the store, so
that every snapshot's ``org_unit`` is checked against it and figures roll up the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from npldesk.core.errors import DataError, Problem, ProblemList, UsageError
from npldesk.core.i18n import translatable
from npldesk.core.system import current_user
from npldesk.tape.manifest import HistoryRecord, OrgEntry
from npldesk.tape.mapping import SourceOptions
from npldesk.tape.readers import open_source
from npldesk.tape.schema import ORG_COLUMNS
from npldesk.tape.store import Store


@dataclass(frozen=True)
class OrgUnit:
    """One unit of the organisation tree."""

    code: str
    name: str
    parent_code: str | None
    level: str


def read_org_file(path: Path, *, staging: Path, max_problems: int = 1000) -> list[OrgUnit]:
    """Read and check an organisation file; every problem is reported at once."""
    con = duckdb.connect()
    try:
        source = open_source(
            con, path, SourceOptions(), view="org_src", staging=staging, overlap=False
        )
        missing = [c for c in ORG_COLUMNS if c not in source.columns]
        if missing:
            raise UsageError(
                translatable(
                    "{path_name}: missing column(s) {missing}; an organisation file has "
                    "{ORG_COLUMNS}",
                    path_name=path.name,
                    missing=", ".join(missing),
                    ORG_COLUMNS=", ".join(ORG_COLUMNS),
                )
            )
        rows = con.execute(
            "SELECT _row, "
            + ", ".join(f"NULLIF(TRIM(\"{c}\"), '')" for c in ORG_COLUMNS)
            + " FROM org_src ORDER BY _row"
        ).fetchall()
    finally:
        con.close()
    problems = ProblemList(limit=max_problems)
    units: list[OrgUnit] = []
    first_row: dict[str, int] = {}
    for row_number, code, name, parent, level in rows:
        bad = False
        for column, value in (("code", code), ("name", name), ("level", level)):
            if value is None:
                problems.add(
                    Problem(
                        "required", f"{column}: a value is required", path.name, row_number, column
                    )
                )
                bad = True
        if code is not None and code in first_row:
            problems.add(
                Problem(
                    "org.code_unique",
                    f"code: {code} appears more than once (first at row {first_row[code]})",
                    path.name,
                    row_number,
                    "code",
                    code,
                )
            )
            bad = True
        if code is not None:
            first_row.setdefault(code, row_number)
        if not bad:
            units.append(OrgUnit(code, name, parent, level))
    codes = {u.code for u in units}
    roots = [u for u in units if u.parent_code is None]
    for unit in units:
        if unit.parent_code is not None and unit.parent_code not in codes:
            problems.add(
                Problem(
                    "org.parent_unknown",
                    f"parent_code: no unit has code {unit.parent_code}",
                    path.name,
                    first_row[unit.code],
                    "parent_code",
                    unit.parent_code,
                )
            )
    if units and len(roots) != 1:
        problems.add(
            Problem(
                "org.one_root",
                f"exactly one unit must have an empty parent_code; found {len(roots)}",
                path.name,
            )
        )
    parents = {u.code: u.parent_code for u in units}
    for unit in units:
        seen = {unit.code}
        parent = unit.parent_code
        while parent is not None and parent in parents:
            if parent in seen:
                problems.add(
                    Problem(
                        "org.cycle",
                        f"parent_code: unit {unit.code} is its own ancestor",
                        path.name,
                        first_row[unit.code],
                        "parent_code",
                        unit.parent_code,
                    )
                )
                break
            seen.add(parent)
            parent = parents[parent]
    if not units and not problems:
        raise UsageError(translatable("{path_name} holds no units", path_name=path.name))
    if problems:
        raise DataError(
            translatable(
                "{path_name}: {problems_total} problem(s); nothing imported",
                path_name=path.name,
                problems_total=problems.total,
            ),
            problems=problems.problems,
        )
    return units


def org_table(units: list[OrgUnit]) -> pa.Table:
    return pa.table(
        {
            "code": [u.code for u in units],
            "name": [u.name for u in units],
            "parent_code": [u.parent_code for u in units],
            "level": [u.level for u in units],
        }
    )


def load_org(store: Store) -> list[OrgUnit]:
    """The organisation tree in the store (empty when none was imported)."""
    path = store.org_path()
    if path is None:
        return []
    con = duckdb.connect()  # already loaded by every caller; pyarrow's reader costs 0.2 s
    try:
        rows = con.execute(
            "SELECT code, name, parent_code, level FROM read_parquet(?)", [str(path)]
        ).fetchall()
    finally:
        con.close()
    return [OrgUnit(*row) for row in rows]


def units_in_snapshots(store: Store) -> set[str]:
    paths = [str(p) for p in store.snapshot_paths().values()]
    if not paths:
        return set()
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT DISTINCT org_unit FROM read_parquet(?)", [paths]).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def import_org(store: Store, path: Path, *, user: str | None = None) -> OrgEntry:
    """Load or update the organisation tree; units still used by snapshots may not disappear."""
    from npldesk.tape.readers import sha256_of

    with store.writing() as transaction:
        units = read_org_file(path, staging=transaction.staging / "read")
        still_used = units_in_snapshots(store) - {u.code for u in units}
        if still_used:
            raise DataError(
                translatable(
                    "{path_name}: unit(s) {still_used} are used by imported snapshots and "
                    "cannot be removed from the organisation tree; nothing imported",
                    path_name=path.name,
                    still_used=", ".join(sorted(still_used)),
                )
            )
        relative = transaction.org_file()
        import pyarrow.parquet as pq  # only when an organisation file is imported

        pq.write_table(org_table(units), transaction.stage_path(relative))
        manifest = store.manifest()
        previous = manifest.org
        entry = OrgEntry(
            file=relative,
            rows=len(units),
            source=path.name,
            sha256=sha256_of(path),
            imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            imported_by=user or current_user(),
            import_id=transaction.import_id,
            levels=tuple(sorted({u.level for u in units})),
        )
        manifest.org = entry
        manifest.history.append(
            HistoryRecord(
                import_id=transaction.import_id,
                action="org_update" if previous else "org_import",
                at=entry.imported_at,
                by=entry.imported_by,
                sources=(path.name,),
            )
        )
        transaction.commit(manifest)
    return entry
