"""Building the demo home: a synthetic branch network imported, and its casework.

``build_demo`` is what ``npldesk demo`` calls: it (re)creates the home, has the caller open its
casework database, writes the synthetic book into ``<home>/demo-data``, imports it like any
bank's files, builds the casework history (``npldesk.demo.casework``), keeps the generated
sign-ins in the owner-only ``demo-credentials.txt`` (``npldesk.demo.credentials``) and returns
what a face shows. A home already built is left as it is. Nothing of Django is imported before
the database is open, so a face may import this module first.

``--rebuild`` starts over on both sides: the home folder and its casework database. The folder
goes with ``shutil.rmtree``; the database is migrated back to nothing and forward again,
because on PostgreSQL it lives outside the folder and would otherwise keep the previous demo's
people, cases and audit trail (and the new demo's people would collide with them).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from npldesk.core.errors import UsageError
from npldesk.demo.credentials import DemoSignIn, write_credentials
from npldesk.home import Home, create_home
from npldesk.tape.store import SnapshotEntry, Store

if TYPE_CHECKING:
    from npldesk.demo.casework import DemoCasework

# The folder of the demo home that holds the synthetic files; it marks a home as the demo's.
DEMO_DATA = "demo-data"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoBook:
    """The synthetic book written and imported by this run."""

    loans: int
    households: int


@dataclass(frozen=True)
class DemoBuild:
    """The demo home and what it holds; ``book`` and ``casework`` only when built by this run."""

    home: Home
    book: DemoBook | None
    casework: DemoCasework | None
    snapshots: list[SnapshotEntry]
    summary: dict[str, Any]


def build_demo(
    target: Path,
    *,
    open_database: Callable[[Home], None],
    loans: int | None = None,
    months: int = 24,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> DemoBuild:
    """Build the demo home at ``target`` unless it is built; with ``rebuild``, start over.

    ``open_database(home)`` sets the process's casework database up for the home and brings it
    to the latest migration (a face's wiring; Django is set up once per process).
    """
    from npldesk.synth import generate
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org

    say = progress or (lambda _message: None)
    if rebuild and target.exists():
        _remove_demo_folder(target)
    home, _ = create_home(target)
    open_database(home)
    if rebuild:
        say("emptying the casework database")
        casework_database_empty()
    # Django is set up only now: the casework modules are imported after open_database.
    from npldesk.demo.casework import build_demo_casework, casework_summary

    store = Store(home.store_path)
    if store.months():
        return DemoBuild(home, None, None, store.snapshots(), casework_summary())
    _require_empty_casework(home)
    result = generate(
        home.path / DEMO_DATA,
        loans=loans,
        months=months,
        progress=lambda done, total: say(f"simulating {done}/{total}"),
    )
    import_org(store, result.org_file)
    say("importing the loan tape")
    import_files(store, result.tape_files, ImportOptions(), progress=say)
    casework = build_demo_casework(home, progress=say)
    write_credentials(
        home.path,
        (DemoSignIn(c.username, c.roles, c.units, c.password) for c in casework.credentials),
    )
    return DemoBuild(
        home,
        DemoBook(result.loans, result.households),
        casework,
        store.snapshots(),
        casework_summary(),
    )


def _remove_demo_folder(target: Path) -> None:
    """Delete a demo home's folder; refuse a folder holding a tape store the demo did not write."""
    if not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    store = Store(create_home(target)[0].store_path)
    if store.months() and not (target / DEMO_DATA).is_dir():
        raise UsageError(
            f"{target} holds a tape store that the demo did not build; --rebuild deletes a demo "
            "home only"
        )
    shutil.rmtree(target)


def casework_database_empty() -> None:
    """Take every app's tables back to no migration and migrate again: an empty database as a
    new home has it (no people, cases or audit trail; the rows migrations create, such as the
    departments, created again). ``flush`` would delete those rows and not bring them back."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    migrated = set(MigrationLoader(None, ignore_no_migrations=True).migrated_apps)
    for app_config in apps.get_app_configs():
        if app_config.label in migrated:
            call_command("migrate", app_config.label, "zero", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)


def _require_empty_casework(home: Home) -> None:
    """The demo's people and cases go into an empty database only (or collide with others)."""
    from django.contrib.auth import get_user_model

    from npldesk.casework.choices import SYSTEM_USERNAME
    from npldesk.casework.models import Case

    # The system actor comes with every database (a migration makes it); nobody else may.
    users = get_user_model().objects.exclude(username=SYSTEM_USERNAME).count()
    cases = Case.objects.count()
    if users or cases:
        raise UsageError(
            f"the casework database of {home.path} already holds {users} user(s) and {cases} "
            "case(s) but no demo tape: `npldesk demo --rebuild` empties it, or point "
            "NPLDESK_DATABASE_URL at an empty database"
        )
