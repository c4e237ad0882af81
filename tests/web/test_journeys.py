"""Browser journeys: each role does its day's work in Debian's Chromium against a live gunicorn
on a copy of the session's demo home (in Chinese, the home's language), and the database shows
what they did.

One server and one browser serve the whole module; each journey signs in its own people in its
own browser context and writes to objects no other journey touches. Each page visited is
checked by axe-core (no serious or critical violation) and photographed under the test's
``tmp_path`` (``screenshots/``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from npldesk.demo.credentials import DemoSignIn, read_credentials
from tests.web.browser import DESKTOP, PHONE, axe_violations, chromium, chromium_path
from tests.web.live import LiveServer, copy_home, served

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def live(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo home's copy, served for every journey of the module."""
    folder = tmp_path_factory.mktemp("journeys")
    home = copy_home(demo_home, folder / "home")
    with served(home, folder / "server.log", "serve") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def _database(live: LiveServer) -> sqlite3.Connection:
    return sqlite3.connect(live.home / "npldesk.sqlite3")


def _people(live: LiveServer) -> dict[str, DemoSignIn]:
    return {s.username: s for s in read_credentials(live.home)}


def _checked(page: Page, shots: Path, name: str) -> None:
    """axe-core on the page as it is, and a screenshot of it."""
    page.screenshot(path=shots / f"{name}.png", full_page=True)
    assert axe_violations(page) == [], name
    assert page.locator("html").get_attribute("lang") == "zh-hans", name


def _no_error(page: Page) -> None:
    assert page.locator(".messages .error").count() == 0, page.locator(".messages").inner_text()


def _signed_in(browser: Browser, live: LiveServer, who: DemoSignIn, size: dict[str, int]) -> Page:
    # A branch's PC asks for Chinese, as the home's people read it.
    context = browser.new_context(viewport=size, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live.url}/login/")
    page.fill("#id_username", who.username)
    page.fill("#id_password", who.password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}/")
    return page


def _sign_out(page: Page) -> None:
    page.click("form[action='/logout/'] button")
    page.wait_for_url("**/login/**")
    page.context.close()


def _open_case(page: Page, live: LiveServer, number: str) -> None:
    """From the worklist when the case is on it, else found through the case list."""
    link = page.locator(f"main a[href='/cases/{number}/']")
    if link.count() == 0:
        page.goto(f"{live.url}/cases/?q={number}")
        link = page.locator(f"main a[href='/cases/{number}/']")
    link.first.click()
    page.wait_for_url(f"{live.url}/cases/{number}/")


def _audit(live: LiveServer, case: str, count: int) -> list[tuple[str, str]]:
    """The last ``count`` audit records of the case (action, username), oldest first."""
    with _database(live) as db:
        rows = db.execute(
            "select r.action, u.username from casework_auditrecord r join casework_person p "
            "on r.actor_id = p.id join auth_user u on p.user_id = u.id join casework_case c "
            "on r.case_id = c.id where c.number = ? order by r.id desc limit ?",
            (case, count),
        ).fetchall()
    return [(action, who) for action, who in rows[::-1]]


# The officer: worklist → case → a visit with a promise → a plan proposal; a lead approves it.


def _officer_case(live: LiveServer) -> tuple[DemoSignIn, DemoSignIn, str]:
    """An officer's open case with no plan waiting, and the team lead of its county."""
    with _database(live) as db:
        number, officer, path = db.execute(
            """
            select c.number, u.username, unit.path
            from casework_case c
            join casework_person p on c.owner_id = p.id
            join auth_user u on p.user_id = u.id
            join casework_household h on c.household_id = h.id
            join casework_unit unit on h.unit_id = unit.id
            where c.closed_on is null and u.username not like 'demo-%'
              and not exists (
                select 1 from casework_plan plan where plan.case_id = c.id
                  and plan.state = 'proposed')
            order by c.number limit 1
            """
        ).fetchone()
    people = _people(live)
    counties = set(path.strip("/").split("/"))
    lead = next(s for s in people.values() if "team_lead" in s.roles and counties & set(s.units))
    return people[officer], lead, number


def test_an_officer_records_a_visit_and_proposes_a_plan_a_lead_approves_it(
    live: LiveServer, browser: Browser, shots: Path
) -> None:
    officer, lead, number = _officer_case(live)
    today = date.today()

    page = _signed_in(browser, live, officer, DESKTOP)
    page.goto(f"{live.url}/worklist/")
    _checked(page, shots, "officer-worklist")
    _open_case(page, live, number)
    _checked(page, shots, "officer-case")
    visit = page.locator("form[action$='/activity/']")
    visit.locator("[name=kind]").select_option("visit")
    visit.locator("[name=outcome]").select_option("promise")
    visit.locator("[name=occurred_at]").fill(f"{today.isoformat()}T10:00")
    visit.locator("[name=notes]").fill("journey: met at the shop")
    visit.locator("[name=promise_amount]").fill("1500.00")
    visit.locator("[name=promise_due_on]").fill((today + timedelta(days=7)).isoformat())
    visit.locator("button[type=submit]").click()
    page.wait_for_load_state()
    _no_error(page)
    page.locator("form[action$='/plan/']").evaluate("f => f.closest('details').open = true")
    plan = page.locator("form[action$='/plan/']")
    plan.locator("[name=strategy]").select_option("repayment_plan")
    plan.locator("[name=reason]").fill("journey: pays from the harvest")
    plan.locator("[name=target_amount]").fill("5000")
    plan.locator("[name=target_date]").fill((today + timedelta(days=90)).isoformat())
    plan.locator("button[type=submit]").click()
    page.wait_for_load_state()
    _no_error(page)
    _checked(page, shots, "officer-case-proposed")
    _sign_out(page)

    # The lead finds the plan waiting for them on their worklist and approves it.
    page = _signed_in(browser, live, lead, DESKTOP)
    _checked(page, shots, "lead-worklist")
    _open_case(page, live, number)
    decide = page.locator("form[action*='/plans/'][action$='/decide/']").first
    decide.locator("[name=approve]").select_option("1")
    decide.locator("[name=note]").fill("journey: agreed")
    decide.locator("button[type=submit]").click()
    page.wait_for_load_state()
    _no_error(page)
    _checked(page, shots, "lead-case")
    _sign_out(page)

    with _database(live) as db:
        case_id, state = db.execute(
            "select id, state from casework_case where number = ?", (number,)
        ).fetchone()
        visits = db.execute(
            "select a.kind, a.outcome, pr.amount, pr.due_on from casework_activity a "
            "join casework_promise pr on pr.activity_id = a.id where a.case_id = ? "
            "and a.notes = 'journey: met at the shop'",
            (case_id,),
        ).fetchall()
        plans = db.execute(
            "select strategy, state, target_amount from casework_plan where case_id = ? "
            "and reason = 'journey: pays from the harvest'",
            (case_id,),
        ).fetchall()
    assert [(k, o, float(a), d) for k, o, a, d in visits] == [
        ("visit", "promise", 1500.0, (today + timedelta(days=7)).isoformat())
    ]
    assert [(s, st, float(t)) for s, st, t in plans] == [("repayment_plan", "approved", 5000.0)]
    assert state == "plan_approved"
    # Each write was one service call with its audit record, by the person signed in.
    assert _audit(live, number, 3) == [
        ("activity_record", officer.username),
        ("plan_propose", officer.username),
        ("plan_decide", lead.username),
    ]


# The lead: the team board → choose cases → reassign them to one officer.


def test_a_lead_reassigns_cases_from_the_team_board(
    live: LiveServer, browser: Browser, shots: Path
) -> None:
    lead = _people(live)["lead-hb01"]
    page = _signed_in(browser, live, lead, DESKTOP)
    page.locator("nav a[href='/teams/']").click()
    page.wait_for_url(f"{live.url}/teams/")
    _checked(page, shots, "lead-teams")
    page.locator("main a[href='/teams/CT1/']").first.click()
    page.wait_for_url(f"{live.url}/teams/CT1/")
    _checked(page, shots, "lead-board")

    boxes = page.locator("input[name=cases]")
    assert boxes.count() >= 2, "the board lists no case to reassign"
    chosen = sorted({boxes.nth(i).get_attribute("value") or "" for i in range(2)})
    for value in chosen:
        page.locator(f"input[name=cases][value='{value}']").first.check()
    owners = page.locator("#reassign-owner option")
    owner = next(
        value
        for value in (owners.nth(i).get_attribute("value") for i in range(owners.count()))
        if value and value != lead.username
    )
    page.select_option("#reassign-owner", owner)
    page.fill("#reassign-reason", "journey: evening out the load")
    page.locator("fieldset.reassign button[type=submit]").click()
    page.wait_for_url(f"{live.url}/teams/CT1/")
    _no_error(page)
    assert page.locator(".messages .success").count() == 1
    _checked(page, shots, "lead-board-reassigned")
    _sign_out(page)

    numbers = [value.split(":")[0] for value in chosen]
    with _database(live) as db:
        owners_now = db.execute(
            "select c.number, u.username, t.code from casework_case c "
            "join casework_person p on c.owner_id = p.id join auth_user u on p.user_id = u.id "
            "join casework_team t on c.team_id = t.id "
            f"where c.number in ({', '.join('?' for _ in numbers)}) order by c.number",
            numbers,
        ).fetchall()
        run = db.execute(
            "select r.reason from casework_auditrecord r where r.action = "
            "'case_reassign_bulk_run' order by r.id desc limit 1"
        ).fetchone()
    assert owners_now == [(number, owner, "CT1") for number in numbers]
    for number in numbers:
        assert _audit(live, number, 1) == [("case_reassign_bulk", lead.username)]
    assert run == ("journey: evening out the load",)


# The legal desk: the board → a legal case → its next stage.

NEXT_STAGE = {
    "preparing": "lawyers_letter",
    "lawyers_letter": "filed",
    "filed": "hearing",
    "hearing": "judgment",
    "judgment": "enforcement_applied",
    "enforcement_applied": "enforcement",
}


def test_the_legal_desk_records_a_legal_cases_next_stage(
    live: LiveServer, browser: Browser, shots: Path
) -> None:
    with _database(live) as db:
        legal_id, number, stage, since = db.execute(
            "select l.id, c.number, l.stage, l.stage_since from casework_legalcase l "
            "join casework_case c on l.case_id = c.id join casework_person p on "
            "l.holder_id = p.id join auth_user u on p.user_id = u.id "
            "where u.username = 'demo-legal' and c.closed_on is null and l.stage in "
            f"({', '.join('?' for _ in NEXT_STAGE)}) order by l.stage_since, l.id limit 1",
            list(NEXT_STAGE),
        ).fetchone()
    entered = max(date.today(), date.fromisoformat(since))
    page = _signed_in(browser, live, _people(live)["demo-legal"], DESKTOP)
    page.locator("nav a[href='/legal/']").click()
    page.wait_for_url(f"{live.url}/legal/")
    _checked(page, shots, "legal-board")
    page.locator(f"main a[href='/cases/{number}/']").first.click()
    page.wait_for_url(f"{live.url}/cases/{number}/")
    form = page.locator(f"form[action='/cases/{number}/legal/{legal_id}/advance/']")
    form.evaluate("f => f.closest('details').open = true")
    _checked(page, shots, "legal-case")
    form.locator("[name=stage]").select_option(NEXT_STAGE[stage])
    form.locator("[name=entered_on]").fill(entered.isoformat())
    form.locator("[name=court_case_number]").fill("(2026)皖0603民初1号")
    form.locator("[name=note]").fill("journey: the next stage")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live.url}/cases/{number}/**")
    _no_error(page)
    _checked(page, shots, "legal-case-advanced")
    _sign_out(page)

    with _database(live) as db:
        now = db.execute(
            "select stage, stage_since, court_case_number from casework_legalcase where id = ?",
            (legal_id,),
        ).fetchone()
    assert now == (NEXT_STAGE[stage], entered.isoformat(), "(2026)皖0603民初1号")
    assert _audit(live, number, 1) == [("legal_case_advance", "demo-legal")]


# Finance: one prepares a write-off, a second reviews it, a leader approves it.


def _decide_on_desk(page: Page, number: str, note: str) -> None:
    card = page.locator("article.card", has=page.locator(f"a[href='/cases/{number}/']"))
    card.locator("[name=note]").fill(note)
    card.locator("button[name=approve][value='1']").click()
    page.wait_for_url("**/finance/")
    _no_error(page)


def test_a_write_off_is_prepared_reviewed_and_approved_by_three_people(
    live: LiveServer, browser: Browser, shots: Path
) -> None:
    people = _people(live)
    page = _signed_in(browser, live, people["demo-finance"], DESKTOP)
    page.locator("nav a[href='/finance/']").click()
    page.wait_for_url(f"{live.url}/finance/")
    _checked(page, shots, "finance-desk")
    item = page.locator("#prepare-h ~ details").first
    number = (item.locator("input[name=case]").get_attribute("value")) or ""
    loan = (item.locator("input[name=loan_id]").get_attribute("value")) or ""
    item.locator("summary").click()
    item.locator("[name=reason]").fill("journey: recovery exhausted")
    item.locator("button[type=submit]").click()
    page.wait_for_url(f"{live.url}/finance/")
    _no_error(page)
    _checked(page, shots, "finance-prepared")
    _sign_out(page)

    page = _signed_in(browser, live, people["demo-finance-2"], DESKTOP)
    page.goto(f"{live.url}/finance/")
    _checked(page, shots, "finance-review")
    _decide_on_desk(page, number, "journey: documents complete")
    _sign_out(page)

    page = _signed_in(browser, live, people["demo-leader"], DESKTOP)
    page.locator("nav a[href='/finance/']").click()
    page.wait_for_url(f"{live.url}/finance/")
    _checked(page, shots, "leader-approve")
    _decide_on_desk(page, number, "journey: approved")
    _checked(page, shots, "leader-approved")
    _sign_out(page)

    with _database(live) as db:
        state, approved_on, reason = db.execute(
            "select w.state, w.approved_on, w.reason from casework_writeoff w "
            "join casework_case c on w.case_id = c.id where c.number = ? and w.loan_id = ?",
            (number, loan),
        ).fetchone()
        steps = db.execute(
            "select d.step, u.username from casework_writeoffdecision d join casework_writeoff w "
            "on d.writeoff_id = w.id join casework_person p on d.by_id = p.id join auth_user u "
            "on p.user_id = u.id where w.loan_id = ? and w.reason = ? order by d.id",
            (loan, reason),
        ).fetchall()
    assert (state, approved_on, reason) == (
        "approved",
        date.today().isoformat(),
        "journey: recovery exhausted",
    )
    assert steps == [
        ("prepared", "demo-finance"),
        ("reviewed", "demo-finance-2"),
        ("approved", "demo-leader"),
    ]
    assert _audit(live, number, 3) == [
        ("writeoff_prepare", "demo-finance"),
        ("writeoff_decide", "demo-finance-2"),
        ("writeoff_decide", "demo-leader"),
    ]


# The leader: the dashboard → a county's asset quality, down to its sub-branches, and the
# county's figures as a workbook. (FOLLOW-UP: a sub-branch's row leads on to its new-NPL list,
# /lists/<name>/, when that page lands; the journey then ends there.)


def test_a_leader_drills_down_from_the_dashboard_to_the_sub_branches_and_downloads_them(
    live: LiveServer, browser: Browser, shots: Path
) -> None:
    page = _signed_in(browser, live, _people(live)["demo-leader"], DESKTOP)
    page.wait_for_selector("main table")
    _checked(page, shots, "leader-dashboard")
    page.locator("main table a[href*='/quality/'][href*='unit=HB01']").first.click()
    page.wait_for_url("**/quality/**unit=HB01")
    _checked(page, shots, "leader-quality-county")
    with _database(live) as db:
        branches = [
            code
            for (code,) in db.execute(
                "select u.code from casework_unit u join casework_unit p on u.parent_id = p.id "
                "where p.code = 'HB01' order by u.code"
            )
        ]
    shown = page.locator("main table tbody tr[data-unit]")
    rows = {
        shown.nth(i).get_attribute("data-unit"): shown.nth(i)
        .locator("[data-key=npl_balance]")
        .get_attribute("title")
        for i in range(shown.count())
    }
    assert set(branches) <= set(rows), "every sub-branch of the county is a row"
    with page.expect_download() as download:
        page.locator("a[href*='format=xlsx']").click()
    workbook = shots / "quality-HB01.xlsx"
    download.value.save_as(workbook)
    _sign_out(page)

    # The workbook holds the page's rows, each amount the exact yuan the page shows on hover.
    sheet = load_workbook(workbook, read_only=True).worksheets[0]
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    npl = [[str(c).startswith("不良贷款余额") for c in row] for row in cells]
    header = next(n for n, row in enumerate(npl) if any(row))
    column = npl[header].index(True)
    in_book = {str(row[0]): row[column] for row in cells[header + 1 :] if row and row[0]}
    for code in branches:
        assert Decimal(str(in_book[code])) == Decimal((rows[code] or "").replace(",", "")), code


# The officer on a phone: worklist → case → a phone call entered, at 360 px.


def test_an_officer_enters_a_call_on_a_phone(
    live: LiveServer, browser: Browser, shots: Path
) -> None:
    with _database(live) as db:
        number, officer = db.execute(
            "select c.number, u.username from casework_case c join casework_person p "
            "on c.owner_id = p.id join auth_user u on p.user_id = u.id "
            "where c.closed_on is null and u.username not like 'demo-%' "
            "order by c.number desc limit 1"
        ).fetchone()
    page = _signed_in(browser, live, _people(live)[officer], PHONE)
    page.goto(f"{live.url}/worklist/")
    _checked(page, shots, "phone-worklist")
    _open_case(page, live, number)
    _checked(page, shots, "phone-case")
    call = page.locator("form[action$='/activity/']")
    call.scroll_into_view_if_needed()
    call.locator("[name=kind]").select_option("phone")
    call.locator("[name=outcome]").select_option("contacted")
    call.locator("[name=occurred_at]").fill(f"{date.today().isoformat()}T11:00")
    call.locator("[name=notes]").fill("journey: the son answered; calls back on Friday")
    call.locator("button[type=submit]").click()
    page.wait_for_load_state()
    _no_error(page)
    _checked(page, shots, "phone-case-entered")
    # Nothing of the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _sign_out(page)

    with _database(live) as db:
        entered = db.execute(
            "select a.kind, a.outcome from casework_activity a join casework_case c "
            "on a.case_id = c.id where c.number = ? and a.notes like 'journey: the son%'",
            (number,),
        ).fetchall()
    assert entered == [("phone", "contacted")]
    assert _audit(live, number, 1) == [("activity_record", officer)]
