"""The monthly report's §8 (casework, through the casework selector as a reader may see it) and
§9 (the planner's table from the plan document given), on a small home and casework built here:
recoveries by unit below and source, before and after write-off, in the month and the year to
date, reversals netted; a reader sees only their scope; the HTML says it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from npldesk.analytics.session import Analytics
from npldesk.casework.models import LegalCase, Recovery, Unit
from npldesk.home import Home
from npldesk.planner.pipeline import no_pipeline
from npldesk.planner.plan import PlanRequest, plan_report
from npldesk.reports.monthly import monthly_report
from npldesk.reports.monthly_render import html_document
from tests.casework.factories import build_tree, case_with_loan, system_actor_present
from tests.casework.world import person
from tests.web.conftest import FIGURES_ORG, figures_tape

JANUARY = date(2020, 1, 31)


@pytest.fixture
def units(db: None) -> dict[str, Unit]:
    return build_tree()


@pytest.fixture
def home(tmp_path: Path, units: dict[str, Unit]) -> Home:
    from npldesk.home import create_home, load_home
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store
    from tests.tape_factory import write_csv, write_org

    created, _ = create_home(tmp_path / "home")
    store = Store(created.store_path)
    import_org(store, write_org(tmp_path / "org.csv", FIGURES_ORG))
    import_files(store, [write_csv(tmp_path / "tape.csv", figures_tape())], ImportOptions())
    return load_home(created.path)


def recovery(case: Any, on: date, amount: str, source: str, **fields: Any) -> Recovery:
    found: Recovery = Recovery.objects.create(
        case=case,
        loan_id=case.loans.get().loan_id,
        received_on=on,
        amount=Decimal(amount),
        principal_part=Decimal(amount),
        source=source,
        entered_by=case.owner or system_actor_present(),
        entered_at=timezone.now(),
        **fields,
    )
    return found


@pytest.fixture
def casework(units: dict[str, Unit]) -> None:
    north = case_with_loan(units["HB0101"], deadline=date(2020, 1, 10))
    south = case_with_loan(units["HB0201"], deadline=date(2020, 3, 1))
    case_with_loan(units["HB0201"], state="resolved", deadline=date(2019, 1, 1))
    paid = recovery(north, date(2020, 1, 10), "100.00", "borrower")
    recovery(north, date(2020, 1, 12), "-20.00", "borrower", reverses=paid)
    recovery(north, date(2019, 12, 15), "999.00", "borrower")  # last year
    recovery(south, date(2020, 1, 20), "50.00", "guarantor", after_write_off=True)
    LegalCase.objects.create(
        case=south,
        holder=system_actor_present(),
        court="相山区人民法院",
        claim_amount=Decimal(10),
        stage="filed",
        stage_since=date(2020, 1, 5),
    )


def report(home: Home, reader: Any, unit: str | None = None) -> Any:
    session = Analytics.for_home(home)
    plan = plan_report(
        session, PlanRequest(as_of=JANUARY, by="org_unit", draws=200), no_pipeline("test")
    )
    built = monthly_report(
        session,
        JANUARY,
        unit=unit,
        generated_by="tester",
        generated_at=datetime(2020, 2, 1, tzinfo=UTC),
        casework_reader=reader,
        plan=plan,
    )
    return built, plan


def test_the_casework_section_of_the_bank(home: Home, casework: None) -> None:
    built, _plan = report(home, system_actor_present())
    section = built.casework
    assert section.open_cases == 2 and section.by_state["opened"] == 2
    assert "resolved" not in section.by_state
    assert section.deadlines_past == 1  # the north case's, 2020-01-10
    lines = {
        (r.key, r.source, r.after_write_off): (r.month, r.year_to_date) for r in section.recoveries
    }
    assert lines == {
        ("HB01", "borrower", False): (Decimal("80.00"), Decimal("80.00")),
        ("HB02", "guarantor", True): (Decimal("50.00"), Decimal("50.00")),
    }
    assert section.total("month", after_write_off=False) == Decimal("80.00")
    assert section.legal_by_stage["filed"] == 1
    document = built.as_json()["casework"]
    assert document["recoveries_year_to_date"] == "130.00"


def test_the_outlook_is_the_plan_documents_rows(home: Home, casework: None) -> None:
    built, plan = report(home, system_actor_present())
    rows = {row["key"]: row for row in plan["rows"]}
    outlook = built.as_json()["outlook"]
    assert [row["key"] for row in outlook["rows"]] == ["HB01", "HB02"]
    for row in [outlook["unit"], *outlook["rows"]]:
        source = rows[row["key"]]
        assert row["npl_p50"] == source["forecast_npl_balance"]["p50"]
        assert row["tracking"] == source["tracking"]
        assert row["required_reduction"] == source["required_reduction"]
        assert row["probability_double_reduction"] == source["probability_double_reduction"]


def test_a_reader_sees_their_scope_only(home: Home, casework: None, units: dict[str, Unit]) -> None:
    county = person("leader", units["HB02"])
    built, _plan = report(home, county, unit="HB02")
    assert built.casework.open_cases == 1
    assert [r.key for r in built.casework.recoveries] == ["HB0201"]
    refused, _plan = report(home, county)  # the bank is outside their scope
    assert refused.casework is None


def test_the_html_says_both_sections(home: Home, casework: None) -> None:
    built, _plan = report(home, system_actor_present())
    page = html_document(built)
    assert "8. Casework" in page and "Recoveries by unit and source" in page
    assert "9. Year-end outlook" in page and "Guarantor" in page and "after write-off" in page
    without, _plan = report(home, None)
    assert "No casework database to read" in html_document(without)


def test_the_new_npl_products_are_said_by_their_labels(home: Home, casework: None) -> None:
    from django.utils import translation

    built, _plan = report(home, system_actor_present())
    assert built.new_npl is not None
    products = {tally.key for tally in built.new_npl.by_product}
    assert "consumer" in products
    # The JSON keeps the code; the page says the product's name in the reader's language.
    assert {t["key"] for t in built.as_json()["new_npl"]["by_product"]} == products
    english = html_document(built)
    assert '<td class="">Consumer loan</td>' in english
    assert '<td class="">consumer</td>' not in english
    with translation.override("zh-hans"):
        chinese = html_document(built)
    assert '<td class="">个人消费贷款</td>' in chinese and "Consumer loan" not in chinese
