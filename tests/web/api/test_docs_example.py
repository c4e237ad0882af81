"""The Python example of ``docs/api.md`` runs as written against the live test server."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from npldesk.casework import services
from npldesk.casework.models import Activity, Recovery
from tests.casework.world import World

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_the_docs_example_pulls_the_worklist_and_posts(
    live_server: Any, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    person = world.officer
    secret = services.api_token_create(actor=person, person=person, name="docs").secret
    monkeypatch.setenv("NPLDESK_URL", live_server.url)
    monkeypatch.setenv("NPLDESK_TOKEN", secret)
    runpy.run_path(str(script), run_name="__main__")
    assert world.case.number in capsys.readouterr().out
    assert Activity.objects.filter(case=world.case).count() == 1
    assert Recovery.objects.filter(case=world.case).count() == 1
