"""The command line's language walk: every command's output for people (tables, their titles,
heads and footers, the lines that say what was done, the warnings and the mistakes), on a small
home with its casework, reads in Chinese with no English word left in it, and reads in English
too.

Two nets catch a word left in English. The catalogue's: one of its English messages found
verbatim, as whole words, in the Chinese output (a message marked and not said). And the
stricter one: any English word of three letters or more, once codes (anything holding a digit,
``_``, ``-``, ``.``, ``/`` or ``:``), the data's names and a few words that are the same in both
languages (file formats, the command's own name) are taken out; a word never marked is caught
by this one.
"""

from __future__ import annotations

import getpass
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from npldesk.casework.choices import CaseState
from tests.cli.conftest import Cli, make_home
from tests.tape_factory import loan_row
from tests.web.test_language import untranslated

pytestmark = pytest.mark.usefixtures("on_casework")

# Words a Chinese reader meets as they are: file formats, the product's and the command's
# names, the operating-system user who imported the tape, and the codes of the code column
# (a product's and a borrower type's code stand beside their names).
SAME_IN_BOTH = frozenset(
    {"csv", "json", "xlsx", "api", "npldesk", "system", "consumer", "mortgage", "retail"}
)
# Tokens that are codes, numbers, paths, options or dates, not words.
CODE = re.compile(r"[\w./:\-]*[\d_./:\-][\w./:\-]*|`[^`]*`")
WORD = re.compile(r"[A-Za-z]{3,}")

COMMANDS: list[list[str]] = [
    ["tape", "list"],
    ["quality", "--as-of", "2020-01", "--by", "org_unit"],
    ["quality", "--as-of", "2020-01", "--by", "product"],
    ["quality", "--as-of", "2020-01", "--by", "borrower_type"],
    ["quality", "--as-of", "2019-12"],
    ["movement", "--as-of", "2020-01", "--by", "product"],
    ["migration", "--from", "2019-12", "--to", "2020-01"],
    ["migration", "--from", "2019-12", "--to", "2020-01", "--basis", "dpd"],
    ["list", "new-npl", "--as-of", "2020-01"],
    ["list", "top-npl", "--as-of", "2020-01"],
    ["plan", "--as-of", "2020-01", "--by", "org_unit", "--draws", "20"],
    ["cases", "sync", "--as-of", "2020-01"],
    ["cases", "list"],
    ["cases", "show", "B000001-1"],
    ["cases", "judge", "--today", "2020-02-10"],
    ["cases", "reconcile", "--as-of", "2020-01"],
    ["users", "add", "zhang", "--name", "张伟", "--role", "officer", "--unit", "HB0101"],
    ["users", "update", "zhang", "--role", "officer", "--role", "team_lead"],
    ["users", "list"],
    ["teams", "add", "CT9", "--name", "清收九组", "--kind", "clearing_team", "--leader", "zhang"],
    ["teams", "members", "CT9", "--member", "zhang"],
    ["teams", "list"],
    ["units", "sync"],
    ["tokens", "create", "手机", "--for", "zhang"],
    ["tokens", "list"],
    ["month-end", "--as-of", "2020-01", "--today", "2020-02-10"],
    ["runs", "list"],
    ["runs", "show", "2020-01"],
    ["report", "reminders", "--as-of", "2020-01", "--today", "2020-02-10"],
    # Mistakes: a clear message in the home's language, never a traceback.
    ["quality", "--as-of", "2019-13"],
    ["quality", "--as-of", "2017-12"],
    ["cases", "show", "NOPE-1"],
    ["cases", "list", "--state", "sleeping"],
    ["cases", "judge", "--today", "2020-02-30"],
    ["plan", "--as-of", "2020-01", "--capacity", "cash"],
    ["plan", "backtest"],
    ["users", "update", "nobody", "--active"],
    ["teams", "members", "NOPE", "--member", "zhang"],
    ["runs", "show", "2019-06"],
]


def _npl(n: int, as_of: date, balance: str, **overrides: Any) -> dict[str, str]:
    values = {
        "principal_balance": balance,
        "overdue_principal": balance,
        "days_past_due": "120",
        "reported_class": "substandard",
    }
    return loan_row(n, as_of, **(values | overrides))


@pytest.fixture
def cli_user() -> str:
    return "运维"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """December and January: two NPL households (one repaid in January) and one performing
    loan of a business borrower."""
    dec, jan = date(2019, 12, 31), date(2020, 1, 31)
    rows = [
        _npl(1, dec, "80000.00"),
        _npl(2, dec, "30000.00", product="mortgage"),
        loan_row(3, dec, borrower_type="non_retail", product="small_business"),
        _npl(1, jan, "70000.00"),
        _npl(2, jan, "0.00", status="repaid", days_past_due="0", overdue_principal="0.00"),
        loan_row(3, jan, borrower_type="non_retail", product="small_business"),
    ]
    return make_home(tmp_path, rows)


def _english_words(text: str, names: frozenset[str]) -> list[str]:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return [word for word in WORD.findall(CODE.sub(" ", text)) if word.lower() not in SAME_IN_BOTH]


def _walk(cli: Cli, monkeypatch: pytest.MonkeyPatch, language: str) -> dict[str, tuple[int, str]]:
    monkeypatch.setenv("NPLDESK_LANGUAGE", language)
    monkeypatch.setenv("COLUMNS", "400")
    said: dict[str, tuple[int, str]] = {}
    for argv in COMMANDS:
        code, out, err = cli(*argv)
        assert "Traceback" not in out + err, argv
        said[" ".join(argv)] = (code, out + err)
    return said


def test_every_command_reads_in_chinese_without_an_english_word_and_in_english(
    cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("cases", "sync", "--as-of", "2019-12")[0] == 0
    # A generated password is shown once: 16 random characters that are sometimes all letters,
    # which would read as an English word. The walk is given one with digits, every run.
    monkeypatch.setattr("npldesk.cli.admin.generate_password", lambda: "pw-2019-12-31-walk")
    chinese = _walk(cli, monkeypatch, "zh-hans")
    # The data's names, what a mistaken command was given (it is echoed back), and the states
    # a mistaken --state lists as the ones to give.
    typed = {"zhang", "nobody", "NOPE", "sleeping", "cash"}
    names = frozenset({str(home), "运维", getpass.getuser(), *typed, *CaseState.values})
    found = {}
    for command, (_code, text) in chinese.items():
        assert re.search("[\u4e00-\u9fff]", text), command
        catalogued = untranslated([text], names)
        loose = _english_words(text, names)
        if catalogued or loose:
            found[command] = (sorted(catalogued), loose[:12])
    report = "\n".join(f"{command}: {words}" for command, words in found.items())
    assert found == {}, f"English words in the Chinese output:\n{report}"
    mistakes = [command for command, (code, _text) in chinese.items() if code != 0]
    assert len(mistakes) == 10, mistakes
    # The same walk in English: the same outcomes, in English words.
    english = _walk(cli, monkeypatch, "en")
    for command, (code, text) in english.items():
        assert code == chinese[command][0] or command.startswith(("users add", "teams add")), (
            command
        )
        assert not re.search("[\u4e00-\u9fff]", _drop_data(text)), command


def _drop_data(text: str) -> str:
    """The English output without the data's Chinese: the organisation's and people's names,
    the team's and the token's names, and what the factories call a borrower."""
    for name in ("淮北分行", "濉溪县支行", "濉溪城关支行", "百善支行", "相山区支行", "相山路支行"):
        text = text.replace(name, "")
    for name in ("张伟", "清收九组", "手机", "运维", "张三", "张*"):
        text = text.replace(name, "")
    return text


def test_the_walk_finds_an_english_word_left_in_a_chinese_line() -> None:
    names = frozenset({"/tmp/home"})
    assert _english_words("错误: 没有案件 NOPE-1", names) == []
    assert _english_words("贷款数据存储 /tmp/home/store，源文件 tape.csv，cn-2023", names) == []
    assert _english_words("已添加用户 zhang：角色 Loan officer", frozenset({"zhang"})) == [
        "Loan",
        "officer",
    ]
    assert _english_words("│ consumer │ 个人消费贷款 │", names) == []
    assert _english_words("│ agricultural │ agricultural │", names) == ["agricultural"] * 2
