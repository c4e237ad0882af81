"""The command line as a user meets it: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from npldesk.cli import run
from tests.tape_factory import loan_rows, write_csv

REPO = Path(__file__).resolve().parents[2]


def test_import_and_list_as_json(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = write_csv(tmp_path / "2019-12.csv", loan_rows(4))
    assert run(["tape", "import", str(source), "--home", str(home), "--format", "json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["snapshots"][0]["as_of"] == "2019-12-31"
    assert run(["tape", "list", "--home", str(home), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["snapshots"]
    assert listed[0]["rows"] == 4 and listed[0]["balance"] == "320000.00"
    assert len(listed[0]["sha256"]) == 64
    assert listed[0]["imported_by"]
    # The document is the manifest's fields under the names it always had, in this order.
    on_disk = json.loads((home / "store" / "manifest.json").read_text(encoding="utf-8"))
    entry = on_disk["snapshots"]["2019-12-31"]
    keys = ["as_of", "rows", "balance", "source", "sha256", "mapping", "imported_at"]
    assert list(listed[0]) == [*keys, "imported_by"]
    assert listed[0] == {key: entry[key] for key in [*keys, "imported_by"]}


def test_tape_list_as_a_table_and_csv(home: Path, tmp_path: Path, capsys):
    run(["tape", "import", str(write_csv(tmp_path / "a.csv", loan_rows(1))), "--home", str(home)])
    capsys.readouterr()
    assert run(["tape", "list", "--home", str(home), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("as_of,rows,balance,source,sha256")
    assert lines[1].startswith("2019-12-31,1,80000.00,a.csv,")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["tape", "import", "missing.csv"], 1 + 1, "file not found: missing.csv"),
        (
            ["tape", "import", "{good}", "--mapping", "no-such-mapping"],
            2,
            "mapping 'no-such-mapping' not found",
        ),
        (
            ["tape", "import", "{good}", "--as-of", "2019-13"],
            2,
            "--as-of: '2019-13' is not a month",
        ),
        (["tape", "import", "{good}", "--join", "customers"], 2, "expected NAME=FILE"),
        (
            ["tape", "import", "{unknown_column}"],
            2,
            "required column(s) principal_balance not found",
        ),
        (["tape", "import", "{bad_data}"], 1, "1 problem(s) found; nothing imported"),
        (["tape", "import", "{good}", "--bogus"], 2, "No such option"),
        (["nonsense"], 2, "No such command"),
        (["quality", "--as-of", "2019-12", "--by", "colour"], 2, "colour"),
        (["tape", "list", "--home", "{nowhere}"], 2, "is not an npldesk home"),
        (["org", "import", "{bad_org}"], 1, "problem(s); nothing imported"),
        (["synth", "--out", "{tmp}/s", "--layout", "mainframe"], 2, "layout"),
    ],
)
def test_user_mistakes_get_a_message_and_an_exit_code(
    home: Path, tmp_path: Path, argv, code, message
):
    good = write_csv(tmp_path / "good.csv", loan_rows(2))
    unknown = write_csv(
        tmp_path / "unknown.csv",
        loan_rows(1),
        columns=[c if c != "principal_balance" else "balance" for c in loan_rows(1)[0]],
    )
    bad = write_csv(tmp_path / "bad.csv", loan_rows(3, days_past_due="x"))
    bad_rows = loan_rows(3)
    bad_rows[0]["days_past_due"] = "x"
    bad = write_csv(tmp_path / "bad.csv", bad_rows)
    bad_org = write_csv(
        tmp_path / "bad_org.csv",
        [{"code": "A", "name": "", "parent_code": "", "level": "x"}],
        columns=["code", "name", "parent_code", "level"],
    )
    values = {
        "good": good,
        "unknown_column": unknown,
        "bad_data": bad,
        "nowhere": tmp_path / "x",
        "bad_org": bad_org,
        "tmp": tmp_path,
    }
    args = [a.format(**values) for a in argv]
    if "--home" not in args and args[0] not in ("nonsense", "synth"):
        args += ["--home", str(home)]
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200")
    result = subprocess.run(
        [sys.executable, "-c", "from npldesk.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == code, result.stderr
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_rows_are_listed_with_file_row_column_rule(home: Path, tmp_path: Path, capsys):
    rows = loan_rows(5)
    rows[1]["principal_balance"] = "12.345"
    rows[3]["org_unit"] = "ZZ99"
    source = write_csv(tmp_path / "2019-12.csv", rows)
    assert run(["tape", "import", str(source), "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert "2019-12.csv, row 3, column principal_balance" in err and "[type.money]" in err
    assert "2019-12.csv, row 5, column org_unit" in err and "[org_unit.known]" in err
    assert "2 problem(s) found; nothing imported" in err


def test_problems_beyond_the_limit_are_counted(home: Path, tmp_path: Path, capsys):
    config = home / "npldesk.toml"
    config.write_text(config.read_text().replace("max_problems = 1000", "max_problems = 2"))
    source = write_csv(tmp_path / "2019-12.csv", loan_rows(5, days_past_due="x"))
    assert run(["tape", "import", str(source), "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert err.count("[type.integer]") == 2
    assert "… and 3 more not listed" in err
    assert "5 problem(s) found; nothing imported" in err


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "zh-hans",
            [
                "错误: 2019-12.csv，第 3 行，principal_balance 列："
                "不是最多两位小数的人民币元金额（值 '12.345'） [type.money]",
                "错误: 2019-12.csv，第 7 行，days_past_due 列：不是整数（值 'x'） [type.integer]",
                "……另有 1 个未列出",
                "错误: 2019-12.csv：发现 3 个问题；未导入任何内容",
            ],
        ),
        (
            "en",
            [
                "error: 2019-12.csv, row 3, column principal_balance: not an amount of yuan with "
                "at most two decimal places (value '12.345') [type.money]",
                "error: 2019-12.csv, row 7, column days_past_due: not a whole number "
                "(value 'x') [type.integer]",
                "… and 1 more not listed",
                "error: 2019-12.csv: 3 problem(s) found; nothing imported",
            ],
        ),
    ],
)
def test_a_refused_months_problems_are_said_in_the_homes_language(
    home: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, language, said
):
    """Every word of a problem line follows the home's language: the severity, the row and the
    column, the message and the value; the column's name and the rule's code stay codes."""
    monkeypatch.setenv("NPLDESK_LANGUAGE", language)
    monkeypatch.setenv("COLUMNS", "300")
    config = home / "npldesk.toml"
    config.write_text(config.read_text().replace("max_problems = 1000", "max_problems = 2"))
    rows = loan_rows(6)
    rows[1]["principal_balance"] = "12.345"
    rows[3]["org_unit"] = "ZZ99"
    rows[5]["days_past_due"] = "x"
    source = write_csv(tmp_path / "2019-12.csv", rows)
    assert run(["tape", "import", str(source), "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == said


def test_a_mistake_found_before_django_is_set_up_is_said_in_the_homes_language(
    home: Path, tmp_path: Path
):
    """In a fresh process a wrong month is found before the command reads its home: the message
    is still said in the home's language (Chinese by default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "COLUMNS": "200"}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()"]
    mistaken = subprocess.run(
        [*command, "quality", "--as-of", "2019-13", "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert mistaken.returncode == 2
    assert mistaken.stderr.strip() == "错误: --as-of：'2019-13' 不是月份：应为 YYYY-MM"
