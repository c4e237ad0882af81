"""The CLI speaks the home's language: with ``zh-hans`` (the default) ``npldesk quality`` prints
Chinese heads and class names, ratios as percentages and money in 万元 with separators; with
``en``, English and yuan; JSON, CSV and the cells of a workbook are the same in both."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation

from npldesk.cli import run
from npldesk.core.errors import UsageError
from npldesk.home import create_home, load_home
from npldesk.reports.labels import CASE_COLUMN_LABELS, label
from tests.conftest import clean_environment

QUALITY = ["quality", "--as-of", "2019-12", "--by", "org_unit"]


def printed(argv: list[str], monkeypatch: pytest.MonkeyPatch, language: str) -> str:
    monkeypatch.setenv("NPLDESK_LANGUAGE", language)
    monkeypatch.setenv("COLUMNS", "250")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert run(argv) == 0
    return out.getvalue()


def test_quality_by_unit_in_chinese(demo_home: Path, monkeypatch: pytest.MonkeyPatch):
    shown = printed([*QUALITY, "--home", str(demo_home)], monkeypatch, "zh-hans")
    assert "2019-12 资产质量（对比 2018-12）（按机构）" in shown
    for head in ("机构", "笔数", "贷款余额（万元）", "不良率", "不良率变动（百分点）", "双降"):
        assert head in shown
    for name in ("正常（万元）", "关注（万元）", "次级（万元）", "可疑（万元）", "损失（万元）"):
        assert name in shown
    assert "合计" in shown and "NPL" not in shown and "Balance" not in shown
    # The whole book: 622,577,415.99 yuan is 62,257.74 万元; ratios as percentages.
    total = next(line for line in shown.splitlines() if "合计" in line)
    assert "62,257.74" in total
    assert re.search(r"\b\d+\.\d\d %", total)
    assert re.search(r"[+-]\d+\.\d\d\b", total)  # the change in points, signed


def test_quality_by_unit_in_english(demo_home: Path, monkeypatch: pytest.MonkeyPatch):
    shown = printed([*QUALITY, "--home", str(demo_home)], monkeypatch, "en")
    assert "Asset quality 2019-12 against 2018-12 by Unit" in shown
    for head in ("NPL ratio", "NPL balance", "Double reduction", "Substandard", "Special mention"):
        assert head in shown
    total = next(line for line in shown.splitlines() if "Total" in line)
    assert "622,577,415.99" in total and re.search(r"\b\d+\.\d\d %", total)
    assert "不良" not in shown


@pytest.mark.parametrize(
    "argv",
    [
        [*QUALITY, "--format", "json"],
        [*QUALITY, "--format", "csv"],
        ["movement", "--as-of", "2019-12", "--period", "ytd", "--by", "org_unit", "--format=json"],
        ["migration", "--from", "2018-12", "--to", "2019-12", "--format", "json"],
        ["list", "early-warning", "--as-of", "2019-12", "--format", "csv"],
    ],
)
def test_json_and_csv_do_not_follow_the_language(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
):
    argv = [*argv, "--home", str(demo_home)]
    chinese = printed(argv, monkeypatch, "zh-hans")
    assert chinese == printed(argv, monkeypatch, "en")
    assert not re.search("[\u4e00-\u9fff]", chinese.split("\n", 1)[0])  # English keys and heads


def test_a_workbook_has_chinese_heads_and_title_and_the_same_cells(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    sheets = {}
    for language in ("zh-hans", "en"):
        target = tmp_path / f"{language}.xlsx"
        argv = ["list", "top-npl", "--as-of", "2019-12", "--out", str(target)]
        printed([*argv, "--home", str(demo_home)], monkeypatch, language)
        sheets[language] = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    chinese, english = sheets["zh-hans"], sheets["en"]
    assert chinese[0][0].startswith("2019-12 不良余额最大户（对比 2019-11）")
    assert chinese[2][:3] == ("贷款编号", "借款人编号", "机构")
    assert english[2][:3] == ("Loan", "Borrower", "Unit")
    body = slice(3, len(chinese) - 2)  # the rows between the heads and the footer
    assert chinese[body] == english[body] and len(chinese[body]) > 1
    assert chinese[-1][0].startswith("数据来源快照：")


def test_a_mistake_is_told_in_the_homes_language(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("NPLDESK_LANGUAGE", "zh-hans")
    assert run(["quality", "--as-of", "2017-12", "--home", str(demo_home)]) == 2
    assert "错误: 月份 2017-12 未导入（已导入：2018-01 至 2019-12）" in capsys.readouterr().err


def test_the_home_sets_its_language_and_refuses_an_unknown_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("NPLDESK_LANGUAGE")
    home, _ = create_home(tmp_path / "home")
    assert home.language == "zh-hans"  # the default written by init
    config = home.config_file.read_text(encoding="utf-8")
    home.config_file.write_text(config.replace('language = "zh-hans"', 'language = "en"'))
    assert load_home(home.path).language == "en"
    home.config_file.write_text(config.replace('language = "zh-hans"', 'language = "fr"'))
    with pytest.raises(UsageError, match="language 'fr' is not one of zh-hans, en"):
        _ = load_home(home.path).language


def test_cases_are_listed_in_the_homes_language(demo_home: Path):
    """In a child process: the cases live in the demo home's own database."""
    env = clean_environment() | {"NPLDESK_LANGUAGE": "zh-hans"}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "cases", "list"]
    listed = subprocess.run(
        [*command, "--unit", "HB01", "--home", str(demo_home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("案件（")
    with translation.override("zh-hans"):
        heads = [label(CASE_COLUMN_LABELS, column) for column in CASE_COLUMN_LABELS]
    assert "状态" in heads and "不良贷款余额" in heads
    for head in heads:
        assert head in listed.stdout
    assert "×有意愿" in listed.stdout or "×无意愿" in listed.stdout or "×失联" in listed.stdout
    assert re.search("短期|中期|长期", listed.stdout)
