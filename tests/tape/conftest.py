"""Helpers shared by the import-rule tests: run an import that must fail, and read back a stored
snapshot."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from npldesk.core.errors import DataError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.schema import COLUMN_NAMES
from npldesk.tape.store import Store
from tests.conftest import tree_state

ProblemKey = tuple[str | None, int | None, str | None, str]


def problem_keys(error: DataError) -> set[ProblemKey]:
    """Where each reported problem is and which rule it breaks: (file, row, column, rule)."""
    return {(p.file, p.row, p.column, p.rule) for p in error.problems}


def problem_total(error: DataError) -> int:
    """The count of every problem found, listed or not; the message says the same number."""
    assert f"{error.total} problem(s)" in error.message
    return error.total


def import_rejected(
    store: Store, files: list[Path], options: ImportOptions | None = None
) -> DataError:
    """Import ``files``, expect a ``DataError``, and check the store was left exactly as it was."""
    before_tree = tree_state(store.path)
    before_manifest = store.manifest()
    with pytest.raises(DataError) as caught:
        import_files(store, files, options or ImportOptions())
    assert tree_state(store.path) == before_tree
    assert store.manifest() == before_manifest
    return caught.value


def stored_rows(store: Store, as_of: date) -> list[dict[str, Any]]:
    """The canonical columns of a stored snapshot, in the source file's order (the store keeps
    it), as Python values."""
    path = store.snapshot_path(as_of)
    columns = ", ".join(f'"{c}"' for c in COLUMN_NAMES)
    con = duckdb.connect()
    try:
        cursor = con.execute(f"SELECT {columns} FROM read_parquet(?)", [str(path)])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
