"""Facts about the running system every layer needs: who acts, and durable file writes."""

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
