"""Production settings pass Django's deployment checks: a home initialised by ``npldesk init``
(its own secret key), the names it answers to in ``[web] hosts`` and ``[web] tls = true``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, clean_environment

PRODUCTION_WEB = """
[web]
language = "zh-hans"
hosts = ["npl.bank.example"]
tls = true
"""


def _check_deploy(home: Path) -> subprocess.CompletedProcess[str]:
    env = clean_environment() | {"NPLDESK_HOME": str(home)}
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "check", "--deploy", "--fail-level", "DEBUG"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


def _init(home: Path, web: str) -> None:
    env = clean_environment() | {"NPLDESK_HOME": str(home)}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "init"]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    config = home / "npldesk.toml"
    text = config.read_text(encoding="utf-8")
    head, _, _ = text.partition("[web]")
    config.write_text(head + web, encoding="utf-8")


def test_a_production_home_passes_the_deployment_checks(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    _init(home, PRODUCTION_WEB)
    checked = _check_deploy(home)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_without_tls_the_deployment_checks_name_what_is_missing(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    _init(home, PRODUCTION_WEB.replace("tls = true", "tls = false"))
    checked = _check_deploy(home)
    assert checked.returncode != 0
    assert "security.W008" in checked.stderr  # SECURE_SSL_REDIRECT
