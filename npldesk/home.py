"""The home folder of one installation: ``npldesk.toml``, the tape store, the SQLite database.

``--home DIR`` or ``NPLDESK_HOME`` picks it (default ``./npldesk-home``); environment variables
override the file (``NPLDESK_DATABASE_URL``, ``NPLDESK_BACKEND``, ``NPLDESK_LANGUAGE``).
Standard library only, so every layer can find its settings without Django.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.system import make_owner_only

CONFIG_NAME = "npldesk.toml"
SECRET_KEY_NAME = "secret.key"  # noqa: S105 - the file's name, not a key
DEFAULT_HOME = "npldesk-home"

DEFAULT_CONFIG = """\
# npldesk configuration. Environment variables override these settings:
# NPLDESK_DATABASE_URL, NPLDESK_BACKEND, NPLDESK_LANGUAGE.

[store]
# The tape store: Parquet snapshots, one folder per month-end, and the manifest.
path = "store"

[database]
# Empty: SQLite in this folder (npldesk.sqlite3). Production: postgres://user@host:5432/name
url = ""

[analytics]
# duckdb (default) or pyspark
backend = "duckdb"

[import]
# How many problems an import lists in detail before it only counts them.
max_problems = 1000
# A month whose loans vanish without a terminal row (unexplained exits) beyond this share of
# the month before's loans on book looks partial and is refused unless `--accept-exits`.
unexplained_exits_limit = 0.20

[web]
# The language of tables, workbooks and pages: zh-hans (简体中文) or en. JSON and CSV keep
# English keys and codes and exact amounts in every language.
language = "zh-hans"
# gunicorn's processes and threads per process for `npldesk serve`. A process's threads share
# one interpreter lock, so processes use the cores: one per core and one more (3 for 2 cores),
# each with a second thread for a request waiting on the database.
workers = 3
threads = 2
"""
LANGUAGES = ("zh-hans", "en")
DEFAULT_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class Home:
    """An installation's folder and its settings, read once."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_NAME

    @property
    def store_path(self) -> Path:
        configured = Path(str(self.config.get("store", {}).get("path", "store")))
        return configured if configured.is_absolute() else self.path / configured

    @property
    def secret_key_path(self) -> Path:
        return self.path / SECRET_KEY_NAME

    def secret_key(self) -> str | None:
        """The home's secret key (signing sessions and links), or None when it has none."""
        try:
            key = self.secret_key_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                translatable(
                    "the secret key {path} cannot be read: {exc}",
                    path=self.secret_key_path,
                    exc=exc,
                )
            ) from exc
        return key or None

    @property
    def sqlite_path(self) -> Path:
        return self.path / "npldesk.sqlite3"

    @property
    def database_url(self) -> str:
        """The casework database: SQLite (the default, in the home) or PostgreSQL."""
        from_env = os.environ.get("NPLDESK_DATABASE_URL", "").strip()
        if from_env:
            return _checked_database_url(from_env, "NPLDESK_DATABASE_URL")
        configured = str(self.config.get("database", {}).get("url", "")).strip()
        if configured:
            return _checked_database_url(configured, f"[database] url in {self.config_file}")
        return f"sqlite:///{self.sqlite_path}"

    @property
    def has_casework_database(self) -> bool:
        """Whether the home has a casework database (an analytics-only home, never given
        ``npldesk init``, has only its tape store)."""
        return not (self.database_url.startswith("sqlite") and not self.sqlite_path.exists())

    @property
    def backend(self) -> str:
        return (
            os.environ.get("NPLDESK_BACKEND")
            or str(self.config.get("analytics", {}).get("backend", "duckdb"))
        ).strip()

    @property
    def max_problems(self) -> int:
        return int(self.config.get("import", {}).get("max_problems", 1000))

    @property
    def unexplained_exits_limit(self) -> Decimal:
        """``[import] unexplained_exits_limit``: a share from 0 to 1 (default 0.20)."""
        raw = self.config.get("import", {}).get("unexplained_exits_limit", "0.20")
        try:
            # Through str: the TOML float 0.2 is the share 0.2, not its binary neighbour.
            limit = Decimal(str(raw))
        except InvalidOperation:
            limit = Decimal(-1)
        if isinstance(raw, bool) or not limit.is_finite() or not 0 <= limit <= 1:
            raise UsageError(
                translatable(
                    "{config_file}: [import] unexplained_exits_limit = {raw!r} is not a share "
                    "from 0 to 1 (0.20 is 20 % of the month before's loans on book)",
                    config_file=self.config_file,
                    raw=raw,
                )
            )
        return limit

    @property
    def language(self) -> str:
        """The language the home speaks to people in: ``NPLDESK_LANGUAGE``, else ``[web]
        language``, else zh-hans."""
        configured = self.config.get("web", {}).get("language", DEFAULT_LANGUAGE)
        chosen = (os.environ.get("NPLDESK_LANGUAGE") or str(configured)).strip().lower()
        if chosen not in LANGUAGES:
            raise UsageError(
                f"{self.config_file}: [web] language {chosen!r} is not one of "
                f"{', '.join(LANGUAGES)}"
            )
        return chosen

    @property
    def web_workers(self) -> int:
        """``[web] workers``: the server's processes (default 3)."""
        return self._web_count("workers", 3)

    @property
    def web_threads(self) -> int:
        """``[web] threads``: each server process's request threads (default 2)."""
        return self._web_count("threads", 2)

    def _web_count(self, key: str, default: int) -> int:
        raw = self.config.get("web", {}).get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 64:
            raise UsageError(
                translatable(
                    "{config_file}: [web] {key} = {raw!r} is not a whole number from 1 to 64",
                    config_file=self.config_file,
                    key=key,
                    raw=raw,
                )
            )
        return raw

    @property
    def initialised(self) -> bool:
        return self.config_file.is_file()


# The databases npldesk is built and tested on (its append-only triggers exist for these two).
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")


def _checked_database_url(url: str, source: str) -> str:
    scheme, separator, _rest = url.partition("://")
    if not separator or scheme.lower() not in DATABASE_SCHEMES:
        # The scheme only: the rest of a URL may hold a password.
        shown = f"{scheme}://…" if separator else "a value without a scheme"
        raise UsageError(
            translatable(
                "{source} is {shown}: the casework database is SQLite (sqlite:///PATH) or "
                "PostgreSQL (postgres://USER@HOST:PORT/NAME)",
                source=source,
                shown=shown,
            )
        )
    return url


def resolve_home_path(home: str | os.PathLike[str] | None = None) -> Path:
    """The home folder: the argument, else ``NPLDESK_HOME``, else ``./npldesk-home``."""
    chosen = home or os.environ.get("NPLDESK_HOME") or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


def load_home(home: str | os.PathLike[str] | None = None, *, must_exist: bool = True) -> Home:
    """Read the home's ``npldesk.toml``; a clear error when the home was never initialised."""
    path = resolve_home_path(home)
    config_file = path / CONFIG_NAME
    if not config_file.is_file():
        if must_exist:
            raise UsageError(
                translatable(
                    "{path} is not an npldesk home (no {config_name}): "
                    "run `npldesk init --home {path}` first",
                    path=path,
                    config_name=CONFIG_NAME,
                )
            )
        return Home(path=path, config={})
    try:
        config = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(
            translatable("{config_file} is not valid TOML: {exc}", config_file=config_file, exc=exc)
        ) from exc
    return Home(path=path, config=config)


def create_home(home: str | os.PathLike[str] | None = None) -> tuple[Home, bool]:
    """Create the folder and its default ``npldesk.toml``; return the home and whether it is new."""
    path = resolve_home_path(home)
    if path.exists() and not path.is_dir():
        raise UsageError(translatable("{path} exists and is not a folder", path=path))
    # The home holds personal data (the store, the database, exports): its owner's only.
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_owner_only(path)
    config_file = path / CONFIG_NAME
    created = not config_file.exists()
    if created:
        config_file.write_text(DEFAULT_CONFIG, encoding="utf-8")
    home_obj = load_home(path)
    home_obj.store_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_owner_only(home_obj.store_path)
    write_secret_key(home_obj.secret_key_path)
    return home_obj, created


def write_secret_key(path: Path) -> bool:
    """A new random secret key in ``path``, owner-only; an existing key is kept (sessions and
    links signed with it stay valid). Returns whether a key was written."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    return True


def restrict_sqlite_files(home: Home) -> None:
    """The home's SQLite database (and its journals) owner-only, whoever's umask created it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        candidate = home.sqlite_path.with_name(home.sqlite_path.name + suffix)
        if candidate.exists():
            make_owner_only(candidate)
