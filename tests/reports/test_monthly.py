"""The monthly report (``npldesk report monthly``) on the demo home at 2019-12: its figures in the
workbook's cells and the PDF's text are the figure commands' JSON for the same month, the PDF
speaks Chinese (glyphs that extract back to text) and the workbook has native charts."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from npldesk.cli import run
from npldesk.core import numbers
from tests.conftest import clean_environment

MONTH = "2019-12"
BANK = "HB00"


def npldesk(argv: list[str], monkeypatch: pytest.MonkeyPatch, language: str = "en") -> str:
    monkeypatch.setenv("NPLDESK_LANGUAGE", language)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    assert code == 0, err.getvalue()
    return out.getvalue()


def command_json(demo_home: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> Any:
    return json.loads(npldesk([*argv, "--format", "json", "--home", str(demo_home)], monkeypatch))


@pytest.fixture(scope="module")
def figures(demo_home: Path) -> dict[str, Any]:
    """The figure commands' JSON at 2019-12 (each a child process of its own)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        by_unit = ["--by", "org_unit"]
        return {
            "quality": command_json(demo_home, monkeypatch, "quality", "--as-of", MONTH, *by_unit),
            "month": command_json(demo_home, monkeypatch, "movement", "--as-of", MONTH, *by_unit),
            "ytd": command_json(
                demo_home, monkeypatch, "movement", "--as-of", MONTH, "--period", "ytd", *by_unit
            ),
            "migration": command_json(
                demo_home, monkeypatch, "migration", "--from", "2018-12", "--to", MONTH
            ),
            "new_npl": command_json(demo_home, monkeypatch, "list", "new-npl", "--as-of", MONTH),
            "early_warning": command_json(
                demo_home, monkeypatch, "list", "early-warning", "--as-of", MONTH
            ),
        }


def child(demo_home: Path, *argv: str, language: str = "en") -> str:
    """``npldesk ARGV --home DEMO`` in a child process: the casework commands set Django up on
    the demo home's own database, which this test process (on the test database) cannot."""
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", *argv]
    done = subprocess.run(
        [*command, "--home", str(demo_home)],
        capture_output=True,
        text=True,
        env=clean_environment() | {"NPLDESK_LANGUAGE": language},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def write_report(demo_home: Path, target: Path, language: str, *options: str) -> Path:
    child(
        demo_home,
        *["report", "monthly", "--as-of", MONTH, *options, "--out", str(target)],
        language=language,
    )
    return target


@pytest.fixture(scope="module")
def casework(demo_home: Path) -> dict[str, Any]:
    """``cases list`` and ``plan --by org_unit`` as JSON: what §8 and §9 show."""
    return {
        "cases": json.loads(child(demo_home, "cases", "list", "--format", "json"))["cases"],
        "plan": json.loads(
            child(demo_home, "plan", "--as-of", MONTH, "--by", "org_unit", "--format", "json")
        ),
    }


@pytest.fixture(scope="module")
def workbook(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("monthly") / "bank.xlsx"
    return write_report(demo_home, target, "en", "--format", "xlsx")


@pytest.fixture(scope="module")
def pdf_text(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("monthly") / "bank.pdf"
    write_report(demo_home, target, "zh-hans")
    assert target.read_bytes().startswith(b"%PDF")
    extracted = subprocess.run(
        ["pdftotext", "-layout", str(target), "-"], capture_output=True, text=True, check=True
    )
    return extracted.stdout


def rows_by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in document["rows"]}


def children(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        row for key, row in rows_by_key(figures["quality"]).items() if len(key) == 4 and key != BANK
    ]


def money_cell(value: Any) -> str:
    """A workbook's number read back to the fen, as the JSON writes money."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def same_ratio(cell: Any, exact: str | None) -> bool:
    if exact is None:
        return cell is None
    return abs(Decimal(str(cell)) - Decimal(exact)) <= Decimal("0.0000005")


def column(sheet: Any, first_row: int, index: int) -> dict[str, Any]:
    """Label (column A) → the value in column ``index`` (1-based) from ``first_row`` on."""
    found = {}
    for row in sheet.iter_rows(min_row=first_row, values_only=True):
        if row[0] is not None and len(row) >= index:
            found[row[0]] = row[index - 1]
    return found


def test_the_workbooks_figures_are_the_commands_json(workbook: Path, figures: dict[str, Any]):
    sheets = openpyxl.load_workbook(workbook).worksheets
    headline, by_unit, _trend, movement, migration, new_npl, early_warning, *_rest = sheets
    bank = rows_by_key(figures["quality"])[BANK]

    values = column(headline, 5, 2)
    assert money_cell(values["NPL balance"]) == bank["npl_balance"]
    assert money_cell(values["Balance"]) == bank["balance"]
    assert same_ratio(values["NPL ratio"], bank["npl_ratio"])
    assert money_cell(values["NPL balance change"]) == bank["npl_balance_change"]
    assert same_ratio(values["NPL ratio change (points)"], bank["npl_ratio_change"])
    assert values["Double reduction"] is bank["double_reduction"]
    assert bank == figures["quality"]["total"] | {"key": BANK, "name": bank["name"]}

    units = column(by_unit, 5, 2)
    assert {row["name"]: row["npl_balance"] for row in children(figures)} == {
        name: money_cell(value) for name, value in units.items()
    }

    month_lines = rows_by_key(figures["month"])[BANK]
    ytd_lines = rows_by_key(figures["ytd"])[BANK]
    shown_month, shown_ytd = column(movement, 5, 2), column(movement, 5, 3)
    for code, name in [
        ("opening", "Opening NPL"),
        ("inflow", "Inflow (new NPL)"),
        ("cash", "Cash recovery"),
        ("upgrade", "Upgrade"),
        ("write_off", "Write-off"),
        ("transfer", "Transfer"),
        ("foreclosure", "Foreclosure"),
        ("closing", "Closing NPL"),
    ]:
        assert money_cell(shown_month[name]) == month_lines[code], code
        assert money_cell(shown_ytd[name]) == ytd_lines[code], code

    rates = column(migration, 5, 2)
    expected = figures["migration"]["rates"]
    assert same_ratio(rates["Normal loan migration rate"], expected["normal"])
    assert same_ratio(rates["Special-mention loan migration rate"], expected["special_mention"])
    assert same_ratio(rates["Performing loan migration rate"], expected["performing"])

    listed = figures["new_npl"]["rows"]
    assert new_npl["B4"].value == len(listed) > 0
    balance = sum(Decimal(row["principal_balance"]) for row in listed)
    assert money_cell(new_npl["B5"].value) == f"{balance}"

    flagged = [row for row in figures["early_warning"]["rows"] if row["becomes_npl_within_30_days"]]
    assert early_warning["B4"].value == len(flagged) > 0
    balance = sum(Decimal(row["principal_balance"]) for row in flagged)
    assert money_cell(early_warning["B5"].value) == f"{balance}"


def test_the_workbook_holds_numbers_and_native_charts(workbook: Path):
    headline = openpyxl.load_workbook(workbook).worksheets[0]
    assert headline["B6"].data_type == "n" and headline["B6"].number_format == "#,##0.00"
    assert headline["B7"].number_format == "0.00%"
    with zipfile.ZipFile(workbook) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert len(charts) >= 4  # by unit, trend, the movement waterfall, new NPL by unit


def test_the_pdf_says_the_commands_figures_in_chinese(pdf_text: str, figures: dict[str, Any]):
    assert "不良贷款" in pdf_text and "淮北分行资产质量报告（2019-12）" in pdf_text
    bank = rows_by_key(figures["quality"])[BANK]
    for amount in ("balance", "npl_balance", "npl_balance_change"):
        assert numbers.money(Decimal(bank[amount])) in pdf_text, amount
    assert numbers.percent(Decimal(bank["npl_ratio"])) in pdf_text
    assert "未实现双降" in pdf_text  # the demo bank's NPL rose in 2019
    for row in children(figures):
        assert row["name"] in pdf_text
        line = next(text for text in pdf_text.splitlines() if text.strip().startswith(row["name"]))
        assert numbers.money(Decimal(row["npl_balance"])) in line
        assert numbers.percent(Decimal(row["npl_ratio"])) in line
    month_lines, ytd_lines = rows_by_key(figures["month"])[BANK], rows_by_key(figures["ytd"])[BANK]
    for code, name in [
        ("opening", "期初不良余额"),
        ("cash", "现金清收"),
        ("closing", "期末不良余额"),
    ]:
        line = next(text for text in pdf_text.splitlines() if text.strip().startswith(name))
        assert numbers.money(Decimal(month_lines[code])) in line
        assert numbers.money(Decimal(ytd_lines[code])) in line
    for rate in figures["migration"]["rates"].values():
        if rate is not None:
            assert numbers.percent(Decimal(rate)) in pdf_text
    listed = figures["new_npl"]["rows"]
    count = next(text for text in pdf_text.splitlines() if "新增不良笔数" in text)
    assert count.split()[-1] == str(len(listed))
    balance = sum(Decimal(row["principal_balance"]) for row in listed)
    assert numbers.money(balance) in next(
        text for text in pdf_text.splitlines() if "新增不良余额" in text
    )
    # The lineage: every snapshot's checksum, and the rule set on every page's foot.
    for snapshot in figures["quality"]["snapshots"]:
        assert snapshot["sha256"] in pdf_text
    assert pdf_text.count("规则集 cn-2023") >= 3


def test_a_units_report_holds_that_units_figures(
    demo_home: Path, figures: dict[str, Any], tmp_path: Path
):
    unit = children(figures)[0]
    target = write_report(demo_home, tmp_path / "unit.xlsx", "en", "--unit", unit["key"])
    headline, by_unit, *_rest, new_npl, _warning, _casework, _outlook, _lineage = (
        openpyxl.load_workbook(target).worksheets
    )
    assert money_cell(column(headline, 5, 2)["NPL balance"]) == unit["npl_balance"]
    below = {
        row["name"]: row["npl_balance"]
        for key, row in rows_by_key(figures["quality"]).items()
        if key.startswith(unit["key"]) and key != unit["key"]
    }
    assert below and below == {n: money_cell(v) for n, v in column(by_unit, 5, 2).items()}
    own = [row for row in figures["new_npl"]["rows"] if row["org_unit"].startswith(unit["key"])]
    assert new_npl["B4"].value == len(own)


def test_an_unknown_unit_is_refused(demo_home: Path, tmp_path: Path):
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "report", "monthly"]
    options = ["--as-of", MONTH, "--unit", "XX99", "--out", str(tmp_path / "r.pdf")]
    done = subprocess.run(
        [*command, *options, "--home", str(demo_home)],
        capture_output=True,
        text=True,
        env=clean_environment() | {"NPLDESK_LANGUAGE": "en"},
        timeout=600,
    )
    assert done.returncode == 2
    assert "unknown unit 'XX99'" in done.stderr
    assert not list(tmp_path.iterdir())


def open_tallies(cases: list[dict[str, Any]], field: str) -> dict[str, int]:
    return dict(Counter(case[field] for case in cases if case["state"] != "resolved"))


def test_the_casework_and_outlook_sheets_are_the_commands_json(
    workbook: Path, casework: dict[str, Any]
):
    sheets = openpyxl.load_workbook(workbook).worksheets
    cases_sheet, outlook_sheet = sheets[7], sheets[8]
    assert cases_sheet.title == "8. Casework" and outlook_sheet.title == "9. Year-end outlook"
    cases = casework["cases"]
    open_cases = [case for case in cases if case["state"] != "resolved"]
    assert cases_sheet["B4"].value == len(open_cases) > 0
    assert cases_sheet["B4"].data_type == "n"
    deadlines_past = sum(1 for case in open_cases if case["deadline"] < "2019-12-31")
    assert cases_sheet["B5"].value == deadlines_past
    counts = column(cases_sheet, 7, 2)
    from npldesk.reports.labels import case_value

    for field in ("state", "strategy", "tier"):
        for code, count in open_tallies(cases, field).items():
            assert counts[case_value(field, code)] == count, (field, code)

    plan = {row["key"]: row for row in casework["plan"]["rows"]}
    shown = {row[0]: row for row in outlook_sheet.iter_rows(min_row=5, values_only=True)}
    bank = plan[BANK]
    assert money_cell(shown[bank["name"]][1]) == bank["forecast_npl_balance"]["p50"]
    children_rows = [row for key, row in plan.items() if len(key) == 4 and key != BANK]
    assert children_rows
    for row in children_rows:
        line = shown[row["name"]]
        assert money_cell(line[1]) == row["forecast_npl_balance"]["p50"]
        assert money_cell(line[2]) == row["forecast_npl_balance"]["p10"]
        assert money_cell(line[3]) == row["forecast_npl_balance"]["p90"]
        assert same_ratio(line[5], row["probability_double_reduction"])
        assert (
            line[6]
            == {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}[
                row["tracking"]
            ]
        )
        assert money_cell(line[7]) == row["required_reduction"]


def test_the_pdf_has_the_casework_and_the_outlook(pdf_text: str, casework: dict[str, Any]):
    assert "八、案件处置" in pdf_text and "九、年末展望" in pdf_text
    open_cases = [case for case in casework["cases"] if case["state"] != "resolved"]
    line = next(text for text in pdf_text.splitlines() if text.strip().startswith("未结案件"))
    assert line.split()[-1] == numbers.grouped(len(open_cases))
    plan = {row["key"]: row for row in casework["plan"]["rows"]}
    for key, row in plan.items():
        if len(key) == 4 and key != BANK:
            found = [
                text
                for text in pdf_text.splitlines()
                if text.strip().startswith(row["name"])
                and numbers.money(Decimal(row["forecast_npl_balance"]["p50"])) in text
            ]
            assert found, row["name"]


def test_the_outlook_is_the_month_ends_kept_plan_while_that_is_the_months(tmp_path: Path):
    """§9 on a tape-only home (the command sets no Django up): the plan the month-end run kept
    while its snapshots and rule set are the store's; once a snapshot is replaced, a plan made
    afresh."""
    from npldesk.analytics.session import Analytics
    from npldesk.core.months import parse_month
    from npldesk.home import create_home, load_home
    from npldesk.planner.pipeline import no_pipeline
    from npldesk.planner.plan import PlanRequest, plan_report, stored_plan_path
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store
    from tests.analytics.test_forecast import mixed_book
    from tests.tape_factory import write_csv, write_org

    created, _ = create_home(tmp_path / "home")
    store = Store(created.store_path)
    import_org(store, write_org(tmp_path / "org.csv"))
    import_files(store, [write_csv(tmp_path / "tape.csv", mixed_book())], ImportOptions())
    march = parse_month("2019-03")
    document = plan_report(
        Analytics.for_home(load_home(created.path)),
        PlanRequest(as_of=march, by="org_unit"),
        no_pipeline("tape only"),
    )
    for row in document["rows"]:
        row["probability_double_reduction"] = "0.123"
    kept = stored_plan_path(created.path, march)
    kept.parent.mkdir(parents=True)

    def outlook() -> str:
        target = tmp_path / "report.html"
        child(created.path, "report", "monthly", "--as-of", "2019-03", "--out", str(target))
        return target.read_text(encoding="utf-8").split("Year-end outlook")[1]

    kept.write_text(json.dumps(document), encoding="utf-8")
    assert "12.30 %" in outlook()
    document["snapshots"][0]["sha256"] = "0" * 64
    kept.write_text(json.dumps(document), encoding="utf-8")
    assert "12.30 %" not in outlook()
