"""``npldesk plan`` and ``npldesk plan backtest`` as a user and a tool meet them: the JSON of
docs/planner.md, tables and CSV, what-if options, clear messages with exit code 2, and a
tape-only home (no casework database) planned without one."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer

import npldesk.cli
from npldesk.cli import run
from npldesk.cli.plan import register
from npldesk.home import create_home
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.analytics.test_forecast import history, mixed_book
from tests.tape_factory import write_csv, write_org


@pytest.fixture(autouse=True)
def tape_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """These homes have no casework database, whichever database the suite itself runs on
    (the PostgreSQL leg sets NPLDESK_DATABASE_URL, which would give every home one)."""
    monkeypatch.delenv("NPLDESK_DATABASE_URL", raising=False)


@pytest.fixture(autouse=True)
def plan_app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    monkeypatch.setattr(npldesk.cli, "app", app)
    return app


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tape-only home: store and organisation file, no casework database."""
    folder = tmp_path_factory.mktemp("plan-home")
    created, _ = create_home(folder / "home")
    store = Store(created.store_path)
    import_org(store, write_org(folder / "org.csv"))
    import_files(store, [write_csv(folder / "tape.csv", mixed_book())], ImportOptions())
    return created.path


def plan(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["plan", *argv, "--home", str(home), "--draws", "100"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def as_json(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> dict[str, Any]:
    code, out, err = plan(capsys, home, *argv, "--format", "json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document | {"_stderr": err}


def test_plan_as_json_by_unit_on_a_tape_only_home(capsys, home: Path):
    document = as_json(
        capsys, home, "--as-of", "2019-03", "--by", "org_unit", "--level", "sub_branch"
    )
    assert (document["as_of"], document["year_end"], document["window"]) == (
        "2019-03-31",
        "2019-12-31",
        12,
    )
    assert [row["key"] for row in document["rows"]] == ["HB0101", "HB0102", "HB0201"]
    assert document["pipeline"] is False
    assert "tape only" in document["_stderr"]
    assert "fewer than the window of 12" in document["_stderr"]
    assert not (home / "npldesk.sqlite3").exists()  # reading nothing created nothing
    total = document["total"]
    assert set(total["levers"]) == {"cash", "upgrade", "write_off", "transfer"}
    assert total["levers"]["cash"]["capacity"] == "0.00"


def test_what_if_options_change_the_plan(capsys, home: Path):
    base = as_json(capsys, home, "--as-of", "2019-03")
    grown = as_json(capsys, home, "--as-of", "2019-03", "--growth", "0.5")
    assert Decimal(grown["total"]["forecast_balance"]) > Decimal(base["total"]["forecast_balance"])
    capped = as_json(
        capsys, home, "--as-of", "2019-03", "--capacity", "transfer=0", "--capacity",
        "write_off=0", "--capacity", "cash=0", "--capacity", "upgrade=0",
    )  # fmt: skip
    assert capped["total"]["closes_gap"] is False
    assert base["seed"] == 20191231
    again = as_json(capsys, home, "--as-of", "2019-03")
    assert again["total"] == base["total"]


def test_plan_as_a_table_and_as_csv(capsys, home: Path):
    code, out, _ = plan(capsys, home, "--as-of", "2019-03", "--by", "org_unit")
    assert code == 0
    total = next(line for line in out.splitlines() if "│ Total " in line)
    assert "On track" in total or "At risk" in total or "Off track" in total
    # A unit's own book shows under the unit's code, named as its own book.
    assert any(line.startswith("│ HB01 ") and " (own book) " in line for line in out.splitlines())
    assert "Write-off" in out
    code, out, _ = plan(capsys, home, "--as-of", "2019-03", "--format", "csv")
    assert code == 0
    header, *lines = out.strip().splitlines()
    assert header.startswith("key,name,current_npl_balance")
    assert lines[-1].startswith("total,whole book,")


def test_the_dpd_basis(capsys, home: Path):
    document = as_json(capsys, home, "--as-of", "2019-03", "--basis", "dpd", "--seasonal-exits")
    assert (document["basis"], document["seasonal_exits"]) == ("dpd", True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "needs --as-of"),
        (["--as-of", "2019-13"], "--as-of"),
        (["--as-of", "2019-03", "--capacity", "cash"], "expected [UNIT:]LEVER=AMOUNT"),
        (["--as-of", "2019-03", "--capacity", "gold=1"], "levers are cash"),
        (["--as-of", "2019-03", "--capacity", "cash=-1"], "cannot be negative"),
        (["--as-of", "2019-03", "--growth", "lots"], "not a number"),
        (["--as-of", "2019-03", "--price-ratio", "1.5"], "between 0 and 1"),
        (["--as-of", "2019-03", "--window", "0"], "--window"),
        (["--as-of", "2019-03", "--by", "product"], "org_unit only"),
        (["--as-of", "2019-03", "--by", "org_unit", "--level", "galaxy"], "unknown level"),
        (["--as-of", "2017-03"], "not imported"),
        (["--as-of", "2018-12"], "needs the month before it"),
    ],
)
def test_mistakes_are_usage_errors(capsys, home: Path, argv: list[str], message: str):
    code, _, err = plan(capsys, home, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def year_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tape-only home from 2018-12 to 2020-01: a whole year to backtest."""
    folder = tmp_path_factory.mktemp("backtest-home")
    created, _ = create_home(folder / "home")
    store = Store(created.store_path)
    import_org(store, write_org(folder / "org.csv"))
    rows = []
    for n in range(1, 5):
        steps = [(0, "10000.00")] * 14
        steps[8 + n] = (100 if n % 2 else 0, "10000.00")
        rows += history(n, steps)
    import_files(store, [write_csv(folder / "tape.csv", rows)], ImportOptions())
    return created.path


def test_backtest_as_json_and_table(capsys, year_home: Path):
    argv = ["plan", "backtest", "--home", str(year_home), "--draws", "50"]
    assert run([*argv, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [f["as_of"][:7] for f in document["forecasts"]][:2] == ["2019-01", "2019-02"]
    assert len(document["forecasts"]) == 11
    assert document["summary"][-1]["months_ahead"] == "all"
    assert document["summary"][-1]["forecasts"] == 11
    assert run(argv) == 0
    assert "coverage" in capsys.readouterr().out


def test_backtest_without_a_year_end_says_so(capsys, home: Path):
    assert run(["plan", "backtest", "--home", str(home)]) == 2
    assert "no year end can be backtested" in capsys.readouterr().err
