"""Fannie Mae's 2000 Q1 loan-performance panel imports through the shipped `fannie-mae-legacy`.

Real data nobody on the team wrote (``shared/real-data/fannie-mae/2000q1`` beside the repository,
never copied into it). Every expectation here comes from the raw pipe-delimited text read with
plain Python, not from the mapping: the tests hold the mapping to what the files say.
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from npldesk.cli import run
from npldesk.tape.store import Store
from tests.tape_factory import write_org

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO.parent / "shared" / "real-data"
FANNIE = REAL_DATA / "fannie-mae" / "2000q1"
PERFORMANCE = FANNIE / "Performance_2000Q1-P.txt"
ACQUISITION = FANNIE / "Acquisition_2000Q1.txt"
MAPPING_FILE = REPO / "npldesk" / "tape" / "mappings" / "fannie-mae-legacy.yaml"
MAPPING = "fannie-mae-legacy"

# Field positions (0-based) in Fannie Mae's legacy layout; the README in real-data lists them.
PERFORMANCE_WIDTH = 31
P_LOAN, P_PERIOD, P_SERVICER, P_UPB, P_MATURITY, P_DLQ, P_ZERO_CODE = 0, 1, 2, 4, 8, 10, 12
# 25 documented acquisition fields plus one more at the end of every line (see the mapping).
ACQUISITION_WIDTH = 26
A_LOAN, A_ORIG_UPB, A_ORIG_DATE = 0, 4, 6

# The mapping's decisions for zero_balance_code, written out again as the test's expectation.
STATUS_BY_ZERO_BALANCE_CODE = {
    "01": "repaid",
    "02": "foreclosed",
    "03": "written_off",
    "06": "transferred",
    "09": "foreclosed",
}
EXIT_STATUSES = {"written_off", "transferred", "foreclosed"}
FNMA_ORG = [{"code": "FNMA", "name": "Fannie Mae", "parent_code": "", "level": "root"}]

pytestmark = pytest.mark.realdata


# -- the raw files, read with plain Python ------------------------------------------------------


def month_end(month: int, year: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month_end(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def pipe_lines(path: Path, width: int) -> list[list[str | None]]:
    """Every line's fields; the text NULL and an empty field are both "no value"."""
    lines = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        fields = line.split("|")
        assert len(fields) == width, f"{path.name} line {number}: {len(fields)} fields"
        lines.append([None if f in ("", "NULL") else f for f in fields])
    return lines


@dataclass(frozen=True)
class RawRow:
    """One performance line, with the acquisition fields of its loan."""

    line: int
    fields: list[str | None]
    orig_upb: str
    orig_date: str

    @property
    def loan_id(self) -> str:
        return str(self.fields[P_LOAN])

    @property
    def as_of(self) -> date:
        month, _day, year = str(self.fields[P_PERIOD]).split("/")
        return month_end(int(month), int(year))

    @property
    def dlq_status(self) -> int:
        return int(str(self.fields[P_DLQ]))

    @property
    def zero_balance_code(self) -> str | None:
        return self.fields[P_ZERO_CODE]

    @property
    def upb(self) -> Decimal:
        """The balance the line states, the original amount while current_upb is blank."""
        return Decimal(self.fields[P_UPB] or self.orig_upb)


@dataclass(frozen=True)
class RawPanel:
    rows: dict[tuple[str, date], RawRow]

    def loan(self, loan_id: str) -> list[RawRow]:
        return sorted((r for r in self.rows.values() if r.loan_id == loan_id), key=_as_of)

    def terminations(self) -> list[RawRow]:
        return sorted((r for r in self.rows.values() if r.zero_balance_code), key=_line)


def _as_of(row: RawRow) -> date:
    return row.as_of


def _line(row: RawRow) -> int:
    return row.line


@pytest.fixture(scope="module")
def raw() -> RawPanel:
    if not REAL_DATA.is_dir():
        pytest.skip(
            f"{REAL_DATA} is absent: the public data sets live beside the repository "
            "(shared/real-data), not in it, so these tests run only where that folder exists"
        )
    acquisition = {str(f[A_LOAN]): f for f in pipe_lines(ACQUISITION, ACQUISITION_WIDTH)}
    rows: dict[tuple[str, date], RawRow] = {}
    for number, fields in enumerate(pipe_lines(PERFORMANCE, PERFORMANCE_WIDTH), start=1):
        acquired = acquisition[str(fields[P_LOAN])]
        row = RawRow(number, fields, str(acquired[A_ORIG_UPB]), str(acquired[A_ORIG_DATE]))
        assert (row.loan_id, row.as_of) not in rows, f"line {number}: a loan-month twice"
        rows[(row.loan_id, row.as_of)] = row
    return RawPanel(rows)


# -- the import, as a user runs it ----------------------------------------------------------------


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def cli(argv: list[str]) -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return CliRun(code, out.getvalue(), err.getvalue())


def new_home(folder: Path) -> Path:
    """``npldesk init`` and an organisation file whose root unit is FNMA.

    ``init`` runs in its own process, as in tests/cli/test_init.py: inside the test process
    pytest-django has already configured (and guards) another database."""
    home = folder / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env["PYTHONPATH"] = str(REPO)
    init = subprocess.run(
        [sys.executable, "-c", "from npldesk.cli import main; main()", "init", "--home", str(home)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    org = cli(["org", "import", str(write_org(folder / "org.csv", FNMA_ORG)), "--home", str(home)])
    assert org.code == 0, org.err
    return home


def import_performance(home: Path, performance: Path) -> CliRun:
    return cli(
        ["tape", "import", str(performance), "--mapping", MAPPING, "--home", str(home),
         "--format", "json"]
    )  # fmt: skip


def stored_rows(home: Path) -> dict[tuple[str, date], dict[str, Any]]:
    paths = [str(p) for p in Store(home / "store").snapshot_paths().values()]
    relation = duckdb.sql(f"SELECT * FROM read_parquet({paths!r})")
    names = relation.columns
    return {
        (row["loan_id"], row["as_of"]): row
        for row in (dict(zip(names, values, strict=True)) for values in relation.fetchall())
    }


@dataclass
class Imported:
    home: Path
    result: CliRun
    rows: dict[tuple[str, date], dict[str, Any]]

    @property
    def store(self) -> Store:
        return Store(self.home / "store")


@pytest.fixture(scope="module")
def imported(raw: RawPanel, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    home = new_home(tmp_path_factory.mktemp("fannie"))
    result = import_performance(home, PERFORMANCE)
    assert result.code == 0, result.err
    return Imported(home, result, stored_rows(home))


# -- what the import must show ------------------------------------------------------------------


def test_the_cli_import_succeeds_without_a_traceback(imported: Imported):
    result = imported.result
    assert result.code == 0
    assert "Traceback" not in result.out + result.err
    snapshots = json.loads(result.out)["snapshots"]
    assert snapshots[0]["as_of"] == "2000-01-31"
    assert snapshots[-1]["as_of"] == "2017-12-31"
    assert sum(s["rows"] for s in snapshots) == 10_000
    # The one loan with months missing in the sample shows as an unexplained exit (a warning).
    assert "100953763237" in result.err


def test_every_loan_month_is_stored_once(imported: Imported, raw: RawPanel):
    assert len(imported.rows) == 10_000
    assert len({loan for loan, _ in imported.rows}) == 276
    assert set(imported.rows) == set(raw.rows)
    months = imported.store.months()
    assert (months[0], months[-1]) == (date(2000, 1, 31), date(2017, 12, 31))
    assert len(months) == 18 * 12  # no month of the panel is empty


def test_the_manifest_names_both_files_with_their_checksums_and_the_mapping(
    imported: Imported,
):
    expected = [
        {"role": "data", "name": PERFORMANCE.name, "sha256": sha256(PERFORMANCE)},
        {"role": "join:acquisition", "name": ACQUISITION.name, "sha256": sha256(ACQUISITION)},
    ]
    snapshots = imported.store.manifest().to_json()["snapshots"]
    assert len(snapshots) == 216
    for entry in snapshots.values():
        assert [{k: s[k] for k in ("role", "name", "sha256")} for s in entry["sources"]] == expected
        assert entry["sha256"] == expected[0]["sha256"]
        assert entry["mapping"] == MAPPING
        assert entry["mapping_sha256"] == sha256(MAPPING_FILE)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_row_follows_the_mapping_rules(imported: Imported, raw: RawPanel):
    """Balance, days past due, status and the loan's terms on all 10,000 rows."""
    for key, line in raw.rows.items():
        stored = imported.rows[key]
        terminal = line.zero_balance_code is not None
        assert line.dlq_status < 0 or not terminal, f"line {line.line}"
        expected = {
            "borrower_id": line.loan_id,
            "org_unit": "FNMA",
            "officer_id": line.fields[P_SERVICER],
            "product": "mortgage",
            "borrower_type": "retail",
            "collateral_type": "real_estate",
            "reported_class": None,
            "original_amount": Decimal(line.orig_upb),
            "origination_date": first_of_month(line.orig_date),
            "maturity_date": first_of_month(str(line.fields[P_MATURITY])),
            "principal_balance": Decimal(0) if terminal else line.upb,
            "days_past_due": 30 * line.dlq_status + 15 if line.dlq_status >= 1 else 0,
            "status": STATUS_BY_ZERO_BALANCE_CODE[line.zero_balance_code]
            if line.zero_balance_code
            else "active",
        }
        assert {k: stored[k] for k in expected} == expected, f"line {line.line}"


def first_of_month(month_year: str) -> date:
    month, year = month_year.split("/")
    return date(int(year), int(month), 1)


def test_spot_check_the_balance_falls_back_to_the_original_amount(
    imported: Imported, raw: RawPanel
):
    first = raw.loan("100007365142")[0]
    assert first.fields[P_UPB] is None
    assert first.orig_upb == "75000"
    assert imported.rows[(first.loan_id, date(2000, 1, 31))]["principal_balance"] == Decimal(
        "75000.00"
    )
    blank = [r for r in raw.rows.values() if r.fields[P_UPB] is None and not r.zero_balance_code]
    assert len(blank) > 1000  # Fannie Mae left current_upb blank in most loans' first months
    for line in blank:
        assert imported.rows[(line.loan_id, line.as_of)]["principal_balance"] == Decimal(
            line.orig_upb
        )


def test_spot_check_a_delinquent_row(imported: Imported, raw: RawPanel):
    # Loan 100654236473 was 24 months behind in 10/2004, the month before its repurchase.
    line = raw.rows[("100654236473", date(2004, 10, 31))]
    assert line.dlq_status == 24
    stored = imported.rows[(line.loan_id, line.as_of)]
    assert stored["days_past_due"] == 30 * 24 + 15 == 735
    assert stored["status"] == "active"
    assert stored["principal_balance"] == Decimal(str(line.fields[P_UPB])) == Decimal("101570.16")
    over_90 = [r for r in raw.rows.values() if r.dlq_status >= 3]
    assert over_90
    assert all(imported.rows[(r.loan_id, r.as_of)]["days_past_due"] > 90 for r in over_90)


def test_a_negative_status_without_a_zero_balance_code_keeps_the_loan_on_the_books(
    imported: Imported, raw: RawPanel
):
    # The README says a negative dlq_status marks a termination row; three rows of loan
    # 100274220236 (2000-04 to 2000-06) have -2 and no code, and the loan goes on until 2002.
    odd = sorted(
        (r for r in raw.rows.values() if r.dlq_status < 0 and r.zero_balance_code is None),
        key=_as_of,
    )
    assert [(r.loan_id, r.as_of.isoformat()) for r in odd] == [
        ("100274220236", "2000-04-30"),
        ("100274220236", "2000-05-31"),
        ("100274220236", "2000-06-30"),
    ]
    for line in odd:
        stored = imported.rows[(line.loan_id, line.as_of)]
        assert stored["status"] == "active"
        assert stored["principal_balance"] == Decimal(line.orig_upb) == Decimal("111000")
        assert stored["days_past_due"] == 0
    assert raw.loan("100274220236")[-1].zero_balance_code == "01"


def test_spot_check_a_foreclosure(imported: Imported, raw: RawPanel):
    # Loan 100557946796: REO disposition (zero_balance_code 09) in 12/2003.
    history = raw.loan("100557946796")
    end = history[-1]
    assert end.zero_balance_code == "09"
    assert end.as_of == date(2003, 12, 31)
    before = history[-2]
    assert before.as_of == previous_month_end(end.as_of)
    stored = imported.rows[(end.loan_id, end.as_of)]
    assert stored["status"] == "foreclosed"
    assert stored["principal_balance"] == 0
    assert stored["days_past_due"] == 0
    assert stored["exit_amount"] == before.upb == Decimal("81768.36")


def test_exit_amounts_are_last_months_balance(imported: Imported, raw: RawPanel):
    terminations = raw.terminations()
    assert len(terminations) == 275  # one loan is still on the books in 2017-12
    codes = sorted(str(r.zero_balance_code) for r in terminations)
    assert {c: codes.count(c) for c in set(codes)} == {"01": 266, "02": 1, "06": 5, "09": 3}
    for end in terminations:
        stored = imported.rows[(end.loan_id, end.as_of)]
        assert stored["principal_balance"] == 0
        if stored["status"] not in EXIT_STATUSES:
            assert stored["exit_amount"] is None  # repaid: nothing leaves by another route
            continue
        # The sample holds the month before every termination, so the balance comes from it.
        before = raw.rows[(end.loan_id, previous_month_end(end.as_of))]
        assert stored["exit_amount"] == before.upb, f"line {end.line}"


# -- derived files: behaviour the 2000 Q1 sample does not exercise -----------------------------


def write_subset(
    folder: Path, loan_id: str, edit: Callable[[list[str]], list[str]] | None = None
) -> Path:
    """One loan's lines of both files (optionally edited), written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        line for line in PERFORMANCE.read_text(encoding="ascii").splitlines()
        if line.startswith(loan_id + "|")
    ]  # fmt: skip
    if edit is not None:
        lines = edit(lines)
    performance = folder / "Performance_subset.txt"
    performance.write_text("\n".join(lines) + "\n", encoding="ascii")
    acquisition = [
        line for line in ACQUISITION.read_text(encoding="ascii").splitlines()
        if line.startswith(loan_id + "|")
    ]  # fmt: skip
    (folder / "Acquisition_subset.txt").write_text("\n".join(acquisition) + "\n")
    return performance


def test_without_last_month_the_exit_amount_is_the_termination_rows_balance(
    raw: RawPanel, tmp_path: Path
):
    loan_id = "100579898395"  # REO disposition in 08/2003
    history = raw.loan(loan_id)
    end = history[-1]
    gap = f"|{history[-2].fields[P_PERIOD]}|"
    performance = write_subset(
        tmp_path / "data", loan_id, lambda lines: [x for x in lines if gap not in x]
    )
    home = new_home(tmp_path)
    result = import_performance(home, performance)
    assert result.code == 0, result.err
    assert "missing in the sequence" in result.err  # the removed month
    stored = stored_rows(home)[(loan_id, end.as_of)]
    assert stored["status"] == "foreclosed"
    assert stored["exit_amount"] == Decimal(str(end.fields[P_UPB])) == Decimal("132690.80")


@pytest.mark.usefixtures("raw")  # skips where the real data is absent
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (P_DLQ, "X", "days_past_due"),
        (P_ZERO_CODE, "96", "status"),
    ],
)
def test_an_unknown_code_stops_the_import_and_names_the_row(
    tmp_path: Path, field: int, value: str, message: str
):
    loan_id = "100710809124"  # third-party sale in 03/2004; the test edits that line
    edited: list[int] = []

    def edit(lines: list[str]) -> list[str]:
        rows = [line.split("|") for line in lines]
        for number, fields in enumerate(rows, start=1):
            if fields[P_ZERO_CODE] != "NULL":
                fields[field] = value
                edited.append(number)
        return ["|".join(fields) for fields in rows]

    performance = write_subset(tmp_path / "data", loan_id, edit)
    assert len(edited) == 1
    home = new_home(tmp_path)
    result = import_performance(home, performance)
    assert result.code == 1
    assert "Traceback" not in result.out + result.err
    assert f"row {edited[0]}" in result.err
    assert message in result.err
    assert "nothing imported" in result.err
    assert Store(home / "store").months() == []
