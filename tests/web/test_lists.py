"""``/lists/<name>/``: the loan lists of ``npldesk list`` — the rows shown and downloaded are the
command's for the same month and unit; personal data is masked, shown only for the cases the
person works and then recorded; rows link to their case; the scope holds; the leader's journey
from the dashboard to a sub-branch's new-NPL download works."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from npldesk.casework.models import AuditRecord, Person
from npldesk.cli import run
from npldesk.home import Home
from npldesk.reports.pii import export_log_path
from npldesk.web.figures import lists
from tests.casework.factories import case_with_loan
from tests.casework.world import World
from tests.web.test_quality import yuan

Sign = Callable[[Person], Client]
ROW = re.compile(r'<tr data-loan="(\w+)">(.*?)</tr>', re.S)
CELL = re.compile(r'<td data-label="[^"]*" data-key="(\w+)"[^>]*>(.*?)</td>', re.S)


def npldesk(home: Home, *argv: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NPLDESK_LANGUAGE", "en")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([*argv, "--home", str(home.path)])
    assert code == 0, err.getvalue()
    return out.getvalue()


def rows_shown(text: str) -> dict[str, dict[str, str]]:
    return {loan: dict(CELL.findall(cells)) for loan, cells in ROW.findall(text)}


def exports_recorded(home: Home) -> list[dict[str, Any]]:
    path: Path = export_log_path(home.path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("new-npl", ""),
        ("early-warning", ""),
        ("early-warning", "unit=HB01"),
        ("upgraded", "from=2019-01"),
        ("top-npl", "limit=1"),
        ("deviation", ""),
    ],
)
def test_the_rows_shown_are_the_commands_json(
    world: World,
    figures_home: Home,
    client_for: Sign,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    options: str,
) -> None:
    response = client_for(world.analyst).get(
        f"/lists/{name}/?as_of=2020-01&{options}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    argv = ["list", name, "--as-of", "2020-01", "--format", "json"]
    for option in filter(None, options.split("&")):
        key, value = option.split("=")
        argv += [f"--{key}", value]
    expected = json.loads(npldesk(figures_home, *argv, monkeypatch=monkeypatch))["rows"]
    shown = rows_shown(response.content.decode())
    assert list(shown) == [row["loan_id"] for row in expected]
    for row in expected:
        cells = shown[row["loan_id"]]
        assert cells["principal_balance"] == yuan(row["principal_balance"])
        assert cells["days_past_due"] == f"{row['days_past_due']:,}"
        assert cells["borrower_name"] == row["borrower_name"]  # both masked
        assert "张三" not in cells["borrower_name"]


def test_the_csv_download_is_the_commands_csv(
    world: World, figures_home: Home, client_for: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("new-npl", "early-warning"):
        response = client_for(world.leader).get(f"/lists/{name}/?as_of=2020-01&format=csv")
        assert response.status_code == 200
        expected = npldesk(
            figures_home,
            "list",
            name,
            "--as-of",
            "2020-01",
            "--format",
            "csv",
            monkeypatch=monkeypatch,
        )
        assert response.content.decode() == expected
    assert exports_recorded(figures_home) == []


def test_a_unit_outside_the_persons_scope_is_not_found(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.outsider)
    assert client.get("/lists/new-npl/?as_of=2020-01&unit=HB02").status_code == 200
    assert client.get("/lists/new-npl/?as_of=2020-01&unit=HB01").status_code == 404
    assert client.get("/lists/new-npl/?as_of=2020-01&unit=HB01&format=csv").status_code == 404
    assert client.get("/lists/nonsense/").status_code == 404
    assert client_for(world.officer).get("/lists/new-npl/").status_code == 404
    # The lead of HB02 sees only HB02's loans by default.
    shown = rows_shown(client.get("/lists/early-warning/?as_of=2020-01").content.decode())
    assert shown == {}
    assert list(rows_shown(client.get("/lists/new-npl/?as_of=2020-01").content.decode())) == [
        "L000006"
    ]


def test_personal_data_is_masked_and_the_leader_may_not_unmask_it(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.leader)
    text = client.get("/lists/early-warning/?as_of=2020-01", HTTP_ACCEPT_LANGUAGE="en")
    body = text.content.decode()
    assert "张三" not in body and "13800000000" not in body
    assert "pii=1" not in body
    asked = client.get("/lists/early-warning/?as_of=2020-01&pii=1", HTTP_ACCEPT_LANGUAGE="en")
    assert "张三" not in asked.content.decode()
    download = client.get("/lists/early-warning/?as_of=2020-01&pii=1&format=csv")
    assert "张三" not in download.content.decode()
    assert exports_recorded(figures_home) == []
    assert not AuditRecord.objects.filter(action="personal_data_export").exists()


def test_the_lead_who_works_the_case_sees_its_personal_data_and_it_is_recorded(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    # Loan 2 (HB0101) is an early warning in January; its case is in the lead's units.
    case = case_with_loan(world.units["HB0101"], loan_id="L000002", owner=world.officer)
    client = client_for(world.lead)
    page = client.get("/lists/early-warning/?as_of=2020-01", HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert f'href="/cases/{case.number}/"' in body
    assert "张三" not in body and "pii=1" in body
    assert exports_recorded(figures_home) == []

    shown = client.get("/lists/early-warning/?as_of=2020-01&pii=1", HTTP_ACCEPT_LANGUAGE="en")
    assert rows_shown(shown.content.decode())["L000002"]["borrower_name"] == "张三"
    [record] = exports_recorded(figures_home)
    assert record["rows"] == 1 and record["list"] == "early-warning"
    audit = AuditRecord.objects.get(action="personal_data_export")
    assert audit.actor == world.lead and audit.after["rows"] == 1

    download = client.get("/lists/early-warning/?as_of=2020-01&pii=1&format=csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [row["borrower_name"] for row in rows] == ["张三"]
    assert len(exports_recorded(figures_home)) == 2
    assert AuditRecord.objects.filter(action="personal_data_export").count() == 2


def test_rows_without_a_case_the_person_works_stay_masked(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    # The lead of HB01 works loan 2's case only: the new-NPL list of the whole bank is HB02's.
    case_with_loan(world.units["HB0101"], loan_id="L000002", owner=world.officer)
    client = client_for(world.outsider)
    response = client.get("/lists/new-npl/?as_of=2020-01&pii=1&format=csv")
    assert "张三" not in response.content.decode()
    assert exports_recorded(figures_home) == []


def test_sorting_and_pages(
    world: World, figures_home: Home, client_for: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(world.leader)
    url = "/lists/top-npl/?as_of=2020-01"
    by_days = rows_shown(client.get(url + "&sort=-days_past_due").content.decode())
    assert list(by_days) == ["L000001", "L000005", "L000006"]  # 220, 130, 95 days
    by_balance = rows_shown(client.get(url + "&sort=principal_balance").content.decode())
    assert list(by_balance) == ["L000006", "L000005", "L000001"]  # 70k, 80k, 100k
    assert client.get(url + "&sort=borrower_name").status_code == 404
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    first = client.get(url + "&sort=-days_past_due", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    second = client.get(url + "&sort=-days_past_due&page=2").content.decode()
    assert list(rows_shown(first)) == ["L000001", "L000005"]
    assert list(rows_shown(second)) == ["L000006"]
    assert "Page 1 of 2" in first


def test_a_product_filter_keeps_that_products_loans(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.leader)
    url = "/lists/top-npl/?as_of=2020-01&product="
    assert len(rows_shown(client.get(url + "consumer").content.decode())) == 3
    assert rows_shown(client.get(url + "mortgage").content.decode()) == {}


def test_a_bad_start_month_is_said_not_raised(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.leader).get("/lists/new-npl/?as_of=2020-01&from=2020-03")
    assert response.status_code == 400
    assert client_for(world.leader).get("/lists/top-npl/?limit=x").status_code == 404


def test_the_leaders_journey_from_the_dashboard_to_a_sub_branchs_new_npl_download(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    from openpyxl import load_workbook

    client = client_for(world.leader)
    dashboard = client.get("/?as_of=2020-01").content.decode()
    county = re.search(r'href="(/quality/\?[^"]*unit=HB02)"', dashboard)
    assert county is not None
    county_page = client.get(county.group(1).replace("&amp;", "&")).content.decode()
    sub = re.search(r'href="(\?[^"]*unit=HB0201)"', county_page)
    assert sub is not None
    sub_page = client.get("/quality/" + sub.group(1).replace("&amp;", "&")).content.decode()
    listed = re.search(r'href="(/lists/new-npl/\?[^"]*unit=HB0201)"', sub_page)
    assert listed is not None
    list_page = client.get(listed.group(1).replace("&amp;", "&"))
    assert list(rows_shown(list_page.content.decode())) == ["L000006"]
    xlsx = re.search(r'href="(\?[^"]*format=xlsx)"', list_page.content.decode())
    assert xlsx is not None
    download = client.get("/lists/new-npl/" + xlsx.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sheet.cell(row=4, column=1).value == "L000006"
    assert sheet.cell(row=4, column=6).value == 70000


def test_a_list_page_costs_the_same_queries_for_one_case_as_for_three(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world.lead.units.set([world.units["HB"]])  # a lead of the whole bank: every row's case
    client = client_for(world.lead)
    url = "/lists/top-npl/?as_of=2020-01&pii=1"

    def queries() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    case_with_loan(world.units["HB0101"], loan_id="L000001", owner=world.officer)
    one = queries()
    case_with_loan(world.units["HB0201"], loan_id="L000005", owner=world.officer)
    case_with_loan(world.units["HB0201"], loan_id="L000006", owner=world.officer)
    assert queries() == one
    text = client.get(url).content.decode()
    assert len(re.findall(r'href="/cases/[^"]+/"', text)) == 3 and text.count("张三") == 3


def test_products_are_said_by_their_labels_and_filtered_by_their_codes(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    client = client_for(world.leader)
    url = "/lists/top-npl/?as_of=2020-01&product=consumer"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text, name in ((english, "Consumer loan"), (chinese, "个人消费贷款")):
        shown = rows_shown(text)
        assert len(shown) == 3
        assert {cells["product"].strip() for cells in shown.values()} == {name}
        assert f'<option value="consumer" selected>{name}</option>' in text
