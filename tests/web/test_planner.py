"""``/planner/``: the double-reduction planner down the unit tree — its figures are ``npldesk
plan --by org_unit --format json``'s rounded as people read them, the what-if options are the
command line's, bad options are a clear 400, and the scope holds."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from npldesk.casework.models import Person
from npldesk.cli import run
from npldesk.home import Home
from tests.casework.world import World, person
from tests.web.test_quality import percent, yuan

Sign = Callable[[Person], Client]
# A cell's first text (a ratio's band follows in its own element).
CELL = re.compile(r'<td[^>]*data-key="(\w+)"(?: title="([^"]*)")?[^>]*>([^<]*)')
ROW = re.compile(r'<tr data-unit="([^"]+)".*?</tr>', re.S)
DRAWS = "200"
TRACKING = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", None: "—"}


def tables(text: str) -> dict[str, dict[str, dict[str, tuple[str, str]]]]:
    """Each table of the page (by class) → unit → column → (exact title, text shown)."""
    found = {}
    for name in ("plan", "levers"):
        table = text.split(f'class="list figures {name}"', 1)[1].split("</table>", 1)[0]
        found[name] = {
            row.group(1): {
                key: (title, shown.strip()) for key, title, shown in CELL.findall(row.group(0))
            }
            for row in ROW.finditer(table)
        }
    return found


def page(client: Client, query: str, status: int = 200, language: str = "en") -> str:
    response = client.get(f"/planner/?{query}", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def cli_plan(home: Home, capsys: pytest.CaptureFixture[str], leader: Person, *argv: str) -> Any:
    """What ``npldesk plan --by org_unit --format json`` prints for the leader."""
    capsys.readouterr()
    code = run(
        ["plan", "--as-of", "2020-01", "--by", "org_unit", "--format", "json", "--draws", DRAWS,
         "--as", leader.user.get_username(), "--home", str(home.path), *argv]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def assert_shown(cells: dict[str, tuple[str, str]], row: dict[str, Any]) -> None:
    forecast = row["forecast_npl_balance"]
    assert cells["current_npl_balance"] == (
        yuan(row["current_npl_balance"]),
        yuan(row["current_npl_balance"]),
    )
    for part in ("p10", "p50", "p90"):
        assert cells[f"npl_{part}"] == (yuan(forecast[part]), yuan(forecast[part]))
    assert cells["ratio_p50"][1] == percent(row["forecast_npl_ratio"]["p50"])
    assert cells["probability"][1] == percent(row["probability_double_reduction"])
    assert cells["tracking"][1] == TRACKING[row["tracking"]]
    assert cells["required_reduction"][0] == yuan(row["required_reduction"])


def test_the_plan_shown_is_the_command_lines_json(
    world: World, figures_home: Home, client_for: Sign, capsys: pytest.CaptureFixture[str]
) -> None:
    text = page(client_for(world.leader), f"draws={DRAWS}")
    document = cli_plan(figures_home, capsys, world.leader)
    rows = {row["key"]: row for row in document["rows"]}
    shown = tables(text)
    assert list(shown["plan"]) == ["HB", "HB01", "HB02"]
    for code, cells in shown["plan"].items():
        assert_shown(cells, rows[code])
    for code, cells in shown["levers"].items():
        for lever, figures in rows[code]["levers"].items():
            assert cells[lever][0] == f"{yuan(figures['proposed'])} / {yuan(figures['capacity'])}"
    # The headline tiles are the bank's row.
    assert f'data-key="npl_p50" title="{yuan(rows["HB"]["forecast_npl_balance"]["p50"])}"' in text
    assert "Forecast to 2020-12 against 2019-12, over 200 draws" in text


def test_what_if_options_are_the_command_lines(
    world: World, figures_home: Home, client_for: Sign, capsys: pytest.CaptureFixture[str]
) -> None:
    client = client_for(world.analyst)
    text = page(
        client,
        f"as_of=2020-01&draws={DRAWS}&growth=0.5&seed=7&window=6&price_ratio=0.5"
        "&unit=HB01&cash=0&upgrade=0&write_off=0&transfer=0",
    )
    document = cli_plan(
        figures_home, capsys, world.leader, "--growth", "0.5", "--seed", "7", "--window", "6",
        "--price-ratio", "0.5", "--capacity", "HB01:cash=0", "--capacity", "HB01:upgrade=0",
        "--capacity", "HB01:write_off=0", "--capacity", "HB01:transfer=0",
    )  # fmt: skip
    rows = {row["key"]: row for row in document["rows"]}
    shown = tables(text)
    assert list(shown["plan"]) == ["HB01", "HB0101"]
    for code, cells in shown["plan"].items():
        assert_shown(cells, rows[code])
    levers = shown["levers"]["HB01"]
    assert all(
        levers[lever][0] == "0.00 / 0.00" for lever in ("cash", "upgrade", "write_off", "transfer")
    )
    expected = "no" if Decimal(rows["HB01"]["required_reduction"]) > 0 else "yes"
    assert levers["closes_gap"][1] == expected


def test_drilling_down_keeps_the_options(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = page(client_for(world.leader), f"draws={DRAWS}&seed=3")
    assert f'href="?draws={DRAWS}&amp;seed=3&amp;unit=HB01"' in text
    below = page(client_for(world.leader), f"draws={DRAWS}&seed=3&unit=HB01")
    assert '<a href="?draws=200&amp;seed=3&amp;unit=HB">' in below  # the breadcrumb up


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("draws=lots", "Bootstrap draws: Enter a whole number."),
        ("draws=1000000", "Bootstrap draws: Ensure this value is less than or equal to 10000."),
        ("cash=-5", "Cash recovery capacity: Ensure this value is greater than or equal to 0."),
        ("as_of=2020-13", "Month: Enter a valid date."),
        ("basis=weekly", "Basis: Select a valid choice."),
    ],
)
def test_bad_options_are_a_clear_message(
    world: World, figures_home: Home, client_for: Sign, query: str, message: str
) -> None:
    text = page(client_for(world.leader), query, status=400)
    assert message in text


def test_a_month_not_imported_is_a_clear_message(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = page(client_for(world.leader), f"as_of=2018-05&draws={DRAWS}", status=400)
    assert 'role="alert"' in text and "2018-05" in text


def test_scope_and_roles(world: World, figures_home: Home, client_for: Sign) -> None:
    county_leader = client_for(person("leader", world.units["HB02"]))
    assert county_leader.get("/planner/?unit=HB01").status_code == 404
    shown = tables(page(county_leader, f"draws={DRAWS}"))
    assert list(shown["plan"]) == ["HB02", "HB0201"]
    for someone in (world.officer, world.lead, world.finance, world.legal, world.admin):
        assert client_for(someone).get("/planner/").status_code == 404


def test_the_page_in_chinese(world: World, figures_home: Home, client_for: Sign) -> None:
    text = page(client_for(world.leader), f"draws={DRAWS}", language="zh-hans")
    assert "双降规划" in text and "万元" in text and "按计划推进" in text


def test_the_month_ends_plan_is_shown_for_the_defaults(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    """With the default options the page shows the plan the month-end run kept (the one the
    bank tracks); a what-if, or a snapshot replaced since, computes afresh."""
    from npldesk.analytics.session import Analytics
    from npldesk.core.months import parse_month
    from npldesk.planner.pipeline import no_pipeline
    from npldesk.planner.plan import PlanRequest, plan_report, stored_plan_path

    document = plan_report(
        Analytics.for_home(figures_home),
        PlanRequest(as_of=parse_month("2020-01"), by="org_unit", draws=int(DRAWS)),
        no_pipeline("test"),
    )
    for row in document["rows"]:
        if row["key"] == "HB01":
            row["probability_double_reduction"] = "0.123"
    path = stored_plan_path(figures_home.path, parse_month("2020-01"))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    client = client_for(world.leader)
    assert tables(page(client, ""))["plan"]["HB01"]["probability"][1] == "12.30 %"
    assert tables(page(client, "seed=5"))["plan"]["HB01"]["probability"][1] != "12.30 %"
    document["snapshots"][0]["sha256"] = "0" * 64
    path.write_text(json.dumps(document), encoding="utf-8")
    assert tables(page(client, ""))["plan"]["HB01"]["probability"][1] != "12.30 %"


def test_the_warnings_read_in_chinese(world: World, figures_home: Home, client_for: Sign) -> None:
    client = client_for(world.leader)
    notice = re.compile(r'<p class="notice">(.*?)</p>', re.S)
    english = notice.findall(page(client, f"draws={DRAWS}"))
    chinese = notice.findall(page(client, f"draws={DRAWS}", language="zh-hans"))
    assert english and len(chinese) == len(english)
    assert any("history" in text or "write-off" in text for text in english)
    for text in chinese:
        assert re.search(r"[\u4e00-\u9fff]", text), text
        assert not re.search(r"\b[a-z]{4,}\b", text), text
