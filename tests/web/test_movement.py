"""``/movement/``: the NPL movement down the unit tree — the page's lines are the report's JSON
rounded as people read them, the scope holds, and the downloads carry the exact lines."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from django.test import Client

from npldesk.analytics.movement import GROUP_LINES
from npldesk.analytics.session import Analytics
from npldesk.casework.models import Person
from npldesk.home import Home
from npldesk.reports.figures import movement_report
from tests.casework.world import World
from tests.web.test_quality import page_rows, yuan

Sign = Callable[[Person], Client]


def expected(home: Home, period: str) -> dict[str, dict[str, str]]:
    report = movement_report(
        Analytics.for_home(home), date(2020, 1, 31), period=period, by="org_unit"
    )
    return {row["key"]: row for row in report.as_json()["rows"]}


def test_the_lines_shown_are_the_reports_json_rounded_the_same_way(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.analyst).get(
        "/movement/?as_of=2020-01&period=ytd", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    shown = page_rows(response.content.decode())
    lines = expected(figures_home, "ytd")
    assert set(shown) == {"HB", "HB01", "HB02"}
    for code, cells in shown.items():
        for line in GROUP_LINES:
            assert cells[line] == yuan(lines[code][line]), (code, line)
    assert lines["HB01"]["cash"] != "0.00"  # the half repaid in January


def test_in_chinese_the_lines_are_in_ten_thousands_and_the_words_translated(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = client_for(world.leader).get("/movement/?as_of=2020-01&unit=HB01").content.decode()
    assert "不良贷款变动" in text and "万元" in text
    assert set(page_rows(text)) == {"HB01", "HB0101"}


def test_a_unit_outside_the_persons_scope_is_not_found(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.outsider)
    assert client.get("/movement/?as_of=2020-01&unit=HB01").status_code == 404
    assert client_for(world.officer).get("/movement/").status_code == 404


def test_a_missing_month_in_the_period_is_said_not_raised(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    # 2019-12's year to date starts at 2018-12, which is not imported.
    response = client_for(world.leader).get(
        "/movement/?as_of=2019-12&period=ytd", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert (
        "months missing" in response.content.decode() or "not imported" in response.content.decode()
    )


def test_the_csv_download_carries_the_exact_lines(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.leader).get("/movement/?as_of=2020-01&format=csv")
    assert response.status_code == 200
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    lines = expected(figures_home, "month")
    assert set(rows) == {"HB", "HB01", "HB02"}
    for code, row in rows.items():
        assert all(row[line] == lines[code][line] for line in GROUP_LINES)
