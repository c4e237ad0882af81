"""NPL ratios, roll rates and migration on real public data, against plain pandas.

Fannie Mae's 2000 Q1 panel goes through the shipped ``fannie-mae-legacy`` mapping into a store
and npldesk's analytics; every expectation is computed again here from the raw files with
pandas, knowing nothing of the mapping or the store. The Taiwan credit-card accounts are
reshaped here from wide columns to month rows and fed to ``roll_rates`` through the Python API.

These run on DuckDB: 216 classified months and 60,000 account-months are too much for the
local Spark leg; one small Taiwan parity check runs on PySpark too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from npldesk.analytics import Analytics, connect
from npldesk.analytics.migration import EXITS, roll_rates
from npldesk.core.months import month_range, parse_month
from npldesk.core.rules import RuleParams
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import load_mapping
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_org


def migration_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report's JSON document (what ``--format json`` prints)."""
    from npldesk.reports.figures import migration_report as build

    return build(*args, **kwargs).as_json()


REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO.parent / "shared" / "real-data"
FANNIE = REAL_DATA / "fannie-mae" / "2000q1"
TAIWAN = REAL_DATA / "taiwan-cc-default" / "UCI_Credit_Card.csv"

pytestmark = pytest.mark.realdata
# The Fannie Mae store classifies 216 months (a minute or two); the tests touch no database, so
# the PostgreSQL re-run of the suite (``-m "not slow"``) has no reason to repeat them.
FANNIE_SLOW = pytest.mark.slow


def need_real_data() -> None:
    if not REAL_DATA.is_dir():
        pytest.skip(
            f"{REAL_DATA} is absent: the public data sets live beside the repository "
            "(shared/real-data), not in it, so these tests run only where that folder exists"
        )


# -- Fannie Mae, read with pandas -----------------------------------------------------------

# Positions in the legacy layout (shared/real-data/README.md).
P_LOAN, P_PERIOD, P_UPB, P_DLQ, P_ZERO_CODE = 0, 1, 4, 10, 12
A_LOAN, A_ORIG_UPB = 0, 4
# How a loan leaves, by zero_balance_code, as the mapping documents it.
EXIT_BY_CODE = {
    "01": "repaid",
    "02": "foreclosed",
    "03": "written_off",
    "06": "transferred",
    "09": "foreclosed",
}


def pipe_file(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="|", header=None, dtype=str, keep_default_na=False)
    return frame.replace({"NULL": None, "": None})


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """One row per loan and month: ``loan_id``, ``as_of``, ``dlq``, ``code``, ``balance``
    (Decimal: current UPB, the original amount while it is blank) and ``on_book``."""
    need_real_data()
    performance = pipe_file(FANNIE / "Performance_2000Q1-P.txt")
    acquisition = pipe_file(FANNIE / "Acquisition_2000Q1.txt")
    orig_upb = dict(zip(acquisition[A_LOAN], acquisition[A_ORIG_UPB], strict=True))
    frame = pd.DataFrame(
        {
            "loan_id": performance[P_LOAN],
            "as_of": pd.to_datetime(performance[P_PERIOD], format="%m/%d/%Y")
            + pd.offsets.MonthEnd(0),
            "dlq": performance[P_DLQ].astype(int),
            "code": performance[P_ZERO_CODE],
        }
    )
    upb = performance[P_UPB].where(performance[P_UPB].notna(), performance[P_LOAN].map(orig_upb))
    frame["balance"] = upb.map(Decimal)
    frame["on_book"] = frame["code"].isna()
    frame["as_of"] = frame["as_of"].dt.date
    return frame


def s71_of_status(dlq: int) -> str:
    """S71 band of a Fannie Mae delinquency status. Status k ≥ 1 is 30k to 30k + 29 days, read
    at the middle of that range as the README advises (only the range's first day can fall in
    the band below): 1 → 31-60, 2 → 61-90, 3–5 → 91-180, 6–8 → 181-270, 9–11 → 271-360,
    12 or more → over 360; 0 (and a negative status) is current."""
    if dlq <= 0:
        return "current"
    for last, label in ((1, "31-60"), (2, "61-90"), (5, "91-180"), (8, "181-270"), (11, "271-360")):
        if dlq <= last:
            return label
    return "360+"


def class_of_status(dlq: int) -> str:
    """cn-2023 without probation on a mortgage with no other signal: the DPD ladder alone."""
    if dlq <= 0:
        return "normal"
    if dlq <= 2:
        return "special_mention"
    if dlq <= 8:
        return "substandard"
    if dlq <= 11:
        return "doubtful"
    return "loss"


@dataclass(frozen=True)
class Move:
    loan_id: str
    start: str
    end: str
    balance: Decimal
    end_balance: Decimal | None


def pandas_moves(
    panel: pd.DataFrame, t0: date, t1: date, state: Callable[[int], str]
) -> list[Move]:
    """Each loan on book at ``t0``: its state at ``t1``, or how it left (docs/figures.md §4)."""
    rows = {(r.loan_id, r.as_of): r for r in panel.itertuples(index=False)}
    later = [m for m in month_range(t0, t1) if m > t0]
    moves = []
    for r in panel[(panel.as_of == t0) & panel.on_book].itertuples(index=False):
        at_end = rows.get((r.loan_id, t1))
        if at_end is not None and at_end.on_book:
            moves.append(
                Move(r.loan_id, state(r.dlq), state(at_end.dlq), r.balance, at_end.balance)
            )
            continue
        first_off = next(
            m for m in later if not getattr(rows.get((r.loan_id, m)), "on_book", False)
        )
        terminal = rows.get((r.loan_id, first_off))
        route = "unexplained" if terminal is None else EXIT_BY_CODE[terminal.code]
        moves.append(Move(r.loan_id, state(r.dlq), route, r.balance, None))
    return moves


def pandas_matrix(moves: list[Move]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    frame = pd.DataFrame([(m.start, m.end, m.balance) for m in moves], columns=["a", "b", "bal"])
    grouped = frame.groupby(["a", "b"])["bal"].agg(["size", "sum"])
    return {key: (int(row["size"]), Decimal(row["sum"])) for key, row in grouped.iterrows()}


def report_cells(document: dict[str, Any]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    return {
        (source, target): (cell["count"], Decimal(cell["balance"]))
        for source, row in document["matrix"].items()
        for target, cell in row.items()
        if cell["count"]
    }


# -- Fannie Mae through npldesk -------------------------------------------------------------


@pytest.fixture(scope="module")
def fannie(panel: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    """The panel imported through ``fannie-mae-legacy`` (organisation root FNMA), classified
    under cn-2023 without probation, so that NPL is exactly "more than 90 days past due"."""
    folder = tmp_path_factory.mktemp("fannie")
    store = Store(folder / "store")
    org = [{"code": "FNMA", "name": "Fannie Mae", "parent_code": "", "level": "root"}]
    import_org(store, write_org(folder / "org.csv", org))
    options = ImportOptions(mapping=load_mapping("fannie-mae-legacy"))
    import_files(store, [FANNIE / "Performance_2000Q1-P.txt"], options)
    return Analytics(store=store, engine=connect("duckdb"), params=RuleParams(probation_months=0))


@FANNIE_SLOW
def test_december_npl_ratios_equal_the_90_day_delinquent_share(
    fannie: Analytics, panel: pd.DataFrame
):
    decembers = [m for m in fannie.months() if m.month == 12]
    assert [d.year for d in decembers] == list(range(2000, 2018))
    ratios_seen = []
    for december in decembers:
        table = fannie.classified(december)
        on_book = table.filter(table.status == "active")
        [got] = fannie.rows(
            on_book.aggregate(
                balance=on_book.principal_balance.sum(),
                npl_balance=on_book.principal_balance.sum(where=on_book.is_npl),
            )
        )
        month_rows = panel[(panel.as_of == december) & panel.on_book]
        balance = sum(month_rows.balance, Decimal(0))
        late = sum(month_rows[month_rows.dlq >= 3].balance, Decimal(0))
        assert got["balance"] == balance, december
        assert (got["npl_balance"] or Decimal(0)) == late, december
        ratio = None if balance == 0 else (got["npl_balance"] or Decimal(0)) / got["balance"]
        assert ratio == (None if balance == 0 else late / balance), december
        ratios_seen.append(ratio)
    # Not a series of zeros: 2001 to 2003 and 2006 carry 90-day delinquencies.
    assert sum(1 for r in ratios_seen if r) >= 4


# Consecutive months with a hundred or more loans, delinquencies and exits of every kind in the
# sample (repurchase 2001-03, REO 2003-08, third-party sale 2004-03) and the loan that has
# no rows for 2000-11 and 2000-12 (an unexplained exit in 2000-11).
MONTH_PAIRS = [
    ("2000-07", "2000-08"),
    ("2000-10", "2000-11"),
    ("2001-02", "2001-03"),
    ("2003-07", "2003-08"),
    ("2004-02", "2004-03"),
]


@FANNIE_SLOW
@pytest.mark.parametrize(("first", "second"), MONTH_PAIRS)
def test_monthly_dpd_roll_rates_equal_the_status_transitions(
    fannie: Analytics, panel: pd.DataFrame, first: str, second: str
):
    t0, t1 = parse_month(first), parse_month(second)
    document = migration_report(fannie, t0, t1, basis="dpd")
    expected = pandas_matrix(pandas_moves(panel, t0, t1, s71_of_status))
    assert report_cells(document) == expected
    assert sum(count for count, _ in expected.values()) >= 40


@FANNIE_SLOW
def test_the_sample_exercises_every_exit_route(fannie: Analytics, panel: pd.DataFrame):
    seen = set()
    for first, second in MONTH_PAIRS:
        document = migration_report(fannie, parse_month(first), parse_month(second), basis="dpd")
        seen |= {target for (_, target) in report_cells(document) if target in EXITS}
    assert seen == {"repaid", "transferred", "foreclosed", "unexplained"}  # no short sale


@FANNIE_SLOW
@pytest.mark.parametrize(("first", "second"), [("2001-10", "2002-10"), ("2002-12", "2003-12")])
def test_yearly_class_matrix_and_rates_equal_pandas(
    fannie: Analytics, panel: pd.DataFrame, first: str, second: str
):
    """A year apart, compared directly: the 2001-10 cohort includes the loan missing in
    2001-11, an unexplained exit even though it is back (and repaid) in 2002."""
    t0, t1 = parse_month(first), parse_month(second)
    document = migration_report(fannie, t0, t1)
    moves = pandas_moves(panel, t0, t1, class_of_status)
    assert report_cells(document) == pandas_matrix(moves)
    npl = {"substandard", "doubtful", "loss"}
    targets = {
        "normal": ({"normal"}, {"special_mention"} | npl),
        "special_mention": ({"special_mention"}, npl),
        "substandard": ({"substandard"}, {"doubtful", "loss"}),
        "doubtful": ({"doubtful"}, {"loss"}),
        "performing": ({"normal", "special_mention"}, npl),
    }
    for name, (cohort, target) in targets.items():
        members = [m for m in moves if m.start in cohort]
        balance = sum((m.balance for m in members), Decimal(0))
        reduction = sum(
            (
                m.balance if m.end_balance is None else max(m.balance - m.end_balance, Decimal(0))
                for m in members
            ),
            Decimal(0),
        )
        migrated = sum(
            (m.end_balance or Decimal(0) for m in members if m.end in target), Decimal(0)
        )
        assert document["rate_inputs"][name] == {
            "cohort_balance": f"{balance:.2f}",
            "reduction": f"{reduction:.2f}",
            "migrated": f"{migrated:.2f}",
        }, name
        shown = (
            None
            if balance == reduction
            else str(
                (migrated / (balance - reduction)).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            )
        )
        assert document["rates"][name] == shown, name
    assert any(k[1] == "unexplained" for k in report_cells(document)) == (first == "2001-10")


# -- Taiwan credit cards ----------------------------------------------------------------------

# The file names its columns X1..X23 (the README's numbering): X6..X11 are the repayment
# statuses of September back to April 2005, X12..X17 the bills of the same months.
TAIWAN_MONTHS = ["2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04"]
STATUS_COLUMNS = [f"X{n}" for n in range(6, 12)]
BILL_COLUMNS = [f"X{n}" for n in range(12, 18)]


def taiwan_band(status: int) -> str:
    """−2 (no use), −1 (paid in full) and 0 (revolving) are current; 1 and 2 months late are
    one band, as the README advises (status 1 almost never occurs before September)."""
    if status <= 0:
        return "current"
    if status <= 2:
        return "late 1-2"
    return "late 3" if status == 3 else "late 4+"


@pytest.fixture(scope="module")
def accounts() -> pd.DataFrame:
    need_real_data()
    return pd.read_csv(TAIWAN)


def month_rows(accounts: pd.DataFrame) -> pd.DataFrame:
    """Wide to long: one row per account and month (loan_id, as_of, band, balance = bill)."""
    frames = []
    for label, status, bill in zip(TAIWAN_MONTHS, STATUS_COLUMNS, BILL_COLUMNS, strict=True):
        frames.append(
            pd.DataFrame(
                {
                    "loan_id": accounts["ID"].astype(str),
                    "as_of": parse_month(label),
                    "band": accounts[status].map(taiwan_band),
                    "balance": accounts[bill].map(Decimal),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def roll_april_to_september(engine_name: str, accounts: pd.DataFrame) -> dict[tuple, tuple]:
    engine = connect(engine_name)
    long = month_rows(accounts)
    table = ibis.memtable(
        {column: long[column].tolist() for column in long.columns},
        schema=ibis.schema(
            {"loan_id": "string", "as_of": "date", "band": "string", "balance": "decimal(18,2)"}
        ),
    )
    april = table.filter(table.as_of == parse_month("2005-04"))
    september = table.filter(table.as_of == parse_month("2005-09"))
    flows = engine.to_rows(
        roll_rates(april, september, bucket_column="band", balance_column="balance")
    )
    return {(r["from_state"], r["to_state"]): (r["loans"], r["balance"]) for r in flows}


def pandas_april_to_september(accounts: pd.DataFrame) -> dict[tuple, tuple]:
    """The same matrix straight from the wide columns: X11/X17 in April, X6 in September."""
    frame = pd.DataFrame(
        {
            "a": accounts["X11"].map(taiwan_band),
            "b": accounts["X6"].map(taiwan_band),
            "bill": accounts["X17"],
        }
    )
    grouped = frame.groupby(["a", "b"])["bill"].agg(["size", "sum"])
    return {key: (int(row["size"]), Decimal(int(row["sum"]))) for key, row in grouped.iterrows()}


def test_taiwan_april_to_september_roll_rates_equal_pandas(accounts: pd.DataFrame):
    got = roll_april_to_september("duckdb", accounts)
    assert got == pandas_april_to_september(accounts)
    assert sum(count for count, _ in got.values()) == 30_000
    assert len(got) == 16  # every band to every band, no account missing in September


@pytest.mark.slow
def test_taiwan_parity_on_pyspark(accounts: pd.DataFrame):
    sample = accounts.head(2_000)
    assert (
        roll_april_to_september("pyspark", sample)
        == roll_april_to_september("duckdb", sample)
        == pandas_april_to_september(sample)
    )
