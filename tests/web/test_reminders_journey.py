"""The risk reminders in the browser: the month's packs delivered by ``npldesk report
reminders`` on a copy of the demo home, read and acknowledged by a team lead in Debian's
Chromium against a live gunicorn; the database shows the acknowledgement and its audit record.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page

from npldesk.demo.credentials import DemoSignIn, read_credentials
from tests.web.browser import DESKTOP, PHONE, axe_violations, chromium, chromium_path
from tests.web.live import LiveServer, copy_home, served

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


def _database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "npldesk.sqlite3")


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
    # A team lead of the demo: their units' packs reach them.
    lead = next(s for s in read_credentials(home) if "team_lead" in s.roles)
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
