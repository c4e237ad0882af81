"""``/reports/``: the monthly report in the app — the page is the report the command writes for
the same month and unit, its PDF and workbook are the same bytes as ``npldesk report monthly``
writes for the same author, and the scope and roles hold."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client

from npldesk.casework.models import Person
from npldesk.cli import run
from npldesk.home import Home
from tests.casework.world import World

Sign = Callable[[Person], Client]


def minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def command_report(home: Home, target: Path, author: str, *options: str) -> bytes:
    argv = ["report", "monthly", "--as-of", "2020-01", *options, "--out", str(target)]
    with pytest.MonkeyPatch.context() as monkeypatch:
        # The command runs in this process on the test database, which is the casework the web
        # reads: the home has no database file of its own, so it is told it has one (§8).
        monkeypatch.setattr(Home, "has_casework_database", property(lambda home: True))
        monkeypatch.setenv("NPLDESK_LANGUAGE", "en")
        monkeypatch.setenv("NPLDESK_USER", author)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert run([*argv, "--home", str(home.path)]) == 0, err.getvalue()
    return target.read_bytes()


def both(client: Client, url: str, home: Home, target: Path, author: str, *options: str):
    """The web's file and the command's for the same parameters, made within one minute (the
    report names the minute it was generated)."""
    for _attempt in range(3):
        started = minute()
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        web = b"".join(response.streaming_content)
        command = command_report(home, target, author, *options)
        if minute() == started:
            return web, command
    raise AssertionError("could not make both files within one minute")


@pytest.mark.parametrize(("fmt", "unit"), [("pdf", None), ("xlsx", None), ("xlsx", "HB01")])
def test_the_downloads_are_the_bytes_the_command_writes(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path, fmt: str, unit: str | None
) -> None:
    options = ["--format", fmt] + (["--unit", unit] if unit else [])
    url = f"/reports/?as_of=2020-01&format={fmt}" + (f"&unit={unit}" if unit else "")
    web, command = both(
        client_for(world.leader),
        url,
        figures_home,
        tmp_path / f"report.{fmt}",
        world.leader.user.username,
        *options,
    )
    assert web[:4] == (b"%PDF" if fmt == "pdf" else b"PK\x03\x04")
    assert web == command


def test_the_page_is_the_commands_report(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    for _attempt in range(3):
        started = minute()
        page = client.get("/reports/?as_of=2020-01&unit=HB01", HTTP_ACCEPT_LANGUAGE="en")
        command = command_report(
            figures_home,
            tmp_path / "report.html",
            world.analyst.user.username,
            "--unit",
            "HB01",
            "--format",
            "html",
        ).decode()
        if minute() == started:
            break
    assert page.status_code == 200
    shown = re.search(r'<article class="report">(.*)</article>', page.content.decode(), re.S)
    written = re.search(r"</h1>(.*)</body>", command, re.S)
    assert shown is not None and written is not None
    # The same report; in the app each table is also reachable from the keyboard.
    assert shown.group(1).replace('<table tabindex="0">', "<table>") == written.group(1)
    assert "濉溪县支行 asset-quality report 2020-01" in page.content.decode()


def test_in_chinese_the_report_speaks_chinese(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    text = (
        client_for(world.leader)
        .get("/reports/?as_of=2020-01", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert "不良" in text and "资产质量" in text


def test_scope_and_roles(world: World, figures_home: Home, client_for: Sign) -> None:
    assert client_for(world.leader).get("/reports/?as_of=2020-01&unit=HB02").status_code == 200
    for person in (world.officer, world.lead, world.finance, world.legal, world.outsider):
        assert client_for(person).get("/reports/").status_code == 404
    analyst_of_hb02 = world.analyst
    analyst_of_hb02.units.set([world.units["HB02"]])
    client = client_for(analyst_of_hb02)
    assert client.get("/reports/?as_of=2020-01&unit=HB01").status_code == 404
    assert client.get("/reports/?as_of=2020-01&unit=HB01&format=pdf").status_code == 404
    assert client.get("/reports/?as_of=2020-01&format=docx").status_code == 404


def test_a_month_not_imported_is_said_not_raised(
    world: World, figures_home: Home, client_for: Sign
) -> None:
    response = client_for(world.leader).get("/reports/?as_of=2021-05", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "2021-05" in response.content.decode()
