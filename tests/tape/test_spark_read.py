"""The store is readable by Spark: the manifest's files load with their exact types and sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.store import Store
from tests.tape_factory import loan_rows, write_csv

pyspark = pytest.importorskip("pyspark", reason="PySpark is installed with the dev extras")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("npldesk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.slow
def test_spark_reads_the_snapshots_the_manifest_names(store: Store, tmp_path: Path, spark):
    nov = loan_rows(40, as_of=date(2019, 11, 30), principal_balance="1000.10")
    dec = loan_rows(30, as_of=date(2019, 12, 31), principal_balance="2000.05")
    # Ten loans leave without a terminal row: more than the default unexplained-exit limit.
    import_files(
        store,
        [write_csv(tmp_path / "panel.csv", nov + dec)],
        ImportOptions(accept_exits=True),
    )
    paths = [str(p) for p in store.snapshot_paths().values()]
    frame = spark.read.parquet(*paths)
    types = dict(frame.dtypes)
    assert types["principal_balance"] == "decimal(18,2)"
    assert types["as_of"] == "date" and types["days_past_due"] == "int"
    assert types["restructured"] == "boolean"
    by_month = {
        row["as_of"]: (row["n"], row["balance"])
        for row in frame.groupBy("as_of")
        .agg({"loan_id": "count", "principal_balance": "sum"})
        .withColumnRenamed("count(loan_id)", "n")
        .withColumnRenamed("sum(principal_balance)", "balance")
        .collect()
    }
    assert by_month == {
        date(2019, 11, 30): (40, Decimal("40004.00")),
        date(2019, 12, 31): (30, Decimal("60001.50")),
    }
    duck = duckdb.sql(
        f"SELECT as_of, count(*), sum(principal_balance) FROM read_parquet({paths}) GROUP BY 1"
    ).fetchall()
    assert {r[0]: (r[1], r[2]) for r in duck} == by_month
