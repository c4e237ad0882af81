"""``npldesk quality`` and ``npldesk movement`` as a user and a tool meet them: JSON, tables,
CSV, clear messages with exit code 2, and the same documents from DuckDB and from PySpark."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer

import npldesk.cli
import npldesk.cli.figures
from npldesk.cli import run
from npldesk.cli.figures import register
from npldesk.reports.figures import MovementLines, MovementReport
from tests.cli.conftest import make_home
from tests.tape_factory import loan_row

DEC18, JAN, FEB = date(2018, 12, 31), date(2019, 1, 31), date(2019, 2, 28)


@pytest.fixture(autouse=True)
def figures_app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """``run`` (its error handling and exit codes) over an app holding the figure commands."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    monkeypatch.setattr(npldesk.cli, "app", app)
    return app


def tape() -> list[dict[str, str]]:
    """Three months: an NPL that moves sub-branch, one written off, one that turns NPL."""
    rows = []
    for as_of in (DEC18, JAN, FEB):
        rows.append(
            loan_row(
                1,
                as_of,
                principal_balance="50000.00",
                days_past_due=120,
                overdue_principal="1.00",
                reported_class="",
                org_unit="HB0102" if as_of == FEB else "HB0101",
            )
        )
        rows.append(loan_row(2, as_of, principal_balance="150000.00", reported_class=""))
    rows.append(
        loan_row(
            3,
            DEC18,
            principal_balance="20000.00",
            days_past_due=100,
            overdue_principal="1.00",
            reported_class="",
            org_unit="HB0201",
        )
    )
    rows.append(
        loan_row(
            3,
            JAN,
            principal_balance="0.00",
            status="written_off",
            exit_amount="15000.00",
            reported_class="",
            org_unit="HB0201",
        )
    )
    rows.append(
        loan_row(4, JAN, principal_balance="8000.00", reported_class="", product="business")
    )
    rows.append(
        loan_row(
            4,
            FEB,
            principal_balance="8000.00",
            days_past_due=95,
            overdue_principal="1.00",
            reported_class="",
            product="business",
        )
    )
    return rows


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path, tape())


def as_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    """The JSON document on stdout; what went to stderr is kept under ``"_stderr"``."""
    assert run([*argv, "--format", "json"]) == 0
    captured = capsys.readouterr()
    document: dict[str, Any] = json.loads(captured.out)
    return document | {"_stderr": captured.err}


def test_quality_as_json(home: Path, capsys):
    document = as_json(
        capsys,
        [
            "quality",
            "--as-of",
            "2019-02",
            "--by",
            "org_unit",
            "--level",
            "county_branch",
            "--baseline",
            "2018-12",
            "--home",
            str(home),
        ],
    )
    assert (document["as_of"], document["baseline"], document["by"]) == (
        "2019-02-28",
        "2018-12-31",
        "org_unit",
    )
    hb01, hb02 = document["rows"]
    assert (hb01["key"], hb01["balance"], hb01["npl_balance"], hb01["npl_ratio"]) == (
        "HB01",
        "208000.00",
        "58000.00",
        "0.278846",
    )
    assert (hb01["baseline_npl_balance"], hb01["npl_balance_change"]) == ("50000.00", "8000.00")
    assert hb01["double_reduction"] is False
    assert (hb02["baseline_npl_balance"], hb02["npl_balance"], hb02["double_reduction"]) == (
        "20000.00",
        "0.00",
        None,
    )  # no balance left: no ratio, no verdict
    assert document["total"]["double_reduction"] is True  # 70000/220000 → 58000/208000
    assert [s["as_of"] for s in document["snapshots"]] == ["2018-12-31", "2019-02-28"]
    assert all(len(s["sha256"]) == 64 for s in document["snapshots"])


def test_quality_as_a_table_and_as_csv(home: Path, capsys):
    assert run(["quality", "--as-of", "2019-02", "--by", "officer", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "Asset quality 2019-02 against 2018-12 by Loan officer" in out
    assert "HB0101-01" in out and "Total" in out
    # Numbers for people: the NPL ratio 58000 / 208000 = 0.278846… as a percentage.
    assert "27.88 %" in out and "208,000.00" in out
    assert (
        run(
            [
                "quality",
                "--as-of",
                "2019-02",
                "--by",
                "product",
                "--home",
                str(home),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("key,name,loans,balance,npl_balance,npl_ratio,npl_loans,normal,")
    assert lines[1].startswith("business,business,1,8000.00,8000.00,1.000000,1,0.00,")
    assert lines[-1].startswith(",total,3,208000.00,58000.00,0.278846,2,")


def test_quality_warns_when_the_default_baseline_is_missing(home: Path, capsys):
    document = as_json(capsys, ["quality", "--as-of", "2018-12", "--home", str(home)])
    assert document["baseline"] is None and document["total"]["npl_balance_change"] is None
    assert "baseline 2017-12 (the previous December) is not imported" in document["_stderr"]


def test_movement_as_json_and_as_a_table(home: Path, capsys):
    document = as_json(
        capsys,
        [
            "movement",
            "--as-of",
            "2019-02",
            "--period",
            "ytd",
            "--by",
            "org_unit",
            "--home",
            str(home),
        ],
    )
    assert (document["from"], document["to"], document["period"]) == (
        "2018-12-31",
        "2019-02-28",
        "ytd",
    )
    assert document["total"] == {
        "opening": "70000.00",
        "inflow": "8000.00",
        "increase": "0.00",
        "cash": "5000.00",
        "upgrade": "0.00",
        "write_off": "15000.00",
        "transfer": "0.00",
        "foreclosure": "0.00",
        "unexplained": "0.00",
        "closing": "58000.00",
    }
    rows = {r["key"]: r for r in document["rows"]}
    assert (rows["HB0101"]["moved_out"], rows["HB0102"]["moved_in"]) == ("50000.00", "50000.00")
    assert rows["HB01"]["moved_in"] == rows["HB01"]["moved_out"] == "0.00"
    assert (rows["HB0201"]["write_off"], rows["HB0201"]["cash"]) == ("15000.00", "5000.00")
    assert document["identity_holds"] is True
    assert len(document["snapshots"]) == 3
    assert "identity holds to the fen" in document["_stderr"]

    assert run(["movement", "--as-of", "2019-02", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "NPL movement 2019-01 to 2019-02 (month)" in out
    assert "identity holds to the fen" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["quality", "--as-of", "2019-02", "--by", "branch"], "unknown group 'branch'"),
        (
            ["quality", "--as-of", "2019-02", "--by", "org_unit", "--level", "province"],
            "unknown level 'province'",
        ),
        (["quality", "--as-of", "2019-02", "--level", "sub_branch"], "--level applies only"),
        (
            ["quality", "--as-of", "2019-03"],
            "month 2019-03 is not imported (imported: 2018-12 to 2019-02)",
        ),
        (["quality", "--as-of", "2019-13"], "--as-of: '2019-13' is not a month"),
        (
            ["quality", "--as-of", "2019-02", "--baseline", "2018-06"],
            "baseline 2018-06 is not imported",
        ),
        (["quality", "--as-of", "2019-02", "--backend", "oracle"], "unknown analytics backend"),
        (["quality", "--as-of", "2019-02", "--rule-set", "basel"], "unknown rule set 'basel'"),
        (["movement", "--as-of", "2018-12"], "months missing between 2018-11 and 2018-12: 2018-11"),
        (
            ["movement", "--as-of", "2019-02", "--from", "2018-10"],
            "months missing between 2018-10 and 2019-02: 2018-10, 2018-11",
        ),
        (
            ["movement", "--as-of", "2019-02", "--period", "ytd", "--from", "2018-12"],
            "give the period 'ytd' or a start month, not both",
        ),
        (["movement", "--as-of", "2019-02", "--period", "quarter"], "unknown period 'quarter'"),
        (["movement", "--as-of", "2019-02", "--by", "desk"], "unknown group 'desk'"),
    ],
)
def test_mistakes_exit_2_with_a_message_and_no_traceback(home: Path, capsys, argv, message):
    assert run([*argv, "--home", str(home)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err.replace("\n", " ")
    assert "Traceback" not in captured.err + captured.out


def test_a_broken_identity_exits_1_naming_the_rows(home: Path, capsys, monkeypatch):
    def broken(*_args: Any, **_kwargs: Any) -> MovementReport:
        return MovementReport(
            start=date(2019, 1, 31),
            end=date(2019, 2, 28),
            period="month",
            by=None,
            level=None,
            rule_set="cn-2023",
            total=MovementLines.zero(),
            rows=(),
            identity_breaks=("total", "HB0101"),
            snapshots=(),
        )

    monkeypatch.setattr(npldesk.cli.figures, "movement_report", broken)
    assert run(["movement", "--as-of", "2019-02", "--home", str(home)]) == 1
    captured = capsys.readouterr()
    assert "the movement identity does not hold to the fen for: total, HB0101" in captured.err
    assert "identity holds" not in captured.out


def test_a_home_that_does_not_exist(tmp_path: Path, capsys):
    assert run(["movement", "--as-of", "2019-02", "--home", str(tmp_path / "nowhere")]) == 2
    assert "is not an npldesk home" in capsys.readouterr().err


def _without_import_ids(document: dict[str, Any]) -> dict[str, Any]:
    snapshots = [s | {"import_id": None} for s in document["snapshots"]]
    return {k: v for k, v in document.items() if k != "_stderr"} | {"snapshots": snapshots}


@pytest.mark.slow
def test_duckdb_and_pyspark_write_the_same_documents(tmp_path: Path, capsys):
    """Two homes imported from the same file (only the import ids differ), one per engine,
    each classifying on its own engine."""
    homes = {name: make_home(tmp_path / name, tape()) for name in ("duckdb", "pyspark")}
    commands = [
        ["quality", "--as-of", "2019-02", "--by", "org_unit", "--baseline", "2018-12"],
        ["quality", "--as-of", "2019-02", "--by", "product"],
        ["movement", "--as-of", "2019-02", "--period", "ytd", "--by", "org_unit"],
        ["movement", "--as-of", "2019-02", "--by", "officer"],
    ]
    for argv in commands:
        documents = {
            name: _without_import_ids(
                as_json(capsys, [*argv, "--home", str(home), "--backend", name])
            )
            for name, home in homes.items()
        }
        assert documents["duckdb"] == documents["pyspark"], argv


@pytest.mark.parametrize(
    ("language", "names", "head", "title"),
    [
        ("zh-hans", {"consumer": "个人消费贷款", "business": "business"}, "产品", "（按产品）"),
        ("en", {"consumer": "Consumer loan", "business": "business"}, "Product", " by Product"),
    ],
)
@pytest.mark.parametrize("command", ["quality", "movement"])
def test_products_are_named_in_the_homes_language_and_json_and_csv_keep_codes(
    home: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    language: str,
    names: dict[str, str],
    head: str,
    title: str,
):
    """A product's row says its label (a code the bank named itself stays a code), beside the
    code; JSON and CSV keep the code in both languages, as they keep the classes' codes."""
    monkeypatch.setenv("NPLDESK_LANGUAGE", language)
    argv = [command, "--as-of", "2019-02", "--by", "product", "--home", str(home)]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert title in out.splitlines()[0]
    assert head in out.splitlines()[2]
    for code, name in names.items():
        row = next(line for line in out.splitlines() if f"│ {code} " in line)
        assert f"│ {name} " in row
    assert "│ consumer          │ consumer " not in out
    machine = {}
    for fmt in ("json", "csv"):
        assert run([*argv, "--format", fmt]) == 0
        machine[fmt] = capsys.readouterr().out
    assert '"name": "consumer"' in machine["json"] and "Consumer loan" not in machine["json"]
    assert "\nconsumer,consumer," in machine["csv"] and "个人" not in machine["csv"]


def test_borrower_types_are_named_in_the_homes_language(
    home: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NPLDESK_LANGUAGE", "zh-hans")
    argv = ["quality", "--as-of", "2019-02", "--by", "borrower_type", "--home", str(home)]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "（按借款人类型）" in out
    row = next(line for line in out.splitlines() if "│ retail " in line)
    assert "│ 个人 " in row
