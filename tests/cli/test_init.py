"""`npldesk init` creates a home whose database is migrated, on SQLite and on PostgreSQL.

The suite runs once per database: this test follows whichever database the run uses
(``NPLDESK_DATABASE_URL``), creating a database of its own on PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from npldesk.home import load_home

REPO = Path(__file__).resolve().parents[2]


def _init(home: Path, database_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env["PYTHONPATH"] = str(REPO)
    env["NPLDESK_LANGUAGE"] = "en"  # the messages asserted below are the English ones
    if database_url:
        env["NPLDESK_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-c", "from npldesk.cli import main; main()", "init", "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
    )


def test_init_creates_config_store_and_a_migrated_database(tmp_path: Path):
    engine = settings.DATABASES["default"]["ENGINE"]
    home = tmp_path / "home"
    if engine.endswith("sqlite3"):
        result = _init(home, None)
        assert result.returncode == 0, result.stderr
        tables = {
            row[0]
            for row in sqlite3.connect(home / "npldesk.sqlite3").execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    else:
        import psycopg

        server = os.environ["NPLDESK_DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        name = f"npldesk_init_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            url = server.rsplit("/", 1)[0] + "/" + name
            result = _init(home, url)
            assert result.returncode == 0, result.stderr
            assert "postgresql://" in result.stdout or "postgres://" in result.stdout
            with psycopg.connect(url) as conn:
                tables = {
                    row[0]
                    for row in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    )
                }
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    assert {"django_migrations", "auth_user", "django_session"} <= tables
    loaded = load_home(home)
    assert loaded.store_path.is_dir()
    assert loaded.backend == "duckdb"
    if engine.endswith("sqlite3"):  # running it again is harmless and says so
        again = _init(home, None)
        assert again.returncode == 0 and "already existed" in again.stdout


def test_init_on_an_unreachable_database_says_so(tmp_path: Path):
    result = _init(tmp_path / "home", "postgres://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert "cannot be set up" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_the_casework_database_answers():
    """The suite's own database (SQLite or PostgreSQL) is reachable through the ORM."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("analyst", password="synthetic-only")
    assert get_user_model().objects.get(pk=user.pk).username == "analyst"
