"""Asset quality (docs/figures.md §2) on hand-built tapes, on DuckDB and on PySpark: exact
figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from npldesk.analytics.quality import asset_quality, format_ratio
from npldesk.core.errors import UsageError
from npldesk.reports import figures as reports
from tests.tape_factory import loan_row


def quality_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report's JSON document (what ``--format json`` prints)."""
    return reports.quality_report(*args, **kwargs).as_json()


DEC18 = date(2018, 12, 31)
DEC19 = date(2019, 12, 31)
NOTHING = {
    "normal": "0.00",
    "special_mention": "0.00",
    "substandard": "0.00",
    "doubtful": "0.00",
    "loss": "0.00",
}


def loan(n: int, as_of: date, balance: str, dpd: int = 0, **overrides: Any) -> dict[str, str]:
    """An on-book loan graded by its days past due alone (no bank grade)."""
    return loan_row(
        n,
        as_of,
        principal_balance=balance,
        days_past_due=dpd,
        overdue_principal="1.00" if dpd else "0.00",
        reported_class="",
        **overrides,
    )


def repaid(n: int, as_of: date, **overrides: Any) -> dict[str, str]:
    return loan_row(
        n, as_of, principal_balance="0.00", status="repaid", reported_class="", **overrides
    )


def by_key(document: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {row["key"]: row for row in document["rows"]}


def unit_tape() -> list[dict[str, str]]:
    """Two sub-branches of one county hold loans; the other county holds nothing."""
    return [
        loan(1, DEC19, "100000.00", org_unit="HB0101", provision="1000.00"),
        loan(2, DEC19, "50000.00", 95, org_unit="HB0101", provision="20000.00"),
        loan(3, DEC19, "30000.00", 10, org_unit="HB0102", provision=""),
        loan(4, DEC19, "20000.00", 300, org_unit="HB0102", provision="5000.00"),
        loan(6, DEC19, "10000.00", 400, org_unit="HB0102", provision=""),
        # Off the books: counts nowhere.
        repaid(5, DEC19, org_unit="HB0101", provision="9999.00"),
    ]


def test_units_roll_up_the_tree_and_every_unit_appears(make_session):
    document = quality_report(make_session(unit_tape()), DEC19, by="org_unit")
    rows = by_key(document)
    assert [r["key"] for r in document["rows"]] == [
        "HB00",
        "HB01",
        "HB0101",
        "HB0102",
        "HB02",
        "HB0201",
    ]
    assert rows["HB0101"] | {"by_class": None} == {
        "key": "HB0101",
        "name": "濉溪城关支行",
        "loans": 2,
        "balance": "150000.00",
        "npl_balance": "50000.00",
        "npl_ratio": "0.333333",
        "npl_loans": 1,
        "by_class": None,
        "overdue_balance": "50000.00",
        "dpd90_balance": "50000.00",
        "provision_coverage": "0.420000",
        # 2018-12 is not imported: no baseline, and a warning says so.
        "baseline_balance": None,
        "baseline_npl_balance": None,
        "baseline_npl_ratio": None,
        "npl_balance_change": None,
        "npl_ratio_change": None,
        "double_reduction": None,
    }
    assert rows["HB0101"]["by_class"] == NOTHING | {
        "normal": "100000.00",
        "substandard": "50000.00",
    }
    hb0102 = rows["HB0102"]
    assert (hb0102["loans"], hb0102["balance"], hb0102["npl_balance"], hb0102["npl_loans"]) == (
        3,
        "60000.00",
        "30000.00",
        2,
    )
    assert hb0102["by_class"] == NOTHING | {
        "special_mention": "30000.00",
        "doubtful": "20000.00",
        "loss": "10000.00",
    }
    assert (hb0102["overdue_balance"], hb0102["dpd90_balance"]) == ("60000.00", "30000.00")
    assert hb0102["npl_ratio"] == "0.500000"
    assert hb0102["provision_coverage"] == "0.166667"  # 5000 / 30000, half-up
    # A county is the sum of its sub-branches; the city branch holds everything.
    for key in ("HB01", "HB00"):
        assert rows[key]["loans"] == 5 and rows[key]["balance"] == "210000.00"
        assert rows[key]["npl_balance"] == "80000.00" and rows[key]["npl_loans"] == 3
        assert rows[key]["npl_ratio"] == "0.380952"
        assert rows[key]["provision_coverage"] == "0.325000"
        assert rows[key]["by_class"] == NOTHING | {
            "normal": "100000.00",
            "special_mention": "30000.00",
            "substandard": "50000.00",
            "doubtful": "20000.00",
            "loss": "10000.00",
        }
    for empty in ("HB02", "HB0201"):
        assert rows[empty] | {"key": None, "name": None} == {
            "key": None,
            "name": None,
            "loans": 0,
            "balance": "0.00",
            "npl_balance": "0.00",
            "npl_ratio": None,
            "npl_loans": 0,
            "by_class": NOTHING,
            "overdue_balance": "0.00",
            "dpd90_balance": "0.00",
            "provision_coverage": None,
            "baseline_balance": None,
            "baseline_npl_balance": None,
            "baseline_npl_ratio": None,
            "npl_balance_change": None,
            "npl_ratio_change": None,
            "double_reduction": None,
        }
    assert document["total"] == {k: v for k, v in rows["HB00"].items() if k not in ("key", "name")}
    assert document["baseline"] is None
    assert document["warnings"] and "2018-12" in document["warnings"][0]
    assert [s["as_of"] for s in document["snapshots"]] == ["2019-12-31"]


def test_a_level_shows_only_its_units(make_session):
    document = quality_report(
        make_session(unit_tape()), DEC19, by="org_unit", level="county_branch"
    )
    assert [(r["key"], r["balance"]) for r in document["rows"]] == [
        ("HB01", "210000.00"),
        ("HB02", "0.00"),
    ]
    assert document["level"] == "county_branch"
    assert document["total"]["balance"] == "210000.00"


def test_asset_quality_as_a_table_function(make_session):
    session = make_session(unit_tape())
    rows = session.rows(asset_quality(session.classified(DEC19), by="org_unit"))
    # Without a rollup: each loan in its own unit only, and only units holding loans.
    got = {r["key"]: (r["loans"], r["balance"], r["provision"], r["provision_count"]) for r in rows}
    assert got == {
        "HB0101": (2, Decimal("150000.00"), Decimal("21000.00"), 2),
        "HB0102": (3, Decimal("60000.00"), Decimal("5000.00"), 1),
    }


def test_every_month_at_once_equals_each_month_alone(make_session):
    from npldesk.analytics.org import rollup_table
    from npldesk.analytics.quality import asset_quality_by_month
    from npldesk.tape.org import load_org

    nov = date(2019, 11, 30)
    tape = [
        *unit_tape(),
        loan(1, nov, "100000.00", org_unit="HB0101", product="mortgage"),
        loan(3, nov, "35000.00", 100, org_unit="HB0101", product="consumer"),
        # In November HB0102 holds only a repaid loan: a row of zeros, rolled up or not.
        repaid(4, nov, org_unit="HB0102"),
    ]
    session = make_session(tape)
    months = session.months()
    assert months == [nov, DEC19]
    rollup = rollup_table(load_org(session.store))
    span = session.figures_span(months)
    for by, units in (
        (None, None),
        ("product", None),
        ("org_unit", None),
        ("org_unit", rollup),
    ):
        together = session.rows(asset_quality_by_month(span, by=by, rollup=units))
        alone = [
            {"as_of": as_of} | row
            for as_of in months
            for row in session.rows(asset_quality(session.figures(as_of), by=by, rollup=units))
        ]
        assert _keyed(together) == _keyed(alone), by
    whole = _keyed(session.rows(asset_quality_by_month(span, by=None)))
    assert whole[nov, None]["balance"] == Decimal("135000.00")
    assert whole[nov, None]["npl_balance"] == Decimal("35000.00")
    units_in_nov = _keyed(session.rows(asset_quality_by_month(span, by="org_unit", rollup=rollup)))
    assert units_in_nov[nov, "HB0102"]["loans"] == 0
    assert units_in_nov[nov, "HB01"]["balance"] == Decimal("135000.00")
    assert len(units_in_nov) == 2 * 6  # every unit of the tree in both months


def _keyed(rows: list[dict[str, Any]]) -> dict[tuple[date, str | None], dict[str, Any]]:
    keyed = {(r["as_of"], r["key"]): r for r in rows}
    assert len(keyed) == len(rows)
    return keyed


def test_by_product_officer_and_borrower_type(make_session):
    rows = [
        loan(1, DEC19, "1000.00", product="consumer", officer_id="A", provision="0.00"),
        loan(2, DEC19, "3000.00", 91, product="consumer", officer_id="A", provision=""),
        loan(
            3,
            DEC19,
            "6000.00",
            91,
            product="business",
            officer_id="B",
            borrower_type="non_retail",
            id_number="",
            provision="600.00",
        ),
        loan(4, DEC19, "4000.00", product="business", officer_id="", provision="400.00"),
    ]
    session = make_session(rows)
    products = by_key(quality_report(session, DEC19, by="product"))
    assert list(products) == ["business", "consumer"]
    assert (
        products["consumer"]["name"],
        products["consumer"]["npl_balance"],
        products["consumer"]["npl_ratio"],
    ) == ("consumer", "3000.00", "0.750000")
    # 0.00 is a provision value (L2 has none): coverage 0, not null.
    assert products["consumer"]["provision_coverage"] == "0.000000"
    assert products["business"]["npl_ratio"] == "0.600000"
    assert products["business"]["provision_coverage"] == "0.166667"  # 1000 / 6000

    officers = quality_report(session, DEC19, by="officer")
    assert officers["by"] == "officer_id"
    got = {r["key"]: (r["loans"], r["balance"], r["npl_balance"]) for r in officers["rows"]}
    # A loan without an officer is a group of its own (key null), listed last.
    assert list(got) == ["A", "B", None]
    assert got == {
        "A": (2, "4000.00", "3000.00"),
        "B": (1, "6000.00", "6000.00"),
        None: (1, "4000.00", "0.00"),
    }

    types = by_key(quality_report(session, DEC19, by="borrower_type"))
    assert types["retail"]["balance"] == "8000.00"
    assert types["retail"]["provision_coverage"] == "0.133333"  # 400 / 3000
    assert types["non_retail"]["npl_ratio"] == "1.000000"

    whole = quality_report(session, DEC19)
    assert whole["rows"] == [] and whole["by"] is None
    assert whole["total"]["balance"] == "14000.00"
    assert whole["total"]["npl_balance"] == "9000.00"
    assert whole["total"]["provision_coverage"] == "0.111111"  # 1000 / 9000


def test_provision_coverage_is_null_without_provisions_or_without_npl(make_session):
    rows = [
        loan(1, DEC19, "1000.00", 100, product="no_provision", provision=""),
        loan(2, DEC19, "1000.00", product="no_npl", provision="50.00"),
    ]
    products = by_key(quality_report(make_session(rows), DEC19, by="product"))
    assert products["no_provision"]["provision_coverage"] is None
    assert products["no_provision"]["npl_ratio"] == "1.000000"
    assert products["no_npl"]["provision_coverage"] is None
    assert products["no_npl"]["npl_ratio"] == "0.000000"


def baseline_tape() -> list[dict[str, str]]:
    return [
        # consumer: NPL 50000 of 150000 → 10000 of 110000 (down and down)
        loan(1, DEC18, "100000.00", product="consumer"),
        loan(2, DEC18, "50000.00", 120, product="consumer"),
        loan(1, DEC19, "100000.00", product="consumer"),
        repaid(2, DEC19, product="consumer"),
        loan(3, DEC19, "10000.00", 100, product="consumer"),
        # business: NPL 20000 of 120000 (1/6) → 20000 of 60000 (1/3): the amount is unchanged
        loan(4, DEC18, "20000.00", 100, product="business"),
        loan(5, DEC18, "100000.00", product="business"),
        loan(4, DEC19, "20000.00", 400, product="business"),
        loan(5, DEC19, "40000.00", product="business"),
        # mortgage: new this year, nothing at the baseline
        loan(6, DEC19, "50000.00", product="mortgage"),
    ]


def test_baseline_changes_and_double_reduction(make_session):
    session = make_session(baseline_tape())
    document = quality_report(session, DEC19, by="product")
    assert document["baseline"] == "2018-12-31" and document["warnings"] == []
    assert [s["as_of"] for s in document["snapshots"]] == ["2018-12-31", "2019-12-31"]
    rows = by_key(document)
    consumer = rows["consumer"]
    assert (
        consumer["baseline_balance"],
        consumer["baseline_npl_balance"],
        consumer["baseline_npl_ratio"],
    ) == ("150000.00", "50000.00", "0.333333")
    assert (
        consumer["npl_balance_change"],
        consumer["npl_ratio_change"],
        consumer["double_reduction"],
    ) == ("-40000.00", "-0.242424", True)
    business = rows["business"]
    assert (business["npl_ratio"], business["baseline_npl_ratio"]) == ("0.333333", "0.166667")
    # The change is the difference of the unrounded ratios (1/6), rounded: not 0.166666.
    assert business["npl_ratio_change"] == "0.166667"
    assert (business["npl_balance_change"], business["double_reduction"]) == ("0.00", False)
    mortgage = rows["mortgage"]
    assert (
        mortgage["baseline_balance"],
        mortgage["baseline_npl_ratio"],
        mortgage["npl_balance_change"],
        mortgage["npl_ratio_change"],
        mortgage["double_reduction"],
    ) == ("0.00", None, "0.00", None, None)
    total = document["total"]
    assert (total["balance"], total["npl_balance"], total["npl_ratio"]) == (
        "220000.00",
        "30000.00",
        "0.136364",
    )
    assert (
        total["baseline_balance"],
        total["baseline_npl_balance"],
        total["baseline_npl_ratio"],
    ) == ("270000.00", "70000.00", "0.259259")
    # 30000/220000 − 70000/270000 = −0.12289562…
    assert (total["npl_balance_change"], total["npl_ratio_change"], total["double_reduction"]) == (
        "-40000.00",
        "-0.122896",
        True,
    )
    explicit = quality_report(session, DEC19, by="product", baseline=DEC18)
    assert explicit["rows"] == document["rows"]


def test_a_missing_baseline_warns_by_default_and_is_an_error_when_asked_for(make_session):
    session = make_session(baseline_tape())
    # 2018-12's own default baseline, 2017-12, is not imported: figures, no comparison.
    document = quality_report(session, DEC18, by="product")
    assert document["baseline"] is None
    assert document["warnings"] == [
        "baseline 2017-12 (the previous December) is not imported: baseline figures, changes "
        "and double reduction are left empty"
    ]
    assert document["total"]["npl_balance"] == "70000.00"
    assert document["total"]["double_reduction"] is None
    with pytest.raises(UsageError, match="baseline 2019-06 is not imported"):
        quality_report(session, DEC19, baseline=date(2019, 6, 30))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"by": "branch"}, "unknown group 'branch'; group by one of: org_unit, product"),
        (
            {"by": "org_unit", "level": "province"},
            "unknown level 'province'; levels in the "
            "organisation file: city_branch, county_branch, sub_branch",
        ),
        ({"by": "product", "level": "sub_branch"}, "--level applies only to --by org_unit"),
        ({"as_of": date(2020, 1, 31)}, "month 2020-01 is not imported"),
        ({"baseline": date(2020, 12, 31), "as_of": DEC19}, "baseline 2020-12 is not imported"),
    ],
)
def test_mistakes_are_usage_errors(make_session, options, message):
    session = make_session(unit_tape())
    options = dict(options)
    as_of = options.pop("as_of", DEC19)
    with pytest.raises(UsageError, match=message):
        quality_report(session, as_of, **options)


def test_ratios_round_half_up_only_when_shown():
    assert format_ratio(Decimal("0.0000005")) == "0.000001"
    assert format_ratio(Decimal("-0.0000005")) == "-0.000001"
    assert format_ratio(Decimal("-0.0000004")) == "0.000000"
    assert format_ratio(None) is None
