"""The analytics engine: an Ibis connection to DuckDB (default) or PySpark, and Parquet I/O.

Metric code never sees which engine runs it; only this module knows how each one reads and
writes Parquet (DuckDB writes one file, Spark a folder of part files).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable

BACKENDS = ("duckdb", "pyspark")


@dataclass
class Engine:
    """One Ibis backend and the way it reads and writes the store's Parquet files."""

    name: str
    con: Any
    _counter: int = 0

    def read_parquet(self, paths: Sequence[str | Path]) -> ir.Table:
        """A table over Parquet files or folders of part files (as the store records them)."""
        self._counter += 1
        resolved = [self._readable(Path(p)) for p in paths]
        if not resolved:
            raise ValueError("read_parquet needs at least one path")
        # Not t1, t2, …: Ibis names its subqueries so, and a clash shadows the table.
        name = f"npldesk_parquet_{self._counter}_{uuid.uuid4().hex[:8]}"
        if self.name == "duckdb":
            return self.con.read_parquet(resolved, table_name=name)
        frame = self.con._session.read.parquet(*resolved)
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def create_view(self, prefix: str, expr: ir.Table) -> ir.Table:
        """``expr`` as a named view of the engine (a temporary view on Spark), returned as a
        table: queries over it compile to ``FROM <view>`` however large ``expr`` is."""
        self._counter += 1
        name = f"npldesk_{prefix}_{self._counter}_{uuid.uuid4().hex[:8]}"
        return self.con.create_view(name, expr)

    def _readable(self, path: Path) -> str:
        if path.is_dir() and self.name == "duckdb":
            return str(path / "*.parquet")
        return str(path)

    def write_parquet(self, expr: ir.Table, target: Path) -> None:
        """Materialise ``expr``: DuckDB writes the file ``target``; Spark the folder ``target``."""
        if self.name == "duckdb":
            self.con.to_parquet(expr, str(target))
        else:
            frame = self.con._session.sql(str(self.con.compile(expr)))
            frame.write.mode("overwrite").parquet(str(target))

    def to_rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Exact Python values: Decimal money, date dates (through Arrow, never floats)."""
        table = self.con.to_pyarrow(expr)
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows


_SPARK: Any = None


def spark_session(master: str | None = None) -> Any:
    """One local (or configured) Spark session per process."""
    global _SPARK
    if _SPARK is None:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(
                master or os.environ.get("NPLDESK_SPARK_MASTER", "local[2]")
            )
            .appName("npldesk")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("NPLDESK_SPARK_PARTITIONS", "4"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
        )
        _SPARK = builder.getOrCreate()
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def connect(
    backend: str = "duckdb", *, threads: int | None = None, memory_limit: str | None = None
) -> Engine:
    """An engine by name: ``duckdb`` (in process) or ``pyspark`` (local or configured master)."""
    if backend == "duckdb":
        con = ibis.duckdb.connect()
        if threads:
            con.raw_sql(f"SET threads = {int(threads)}")
        if memory_limit:
            con.raw_sql(f"SET memory_limit = '{memory_limit}'")
        return Engine("duckdb", con)
    if backend == "pyspark":
        try:
            session = spark_session()
        except ImportError as exc:
            raise UsageError(
                translatable("the pyspark backend needs PySpark: pip install 'npldesk[spark]'")
            ) from exc
        return Engine("pyspark", ibis.pyspark.connect(session))
    raise UsageError(
        translatable(
            "unknown analytics backend {backend!r}; known: {known}",
            backend=backend,
            known=", ".join(BACKENDS),
        )
    )
