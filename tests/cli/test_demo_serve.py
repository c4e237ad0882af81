"""``npldesk demo`` ends serving the web app on 127.0.0.1 and says how each role signs in, read
from the home's owner-only ``demo-credentials.txt`` on every run (not only the run that built
it); the printed sign-in works."""

from __future__ import annotations

import http.cookiejar
import re
import stat
import urllib.parse
import urllib.request
from pathlib import Path

from django.utils import translation

from npldesk.casework.choices import Role
from npldesk.demo.credentials import credentials_path, one_per_role, read_credentials
from tests.web.live import copy_home, served


def test_the_demo_home_keeps_its_sign_ins_owner_only(demo_home: Path) -> None:
    path = credentials_path(demo_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    roles = one_per_role(read_credentials(demo_home))
    assert set(roles) == {role.value for role in Role}


def test_demo_serves_the_web_app_and_prints_each_roles_sign_in(
    demo_home: Path, tmp_path: Path
) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    with served(home, tmp_path / "demo.log", "demo") as live:
        # The demo home speaks Chinese (the default): the roles are said by their names.
        printed = live.output()
        assert "已建好（使用 --rebuild 重新构建）" in printed
        assert f"登录地址 {live.url}/" in printed
        chosen = one_per_role(read_credentials(home))
        for role, sign_in in chosen.items():
            with translation.override("zh-hans"):
                name = str(Role(role).label)
            assert re.search(
                rf"{name}\s.*{sign_in.username}\s.*{re.escape(sign_in.password)}", printed
            )
        officer = chosen[Role.OFFICER.value]
        assert _sign_in(live.url, officer.username, officer.password) == f"{live.url}/"
        assert _sign_in(live.url, officer.username, "wrong-password") == f"{live.url}/login/"


def _sign_in(url: str, username: str, password: str) -> str:
    """Post the sign-in form as a browser does; the address the answer ends on."""
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with browser.open(f"{url}/login/") as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert token is not None
    form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    request = urllib.request.Request(
        f"{url}/login/", data=urllib.parse.urlencode(form).encode(), headers={"Referer": url}
    )
    with browser.open(request) as answer:
        return str(answer.geturl())
