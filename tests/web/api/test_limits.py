"""The API's limits: the request body's size (413), a page's size (422 beyond 200), the calls a
token makes a minute (429 with Retry-After), both read from the home's ``npldesk.toml``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from npldesk.casework.models import Activity
from tests.casework.world import World
from tests.conftest import clean_environment


def test_a_body_over_the_limit_is_413_and_writes_nothing(
    world: World, api_for, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4_000
    api = api_for(world.officer)
    body = {
        "kind": "phone",
        "occurred_at": "2020-01-02T10:00:00+08:00",
        "outcome": "contacted",
        "notes": "x" * 5_000,
    }
    response = api.post(f"/cases/{world.case.number}/activities", body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Request too large"
    assert not Activity.objects.filter(case=world.case).exists()
    body["notes"] = "x" * 100
    assert api.post(f"/cases/{world.case.number}/activities", body).status_code == 201


@pytest.mark.parametrize(
    "path",
    ["/cases", "/worklist", "/figures/lists/new-npl?as_of=2020-01"],
)
def test_a_page_holds_at_most_200_items(
    world: World, api_for, figures_home: Any, path: str
) -> None:
    api = api_for(world.leader)
    joiner = "&" if "?" in path else "?"
    too_many = api.client.get(f"/api/v1{path}{joiner}limit=201", headers=api.headers)
    assert too_many.status_code == 422
    assert [e["field"] for e in too_many.json()["errors"]] == ["limit"]
    assert api.client.get(f"/api/v1{path}{joiner}limit=200", headers=api.headers).status_code == 200


def test_a_token_over_its_rate_is_429_with_retry_after(
    world: World, api_for, settings: Any
) -> None:
    settings.NPLDESK_API_RATE_PER_MINUTE = 2
    api = api_for(world.officer)
    answers = [api.get("/worklist") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2]["Content-Type"] == "application/problem+json"
    assert 1 <= int(answers[2]["Retry-After"]) <= 60
    # Another token of the same person has its own window.
    assert api_for(world.officer).get("/worklist").status_code == 200


def test_the_limits_come_from_the_homes_configuration(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "npldesk.toml").write_text(
        "[api]\nrate_per_minute = 30\nmax_body_bytes = 100000\n", encoding="utf-8"
    )
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.NPLDESK_API_RATE_PER_MINUTE, "
        "settings.DATA_UPLOAD_MAX_MEMORY_SIZE]))"
    )
    env = clean_environment() | {
        "NPLDESK_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "npldesk.settings",
        "NPLDESK_SECRET_KEY": "a-test-key-" + "x" * 40,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [30, 100_000]
