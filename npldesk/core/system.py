"""Facts about the running system every layer needs: who acts, owner-only files, and durable
file writes."""

from __future__ import annotations

import getpass
import os
from pathlib import Path


def current_user() -> str:
    """Who is acting: ``NPLDESK_USER`` if set, else the operating-system user."""
    chosen = os.environ.get("NPLDESK_USER", "").strip()
    if chosen:
        return chosen
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a name
        return f"uid:{os.getuid()}"


def fsync_path(path: Path) -> None:
    """Flush a file or a folder entry to disk, so that a rename after it is durable."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# Group and others get nothing: every file a face creates (store, database, exports, logs,
# backups) holds personal data or leads to it (ADR 0006).
OWNER_ONLY_UMASK = 0o077


def owner_only_files() -> None:
    """From now on, files and folders this process creates are readable by their owner only.

    Called once where every face starts (the command line, Django's settings for the web app
    and ``manage.py``); a file that must be owner-only whoever calls is also created so.
    """
    os.umask(OWNER_ONLY_UMASK)


def make_owner_only(path: Path) -> None:
    """``path`` readable and writable by its owner only (a folder also enterable)."""
    path.chmod(0o700 if path.is_dir() else 0o600)
