from pathlib import Path

import pytest
from django.test import Client

from npldesk.casework import services
from npldesk.casework.models import Unit
from tests.casework.factories import build_tree
from tests.casework.legaldocs_world import documents_world
from tests.casework.world import build_world
from tests.web.browser import chromium
from datetime import date

OUT = Path("/tmp/ld_shots")


@pytest.mark.django_db(transaction=True)
def test_shots(live_server, tmp_path, monkeypatch):
    OUT.mkdir(exist_ok=True)
    units = build_tree()
    world = documents_world(build_world(units), tmp_path, monkeypatch)
    services.document_generate(
        actor=world.legal, case=world.case, kind="demand_notice", as_of=date(2020, 2, 15)
    )
    services.document_generate(
        actor=world.legal, case=world.case, kind="complaint", as_of=date(2020, 2, 15)
    )
    client = Client()
    client.force_login(world.legal.user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies["sessionid"].value
    admin = Client()
    admin.force_login(world.admin.user, backend="django.contrib.auth.backends.ModelBackend")
    with chromium() as browser:
        for lang in ("en", "zh-hans"):
            for width, height in ((1280, 900), (360, 780)):
                context = browser.new_context(viewport={"width": width, "height": height})
                host = live_server.url.split("//")[1].split(":")[0]
                context.add_cookies(
                    [
                        {"name": "sessionid", "value": session, "domain": host, "path": "/"},
                        {"name": "django_language", "value": lang, "domain": host, "path": "/"},
                    ]
                )
                page = context.new_page()
                page.goto(f"{live_server.url}/cases/{world.case.number}/")
                page.evaluate(
                    "document.querySelectorAll('details').forEach(d => { if (d.querySelector('#id_as_of')) d.open = true; })"
                )
                section = page.locator("#clocks-h").locator("xpath=..")
                top = section.bounding_box()["y"]
                docs = page.locator("#docs-h").locator("xpath=..")
                box = docs.bounding_box()
                page.screenshot(
                    path=str(OUT / f"case-{lang}-{width}.png"),
                    full_page=True,
                    clip={
                        "x": 0,
                        "y": top - 10,
                        "width": width,
                        "height": box["y"] + box["height"] - top + 20,
                    },
                )
                page.goto(f"{live_server.url}/legal/")
                page.screenshot(path=str(OUT / f"legal-{lang}-{width}.png"), full_page=True)
                context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        host = live_server.url.split("//")[1].split(":")[0]
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": admin.cookies["sessionid"].value,
                    "domain": host,
                    "path": "/",
                },
                {"name": "django_language", "value": "zh-hans", "domain": host, "path": "/"},
            ]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/legal-details/")
        page.screenshot(path=str(OUT / "admin-list.png"), full_page=True)
        page.goto(f"{live_server.url}/admin/legal-details/HB/")
        page.screenshot(path=str(OUT / "admin-edit.png"), full_page=True)
    import shutil

    shutil.copytree(tmp_path / "documents", OUT / "documents", dirs_exist_ok=True)
