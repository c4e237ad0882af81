"""``/quality/``: asset quality down the unit tree — the page's figures are the report's JSON
rounded as people read them, the scope holds, and the downloads carry the exact figures."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.test import Client

from npldesk.casework.models import Person
from npldesk.core.months import parse_month
from npldesk.home import Home
from npldesk.reports.figures import quality_report
from npldesk.web.figures import source
from tests.casework.world import World

Sign = Callable[[Person], Client]
CELL = re.compile(r'<td[^>]*data-key="(\w+)"[^>]*>([^<]*)</td>')
ROW = re.compile(r'<tr data-unit="(\w+)".*?</tr>', re.S)


def page_rows(text: str) -> dict[str, dict[str, str]]:
    """Each unit's cells as shown, by column code."""
    return {match.group(1): dict(CELL.findall(match.group(0))) for match in ROW.finditer(text)}


def wan(text: str | None) -> str:
    if text is None:
        return "—"
    value = (Decimal(text) / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:,.2f}"


def yuan(text: str | None) -> str:
    return "—" if text is None else f"{Decimal(text):,.2f}"


def percent(text: str | None) -> str:
    if text is None:
        return "—"
    return f"{(Decimal(text) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} %"


def report_json(home: Home, as_of: str) -> dict[str, Any]:
    from npldesk.analytics.session import Analytics

    report = quality_report(Analytics.for_home(home), parse_month(as_of), by="org_unit")
    return {row["key"]: row for row in report.as_json()["rows"]}


def test_the_figures_shown_are_the_reports_json_rounded_the_same_way(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.leader).get(
        "/quality/?as_of=2020-01&by=org_unit", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    shown = page_rows(response.content.decode())
    expected = report_json(figures_home, "2020-01")
    assert set(shown) == {"HB", "HB01", "HB02"}
    for code, cells in shown.items():
        row = expected[code]
        assert cells["loans"] == f"{row['loans']:,}"
        assert cells["npl_balance"] == yuan(row["npl_balance"])  # English: yuan
        assert cells["npl_ratio"] == percent(row["npl_ratio"])
        assert cells["baseline_npl_balance"] == yuan(row["baseline_npl_balance"])
    assert Decimal(expected["HB01"]["npl_balance_change"]) < 0
    assert shown["HB01"]["double_reduction"] == "Double reduction achieved"
    assert shown["HB02"]["double_reduction"] == "Not achieved"


def test_in_chinese_money_is_in_ten_thousands_with_the_exact_yuan_on_hover(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.leader)
    text = client.get("/quality/?as_of=2020-01&by=org_unit", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = text.content.decode()
    expected = report_json(figures_home, "2020-01")["HB02"]
    cells = page_rows(body)["HB02"]
    assert cells["npl_balance"] == wan(expected["npl_balance"])
    hover = f'data-key="npl_balance" title="{yuan(expected["npl_balance"])}"'
    assert hover in body
    assert "万元" in body and "双降" in body


def test_drill_down_goes_from_the_bank_to_a_county_to_its_sub_branch(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.leader)
    bank = client.get("/quality/?as_of=2020-01").content.decode()
    assert "unit=HB01" in bank
    county = client.get("/quality/?as_of=2020-01&by=org_unit&unit=HB01").content.decode()
    assert set(page_rows(county)) == {"HB01", "HB0101"}
    sub = client.get("/quality/?as_of=2020-01&by=org_unit&unit=HB0101").content.decode()
    assert set(page_rows(sub)) == {"HB0101"}
    assert 'unit=HB01"' in sub or "unit=HB01&" in sub or "unit=HB01" in sub


def test_a_unit_outside_the_persons_scope_is_not_found(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    # The lead of HB02 reads HB02's figures but not HB01's, nor the bank's.
    client = client_for(world.outsider)
    assert client.get("/quality/?as_of=2020-01&unit=HB02").status_code == 200
    assert client.get("/quality/?as_of=2020-01&unit=HB01").status_code == 404
    assert client.get("/quality/?as_of=2020-01&unit=HB").status_code == 404
    assert set(page_rows(client.get("/quality/?as_of=2020-01").content.decode())) == {
        "HB02",
        "HB0201",
    }


def test_an_officer_has_no_figures_pages(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    assert client_for(world.officer).get("/quality/").status_code == 404
    assert client_for(world.legal).get("/quality/").status_code == 404


def test_the_csv_download_carries_the_exact_figures_and_no_personal_data(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.leader).get("/quality/?as_of=2020-01&format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    expected = report_json(figures_home, "2020-01")
    assert set(rows) == {"HB", "HB01", "HB02"}
    for code, row in rows.items():
        assert row["npl_balance"] == expected[code]["npl_balance"]
        assert row["double_reduction"] == str(expected[code]["double_reduction"]).lower()
    text = response.content.decode()
    assert "张三" not in text and "340602" not in text


def test_the_xlsx_download_is_a_workbook_of_the_units_shown(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    from openpyxl import load_workbook

    response = client_for(world.leader).get("/quality/?as_of=2020-01&unit=HB01&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    codes = [sheet.cell(row=r, column=1).value for r in range(4, 6)]
    assert codes == ["HB01", "HB0101"]


def test_a_month_end_is_computed_once_and_read_from_the_cache(
    world: World, figures_home: Home, client_for: Sign, monkeypatch: Any
) -> None:
    client = client_for(world.leader)
    assert client.get("/quality/?as_of=2020-01").status_code == 200
    calls: list[str] = []
    original = source.Analytics.rows

    def counting(self: Any, expr: Any) -> Any:
        calls.append("query")
        return original(self, expr)

    monkeypatch.setattr(source.Analytics, "rows", counting)
    assert client.get("/quality/?as_of=2020-01&unit=HB01").status_code == 200
    assert calls == []


def test_the_web_session_runs_duckdb_on_one_thread(figures_home: Home) -> None:
    analytics = source.session()
    threads = analytics.engine.con.raw_sql("SELECT current_setting('threads')").fetchone()
    assert threads[0] == 1


def test_a_replaced_month_changes_the_figures_key_and_an_unchanged_store_is_not_read_again(
    figures_home: Home, tmp_path: Any, monkeypatch: Any
) -> None:
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.store import Store
    from tests.tape_factory import write_csv
    from tests.web.conftest import figures_tape

    analytics = source.session()
    before = source.inputs_key(analytics)
    reads: list[str] = []
    manifest = Store.manifest

    def reading(store: Store) -> Any:
        reads.append("manifest")
        return manifest(store)

    monkeypatch.setattr(Store, "manifest", reading)
    assert source.inputs_key(analytics) == before
    assert reads == []
    january = [row for row in figures_tape() if row["as_of"] == "2020-01-31"]
    january[2]["days_past_due"] = "5"
    replaced = write_csv(tmp_path / "january.csv", january)
    import_files(Store(figures_home.store_path), [replaced], ImportOptions(replace=True))
    assert source.inputs_key(analytics) != before


def test_a_frozen_figure_is_kept_in_the_worker_and_a_mutable_one_read_from_the_cache(
    figures_home: Home, monkeypatch: Any
) -> None:
    built = source.figure("kept-figure", (1,), lambda analytics: Figure(1))
    plain = source.figure("plain-figure", (1,), lambda analytics: {"value": 1})
    reads: list[str] = []
    original = source.cache.get

    def reading(key: str, *args: Any) -> Any:
        reads.append(key)
        return original(key, *args)

    monkeypatch.setattr(source.cache, "get", reading)
    assert source.figure("kept-figure", (1,), lambda analytics: Figure(2)) is built
    assert reads == []
    # A dict could be changed by the request that reads it: each read is the cache's copy.
    again = source.figure("plain-figure", (1,), lambda analytics: {"value": 2})
    assert again == plain and again is not plain
    assert len(reads) == 1
    # A frozen figure holding a list (a loan list's rows) stays on disk, however large.
    rows = source.figure("rows-figure", (1,), lambda analytics: Rows([{"loan_id": "L1"}]))
    assert source.figure("rows-figure", (1,), lambda analytics: Rows([])) == rows
    assert len(reads) == 3


@dataclass(frozen=True)
class Figure:
    """A figure as the report builders return one (the cache pickles it: module level)."""

    value: int


@dataclass(frozen=True)
class Rows:
    rows: list[dict[str, str]]
