"""``/tape/``: the manifest, a month uploaded and imported by the worker (run in-process with its
own ``run_next``), a refused upload's report row by row with the store unchanged, the progress
fragment the page polls, the month-end runs, and who may see any of it (404 for the others);
the last run's line on the leader's dashboard."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from npldesk.casework import selectors, services
from npldesk.casework.models import RUN_SUMMARY_LINES, Job, Person, Run, RunStep
from npldesk.home import Home
from npldesk.monthend.worker import run_next
from npldesk.tape.store import Store
from tests.casework.world import World
from tests.conftest import tree_state
from tests.tape_factory import write_csv
from tests.web.conftest import figures_tape

Sign = Callable[[Person], Client]
FEBRUARY = date(2020, 2, 29)


def february_csv(tmp_path: Path, **overrides: Any) -> bytes:
    """January's eight loans again at the end of February (``overrides`` on the first)."""
    rows = [dict(row, as_of=FEBRUARY.isoformat()) for row in figures_tape()[-8:]]
    rows[0].update(overrides)
    return write_csv(tmp_path / "feb.csv", rows).read_bytes()


def upload(client: Client, content: bytes, name: str = "2020-02.csv", **fields: str) -> Any:
    return client.post(
        "/tape/uploads/",
        {"file": SimpleUploadedFile(name, content, "text/csv"), **fields},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def work(home: Home) -> Job:
    job = run_next(home, actor=selectors.system_actor(), worker="test", heartbeat=None)
    assert job is not None
    return job


def page(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_good_month_uploaded_is_imported_by_the_worker_and_shown_in_the_manifest(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    before = page(client, "/tape/")
    assert 'data-month="2020-01"' in before and 'data-month="2020-02"' not in before

    response = upload(client, february_csv(tmp_path))
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == f"/tape/uploads/{job.pk}/"
    assert (job.kind, job.state, job.created_by) == ("tape_import", "queued", world.analyst)
    kept = figures_home.path / str(job.parameters["file"])
    assert kept.read_bytes() == february_csv(tmp_path)
    queued = page(client, f"/tape/uploads/{job.pk}/")
    assert f'hx-get="/tape/uploads/{job.pk}/progress/"' in queued
    assert 'data-state="queued"' in queued

    assert work(figures_home).state == "done"
    assert FEBRUARY in Store(figures_home.store_path).months()
    done = page(client, f"/tape/uploads/{job.pk}/")
    assert 'data-state="done"' in done and "hx-get" not in done
    assert '<progress max="1" value="1"' in done
    assert 'href="/quality/?as_of=2020-02&amp;by=org_unit">2020-02</a>' in done
    assert "not queued" in done  # no month-end run for February yet

    manifest = page(client, "/tape/")
    entry = Store(figures_home.store_path).snapshot(FEBRUARY)
    assert entry is not None
    row = re.search(r'<tr data-month="2020-02">(.*?)</tr>', manifest, re.S)
    assert row is not None
    assert entry.sha256 is not None and entry.sha256[:12] in row.group(1)
    assert 'data-key="rows">8<' in row.group(1)
    assert world.analyst.user.get_username() in row.group(1)


def test_a_month_end_run_queued_for_the_month_is_linked_and_its_steps_shown(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.admin)
    upload(client, february_csv(tmp_path))
    job = work(figures_home)
    queued = services.job_enqueue(
        actor=selectors.system_actor(), kind="month_end", parameters={"as_of": "2020-02-29"}
    )
    assert ">queued</td>" in page(client, f"/tape/uploads/{job.pk}/").replace("\n", "")
    queued.delete()
    run = Run.objects.create(as_of=FEBRUARY, started_at=timezone.now(), started_by=world.admin)
    RunStep.objects.create(
        run=run,
        name="sync",
        position=2,
        state="done",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        counts={"opened": 3, "closed_total": 1, "closed": {"repaid": 1}},
    )
    RunStep.objects.create(
        run=run, name="judge", position=3, state="failed", started_at=timezone.now(), error="boom"
    )
    done = page(client, f"/tape/uploads/{job.pk}/")
    assert 'href="/tape/runs/2020-02/">Running</a>' in done
    steps = page(client, "/tape/runs/2020-02/")
    assert 'data-step="sync"' in steps and "opened 3" in steps and "closed_total 1" in steps
    assert "repaid" not in steps  # only the plain counts
    assert "boom" in steps
    assert 'data-run="2020-02"' in page(client, "/tape/")
    assert client.get("/tape/runs/2019-07/").status_code == 404
    assert client.get("/tape/runs/not-a-month/").status_code == 404


def test_a_bad_file_is_refused_row_by_row_and_the_store_is_unchanged(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    before = tree_state(figures_home.store_path)
    rows = [dict(row, as_of=FEBRUARY.isoformat()) for row in figures_tape()[-8:]]
    for row in rows[:5]:
        row["principal_balance"] = "lots"
    rows[6]["days_past_due"] = "-3"
    content = write_csv(tmp_path / "bad.csv", rows).read_bytes()
    upload(client, content, name="bad.csv")
    job = work(figures_home)
    assert job.state == "failed"
    assert tree_state(figures_home.store_path) == before

    text = page(client, f"/tape/uploads/{job.pk}/")
    assert "Refused: nothing was imported" in text
    problems = re.findall(r'<tr class="problem">(.*?)</tr>', text, re.S)
    assert len(problems) == 6
    shown = [
        (
            re.search(r'data-key="row">(\d+)<', p).group(1),  # type: ignore[union-attr]
            re.search(r'data-key="column">([^<]*)<', p).group(1),  # type: ignore[union-attr]
        )
        for p in problems
    ]
    # The data rows are the file's lines 2 to 9 (line 1 is the header).
    assert ("2", "principal_balance") in shown and ("6", "principal_balance") in shown
    assert ("8", "days_past_due") in shown
    assert all("bad.csv" in p for p in problems)
    assert 'data-month="2020-02"' not in page(client, "/tape/")


def test_thousands_of_problems_are_paginated(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    rows = [dict(row, as_of=FEBRUARY.isoformat()) for row in figures_tape()[-8:]]
    many = [dict(rows[0], loan_id=f"X{n:05d}", principal_balance="x") for n in range(250)]
    upload(client, write_csv(tmp_path / "many.csv", rows + many).read_bytes(), name="many.csv")
    job = work(figures_home)
    assert job.state == "failed" and job.result["problem_total"] >= 250
    first = page(client, f"/tape/uploads/{job.pk}/")
    assert len(re.findall(r'<tr class="problem">', first)) == 100
    assert "page 1 of 3" in first and 'rel="next"' in first
    last = page(client, f"/tape/uploads/{job.pk}/?page=3")
    assert 0 < len(re.findall(r'<tr class="problem">', last)) <= 100
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_the_progress_fragment_polls_until_the_job_ends(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    upload(client, february_csv(tmp_path))
    job = Job.objects.get()
    url = f"/tape/uploads/{job.pk}/progress/"
    Job.objects.filter(pk=job.pk).update(
        state="running", progress_text="reading 2020-02.csv", progress_fraction=0.4
    )
    running = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert running.status_code == 200 and "HX-Refresh" not in running
    text = running.content.decode()
    assert "reading 2020-02.csv" in text and 'value="0.400"' in text and "hx-get" in text
    assert "<html" not in text  # the fragment alone
    Job.objects.filter(pk=job.pk).update(state="queued", progress_text="", progress_fraction=None)
    work(figures_home)
    finished = client.get(url, HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"
    assert "hx-get" not in finished.content.decode()


def test_bad_input_is_a_clear_message_and_nothing_is_queued(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path, settings: Any
) -> None:
    client = client_for(world.analyst)
    content = february_csv(tmp_path)
    cases = [
        (upload(client, content, name="feb.exe"), "is not a file the importer reads"),
        (upload(client, content, as_of="February"), "Give the month as YYYY-MM"),
        (upload(client, content, mapping="../../etc/passwd"), "Select a valid choice"),
        (client.post("/tape/uploads/", {}, HTTP_ACCEPT_LANGUAGE="en"), "This field is required"),
    ]
    for response, message in cases:
        assert response.status_code == 400
        assert message in response.content.decode()
    figures_home.config.setdefault("import", {})["max_upload_mb"] = 1
    big = content + b"\n" * (2 * 1024 * 1024)
    response = upload(client, big)
    assert response.status_code == 413
    assert "larger than the upload limit of 1 MB" in response.content.decode()
    assert not Job.objects.exists()
    assert not (figures_home.path / "uploads").exists()


def test_a_shipped_mapping_and_a_month_are_passed_to_the_job(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    upload(client, february_csv(tmp_path), as_of="2020-02", mapping="cn-core")
    job = Job.objects.get()
    assert (job.parameters["as_of"], job.parameters["mapping"]) == ("2020-02-29", "cn-core")


def test_only_the_roles_that_may_import_see_the_tape_pages(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    upload(client_for(world.analyst), february_csv(tmp_path))
    job = Job.objects.get()
    urls = ["/tape/", f"/tape/uploads/{job.pk}/", f"/tape/uploads/{job.pk}/progress/"]
    for member in (world.officer, world.lead, world.leader, world.finance, world.legal):
        client = client_for(member)
        for url in urls:
            assert client.get(url).status_code == 404, (member, url)
        assert upload(client, february_csv(tmp_path)).status_code == 404
        assert 'href="/tape/"' not in page(client, "/worklist/")
    assert Job.objects.count() == 1
    assert 'href="/tape/"' in page(client_for(world.admin), "/tape/")
    assert client_for(world.admin).get("/tape/uploads/99999/").status_code == 404


def test_the_leaders_dashboard_shows_the_last_month_end_run(
    world: World, figures_home: Home, client_for: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A step added to the run adds its line (here one that counts reminder packs).
    monkeypatch.setitem(
        RUN_SUMMARY_LINES, "reminders", lambda counts: f"{counts['delivered']} packs delivered"
    )
    finished = timezone.now()
    run = Run.objects.create(
        as_of=date(2020, 1, 31),
        state="done",
        started_at=finished - timedelta(minutes=3),
        finished_at=finished,
        started_by=selectors.system_actor(),
    )
    for position, (name, counts) in enumerate(
        [
            ("sync", {"opened": 31, "closed_total": 4}),
            ("judge", {"changed": 1234}),
            ("reminders", {"delivered": 7}),
        ],
        start=2,
    ):
        RunStep.objects.create(
            run=run,
            name=name,
            position=position,
            state="done",
            started_at=finished,
            finished_at=finished,
            counts=counts,
        )
    text = page(client_for(world.leader), "/")
    line = re.search(r'<p class="card run-line" data-key="latest-run">(.*?)</p>', text)
    assert line is not None
    at = timezone.localtime(finished).strftime("%Y-%m-%d %H:%M")
    assert line.group(1) == (
        f"month-end 2020-01: done at {at}, 31 cases opened, 4 closed, "
        "1,234 cases changed by the rules, 7 packs delivered"
    )
    assert "run-line" not in page(client_for(world.officer), "/")


def test_the_worker_reports_the_imports_stages_as_a_fraction(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    upload(client_for(world.analyst), february_csv(tmp_path))
    reported: list[tuple[str, float | None]] = []
    original = services.job_progress

    def recorded(**kwargs: Any) -> Any:
        reported.append((kwargs["text"], kwargs["fraction"]))
        return original(**kwargs)

    from npldesk.monthend import worker

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(worker.services, "job_progress", recorded)
        assert work(figures_home).state == "done"
    fractions = [f for _, f in reported if f is not None]
    assert fractions and fractions == sorted(fractions)
    assert ("committing", 0.9) in reported


def test_a_refused_files_problems_read_in_chinese_and_its_result_keeps_english(
    world: World, figures_home: Home, client_for: Sign, tmp_path: Path
) -> None:
    client = client_for(world.analyst)
    rows = [dict(row, as_of=FEBRUARY.isoformat()) for row in figures_tape()[-8:]]
    rows[0]["principal_balance"] = "lots"
    rows[6]["days_past_due"] = "-3"
    upload(client, write_csv(tmp_path / "bad.csv", rows).read_bytes(), name="bad.csv")
    job = work(figures_home)
    assert job.state == "failed"
    # What the job keeps (and the API answers) is the English text, with the rule's code.
    kept = {p["rule"]: p["message"] for p in job.result["problems"]}
    assert kept["range.negative"] == "must be 0 or more"
    assert kept["type.money"] == "not an amount of yuan with at most two decimal places"

    response = client.get(f"/tape/uploads/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = response.content.decode()
    assert "必须大于或等于 0" in text and "不是最多两位小数的人民币元金额" in text
    assert "must be 0 or more" not in text and "not an amount" not in text
    assert "<code>range.negative</code>" in text
