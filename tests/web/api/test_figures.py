"""``/api/v1/figures/``: on the demo home, the API's figures are the CLI's ``--format json``
documents (the CLI run as a child process); a unit's caller reads their unit's rows; a unit
outside the caller's scope is 404, a role without figures 403; a list is paginated, masked, and
unmasked only for the loans of cases the caller works (recorded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from npldesk.casework.models import AuditRecord, Person, Unit
from npldesk.home import load_home
from tests.casework.factories import case_again, case_with_loan
from tests.casework.world import World
from tests.casework.world import person as staff
from tests.conftest import clean_environment

MONTH = "2019-12"


def cli_json(demo_home: Path, *argv: str) -> Any:
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", *argv]
    command += ["--format", "json", "--home", str(demo_home)]
    done = subprocess.run(
        command, capture_output=True, text=True, env=clean_environment(), timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def demo_units(db: None, demo_home: Path, settings: Any) -> dict[str, Unit]:
    """The demo's bank (HB00) and two of its city branches as casework units; the demo home is
    the web's home."""
    settings.HOME = load_home(str(demo_home))
    top = Unit.objects.create(code="HB00", name="bank", level="bank", path="/HB00/")
    units = {"HB00": top}
    for code in ("HB01", "HB04"):
        units[code] = Unit.objects.create(
            code=code, name=code, parent=top, level="city", path=f"/HB00/{code}/"
        )
    return units


@pytest.fixture
def leader(demo_units: dict[str, Unit]) -> Person:
    return staff("leader", demo_units["HB00"])


def _get(api: Any, path: str, **params: Any) -> Any:
    response = api.get(path, **params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("path", "params", "argv"),
    [
        ("/figures/quality", {"as_of": MONTH}, ["quality", "--as-of", MONTH]),
        (
            "/figures/quality",
            {"as_of": MONTH, "by": "org_unit"},
            ["quality", "--as-of", MONTH, "--by", "org_unit"],
        ),
        (
            "/figures/quality",
            {"as_of": MONTH, "by": "product", "baseline": "2019-06"},
            ["quality", "--as-of", MONTH, "--by", "product", "--baseline", "2019-06"],
        ),
        (
            "/figures/movement",
            {"as_of": MONTH, "period": "ytd", "by": "org_unit"},
            ["movement", "--as-of", MONTH, "--period", "ytd", "--by", "org_unit"],
        ),
        (
            "/figures/migration",
            {"from": "2018-12", "to": MONTH},
            ["migration", "--from", "2018-12", "--to", MONTH],
        ),
        (
            "/figures/migration",
            {"from": "2019-06", "to": MONTH, "basis": "dpd", "buckets": "f18"},
            ["migration", "--from", "2019-06", "--to", MONTH, "--basis", "dpd", "--buckets", "f18"],
        ),
    ],
)
def test_the_figures_are_the_cli_documents(
    demo_home: Path, leader: Person, api_for, path: str, params: dict[str, str], argv: list[str]
) -> None:
    assert _get(api_for(leader), path, **params) == cli_json(demo_home, *argv)


@pytest.mark.parametrize(("name", "extra"), [("early-warning", []), ("top-npl", ["--limit", "5"])])
def test_a_list_is_the_cli_document_page_by_page(
    demo_home: Path, leader: Person, api_for, name: str, extra: list[str]
) -> None:
    expected = cli_json(demo_home, "list", name, "--as-of", MONTH, *extra)
    api = api_for(leader)
    top = {"top": 5} if extra else {}
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        page = _get(
            api,
            f"/figures/lists/{name}",
            as_of=MONTH,
            limit=7,
            **top,
            **({"cursor": cursor} if cursor else {}),
        )
        items += page.pop("items")
        cursor = page.pop("next")
        pages += 1
        assert page == {k: v for k, v in expected.items() if k != "rows"}
        if cursor is None:
            break
    assert items == expected["rows"]
    assert pages == max(1, -(-len(expected["rows"]) // 7))
    assert all(row["borrower_name"] is None or "*" in row["borrower_name"] for row in items)


def test_a_unit_reads_its_own_rows_with_its_line_as_the_total(
    demo_home: Path, demo_units: dict[str, Unit], api_for
) -> None:
    lead = staff("team_lead", demo_units["HB04"])
    whole = cli_json(demo_home, "quality", "--as-of", MONTH, "--by", "org_unit")
    mine = _get(api_for(lead), "/figures/quality", as_of=MONTH)
    own = next(row for row in whole["rows"] if row["key"] == "HB04")
    assert mine["total"] == {k: v for k, v in own.items() if k not in ("key", "name")}
    assert [row["key"] for row in mine["rows"]] == ["HB04"]
    listed = cli_json(demo_home, "list", "new-npl", "--as-of", MONTH, "--unit", "HB04")
    page = _get(api_for(lead), "/figures/lists/new-npl", as_of=MONTH, limit=200)
    assert page["items"] == listed["rows"][:200]


def test_a_unit_outside_the_scope_is_404_and_a_role_without_figures_403(
    demo_units: dict[str, Unit], api_for
) -> None:
    lead = api_for(staff("team_lead", demo_units["HB04"]))
    for path, params in (
        ("/figures/quality", {"as_of": MONTH}),
        ("/figures/movement", {"as_of": MONTH}),
        ("/figures/migration", {"from": "2019-06", "to": MONTH}),
        ("/figures/lists/new-npl", {"as_of": MONTH}),
    ):
        response = lead.get(path, unit="HB01", **params)
        assert response.status_code == 404, response.content
        assert response["Content-Type"] == "application/problem+json"
        officer = api_for(staff("officer", demo_units["HB04"]))
        assert officer.get(path, **params).status_code == 403
    by_product = lead.get("/figures/quality", as_of=MONTH, by="product")
    assert by_product.status_code == 403


def test_bad_months_are_refused_field_by_field(leader: Person, api_for) -> None:
    api = api_for(leader)
    response = api.get("/figures/quality", as_of="2019-13")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["as_of"]
    missing = api.get("/figures/quality", as_of="2031-01")
    assert missing.status_code == 400 and "2031" in missing.json()["detail"]
    assert api.get("/figures/lists/new-npl", as_of=MONTH, cursor="nonsense").status_code == 422


def test_personal_data_is_shown_only_for_the_cases_the_caller_works(
    figures_home: Any, world: World, api_for
) -> None:
    # The figures tape's NPL households at 2020-01: loans 1 (HB0101), 5 and 6 (HB0201); the
    # lead of the whole branch works the case of loan 1 only.
    lead = staff("team_lead", world.units["HB"])
    case_with_loan(world.units["HB0101"], loan_id="L000001")
    api = api_for(lead)
    before = AuditRecord.objects.count()
    page = _get(api, "/figures/lists/top-npl", as_of="2020-01", pii="true")
    names = {row["loan_id"]: row["borrower_name"] for row in page["items"]}
    assert names == {"L000001": "张三", "L000005": "张*", "L000006": "张*"}
    assert page["personal_data"] == "shown"
    added = AuditRecord.objects.order_by("id")[before:]
    assert [(r.action, r.after["rows"]) for r in added] == [("personal_data_export", 1)]
    log = (figures_home.path / "audit" / "exports.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["rows"] == 1
    # Without asking, nothing is shown and nothing recorded.
    masked = _get(api, "/figures/lists/top-npl", as_of="2020-01")
    assert masked["personal_data"] == "masked"
    assert {row["borrower_name"] for row in masked["items"]} == {"张*"}
    assert AuditRecord.objects.count() == before + 1


def test_who_owned_a_loans_closed_case_sees_it_masked_once_it_has_a_new_case(
    figures_home: Any, world: World, api_for
) -> None:
    # Loan 1 turned NPL again after its case closed: its new case is another officer's. Its
    # former owner, in finance now (a role that reads the lists), works neither case.
    former = staff("finance", world.units["HB"])
    closed = case_with_loan(world.units["HB0101"], loan_id="L000001", owner=former)
    case_again(closed, owner=world.officer)
    api = api_for(former)
    before = AuditRecord.objects.count()
    page = _get(api, "/figures/lists/top-npl", as_of="2020-01", pii="true")
    assert page["personal_data"] == "masked"
    assert {row["borrower_name"] for row in page["items"]} == {"张*"}
    assert AuditRecord.objects.count() == before
