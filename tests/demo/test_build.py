"""``build_demo``: a demo home built once, left as it is, and built again from nothing with
``rebuild`` — the home folder and its casework database both (on PostgreSQL the database lives
outside the folder, and the previous demo's people and cases used to stay behind).

On the test database (SQLite or PostgreSQL, whichever the run uses); a tiny book keeps it fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from npldesk.casework.models import AuditRecord, Case, Person
from npldesk.core.errors import UsageError
from npldesk.demo import DemoBuild, build_demo
from npldesk.demo.build import DEMO_DATA, casework_database_empty
from npldesk.home import Home, create_home
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.casework.factories import PersonFactory
from tests.tape_factory import loan_rows, write_csv, write_org

LOANS, MONTHS = 600, 4


def opened(homes: list[Home]):
    """An ``open_database`` that records the homes it was given (the test database is open)."""

    def open_database(home: Home) -> None:
        homes.append(home)

    return open_database


def build(target: Path, *, rebuild: bool = False) -> DemoBuild:
    return build_demo(target, open_database=opened([]), loans=LOANS, months=MONTHS, rebuild=rebuild)


# Outside a test transaction: the rebuild migrates the database back and forth. The test starts
# from the database a new home has (an earlier transactional test's flush removed the rows
# migrations create: the departments, the system actor); restoring a serialized copy instead
# collides with the content types the flush made again.
@pytest.mark.django_db(transaction=True)
def test_rebuild_removes_the_previous_demos_people_cases_and_audit_trail(tmp_path: Path):
    casework_database_empty()
    target = tmp_path / "demo"
    first = build(target)
    assert first.book is not None and first.casework is not None
    users = set(get_user_model().objects.values_list("username", flat=True))
    cases = Case.objects.count()
    records = AuditRecord.objects.count()
    assert users and cases and records
    assert {c.username for c in first.casework.credentials} == users - {"system"}
    PersonFactory(user__username="added-to-the-demo")

    again = build(target, rebuild=True)

    assert again.book is not None
    # The same demo again, and nothing of the first one left beside it.
    assert set(get_user_model().objects.values_list("username", flat=True)) == users
    assert Case.objects.count() == cases
    assert AuditRecord.objects.count() == records
    assert again.summary == first.summary


def test_a_built_home_is_left_as_it_is(tmp_path: Path, db: None):
    target = tmp_path / "demo"
    first = build(target)
    records = AuditRecord.objects.count()
    second = build(target)
    assert second.book is None and second.casework is None
    assert second.summary == first.summary
    assert [s.as_of for s in second.snapshots] == [s.as_of for s in first.snapshots]
    assert AuditRecord.objects.count() == records


def test_a_database_holding_people_but_no_demo_tape_is_refused(tmp_path: Path, db: None):
    PersonFactory(user__username="someone-else")
    homes: list[Home] = []
    with pytest.raises(UsageError, match="already holds 1 user"):
        build_demo(tmp_path / "demo", open_database=opened(homes), loans=LOANS, months=MONTHS)
    assert [h.path for h in homes] == [tmp_path / "demo"]
    assert Store(homes[0].store_path).months() == []
    assert not Person.objects.exclude(user__username__in=["someone-else", "system"]).exists()


def test_rebuild_refuses_a_home_the_demo_did_not_build(tmp_path: Path):
    home, _ = create_home(tmp_path / "bank")
    store = Store(home.store_path)
    import_org(store, write_org(tmp_path / "org.csv"))
    import_files(store, [write_csv(tmp_path / "tape.csv", loan_rows(2))], ImportOptions())
    with pytest.raises(UsageError, match="did not build"):
        build_demo(home.path, open_database=opened([]), rebuild=True)
    assert Store(home.store_path).months() and not (home.path / DEMO_DATA).exists()
