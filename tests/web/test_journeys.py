"""Browser journeys: people use the web app in Debian's Chromium against a live gunicorn on a
copy of the session's demo home, and the database shows what they did.

Each page visited is checked by axe-core (no serious or critical violation) and photographed
under the test's ``tmp_path`` at desktop width and, for the officer's case page, at 360 px.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from npldesk.demo.credentials import DemoSignIn, read_credentials
from tests.web.browser import DESKTOP, PHONE, axe_violations, chromium, chromium_path
from tests.web.live import LiveServer, copy_home, served

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


@dataclass(frozen=True)
class Chosen:
    officer: DemoSignIn
    lead: DemoSignIn
    case: str


def _database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "npldesk.sqlite3")


def _choose(home: Path) -> Chosen:
    """An officer's open case with no plan waiting, and the team lead of its county."""
    with _database(home) as db:
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
    sign_ins = {s.username: s for s in read_credentials(home)}
    counties = set(path.strip("/").split("/"))
    lead = next(s for s in sign_ins.values() if "team_lead" in s.roles and counties & set(s.units))
    return Chosen(sign_ins[officer], lead, number)


def _checked(page: Page, shots: Path, name: str) -> None:
    """axe-core on the page as it is, and a screenshot of it."""
    page.screenshot(path=shots / f"{name}.png", full_page=True)
    assert axe_violations(page) == [], name


def _sign_in(page: Page, live: LiveServer, who: DemoSignIn) -> None:
    page.goto(f"{live.url}/login/")
    page.fill("#id_username", who.username)
    page.fill("#id_password", who.password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}/")


def _sign_out(page: Page) -> None:
    page.click("form[action='/logout/'] button")
    page.wait_for_url("**/login/**")


def _open_case(page: Page, live: LiveServer, number: str) -> None:
    """From the worklist when the case is on it, else found through the case list."""
    link = page.locator(f"main a[href='/cases/{number}/']")
    if link.count() == 0:
        page.goto(f"{live.url}/cases/?q={number}")
        link = page.locator(f"main a[href='/cases/{number}/']")
    link.first.click()
    page.wait_for_url(f"{live.url}/cases/{number}/")


def test_an_officer_records_a_visit_and_proposes_a_plan_a_lead_approves_it(
    demo_home: Path, tmp_path: Path
) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    chosen = _choose(home)
    today = date.today()
    with served(home, tmp_path / "server.log", "serve") as live, chromium() as browser:
        _officer_day(browser, live, chosen, shots, today)
        _lead_approves(browser, live, chosen, shots)

    with _database(home) as db:
        case_id, state = db.execute(
            "select id, state from casework_case where number = ?", (chosen.case,)
        ).fetchone()
        visits = db.execute(
            "select a.kind, a.outcome, a.notes, pr.amount, pr.due_on from casework_activity a "
            "join casework_promise pr on pr.activity_id = a.id where a.case_id = ? "
            "and a.notes = 'journey: met at the shop'",
            (case_id,),
        ).fetchall()
        plans = db.execute(
            "select strategy, state, target_amount from casework_plan where case_id = ? "
            "and reason = 'journey: pays from the harvest'",
            (case_id,),
        ).fetchall()
        actions = db.execute(
            "select r.action, u.username from casework_auditrecord r join casework_person p "
            "on r.actor_id = p.id join auth_user u on p.user_id = u.id "
            "where r.case_id = ? order by r.id desc limit 3",
            (case_id,),
        ).fetchall()
    assert [(k, o, float(a), d) for k, o, _, a, d in visits] == [
        ("visit", "promise", 1500.0, (today + timedelta(days=7)).isoformat())
    ]
    assert [(s, st, float(t)) for s, st, t in plans] == [("repayment_plan", "approved", 5000.0)]
    assert state == "plan_approved"
    # Each write was one service call with its audit record, by the person signed in.
    officer, lead = chosen.officer.username, chosen.lead.username
    assert actions[::-1] == [
        ("activity_record", officer),
        ("plan_propose", officer),
        ("plan_decide", lead),
    ]
    for name in ("officer-worklist", "officer-case", "officer-case-phone", "lead-case"):
        assert (shots / f"{name}.png").stat().st_size > 10_000


def _officer_day(
    browser: Browser, live: LiveServer, chosen: Chosen, shots: Path, today: date
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, live, chosen.officer)
    page.goto(f"{live.url}/worklist/")
    _checked(page, shots, "officer-worklist")
    _open_case(page, live, chosen.case)
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
    assert page.locator(".messages .error, .error").count() == 0, page.content()

    page.locator("form[action$='/plan/']").evaluate("f => f.closest('details').open = true")
    plan = page.locator("form[action$='/plan/']")
    plan.locator("[name=strategy]").select_option("repayment_plan")
    plan.locator("[name=reason]").fill("journey: pays from the harvest")
    plan.locator("[name=target_amount]").fill("5000")
    plan.locator("[name=target_date]").fill((today + timedelta(days=90)).isoformat())
    plan.locator("button[type=submit]").click()
    page.wait_for_load_state()
    _checked(page, shots, "officer-case-proposed")

    page.set_viewport_size(PHONE)
    _checked(page, shots, "officer-case-phone")
    page.set_viewport_size(DESKTOP)
    _sign_out(page)
    context.close()


def _lead_approves(browser: Browser, live: LiveServer, chosen: Chosen, shots: Path) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, live, chosen.lead)
    _checked(page, shots, "lead-worklist")
    _open_case(page, live, chosen.case)
    decide = page.locator("form[action*='/plans/'][action$='/decide/']").first
    decide.locator("[name=approve]").select_option("1")
    decide.locator("[name=note]").fill("journey: agreed")
    decide.locator("button[type=submit]").click()
    page.wait_for_load_state()
    _checked(page, shots, "lead-case")
    context.close()


def test_a_lead_opens_the_months_risk_reminders_and_acknowledges_them(
    demo_home: Path, tmp_path: Path
) -> None:
    """`npldesk report reminders` delivers the month's packs; the lead finds the unread count
    in the navigation, opens the pack (desktop and phone, axe-core clean) and acknowledges it."""
    from tests.monthend.test_worker_kill import npldesk

    home = copy_home(demo_home, tmp_path / "home")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    npldesk(home, "report", "reminders", "--as-of", "2019-12", "--today", "2020-01-15")
    lead = _choose(home).lead
    with _database(home) as db:
        (packs,) = db.execute(
            "select count(*) from casework_reminderdelivery d join casework_person p on "
            "d.person_id = p.id join auth_user u on p.user_id = u.id where u.username = ?",
            (lead.username,),
        ).fetchone()
    assert packs >= 1  # one per unit the lead belongs to
    with served(home, tmp_path / "server.log", "serve") as live, chromium() as browser:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _sign_in(page, live, lead)
        assert page.locator("header a[href='/inbox/'] .flag").inner_text() == str(packs)
        page.click("header a[href='/inbox/']")
        _checked(page, shots, "lead-inbox")
        page.locator("main table.list a").first.click()
        page.wait_for_url(f"{live.url}/inbox/*/")
        _checked(page, shots, "lead-pack")
        page.set_viewport_size(PHONE)
        _checked(page, shots, "lead-pack-phone")
        page.set_viewport_size(DESKTOP)
        page.click("form[action$='/acknowledge/'] button")
        page.wait_for_load_state()
        unread = page.locator("header a[href='/inbox/'] .flag")
        assert (unread.inner_text() if unread.count() else "0") == str(packs - 1)
        context.close()

    with _database(home) as db:
        acknowledged = db.execute(
            "select u.username, d.read_at is not null, d.acknowledged_at is not null "
            "from casework_reminderdelivery d join casework_person p on d.person_id = p.id "
            "join auth_user u on p.user_id = u.id where d.acknowledged_at is not null"
        ).fetchall()
        recorded = db.execute(
            "select count(*) from casework_auditrecord where action = "
            "'reminder_delivery_acknowledge'"
        ).fetchone()[0]
    assert acknowledged == [(lead.username, 1, 1)]
    assert recorded == 1
