"""The Chinese core-banking export round-trips through the shipped mapping to the same
canonical rows as the synthetic source, GB18030, thousands separators, 万元 and all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from npldesk.synth import generate
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import load_mapping
from npldesk.tape.org import import_org
from npldesk.tape.schema import COLUMN_NAMES
from npldesk.tape.store import Store

COLUMNS = ", ".join(COLUMN_NAMES)


def _import(folder: Path, layout: str, mapping: str | None) -> Store:
    result = generate(folder / "data", layout=layout, loans=1500, months=3, seed=7)
    store = Store(folder / "store")
    import_org(store, result.org_file)
    options = ImportOptions(mapping=load_mapping(mapping) if mapping else None)
    import_files(store, result.tape_files, options)
    return store


def _rows(store: Store, as_of: date) -> list[tuple]:
    return duckdb.sql(
        f"SELECT {COLUMNS} FROM read_parquet('{store.snapshot_path(as_of)}') ORDER BY loan_id"
    ).fetchall()


def test_cn_core_export_imports_to_the_canonical_rows(tmp_path: Path):
    canonical = _import(tmp_path / "canonical", "canonical", None)
    chinese = _import(tmp_path / "cn", "cn-core", "cn-core")
    assert (
        canonical.months()
        == chinese.months()
        == [
            date(2018, 1, 31),
            date(2018, 2, 28),
            date(2018, 3, 31),
        ]
    )
    raw = (tmp_path / "cn" / "data" / "tape" / "2018-01.csv").read_bytes()
    assert "贷款账号".encode("gb18030") in raw  # really a GB18030 file with Chinese headers
    for as_of in canonical.months():
        expected = _rows(canonical, as_of)
        assert len(expected) > 1000
        assert _rows(chinese, as_of) == expected
    entry = chinese.manifest().to_json()["snapshots"]["2018-03-31"]
    assert entry["mapping"] == "cn-core" and entry["encoding"] == "gb18030"
    assert [s["role"] for s in entry["sources"]] == ["data", "join:customers"]
