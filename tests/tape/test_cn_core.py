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


def _import(
    folder: Path, layout: str, mapping: str | None, *, file_format: str = "csv", loans: int = 1500
) -> Store:
    result = generate(
        folder / "data", layout=layout, loans=loans, months=3, seed=7, file_format=file_format
    )
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


def test_cn_core_xlsx_export_imports_with_the_shipped_mapping(tmp_path: Path):
    """`npldesk synth --layout cn-core --format xlsx` writes the monthly sheets and the customer
    master as workbooks; the shipped mapping reads them to the same rows as the CSV export."""
    from_csv = _import(tmp_path / "csv", "cn-core", "cn-core", loans=150)
    from_xlsx = _import(tmp_path / "xlsx", "cn-core", "cn-core", file_format="xlsx", loans=150)
    assert (tmp_path / "xlsx" / "data" / "customers.xlsx").is_file()
    assert from_xlsx.months() == from_csv.months()
    for as_of in from_csv.months():
        assert _rows(from_xlsx, as_of) == _rows(from_csv, as_of)
    entry = from_xlsx.manifest().snapshots[date(2018, 3, 31)]
    assert [(s.role, s.name, s.format) for s in entry.sources] == [
        ("data", "2018-03.xlsx", "xlsx"),
        ("join:customers", "customers.xlsx", "xlsx"),
    ]
