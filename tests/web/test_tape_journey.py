"""A risk analyst uploads month files in Debian's Chromium against a live gunicorn with its
``npldesk worker`` beside it (``npldesk serve``), on a small home made with the command line:
the progress bar reaches done and the month is in the manifest; a bad file is refused with its
problems row by row and imports nothing. The last month-end run's line is on the dashboard.

Each page is checked by axe-core and photographed under the test's ``tmp_path`` at 1280 and
360 px, in Chinese (the home's default) and English.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.conftest import clean_environment, tree_state
from tests.tape_factory import loan_row, write_csv, write_org
from tests.web.browser import DESKTOP, PHONE, axe_violations, chromium, chromium_path
from tests.web.live import LiveServer, served

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)

PASSWORD = "journey-upload-2020"
NOVEMBER, DECEMBER = date(2019, 11, 30), date(2019, 12, 31)
JANUARY, FEBRUARY = date(2020, 1, 31), date(2020, 2, 29)
NPL = {
    "principal_balance": "80000.00",
    "overdue_principal": "80000.00",
    "days_past_due": "120",
    "reported_class": "substandard",
}


def npldesk(home: Path, *args: str, stdin: str | None = None) -> str:
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", *args]
    done = subprocess.run(
        [*command, "--home", str(home)],
        env=clean_environment(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def month(as_of: date, **first: str) -> list[dict[str, str]]:
    rows = [loan_row(n, as_of, **(NPL if n <= 2 else {})) for n in range(1, 7)]
    rows[0].update(first)
    return rows


def small_home(folder: Path) -> Path:
    """November and December imported, December's month-end run done; the schedule off (the
    upload is the only job the worker finds); a risk analyst who may import."""
    home = folder / "home"
    npldesk(home, "init")
    config = home / "npldesk.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[schedule]\njudge_at = ""\nmonth_end_on_import = false\n',
        encoding="utf-8",
    )
    npldesk(home, "org", "import", str(write_org(folder / "org.csv")))
    npldesk(home, "units", "sync")
    rows = month(NOVEMBER) + month(DECEMBER)
    npldesk(home, "tape", "import", str(write_csv(folder / "autumn.csv", rows)))
    npldesk(
        home,
        "users",
        "add",
        "analyst",
        "--name",
        "风险分析员",
        "--role",
        "risk_analyst",
        "--unit",
        "HB00",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    npldesk(home, "month-end", "--as-of", "2019-12", "--today", "2020-01-05")
    return home


def checked(page: Page, shots: Path, name: str) -> None:
    """axe-core on the page, and screenshots at both widths."""
    assert axe_violations(page) == [], name
    page.set_viewport_size(PHONE)
    page.screenshot(path=shots / f"{name}-360.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=shots / f"{name}-1280.png", full_page=True)


def sign_in(page: Page, live: LiveServer) -> None:
    page.goto(f"{live.url}/login/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}/")


def upload(page: Page, live: LiveServer, path: Path, ended: str) -> None:
    page.goto(f"{live.url}/tape/")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{live.url}/tape/uploads/*/")
    page.wait_for_selector(f"#job-progress[data-state='{ended}']", timeout=120_000)
    # The poll that sees the end reloads the page with the result.
    page.wait_for_selector("#imported-h" if ended == "done" else "#report-h", timeout=30_000)


def test_an_analyst_uploads_a_month_and_watches_it_imported(tmp_path: Path) -> None:
    home = small_home(tmp_path)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    good = write_csv(tmp_path / "2020-01.csv", month(JANUARY))
    bad = write_csv(
        tmp_path / "2020-02-bad.csv",
        month(FEBRUARY, principal_balance="八万", days_past_due="-5"),
    )
    with served(home, tmp_path / "server.log", "serve") as live, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
        sign_in(page, live)
        assert page.locator("[data-key='latest-run']").inner_text().startswith("2019-12 月末运行")
        checked(page, shots, "dashboard-zh")
        page.goto(f"{live.url}/tape/")
        checked(page, shots, "tape-zh")

        upload(page, live, good, "done")
        assert page.locator("#job-progress progress").get_attribute("value") == "1"
        assert page.locator("table.imported tr[data-month='2020-01']").count() == 1
        checked(page, shots, "upload-done-zh")
        page.goto(f"{live.url}/tape/")
        assert page.locator("table.manifest tr[data-month='2020-01']").count() == 1

        store = tree_state(home / "store")
        upload(page, live, bad, "failed")
        assert page.locator("tr.problem").count() >= 2
        checked(page, shots, "upload-refused-zh")
        assert tree_state(home / "store") == store

        # Choosing the language reloads the page: wait for the English one, not the Chinese.
        with page.expect_navigation():
            page.select_option("#language", "en")
        page.locator("h2#report-h", has_text="Refused: nothing was imported").wait_for()
        assert page.locator("h2#report-h").inner_text() == "Refused: nothing was imported"
        checked(page, shots, "upload-refused-en")
        page.goto(f"{live.url}/tape/")
        checked(page, shots, "tape-en")
        page.goto(f"{live.url}/")
        checked(page, shots, "dashboard-en")
    for shot in shots.iterdir():
        assert shot.stat().st_size > 10_000, shot
