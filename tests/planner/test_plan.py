"""The ``plan`` document (docs/planner.md): its shape, the gap and the mix on a forecast, the
casework pipeline read through its selector, and a tape-only home."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from npldesk.analytics import Analytics, connect
from npldesk.casework.models import Instalment, Promise, RepaymentPlan
from npldesk.core.errors import UsageError
from npldesk.planner.levers import meets_both
from npldesk.planner.pipeline import no_pipeline, read_pipeline
from npldesk.planner.plan import PlanRequest, plan_report, tracking
from tests.analytics.conftest import build_store, month
from tests.analytics.test_forecast import mixed_book
from tests.casework.factories import PersonFactory, case_with_loan

MARCH = month("2019-03")
ROW_FIELDS = {
    "baseline_npl_balance",
    "baseline_npl_ratio",
    "forecast_npl_balance",
    "forecast_npl_ratio",
    "forecast_balance",
    "probability_double_reduction",
    "required_reduction",
    "levers",
    "closes_gap",
}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    folder = tmp_path_factory.mktemp("plan")
    return Analytics(store=build_store(folder, mixed_book()), engine=connect("duckdb"))


def request(**changes: object) -> PlanRequest:
    fields: dict[str, object] = {"as_of": MARCH, "by": "org_unit", "draws": 200, "seed": 3}
    return PlanRequest(**(fields | changes))  # type: ignore[arg-type]


def test_the_document_has_the_shape_of_the_design(session):
    document = plan_report(session, request(level="county_branch"), no_pipeline("tape only"))
    assert {"as_of", "year_end", "baseline", "window", "draws", "rows", "total"} <= set(document)
    assert (document["as_of"], document["year_end"], document["baseline"]) == (
        "2019-03-31",
        "2019-12-31",
        "2018-12-31",
    )
    assert [row["key"] for row in document["rows"]] == ["HB01", "HB02"]
    for row in [*document["rows"], document["total"]]:
        assert set(row) >= ROW_FIELDS
        assert set(row["forecast_npl_balance"]) == {"p10", "p50", "p90"}
        assert set(row["levers"]) == {"cash", "upgrade", "write_off", "transfer"}
        for lever in row["levers"].values():
            assert set(lever) == {"capacity", "proposed", "expected_loss"}
    assert "tape only" in document["warnings"]
    assert document["pipeline"] is False


def test_the_proposed_mix_applied_to_the_p50_makes_double_reduction(session):
    total = plan_report(session, request(by=None), no_pipeline("tape only"))["total"]
    required = Decimal(total["required_reduction"])
    assert required > 0  # the book turned worse since December
    assert total["closes_gap"] is True
    npl = Decimal(total["forecast_npl_balance"]["p50"])
    book = Decimal(total["forecast_balance"])
    levers = total["levers"]
    proposed = sum(Decimal(lever["proposed"]) for lever in levers.values())
    leaving = proposed - Decimal(levers["upgrade"]["proposed"])
    assert proposed == required
    baseline_npl = Decimal(total["baseline_npl_balance"])
    baseline_book = Decimal(total["baseline_balance"])
    assert npl - proposed < baseline_npl
    # The ratio against the baseline's, cross-multiplied (the shown ratio is rounded).
    assert (npl - proposed) * baseline_book < baseline_npl * (book - leaving)
    assert meets_both(npl - proposed, book - leaving, baseline_npl, baseline_book)
    # One fen less would not do.
    fen = Decimal("0.01")
    assert not meets_both(npl - proposed + fen, book - leaving + fen, baseline_npl, baseline_book)


def test_a_gap_larger_than_every_capacity_is_reported_not_closable(session):
    nothing = dict.fromkeys(("cash", "upgrade", "write_off", "transfer"), Decimal(0))
    document = plan_report(
        session,
        request(level="county_branch", capacities={"total": nothing, "HB01": nothing}),
        no_pipeline("tape only"),
    )
    assert document["total"]["closes_gap"] is False
    assert all(lever["proposed"] == "0.00" for lever in document["total"]["levers"].values())
    hb01 = document["rows"][0]
    assert Decimal(hb01["required_reduction"]) > 0 and hb01["closes_gap"] is False


def test_capacities_name_a_row_shown_and_a_lever_known(session):
    with pytest.raises(UsageError, match="no row 'HB0101'"):
        plan_report(
            session,
            request(level="county_branch", capacities={"HB0101": {"cash": Decimal(1)}}),
            no_pipeline("tape only"),
        )
    with pytest.raises(UsageError, match="unknown lever"):
        plan_report(session, request(capacities={"total": {"gold": Decimal(1)}}), no_pipeline(""))


def test_what_if_a_price_ratio_changes_the_expected_loss_not_the_forecast(session):
    low = plan_report(session, request(by=None, price_ratio=Decimal("0.10")), no_pipeline(""))
    high = plan_report(session, request(by=None, price_ratio=Decimal("0.60")), no_pipeline(""))
    assert low["total"]["forecast_npl_balance"] == high["total"]["forecast_npl_balance"]
    transfer_low = low["total"]["levers"]["transfer"]
    transfer_high = high["total"]["levers"]["transfer"]
    if Decimal(transfer_low["proposed"]) > 0:
        assert Decimal(transfer_low["expected_loss"]) > Decimal(transfer_high["expected_loss"])


def test_tracking_thresholds():
    assert [tracking(p) for p in (0.95, 0.8, 0.79, 0.5, 0.49, None)] == [
        "on_track",
        "on_track",
        "at_risk",
        "at_risk",
        "off_track",
        None,
    ]


@pytest.mark.django_db
def test_the_pipeline_counts_what_falls_due_at_the_historys_rates(units, session):
    leader = PersonFactory(roles=["leader"], units=[units["HB"]])
    # The NPL loans of HB0101 in March: loans 3 and 9's unit is HB0102 / HB0101 (mixed_book).
    case = case_with_loan(units["HB0101"], balance="58000.00", npl_balance=Decimal("58000.00"))
    Promise.objects.create(
        case=case, amount=Decimal("1000.00"), made_on=date(2019, 1, 5), due_on=date(2019, 2, 1),
        state="kept", paid=Decimal("800.00"),
    )  # fmt: skip
    Promise.objects.create(
        case=case, amount=Decimal("10000.00"), made_on=date(2019, 3, 5), due_on=date(2019, 6, 1)
    )
    plan = RepaymentPlan.objects.create(
        case=case, kind="full", total=Decimal("4000.00"), agreed_on=date(2019, 1, 10)
    )
    Instalment.objects.create(
        plan=plan, number=1, due_on=date(2019, 2, 10), amount=Decimal("2000.00"),
        paid=Decimal("2000.00"), state="paid",
    )  # fmt: skip
    Instalment.objects.create(
        plan=plan, number=2, due_on=date(2019, 12, 10), amount=Decimal("2000.00")
    )
    pipeline = read_pipeline(leader, as_of=MARCH, until=date(2019, 12, 31))
    assert pipeline.available
    assert pipeline.rates.promise == Decimal("0.8")
    assert pipeline.rates.instalment == Decimal("1")
    # 10000 promised at 0.8 and 2000 of instalments at 1.0.
    assert pipeline.units["HB0101"].expected == Decimal("10000.00")
    assert pipeline.units["HB0101"].npl_balance == Decimal("58000.00")

    document = plan_report(session, request(), pipeline)
    row = next(r for r in document["rows"] if r["key"] == "HB0101")
    current_npl = Decimal(row["current_npl_balance"])
    share = min(Decimal("58000.00") / current_npl, Decimal(1))
    expected = Decimal("10000.00") - Decimal(row["expected"]["cash"]) * share
    assert Decimal(row["levers"]["cash"]["capacity"]) == max(expected, Decimal(0)).quantize(
        Decimal("0.01")
    )
    assert document["pipeline"] is True


@pytest.mark.django_db
def test_a_person_sees_only_the_pipeline_of_their_units(units):
    case_with_loan(units["HB0201"])
    officer = PersonFactory(roles=["finance"], units=[units["HB01"]])
    Promise.objects.create(
        case=case_with_loan(units["HB0101"]), amount=Decimal("500.00"),
        made_on=date(2019, 3, 1), due_on=date(2019, 5, 1),
    )  # fmt: skip
    seen = read_pipeline(officer, as_of=MARCH, until=date(2019, 12, 31))
    assert set(seen.units) == {"HB0101"}
    assert seen.units["HB0101"].expected == 0  # no history to estimate a rate from
