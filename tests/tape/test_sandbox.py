"""Mappings cannot reach outside their data: a `sql:` that tries to read a file, write one,
attach a database or load an extension is refused with a clear message and nothing is
imported; and the import's connection could not do it even if the expression got through."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from npldesk.core.errors import UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import load_mapping
from npldesk.tape.sandbox import sandboxed_connection
from npldesk.tape.store import Store
from tests.conftest import tree_state
from tests.tape.test_rules import canonical_mapping, write_mapping
from tests.tape_factory import loan_rows, write_csv

SECRET = "root:secret-hash:19000:0:99999:7:::"

REACHING_OUT = {
    "read_csv": "(SELECT string_agg(column0, '|') FROM read_csv('{secret}', header = false))",
    "read_text": "(SELECT content FROM read_text('{secret}'))",
    "in_subquery": "CASE WHEN 1 IN (SELECT 1 FROM read_blob('{secret}')) THEN 'x' END",
    "install": "1); INSTALL httpfs; SELECT (1",
    "attach": "1); ATTACH '{folder}/stolen.duckdb' AS stolen; SELECT (1",
    "copy": "1); COPY (SELECT 1) TO '{folder}/out.csv'; SELECT (1",
    "comment": "src.\"borrower_name\") FROM read_text('{secret}') --",
}


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("attempt", sorted(REACHING_OUT))
def test_a_mapping_that_reaches_outside_its_data_is_refused(
    store: Store, tmp_path: Path, secret: Path, attempt: str
):
    expression = REACHING_OUT[attempt].format(secret=secret, folder=secret.parent)
    mapping = write_mapping(
        tmp_path / "evil.yaml", canonical_mapping(borrower_name={"sql": expression})
    )
    with pytest.raises(UsageError, match="a mapping's `sql:` is one expression over the row's"):
        load_mapping(mapping)
    assert sorted(p.name for p in secret.parent.iterdir()) == ["shadow"]


def test_an_expression_that_got_past_the_check_still_reads_nothing(
    store: Store, tmp_path: Path, secret: Path
):
    """The connection itself is the second wall: file access is off but for the import's own
    files, and nothing is imported."""
    mapping = load_mapping(write_mapping(tmp_path / "m.yaml", canonical_mapping()))
    rule = dataclasses.replace(
        mapping.columns["borrower_name"],
        sources=(),
        sql=f"(SELECT content FROM read_text('{secret}'))",
    )
    evil = dataclasses.replace(mapping, columns={**mapping.columns, "borrower_name": rule})
    source = write_csv(tmp_path / "2019-12.csv", loan_rows(3))
    before = tree_state(store.path)
    with pytest.raises(UsageError, match="the mapping tried to reach outside the files being"):
        import_files(store, [source], ImportOptions(mapping=evil))
    assert tree_state(store.path) == before


def test_an_ordinary_expression_still_imports(store: Store, tmp_path: Path):
    expression = "upper(src.\"borrower_name\") || '-' || row_number() OVER ()"
    mapping = write_mapping(
        tmp_path / "m.yaml", canonical_mapping(borrower_name={"sql": expression})
    )
    source = write_csv(tmp_path / "2019-12.csv", loan_rows(2, borrower_name="li"))
    import_files(store, [source], ImportOptions(mapping=load_mapping(mapping)))
    assert store.months()


def test_the_sandboxed_connection_reads_only_what_it_was_given(tmp_path: Path, secret: Path):
    given = write_csv(tmp_path / "given.csv", loan_rows(1))
    folder = tmp_path / "staging"
    folder.mkdir()
    con = sandboxed_connection(files=[given], folders=[folder])
    try:
        assert con.execute(f"SELECT count(*) FROM read_csv('{given}')").fetchone() == (1,)
        con.execute(f"COPY (SELECT 1 AS a) TO '{folder}/ok.parquet' (FORMAT parquet)")
        refused = [
            f"SELECT * FROM read_text('{secret}')",
            f"SELECT * FROM read_csv('{folder}/../outside/shadow')",
            f"COPY (SELECT 1) TO '{secret.parent}/out.csv'",
            f"ATTACH '{secret.parent}/x.duckdb'",
            "INSTALL httpfs",
            "LOAD httpfs",
        ]
        for statement in refused:
            with pytest.raises(duckdb.Error):
                con.execute(statement)
        for setting in (
            "enable_external_access = true",
            "autoload_known_extensions = true",
            "autoinstall_known_extensions = true",
            "lock_configuration = false",
            f"allowed_directories = ['{secret.parent}/']",
        ):
            with pytest.raises(duckdb.Error, match="locked"):
                con.execute(f"SET {setting}")
    finally:
        con.close()
    assert sorted(p.name for p in secret.parent.iterdir()) == ["shadow"]
