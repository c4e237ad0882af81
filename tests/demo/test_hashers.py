"""The demo's fast password hasher: chosen through the settings switch the demo command sets,
accepted and re-hashed at full strength by Django's default hashers, and defined nowhere in the
production modules."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import global_settings
from django.contrib.auth.hashers import check_password, make_password

from npldesk.demo.hashers import FAST_HASHING_SWITCH, DemoPasswordHasher

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def first_hasher(switch: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "npldesk.settings"}
    if switch is not None:
        env[FAST_HASHING_SWITCH] = switch
    script = "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


def test_the_switch_alone_puts_the_demo_hasher_first():
    assert first_hasher("1") == "npldesk.demo.hashers.DemoPasswordHasher"
    assert first_hasher(None) == global_settings.PASSWORD_HASHERS[0]
    assert first_hasher("0") == global_settings.PASSWORD_HASHERS[0]


def test_a_demo_hash_signs_in_with_the_default_hashers_and_is_hashed_again(settings: Any):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    encoded = make_password(PASSWORD, hasher=DemoPasswordHasher())
    assert encoded.startswith(f"pbkdf2_sha256${DemoPasswordHasher.iterations}$")
    upgraded: list[str] = []
    assert check_password(PASSWORD, encoded, setter=upgraded.append)
    assert upgraded == [PASSWORD]  # Django re-hashes it at its full count on this sign-in


def test_no_module_outside_the_demo_defines_a_password_hasher():
    defined = []
    for path in sorted((REPO / "npldesk").rglob("*.py")):
        if path.is_relative_to(REPO / "npldesk" / "demo"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                "Hasher" in ast.unparse(base) for base in node.bases
            ):
                defined.append(f"{path.relative_to(REPO)}: {node.name}")
    assert defined == []
