"""``/migration/``: the class matrix against the start of the year and the migration rates —
the page's figures are ``npldesk migration``'s JSON for the same months rounded as people read
them, the unit filter follows the unit's loans, the scope holds, and the downloads are exact."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from npldesk.casework.models import Person
from npldesk.cli import run
from npldesk.home import Home
from tests.casework.world import World
from tests.web.test_quality import percent, yuan

Sign = Callable[[Person], Client]
RATE = re.compile(r'<td class="num" data-key="(\w+)">([^<]*)</td>')
ROW = re.compile(r'<tr data-from="(\w+)">(.*?)</tr>', re.S)
CELL = re.compile(r'data-to="(\w+)" data-count="(\d+)" title="([^"]*)"')


def cli_json(home: Home, *argv: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NPLDESK_LANGUAGE", "en")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([*argv, "--format", "json", "--home", str(home.path)])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def matrix_shown(text: str) -> dict[str, dict[str, tuple[int, str]]]:
    return {
        source: {target: (int(count), title) for target, count, title in CELL.findall(cells)}
        for source, cells in ROW.findall(text)
    }


def test_the_matrix_and_rates_shown_are_the_commands_json(
    world: World, figures_home: Home, client_for: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No base month asked for: the start of the year, 2019-12 for 2020-01.
    response = client_for(world.analyst).get("/migration/?as_of=2020-01", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.content.decode()
    expected = cli_json(
        figures_home, "migration", "--from", "2019-12", "--to", "2020-01", monkeypatch=monkeypatch
    )
    shown = matrix_shown(text)
    assert set(shown) == set(expected["matrix"])
    for source, cells in expected["matrix"].items():
        for target, cell in cells.items():
            count, title = shown[source][target]
            assert count == cell["count"], (source, target)
            assert title == yuan(cell["balance"]), (source, target)
    rates = dict(RATE.findall(text))
    for name, rate in expected["rates"].items():
        assert rates[name] == ("n/a" if rate is None else percent(rate)), name
    # Loan 6 went from normal to substandard in January.
    assert expected["matrix"]["normal"]["substandard"]["count"] == 1
    assert 'id="heatmap-chart"' in text and "echarts.min.js" in text


def test_a_units_matrix_follows_its_loans_at_the_start(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.leader)
    county = matrix_shown(client.get("/migration/?as_of=2020-01&unit=HB01").content.decode())
    other = matrix_shown(client.get("/migration/?as_of=2020-01&unit=HB02").content.decode())
    bank = matrix_shown(client.get("/migration/?as_of=2020-01").content.decode())
    assert sum(c for c, _ in county["normal"].values()) == 3  # loans 2, 3 and 4
    assert sum(c for c, _ in other["normal"].values()) == 3  # loans 6, 7 and 8
    assert county["normal"]["substandard"][0] == 0
    assert other["normal"]["substandard"][0] == 1
    for source, cells in bank.items():
        for target, (count, _) in cells.items():
            assert count == county[source][target][0] + other[source][target][0]


def test_the_page_drills_down_to_the_units_below(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = client_for(world.leader).get("/migration/?as_of=2020-01").content.decode()
    assert 'unit=HB01" data-unit="HB01"' in text and 'unit=HB02" data-unit="HB02"' in text


def test_a_unit_outside_the_persons_scope_is_not_found(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.outsider)
    assert client.get("/migration/?as_of=2020-01&unit=HB02").status_code == 200
    assert client.get("/migration/?as_of=2020-01&unit=HB01").status_code == 404
    assert client_for(world.officer).get("/migration/").status_code == 404
    assert client_for(world.leader).get("/migration/?basis=nonsense").status_code == 404


def test_a_base_month_not_imported_is_said_not_raised(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.leader).get("/migration/?as_of=2020-01&from=2019-06")
    assert response.status_code == 400
    assert "2019-06" in response.content.decode()


def test_in_chinese_the_classes_are_translated(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = (
        client_for(world.leader)
        .get("/migration/?as_of=2020-01", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert "迁徙" in text and "次级" in text and "万元" in text


def test_the_csv_download_is_the_commands_cells_exactly(
    world: World, figures_home: Home, client_for: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = client_for(world.leader).get("/migration/?as_of=2020-01&format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = cli_json(
        figures_home, "migration", "--from", "2019-12", "--to", "2020-01", monkeypatch=monkeypatch
    )
    cells = {(row["from"], row["to"]): (int(row["count"]), row["balance"]) for row in rows}
    assert cells == {
        (source, target): (cell["count"], cell["balance"])
        for source, targets in expected["matrix"].items()
        for target, cell in targets.items()
    }


def test_the_xlsx_download_holds_numbers(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    from openpyxl import load_workbook

    response = client_for(world.leader).get(
        "/migration/?as_of=2020-01&format=xlsx", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(row=3, column=1).value == "From"
    balances = [sheet.cell(row=r, column=4).value for r in range(4, 10)]
    assert all(isinstance(value, int | float) for value in balances)
