"""Fixtures shared by the command-line tests: a home with the test organisation (and a tape)
imported, the command line acting as a named user on the test database, and ``cli`` to run a
command against the home as a user would type it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from npldesk.cli import run
from npldesk.home import create_home
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_csv, write_org

Cli = Callable[..., tuple[int, str, str]]


def make_home(folder: Path, rows: list[dict[str, str]] | None = None) -> Path:
    """A home in ``folder/home`` with the test organisation imported and ``rows`` as its tape."""
    home, _ = create_home(folder / "home")
    store = Store(home.store_path)
    import_org(store, write_org(folder / "org.csv"))
    if rows:
        import_files(store, [write_csv(folder / "tape.csv", rows)], ImportOptions())
    return home.path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with the test organisation imported (the tape commands need no database)."""
    return make_home(tmp_path)


@pytest.fixture
def cli_user() -> str:
    """Who the command line acts as (``NPLDESK_USER``); a module names its own by overriding."""
    return "cli-tester"


@pytest.fixture
def on_casework(home: Path, db: None, cli_user: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home's casework on the test database, the command line acting as ``cli_user``.

    ``NPLDESK_HOME`` is set here so that it is restored after the test (the commands set it)."""
    monkeypatch.setenv("NPLDESK_HOME", str(home))
    monkeypatch.setenv("NPLDESK_USER", cli_user)
    return home


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli(*args)`` → (exit code, stdout, stderr) of ``npldesk ARGS --home HOME``."""

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run([*args, "--home", str(home)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call
