"""Migration matrix, migration rates and roll rates (docs/figures.md §4), on DuckDB and on PySpark.

Exact decimals throughout. The matrix is pinned on a hand-built tape through the whole path
(store, classification, report); the rates and the bands on small in-memory tables.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import ibis
import pytest
import typer

import npldesk.cli
from npldesk.analytics.migration import (
    EXITS,
    F18,
    S71,
    dpd_bucket,
    exit_routes,
    format_rate,
    migration_flows,
    migration_matrix,
    migration_rates,
    roll_rates,
)
from npldesk.cli.migration import register
from npldesk.core.errors import UsageError
from npldesk.core.months import shift_month_end
from npldesk.home import create_home
from npldesk.reports import figures as reports
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.analytics.conftest import month
from tests.tape_factory import loan_row, write_csv, write_org

JAN, FEB, MAR, APR = (month(m) for m in ("2019-01", "2019-02", "2019-03", "2019-04"))
MONTHS = (JAN, FEB, MAR, APR)


def migration_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report's JSON document (what ``--format json`` prints)."""
    return reports.migration_report(*args, **kwargs).as_json()


def history(n: int, steps: list[Any]) -> list[dict[str, str]]:
    """One loan's rows from January: per month ``None`` (no row), a dpd (an active row of
    80000.00, or ``(dpd, balance)``) or a terminal status such as ``"repaid"``."""
    rows = []
    for as_of, step in zip(MONTHS, steps, strict=False):
        if step is None:
            continue
        if isinstance(step, str):
            exit_amount = "" if step == "repaid" else "7000.00"
            terminal = {"status": step, "principal_balance": "0.00", "exit_amount": exit_amount}
            rows.append(loan_row(n, as_of, reported_class="", **terminal))
            continue
        dpd, balance = step if isinstance(step, tuple) else (step, "80000.00")
        overdue = "1.00" if dpd else "0.00"
        rows.append(
            loan_row(
                n,
                as_of,
                days_past_due=dpd,
                principal_balance=balance,
                overdue_principal=overdue,
                reported_class="",
            )
        )
    return rows


def book() -> list[dict[str, str]]:
    """January (t0) to April (t1): every class and every way of leaving."""
    return (
        history(1, [0, 0, 0, (0, "79000.00")])  # normal → normal, 1000 repaid
        + history(2, [0, 0, 5, 10])  # normal → special_mention
        + history(3, [0, 5, 0, 0])  # late in between, normal again: compared, not chained
        + history(4, [0, 100, 0, 0])  # NPL in between: on probation at t1 → substandard
        + history(5, [30, 60, 80, 100])  # special_mention → substandard
        + history(6, [100, 190, 280, 300])  # substandard → doubtful
        + history(7, [280, 310, 340, 370])  # doubtful → loss
        + history(8, [400, 430, 460, 490])  # loss → loss
        + history(9, [0, "repaid"])  # leaves in February, repaid
        + history(10, [100, 130, "written_off"])  # written off in March
        + history(11, [0, 0, 0, "transferred"])  # transferred in April (t1 itself)
        + history(12, [300, "foreclosed"])  # foreclosed in February
        + history(13, [0])  # no row after January: unexplained
        + history(14, [0, None, "written_off"])  # gone in February, written off in March
        + history(15, [0, None, 0, 0])  # gone in February, back from March: normal at t1
        + history(16, [None, 0, 0, 0])  # new in February: not in the t0 cohort
    )


def cells(document: dict[str, Any]) -> dict[tuple[str, str], tuple[int, str]]:
    """The matrix's non-empty cells."""
    return {
        (source, target): (cell["count"], cell["balance"])
        for source, row in document["matrix"].items()
        for target, cell in row.items()
        if cell["count"]
    }


def test_matrix_pins_every_cell_from_january_to_april_and_one_month(make_session):
    session = make_session(book())
    document = migration_report(session, JAN, APR)
    assert (document["from"], document["to"], document["basis"]) == (
        "2019-01-31",
        "2019-04-30",
        "class",
    )
    assert cells(document) == {
        ("normal", "normal"): (3, "240000.00"),  # loans 1, 3 and 15
        ("normal", "special_mention"): (1, "80000.00"),
        ("normal", "substandard"): (1, "80000.00"),  # loan 4 serves probation
        ("special_mention", "substandard"): (1, "80000.00"),
        ("substandard", "doubtful"): (1, "80000.00"),
        ("substandard", "written_off"): (1, "80000.00"),
        ("doubtful", "loss"): (1, "80000.00"),
        ("doubtful", "foreclosed"): (1, "80000.00"),
        ("loss", "loss"): (1, "80000.00"),
        ("normal", "repaid"): (1, "80000.00"),
        ("normal", "transferred"): (1, "80000.00"),
        ("normal", "unexplained"): (2, "160000.00"),  # loans 13 and 14
    }
    # Every class is a row and every class and exit a column, zeros included.
    assert list(document["matrix"]) == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert list(document["matrix"]["loss"]) == [*document["matrix"], *EXITS]
    assert document["matrix"]["loss"]["repaid"] == {"count": 0, "balance": "0.00"}
    # normal cohort: 9 loans, 720000.00; reduction 1000 (loan 1) + 4 × 80000 (loans 9, 11,
    # 13, 14 left); migrated: loans 2 and 4 at t1.
    assert document["rate_inputs"]["normal"] == {
        "cohort_balance": "720000.00",
        "reduction": "321000.00",
        "migrated": "160000.00",
    }
    assert document["rates"] == {
        "normal": "0.401003",  # 160000 / 399000 = 0.4010025…
        "special_mention": "1.000000",
        "substandard": "1.000000",  # 80000 / (160000 − 80000)
        "doubtful": "1.000000",
        "performing": "0.334029",  # (80000 + 80000) / (399000 + 80000) = 0.3340292…
    }
    assert [s["as_of"] for s in document["snapshots"]] == [m.isoformat() for m in MONTHS]
    assert all(s["sha256"] for s in document["snapshots"])

    # One month, and the days-past-due basis, from the same session (the PySpark leg
    # classifies the four months once).
    monthly = cells(migration_report(session, JAN, FEB))
    assert monthly[("normal", "special_mention")] == (1, "80000.00")  # loan 3 in February
    assert monthly[("normal", "repaid")] == (1, "80000.00")
    assert monthly[("normal", "unexplained")] == (3, "240000.00")  # loans 13, 14 and 15
    assert monthly[("doubtful", "foreclosed")] == (1, "80000.00")
    dpd = migration_report(session, JAN, APR, basis="dpd")
    assert dpd["basis"] == "dpd" and dpd["buckets"] == "s71" and "rates" not in dpd
    assert list(dpd["matrix"]) == list(S71.labels)
    got = cells(dpd)
    assert got[("current", "current")] == (4, "320000.00")  # loans 1, 3, 4, 15
    assert got[("current", "1-30")] == (1, "80000.00")
    assert got[("1-30", "91-180")] == (1, "80000.00")
    assert got[("91-180", "271-360")] == (1, "80000.00")
    assert got[("271-360", "360+")] == (1, "80000.00")
    assert got[("360+", "360+")] == (1, "80000.00")
    assert got[("91-180", "written_off")] == (1, "80000.00")
    f18 = cells(migration_report(session, JAN, APR, basis="dpd", buckets="f18"))
    assert f18[("0-30", "0-30")] == (5, "400000.00")  # loans 1, 2, 3, 4, 15
    assert f18[("366-730", "366-730")] == (1, "80000.00")


def test_report_refuses_user_mistakes_with_clear_messages(make_session):
    session = make_session(history(1, [0, None, 0]) + history(2, [0, 0, 0]))
    with pytest.raises(UsageError, match="must be before"):
        migration_report(session, MAR, JAN)
    with pytest.raises(UsageError, match="must be before"):
        migration_report(session, JAN, JAN)
    with pytest.raises(UsageError, match="2019-06 is not imported"):
        migration_report(session, JAN, month("2019-06"))
    with pytest.raises(UsageError, match="unknown basis"):
        migration_report(session, JAN, MAR, basis="grade")
    with pytest.raises(UsageError, match="unknown bucket set"):
        migration_report(session, JAN, MAR, basis="dpd", buckets="m6")


def test_a_month_missing_in_the_store_between_the_two_is_an_error(make_session):
    rows = [r for r in book() if r["as_of"] != FEB.isoformat()]
    session = make_session(rows)
    with pytest.raises(UsageError, match="months missing between 2019-01 and 2019-04: 2019-02"):
        migration_report(session, JAN, APR)


# -- rates and bands on in-memory tables ---------------------------------------------------------

CLASSIFIED = {
    "loan_id": "string",
    "as_of": "date",
    "status": "string",
    "final_class": "string",
    "principal_balance": "decimal(18,2)",
    "days_past_due": "int32",
}


def table(rows: list[tuple[Any, ...]]) -> ibis.Table:
    columns = {name: [r[i] for r in rows] for i, name in enumerate(CLASSIFIED)}
    return ibis.memtable(columns, schema=ibis.schema(CLASSIFIED))


@dataclass(frozen=True)
class Move:
    """A loan's class and balance at t0, and its class (or exit) and balance at t1."""

    loan: str
    start: str
    balance: str
    end: str
    end_balance: str = "0"


def rates_of(engine, moves: list[Move]) -> dict[str, Any]:
    t0, t1 = JAN, FEB
    start = table([(m.loan, t0, "active", m.start, Decimal(m.balance), 0) for m in moves])
    end = table(
        [
            (
                m.loan,
                t1,
                m.end if m.end in EXITS else "active",
                None if m.end in EXITS else m.end,
                Decimal(m.end_balance),
                0,
            )
            for m in moves
            if m.end != "unexplained"
        ]
    )
    flows = migration_flows(start, end, exit_routes(start, end, t0=t0, t1=t1))
    return migration_rates(engine.to_rows(flows))


def test_the_five_rates_with_a_null_denominator(engine):
    moves = [
        # normal: 2000 at t0, reduction 100 + 500, migrated 900 + 200.
        Move("A", "normal", "1000", "special_mention", "900"),
        Move("B", "normal", "500", "repaid"),
        Move("C", "normal", "300", "normal", "350"),  # grew: no reduction, not migrated
        Move("D", "normal", "200", "substandard", "200"),
        # special_mention, the worked example in docs/figures.md §4:
        # 600 ÷ (4500 − 1000).
        Move("E", "special_mention", "1000", "substandard", "600"),
        Move("F", "special_mention", "3000", "special_mention", "2400"),
        Move("G", "special_mention", "500", "normal", "500"),
        # substandard: 1500 at t0, reduction 300 + 200 + 0, migrated 800 + 100.
        Move("H", "substandard", "800", "doubtful", "800"),
        Move("I", "substandard", "400", "loss", "100"),
        Move("J", "substandard", "200", "written_off"),
        Move("K", "substandard", "100", "substandard", "100"),
        # doubtful: every loan left, so nothing is left to migrate.
        Move("L", "doubtful", "700", "foreclosed"),
        Move("M", "doubtful", "50", "unexplained"),
    ]
    rates = rates_of(engine, moves)
    got = {name: (r.cohort_balance, r.reduction, r.migrated) for name, r in rates.items()}
    assert got == {
        "normal": (Decimal("2000.00"), Decimal("600.00"), Decimal("1100.00")),
        "special_mention": (Decimal("4500.00"), Decimal("1000.00"), Decimal("600.00")),
        "substandard": (Decimal("1500.00"), Decimal("500.00"), Decimal("900.00")),
        "doubtful": (Decimal("750.00"), Decimal("750.00"), Decimal("0")),
        "performing": (Decimal("6500.00"), Decimal("1600.00"), Decimal("800.00")),
    }
    shown = {name: format_rate(r.rate) for name, r in rates.items()}
    assert shown == {
        "normal": "0.785714",  # 1100 / 1400
        "special_mention": "0.171429",  # 600 / 3500 = 0.1714285…
        "substandard": "0.900000",
        "doubtful": None,
        "performing": "0.163265",  # 800 / 4900 = 0.1632653…
    }
    with localcontext() as context:
        context.prec = 60
        assert rates["special_mention"].rate == Decimal(600) / Decimal(3500)


def test_rates_round_half_up_only_when_shown():
    assert format_rate(Decimal("0.0000005")) == "0.000001"
    assert format_rate(Decimal("0.0000004999")) == "0.000000"
    assert format_rate(Decimal("-0.0000005")) == "-0.000001"
    assert format_rate(None) is None


DPD_BOUNDARIES = [0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 270, 271, 360, 361]


def test_s71_and_f18_bands_at_their_boundaries(engine):
    values = [*DPD_BOUNDARIES, 365, 366, 730, 731, 1825, 1826, 2555, 2556]
    data = ibis.memtable({"dpd": values}, schema=ibis.schema({"dpd": "int32"}))
    rows = engine.to_rows(
        data.select("dpd", s71=dpd_bucket(data.dpd, "s71"), f18=dpd_bucket(data.dpd, F18))
    )
    got = {r["dpd"]: (r["s71"], r["f18"]) for r in rows}
    assert [got[d][0] for d in DPD_BOUNDARIES] == [
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "91-180",
        "91-180",
        "181-270",
        "181-270",
        "271-360",
        "271-360",
        "360+",
    ]
    assert [got[d][1] for d in values] == [
        "0-30",
        "0-30",
        "0-30",
        "31-90",
        "31-90",
        "31-90",
        "31-90",
        "91-180",
        "91-180",
        "181-365",
        "181-365",
        "181-365",
        "181-365",
        "181-365",
        "181-365",
        "366-730",
        "366-730",
        "731-1825",
        "731-1825",
        "1826-2555",
        "1826-2555",
        "2555+",
    ]
    assert all(S71.label(d) == got[d][0] and F18.label(d) == got[d][1] for d in values)


def test_roll_rates_move_each_boundary_one_day_on(engine):
    """Each loan is one day later at t1: only those at a band's last day change band."""
    start = table([(f"L{d}", JAN, "active", None, Decimal(d + 1), d) for d in DPD_BOUNDARIES])
    end = table([(f"L{d}", FEB, "active", None, Decimal(1), d + 1) for d in DPD_BOUNDARIES])
    flows = engine.to_rows(roll_rates(start, end, buckets="s71"))
    got = {(r["from_state"], r["to_state"]): (r["loans"], r["balance"]) for r in flows}
    assert got == {
        ("current", "1-30"): (1, Decimal("1.00")),
        ("1-30", "1-30"): (1, Decimal("2.00")),
        ("1-30", "31-60"): (1, Decimal("31.00")),
        ("31-60", "31-60"): (1, Decimal("32.00")),
        ("31-60", "61-90"): (1, Decimal("61.00")),
        ("61-90", "61-90"): (1, Decimal("62.00")),
        ("61-90", "91-180"): (1, Decimal("91.00")),
        ("91-180", "91-180"): (1, Decimal("92.00")),
        ("91-180", "181-270"): (1, Decimal("181.00")),
        ("181-270", "181-270"): (1, Decimal("182.00")),
        ("181-270", "271-360"): (1, Decimal("271.00")),
        ("271-360", "271-360"): (1, Decimal("272.00")),
        ("271-360", "360+"): (1, Decimal("361.00")),
        ("360+", "360+"): (1, Decimal("362.00")),
    }


def test_roll_rates_take_any_table_with_a_band_already_computed(engine):
    schema = {"loan_id": "string", "band": "string", "bill": "decimal(18,2)"}
    start = ibis.memtable(
        {
            "loan_id": ["a", "b", "c"],
            "band": ["paid", "late", "late"],
            "bill": [Decimal("10.50"), Decimal("-3.00"), Decimal("7.25")],
        },
        schema=ibis.schema(schema),
    )
    end = ibis.memtable(
        {"loan_id": ["a", "b"], "band": ["late", "late"], "bill": [Decimal(1), Decimal(2)]},
        schema=ibis.schema(schema),
    )
    flows = engine.to_rows(roll_rates(start, end, bucket_column="band", balance_column="bill"))
    got = {(r["from_state"], r["to_state"]): (r["loans"], r["balance"]) for r in flows}
    assert got == {
        ("paid", "late"): (1, Decimal("10.50")),
        ("late", "late"): (1, Decimal("-3.00")),
        ("late", "unexplained"): (1, Decimal("7.25")),  # no row at t1 and no exit given
    }


def test_migration_matrix_has_count_and_balance_only(engine):
    start = table(
        [
            ("A", JAN, "active", "normal", Decimal("5.00"), 0),
            ("B", JAN, "repaid", None, Decimal("0.00"), 0),
        ]
    )
    end = table([("A", FEB, "active", "doubtful", Decimal("4.00"), 300)])
    rows = engine.to_rows(migration_matrix(start, end))
    assert rows == [
        {"from_state": "normal", "to_state": "doubtful", "loans": 1, "balance": Decimal("5.00")}
    ]


# -- the command ---------------------------------------------------------------------------------


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    """A home holding the January-to-April book (no database needed by `migration`)."""
    home, _ = create_home(tmp_path / "home")
    store = Store(home.store_path)
    import_org(store, write_org(tmp_path / "org.csv"))
    import_files(store, [write_csv(tmp_path / "tape.csv", book())], ImportOptions())
    return home.path


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """``cli(argv)``: the command registered on its own app, run as ``npldesk`` runs."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """npldesk (test app)."""

    register(app)
    monkeypatch.setattr(npldesk.cli, "app", app)

    def run(argv: list[str]) -> Ran:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = npldesk.cli.run(argv)
        return Ran(code, out.getvalue(), err.getvalue())

    return run


def test_cli_json_table_and_csv(cli, cli_home: Path):
    common = ["migration", "--from", "2019-01", "--to", "2019-04", "--home", str(cli_home)]
    as_json = cli([*common, "--format", "json"])
    assert as_json.code == 0, as_json.err
    document = json.loads(as_json.out)
    assert document["matrix"]["normal"]["repaid"] == {"count": 1, "balance": "80000.00"}
    assert document["rates"]["performing"] == "0.334029"
    assert len(document["snapshots"]) == 4
    as_table = cli(common)
    assert as_table.code == 0, as_table.err
    assert "Migration 2019-01 → 2019-04, five-class basis: loans" in as_table.out
    assert "Normal loan migration rate" in as_table.out
    assert "40.10 %" in as_table.out  # 0.4010025… as a percentage, half-up
    assert "…" not in as_table.out  # the matrix is never squeezed into ellipses
    as_csv = cli([*common, "--basis", "dpd", "--buckets", "f18", "--format", "csv"])
    assert as_csv.code == 0, as_csv.err
    lines = as_csv.out.splitlines()
    assert lines[0] == "from,to,count,balance"
    assert "0-30,0-30,5,400000.00" in lines
    assert len(lines) == 1 + 8 * (8 + len(EXITS))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2019-13", "--to", "2019-04"], "--from: '2019-13' is not a month"),
        (["--from", "2019-04", "--to", "2019-01"], "must be before"),
        (["--from", "2018-12", "--to", "2019-04"], "2018-12 is not imported"),
        (["--from", "2019-01", "--to", "2019-04", "--backend", "oracle"], "unknown analytics"),
        (["--from", "2019-01", "--to", "2019-04", "--basis", "grade"], "grade"),
        (["--from", "2019-01", "--to", "2019-04", "--rule-set", "basel"], "unknown rule set"),
    ],
)
def test_cli_user_mistakes_exit_2_without_a_traceback(cli, cli_home: Path, argv, message):
    ran = cli(["migration", *argv, "--home", str(cli_home)])
    assert ran.code == 2
    assert message in ran.err
    assert "Traceback" not in ran.out + ran.err


def test_cli_without_a_home_exits_2(cli, tmp_path: Path):
    ran = cli(
        ["migration", "--from", "2019-01", "--to", "2019-02", "--home", str(tmp_path / "nowhere")]
    )
    assert ran.code == 2
    assert "not an npldesk home" in ran.err


def test_months_helper_is_consistent():
    assert [shift_month_end(JAN, k) for k in range(4)] == list(MONTHS)
