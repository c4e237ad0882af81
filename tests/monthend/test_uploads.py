"""``npldesk.monthend.uploads``, below the faces: who may, what is refused before a byte is
kept, and an upload's status document as the worker leaves it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from npldesk.casework import selectors
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import Job
from npldesk.home import load_home
from npldesk.monthend import uploads
from npldesk.monthend.worker import run_next
from tests.casework.factories import PersonFactory
from tests.monthend.test_jobs import january
from tests.tape_factory import loan_row

pytestmark = pytest.mark.usefixtures("on_casework")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """November and December of two loans imported (the upload brings January)."""
    from tests.cli.conftest import make_home

    rows = [loan_row(n, day) for day in (date(2019, 11, 30), date(2019, 12, 31)) for n in (1, 2)]
    return make_home(tmp_path, rows)


def test_only_the_roles_that_may_import_read_the_manifest_and_upload(home: Path, units):
    loaded = load_home(home)
    officer = PersonFactory(roles=["officer"], units=[units["HB"]], user__password="!")
    leader = PersonFactory(roles=["leader"], units=[units["HB"]], user__password="!")
    for person in (officer, leader):
        with pytest.raises(AccessDenied):
            uploads.manifest_document(loaded, person)
        with pytest.raises(AccessDenied):
            uploads.tape_upload(loaded, actor=person, name="m.csv", size=1, chunks=[b"x"])
    analyst = PersonFactory(roles=["risk_analyst"], units=[units["HB"]], user__password="!")
    document = uploads.manifest_document(loaded, analyst)
    assert [m["month"] for m in document["months"]] == ["2019-12", "2019-11"]
    assert document["org"]["rows"] == 6


def test_refused_before_anything_is_kept(home: Path, units):
    loaded = load_home(home)
    analyst = PersonFactory(roles=["risk_analyst"], units=[units["HB"]], user__password="!")
    limit = uploads.upload_limit(loaded)
    assert limit == 512 * 1024 * 1024
    refusals = [
        {"name": "m.csv", "size": limit + 1},
        {"name": "m.exe", "size": 10},
        {"name": "", "size": 10},
        {"name": "m.csv", "size": 10, "mapping": "../../secret.yaml"},
    ]
    for refused in refusals:
        with pytest.raises(InvalidAction):
            uploads.tape_upload(loaded, actor=analyst, chunks=[b"x"], **refused)  # type: ignore[arg-type]
    assert not Job.objects.exists()
    assert not (home / "uploads").exists()


def test_the_status_of_a_done_upload_names_its_months(home: Path, tmp_path: Path, units):
    loaded = load_home(home)
    analyst = PersonFactory(roles=["risk_analyst"], units=[units["HB"]], user__password="!")
    content = january(tmp_path).read_bytes()
    job = uploads.tape_upload(
        loaded, actor=analyst, name="jan.csv", size=len(content), chunks=[content]
    )
    assert uploads.upload_status(analyst, job)["state"] == "queued"
    run_next(loaded, actor=selectors.system_actor(), worker="w", heartbeat=None)
    status = uploads.upload_status(analyst, uploads.upload_get(analyst, job.pk))
    assert status["state"] == "done" and status["progress"]["fraction"] == 1.0
    assert [m["month"] for m in status["imported"]] == ["2020-01"]
    assert [j.pk for j in uploads.recent_uploads(analyst)] == [job.pk]
