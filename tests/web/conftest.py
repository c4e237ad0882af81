"""Web fixtures: the casework world, and browsers-as-clients signed in as one of its people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from npldesk.casework.models import Person, Unit
from npldesk.home import Home
from tests.casework.world import World, build_world

PASSWORD = "correct-horse-battery"


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


@pytest.fixture
def units(db: None) -> dict[str, Unit]:
    from tests.casework.factories import build_tree

    return build_tree()


@pytest.fixture
def client_for() -> Callable[[Person], Client]:
    """A client signed in as ``person`` (a session, as a browser has after signing in)."""

    def sign_in(person: Person) -> Client:
        client = Client()
        client.force_login(person.user, backend="npldesk.web.accounts.backends.StaffBackend")
        return client

    return sign_in


@pytest.fixture
def web_home(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Home:
    """An empty home (no month imported) as the web's home: ``settings.HOME``, and
    ``NPLDESK_HOME``, where the legal documents are kept and read."""
    from npldesk.home import create_home

    created, _ = create_home(tmp_path / "home")
    settings.HOME = created
    monkeypatch.setenv("NPLDESK_HOME", str(created.path))
    return created


# The casework test tree (tests/casework/factories.py) as an organisation file, so that the
# tape's units and the people's units are the same.
FIGURES_ORG = [
    {"code": "HB", "name": "淮北分行", "parent_code": "", "level": "city"},
    {"code": "HB01", "name": "濉溪县支行", "parent_code": "HB", "level": "county"},
    {"code": "HB0101", "name": "濉溪城关支行", "parent_code": "HB01", "level": "sub_branch"},
    {"code": "HB02", "name": "相山区支行", "parent_code": "HB", "level": "county"},
    {"code": "HB0201", "name": "相山路支行", "parent_code": "HB02", "level": "sub_branch"},
]


def figures_tape() -> list[dict[str, str]]:
    """Three month-ends (2019-01, 2019-12, 2020-01) of ten loans in both counties: HB01's NPL
    falls over January (half of an NPL loan repaid: double reduction), HB02's rises; one loan
    is an early warning."""
    from datetime import date

    from tests.tape_factory import loan_row

    months = (date(2019, 1, 31), date(2019, 12, 31), date(2020, 1, 31))
    # loan → (unit, balance, days past due at each month)
    loans = {
        1: ("HB0101", "200000.00", (0, 200, 220)),
        2: ("HB0101", "150000.00", (0, 0, 45)),
        3: ("HB0101", "90000.00", (0, 0, 0)),
        4: ("HB0101", "120000.00", (0, 0, 0)),
        5: ("HB0201", "80000.00", (0, 100, 130)),
        6: ("HB0201", "70000.00", (0, 0, 95)),
        7: ("HB0201", "60000.00", (0, 0, 0)),
        8: ("HB0201", "50000.00", (0, 0, 0)),
    }
    rows = []
    for index, as_of in enumerate(months):
        for n, (unit, balance, dpd) in loans.items():
            days = dpd[index]
            rows.append(
                loan_row(
                    n,
                    as_of,
                    org_unit=unit,
                    officer_id=f"{unit}-01",
                    principal_balance="100000.00" if (n, index) == (1, 2) else balance,
                    days_past_due=days,
                    overdue_principal="1000.00" if days else "0.00",
                    reported_class="substandard" if days > 90 else "normal",
                )
            )
    return rows


@pytest.fixture
def figures_home(tmp_path: Path, settings: Any, units: dict[str, Unit]) -> Home:
    """A home with the tape above imported, as the web's home (``settings.HOME``)."""
    from npldesk.home import create_home, load_home
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store
    from tests.tape_factory import write_csv, write_org

    created, _ = create_home(tmp_path / "home")
    store = Store(created.store_path)
    import_org(store, write_org(tmp_path / "org.csv", FIGURES_ORG))
    import_files(store, [write_csv(tmp_path / "tape.csv", figures_tape())], ImportOptions())
    home = load_home(created.path)
    settings.HOME = home
    return home
