"""``/`` for leaders and risk analysts: their units' dashboard, its figures the report builders'
JSON rounded as people read them, its charts drawn from a static script, within their scope."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client

from npldesk.analytics.session import Analytics
from npldesk.casework.models import Person
from npldesk.home import Home
from npldesk.reports.figures import movement_report, quality_report, quality_trend
from tests.casework.world import World, person
from tests.web.test_planner import TRACKING, cli_plan
from tests.web.test_quality import page_rows, percent, yuan

Sign = Callable[[Person], Client]
JANUARY = date(2020, 1, 31)


def english(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def chart_data(text: str) -> dict:
    found = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', text)
    assert found is not None
    return json.loads(found.group(1))


def test_a_leaders_home_is_the_dashboard_with_the_verdict_per_county(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = english(client_for(world.leader), "/")
    assert "Dashboard" in text and "Today's work" not in text
    report = quality_report(Analytics.for_home(figures_home), JANUARY, by="org_unit").as_json()
    expected = {row["key"]: row for row in report["rows"]}
    shown = page_rows(text)
    assert set(shown) == {"HB01", "HB02"}  # the bank's county branches
    for code, cells in shown.items():
        assert cells["npl_balance"] == yuan(expected[code]["npl_balance"])
        assert cells["npl_ratio"] == percent(expected[code]["npl_ratio"])
    assert shown["HB01"]["double_reduction"] == "Double reduction achieved"
    assert shown["HB02"]["double_reduction"] == "Not achieved"
    assert 'data-key="early_warning">1<' in text  # loan 2, 45 days past due


def test_the_charts_carry_the_builders_figures_and_no_inline_script(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = english(client_for(world.analyst), "/")
    data = chart_data(text)
    session = Analytics.for_home(figures_home)
    trend = quality_trend(session, date(2019, 1, 31), JANUARY).as_json()["units"]["HB"]
    assert data["trend"]["months"] == ["2019-01", "2019-12", "2020-01"]
    assert data["trend"]["npl_balance"] == [point["npl_balance"] for point in trend]
    movement = movement_report(session, JANUARY, period="ytd", by="org_unit").as_json()
    lines = next(row for row in movement["rows"] if row["key"] == "HB")
    steps = {step["code"]: step["amount"] for step in data["waterfall"]["steps"]}
    assert steps["opening"] == lines["opening"] and steps["closing"] == lines["closing"]
    # Scripts come from files only: the chart data is JSON, drawn by the static figures.js.
    scripts = re.findall(r"<script([^>]*)>", text)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "web/figures.js" in text and "vendor/echarts.min.js" in text


def test_cases_by_state_counts_the_cases_in_scope(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = english(client_for(world.leader), "/")
    table = text.split('class="list cases-by-state"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'<th scope="row">Opened</th><td class="num" data-key="cases">1<', table)


def test_an_officer_and_a_lead_have_the_worklist_and_no_dashboard(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    for someone in (world.officer, world.lead):
        client = client_for(someone)
        assert "Today's work" in english(client, "/")
        assert client.get("/dashboard/").status_code == 404


def test_a_unit_outside_the_leaders_scope_is_not_found(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    county_leader = person("leader", world.units["HB02"])
    client = client_for(county_leader)
    assert client.get("/?unit=HB01").status_code == 404
    assert client.get("/dashboard/?unit=HB").status_code == 404
    text = english(client, "/")
    assert set(page_rows(text)) == {"HB0201"}
    assert 'data-key="early_warning">0<' in text


def test_each_units_year_end_outlook_links_to_the_planner(
    world: World, figures_home: Home, client_for: Sign, capsys: pytest.CaptureFixture[str]
) -> None:
    from npldesk.core.months import parse_month
    from npldesk.planner.plan import stored_plan_path

    document = cli_plan(figures_home, capsys, world.leader)  # the month-end's plan
    path = stored_plan_path(figures_home.path, parse_month("2020-01"))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    response = client_for(world.leader).get("/", HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    rows = {row["key"]: row for row in document["rows"]}
    for code in ("HB01", "HB02"):
        cell = re.search(
            rf'<tr data-unit="{code}">.*?data-key="tracking"[^>]*>'
            r'<a[^>]*href="([^"]+)"[^>]*>([^<]*)</a>',
            text,
            re.S,
        )
        assert cell is not None
        assert cell.group(1) == f"/planner/?as_of=2020-01&amp;unit={code}"
        assert cell.group(2) == TRACKING[rows[code]["tracking"]]
    assert "Year-end outlook" in text


def test_cases_by_state_are_counts_with_thousands_separators(rf: Any) -> None:
    """A county's cases run to thousands: read as 2,029, as every count of the app is."""
    request = rf.get("/dashboard/")
    request.person = None
    page = render_to_string(
        "web/figures/dashboard.html", {"cases": [("Opened", 2029)], "as_of": None}, request
    )
    assert re.search(r'data-key="cases">2,029<', page)
