"""``npldesk list`` as a user meets it: formats, files, masking, the export log, mistakes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import typer

import npldesk.cli
from npldesk.analytics.lists import list_columns
from npldesk.cli import run
from npldesk.cli.lists import register
from npldesk.reports.pii import export_log_path
from tests.cli.conftest import make_home
from tests.tape_factory import ID_NUMBERS, loan_row

OCT, NOV, DEC = date(2019, 10, 31), date(2019, 11, 30), date(2019, 12, 31)
PEOPLE = {
    1: {"borrower_name": "王小明", "id_number": ID_NUMBERS[0], "phone": "13800000000"},
    2: {"borrower_name": "李四", "id_number": ID_NUMBERS[1], "phone": "13911112222"},
    3: {"borrower_name": "赵六", "id_number": ID_NUMBERS[2], "phone": "13733334444"},
}


def month_rows(as_of: date, dpds: dict[int, int]) -> list[dict[str, str]]:
    return [loan_row(n, as_of, days_past_due=dpd, **PEOPLE[n]) for n, dpd in dpds.items()]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with October to December 2019: L000001 turns NPL in December, L000002 is 65 days
    past due in December, L000003 is NPL throughout. Tests only read it (and log exports)."""
    rows = [
        *month_rows(OCT, {1: 0, 2: 0, 3: 100}),
        *month_rows(NOV, {1: 0, 2: 35, 3: 130}),
        *month_rows(DEC, {1: 95, 2: 65, 3: 160}),
    ]
    return make_home(tmp_path_factory.mktemp("lists"), rows)


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch, db: None):
    """``cli(*args)`` → exit code: the real ``run`` (its error handling) over an app that
    has only the ``list`` command, registered as the lead registers it on the real one.

    With the test database (``db``): on PostgreSQL every home has a casework database, so a
    ``--pii`` export is recorded in its audit trail as well as in the export log."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """npldesk, with the list command only."""

    register(app)
    monkeypatch.setattr(npldesk.cli, "app", app)
    monkeypatch.setenv("NPLDESK_USER", "analyst-1")

    def call(*args: str) -> int:
        return run(["list", *args, "--home", str(home)])

    return call


def log_lines(home: Path) -> list[dict[str, object]]:
    path = export_log_path(home)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_csv_on_stdout_is_masked_and_not_logged(cli, home: Path, capsys):
    before = log_lines(home)
    assert cli("new-npl", "--as-of", "2019-12", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["loan_id"], r["class"], r["previous_class"]) for r in rows] == [
        ("L000001", "substandard", "normal")
    ]
    assert (rows[0]["borrower_name"], rows[0]["id_number"], rows[0]["phone"]) == (
        "王**",
        "340602********0017",
        "138****0000",
    )
    assert rows[0]["principal_balance"] == "80000.00"
    assert log_lines(home) == before


def test_a_pii_export_shows_personal_data_and_appends_one_log_line(cli, home: Path, capsys):
    before = log_lines(home)
    assert cli("early-warning", "--as-of", "2019-12", "--format", "csv", "--pii") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["loan_id"], r["becomes_npl_within_30_days"]) for r in rows] == [("L000002", "true")]
    assert rows[0]["borrower_name"] == "李四" and rows[0]["id_number"] == ID_NUMBERS[1]
    added = log_lines(home)[len(before) :]
    assert len(added) == 1
    record = added[0]
    assert {k: record[k] for k in ("who", "list", "as_of", "start", "format", "out", "rows")} == {
        "who": "analyst-1",
        "list": "early-warning",
        "as_of": "2019-12-31",
        "start": "2019-11-30",
        "format": "csv",
        "out": None,
        "rows": 1,
    }
    assert record["rule_set"] == "cn-2023"
    assert record["personal_columns"] == ["borrower_name", "id_number", "phone"]


@pytest.mark.django_db
def test_a_pii_export_is_recorded_in_the_casework_audit_trail(
    cli, home: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    from npldesk.casework.models import AuditRecord

    monkeypatch.setenv("NPLDESK_HOME", str(home))  # restored after the test
    database = home / "npldesk.sqlite3"
    database.touch()  # a home with a casework database (the test database stands in for it)
    try:
        assert cli("top-npl", "--as-of", "2019-12", "--format", "json", "--pii") == 0
    finally:
        database.unlink()
    capsys.readouterr()
    record = AuditRecord.objects.get()
    assert (record.action, record.actor_name, record.object_id) == (
        "personal_data_export",
        "system:analyst-1",
        "list top-npl 2019-12-31",
    )
    assert record.after == {"what": "list top-npl 2019-12-31", "rows": 2}  # L000001, L000003


def test_json_to_a_file_with_a_chosen_start(cli, home: Path, tmp_path: Path, capsys):
    before = log_lines(home)
    out = tmp_path / "top.json"
    code = cli("top-npl", "--as-of", "2019-12", "--from", "2019-10", "--out", str(out))
    assert code == 0
    assert capsys.readouterr().out == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["list"], document["as_of"], document["from"], document["limit"]) == (
        "top-npl",
        "2019-12-31",
        "2019-10-31",
        20,
    )
    assert [(r["borrower_id"], r["household_npl_balance"]) for r in document["rows"]] == [
        ("B000001", "80000.00"),
        ("B000003", "80000.00"),
    ]
    assert document["rows"][0]["previous_class"] == "normal"
    assert document["rows"][0]["phone"] == "138****0000"
    assert [s["as_of"] for s in document["snapshots"]] == ["2019-10-31", "2019-12-31"]
    assert log_lines(home) == before


def test_xlsx_with_pii_is_logged_with_its_path(cli, home: Path, tmp_path: Path):
    before = log_lines(home)
    out = tmp_path / "deviation.xlsx"
    assert cli("deviation", "--as-of", "2019-12", "--out", str(out), "--pii") == 0
    sheet = openpyxl.load_workbook(out).active
    # The heads are for people, in the home's language; the cells hold the codes.
    assert [c.value for c in sheet[3]][:3] == ["Loan", "Borrower", "Unit"]
    header = list_columns("deviation")
    data = [
        dict(zip(header, (c.value for c in row), strict=True))
        for row in sheet.iter_rows(min_row=4, max_row=6)
    ]
    # Worst class first, then the largest balance, then loan_id.
    assert [(r["loan_id"], r["reported_class"], r["class"]) for r in data] == [
        ("L000001", "normal", "substandard"),
        ("L000003", "normal", "substandard"),
        ("L000002", "normal", "special_mention"),
    ]
    assert sheet.cell(7, 1).value is None
    assert data[1]["borrower_name"] == "赵六"
    assert sheet.cell(sheet.max_row, 1).value.startswith(
        "Source snapshots: 2019-11-30 from tape.csv"
    )
    added = log_lines(home)[len(before) :]
    assert [(r["list"], r["format"], r["out"], r["rows"]) for r in added] == [
        ("deviation", "xlsx", str(out.resolve()), 3)
    ]


def test_the_table_for_people_names_its_snapshots(cli, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # a wide terminal: no cell is folded
    assert cli("top-npl", "--as-of", "2019-12", "--limit", "1") == 0
    shown = capsys.readouterr().out
    assert "Largest NPL households 2019-12 against 2019-11" in shown
    assert "L000001" in shown and "L000003" not in shown
    assert "王**" in shown and "王小明" not in shown
    assert "1 loan(s)" in shown
    assert "Source snapshots: 2019-11-30 from tape.csv" in shown


def test_a_pii_table_on_screen_is_logged(cli, home: Path, capsys):
    before = log_lines(home)
    assert cli("upgraded", "--as-of", "2019-12", "--pii") == 0
    assert "Upgraded from NPL" in capsys.readouterr().out
    added = log_lines(home)[len(before) :]
    assert [(r["list"], r["format"], r["out"], r["rows"]) for r in added] == [
        ("upgraded", "table", None, 0)
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad-loans", "--as-of", "2019-12"], "unknown list 'bad-loans'; known: new-npl"),
        (["new-npl", "--as-of", "2020-03"], "month 2020-03 is not imported"),
        (["new-npl", "--as-of", "2019-13"], "--as-of: '2019-13' is not a month"),
        (["new-npl", "--as-of", "2019-12", "--from", "2019-08"], "2019-08 is not imported"),
        (["new-npl", "--as-of", "2019-11", "--from", "2019-12"], "must be a month before"),
        (["new-npl", "--as-of", "2019-12", "--from", "2019-12"], "must be a month before"),
        (["new-npl", "--as-of", "2019-10"], "2019-09, which is not imported"),
        (["new-npl", "--as-of", "2019-12", "--format", "xlsx", "--pii"], "give --out FILE"),
        (["new-npl", "--as-of", "2019-12", "--out", "{tmp}/a.txt"], "give --format"),
        (["new-npl", "--as-of", "2019-12", "--format", "table", "--out", "{tmp}/a"], "screen"),
        (["new-npl", "--as-of", "2019-12", "--out", "{tmp}/no/a.csv"], "does not exist"),
        (["new-npl", "--as-of", "2019-12", "--limit", "3"], "applies to top-npl only"),
        (["top-npl", "--as-of", "2019-12", "--limit", "0"], "at least 1"),
        (["new-npl", "--as-of", "2019-12", "--backend", "oracle"], "unknown analytics backend"),
        (["new-npl", "--as-of", "2019-12", "--rule-set", "basel"], "unknown rule set 'basel'"),
        (["new-npl", "--as-of", "2019-12", "--format", "pdf"], "Invalid value"),
        (["new-npl"], "Missing option '--as-of'"),
    ],
)
def test_user_mistakes_exit_2_with_a_message_and_log_nothing(
    cli, home: Path, tmp_path: Path, capsys, args: list[str], message: str
):
    before = log_lines(home)
    assert cli(*(a.replace("{tmp}", str(tmp_path)) for a in args)) == 2
    captured = capsys.readouterr()
    printed = " ".join((captured.out + captured.err).split())
    assert message in printed
    assert "Traceback" not in printed
    assert log_lines(home) == before
    assert list(tmp_path.iterdir()) == []
