"""Analytics fixtures: both engines, and stores built from hand-made monthly rows.

Every metric test takes ``engine`` and so runs on DuckDB and on PySpark (the PySpark leg is
marked slow: it is part of the full suite, not of the quick PostgreSQL re-run)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from npldesk.analytics import Analytics, connect
from npldesk.core.rules import RuleParams
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_csv, write_org

_ENGINES: dict[str, object] = {}


@pytest.fixture(params=["duckdb", pytest.param("pyspark", marks=pytest.mark.slow)])
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(engine_name: str):
    """One engine per process and name (a Spark session is expensive to start)."""
    if engine_name not in _ENGINES:
        _ENGINES[engine_name] = connect(engine_name)
    return _ENGINES[engine_name]


def build_store(path: Path, rows: Iterable[dict[str, str]]) -> Store:
    """A store holding ``rows`` (canonical text rows of any months), org tree imported."""
    store = Store(path / "store")
    import_org(store, write_org(path / "org_units.csv"))
    # Scenarios may drop loans without a terminal row on purpose: the whole-book check, which
    # would refuse such a month, is tested with the import (tests/tape/test_whole_book.py).
    import_files(
        store, [write_csv(path / "tape.csv", list(rows))], ImportOptions(accept_exits=True)
    )
    return store


@pytest.fixture
def make_session(tmp_path: Path, engine):
    """``make_session(rows, params=None)`` → an ``Analytics`` over a fresh store of ``rows``."""
    counter = {"n": 0}

    def make(rows: Iterable[dict[str, str]], params: RuleParams | None = None) -> Analytics:
        counter["n"] += 1
        folder = tmp_path / f"s{counter['n']}"
        folder.mkdir()
        return Analytics(
            store=build_store(folder, rows), engine=engine, params=params or RuleParams()
        )

    return make


def month(text: str) -> date:
    from npldesk.core.months import parse_month

    return parse_month(text)
