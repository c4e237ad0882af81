"""``/api/v1/tape/uploads`` and ``/api/v1/manifest``: a month uploaded with a token, imported by
the worker (its own ``run_next``, in-process), its status and problems, once per
Idempotency-Key, the size limit (413), and the roles that may not import (403)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from npldesk.casework import selectors
from npldesk.casework.models import Job, Person
from npldesk.home import Home
from npldesk.monthend.worker import run_next
from npldesk.tape.store import Store
from tests.casework.world import World
from tests.conftest import tree_state
from tests.tape_factory import write_csv
from tests.web.api.conftest import ApiClient
from tests.web.conftest import figures_tape
from tests.web.test_tape import FEBRUARY, february_csv

Api = Callable[[Person | None], ApiClient]


def send(api: ApiClient, content: bytes, name: str = "2020-02.csv", **fields: Any) -> Any:
    headers = {**api.headers, **fields.pop("headers", {})}
    return api.client.post(
        "/api/v1/tape/uploads",
        {"file": SimpleUploadedFile(name, content, "text/csv"), **fields},
        headers=headers,
    )


def work(home: Home) -> Job:
    job = run_next(home, actor=selectors.system_actor(), worker="test", heartbeat=None)
    assert job is not None
    return job


def test_a_month_uploaded_is_queued_imported_and_in_the_manifest(
    world: World, figures_home: Home, api_for: Api, tmp_path: Path
) -> None:
    api = api_for(world.analyst)
    response = send(api, february_csv(tmp_path), as_of="2020-02")
    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["state"], queued["file"], queued["as_of"]) == (
        "queued",
        "2020-02.csv",
        "2020-02-29",
    )
    assert queued["progress"] == {"text": "", "fraction": None}

    work(figures_home)
    status = api.get(f"/tape/uploads/{queued['id']}").json()
    assert status["state"] == "done" and status["progress"]["fraction"] == 1.0
    (month,) = status["imported"]
    entry = Store(figures_home.store_path).snapshot(FEBRUARY)
    assert entry is not None
    assert (month["as_of"], month["rows"], month["balance"]) == (
        "2020-02-29",
        entry.rows,
        entry.balance,
    )
    assert month["month_end"] is None and status["problems"] == []

    manifest = api.get("/manifest").json()
    latest = manifest["months"][0]
    assert (latest["month"], latest["sha256"], latest["balance"]) == (
        "2020-02",
        entry.sha256,
        entry.balance,
    )
    assert latest["imported_by"] == world.analyst.user.get_username()
    assert [m["month"] for m in manifest["months"]] == ["2020-02", "2020-01", "2019-12", "2019-01"]
    assert manifest["org"]["rows"] == 5
    assert manifest["history"][0]["months"] == ["2020-02-29"]


def test_a_refused_upload_lists_its_problems_and_imports_nothing(
    world: World, figures_home: Home, api_for: Api, tmp_path: Path
) -> None:
    before = tree_state(figures_home.store_path)
    api = api_for(world.admin)
    rows = [dict(row, as_of=FEBRUARY.isoformat()) for row in figures_tape()[-8:]]
    rows[2]["principal_balance"] = "lots"
    created = send(api, write_csv(tmp_path / "bad.csv", rows).read_bytes(), name="bad.csv")
    work(figures_home)
    status = api.get(f"/tape/uploads/{created.json()['id']}").json()
    assert status["state"] == "failed" and status["error"]
    assert status["problem_total"] == 1
    (problem,) = status["problems"]
    assert (problem["file"], problem["row"], problem["column"]) == (
        "bad.csv",
        4,
        "principal_balance",
    )
    assert problem["code"] and problem["message"]
    assert tree_state(figures_home.store_path) == before


def test_the_same_idempotency_key_queues_once(
    world: World, figures_home: Home, api_for: Api, tmp_path: Path
) -> None:
    api = api_for(world.analyst)
    content = february_csv(tmp_path)
    key = {"Idempotency-Key": "feb-2020"}
    first = send(api, content, headers=key)
    again = send(api, content, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1
    other = send(api, content + b"\n", headers=key)
    assert other.status_code == 422
    assert Job.objects.count() == 1


def test_bad_input_is_a_problem_and_nothing_is_kept(
    world: World, figures_home: Home, api_for: Api, tmp_path: Path
) -> None:
    api = api_for(world.analyst)
    content = february_csv(tmp_path)
    for response in (
        send(api, content, as_of="Feb"),
        send(api, content, mapping="/etc/passwd"),
        send(api, content, name="feb.exe"),
        api.client.post("/api/v1/tape/uploads", {}, headers=api.headers),
    ):
        assert response.status_code == 422, response.content
        assert response["Content-Type"] == "application/problem+json"
    figures_home.config.setdefault("import", {})["max_upload_mb"] = 1
    big = send(api, content + b"\n" * (2 * 1024 * 1024))
    assert big.status_code == 413
    assert big["Content-Type"] == "application/problem+json"
    assert big.json()["status"] == 413
    assert not Job.objects.exists()
    assert not (figures_home.path / "uploads").exists()


def test_roles_that_may_not_import_are_refused(
    world: World, figures_home: Home, api_for: Api, tmp_path: Path
) -> None:
    created = send(api_for(world.analyst), february_csv(tmp_path)).json()
    for member in (world.officer, world.lead, world.leader, world.finance, world.legal):
        api = api_for(member)
        assert send(api, february_csv(tmp_path)).status_code == 403
        assert api.get(f"/tape/uploads/{created['id']}").status_code == 403
        assert api.get("/manifest").status_code == 403
    assert Job.objects.count() == 1
    assert api_for(world.admin).get("/tape/uploads/99999").status_code == 404
    assert api_for(None).get("/manifest").status_code == 401
