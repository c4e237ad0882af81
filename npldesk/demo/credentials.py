"""The demo people's sign-ins, kept in ``<home>/demo-credentials.txt`` (owner-only).

The demo generates a password for each of its people; the file keeps them so that every
``npldesk demo`` run, not only the one that built the home, can say how each role signs in to
the web app it serves. It is a demo home's file: a real home has no such file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from npldesk.core.errors import DataError
from npldesk.core.system import make_owner_only

CREDENTIALS_FILE = "demo-credentials.txt"
_HEADER = "# npldesk demo sign-ins: username, roles, units, password (tab-separated)"


@dataclass(frozen=True)
class DemoSignIn:
    """One demo person's username and password, with their roles and units."""

    username: str
    roles: tuple[str, ...]
    units: tuple[str, ...]
    password: str


def credentials_path(home_path: Path) -> Path:
    return home_path / CREDENTIALS_FILE


def write_credentials(home_path: Path, sign_ins: Iterable[DemoSignIn]) -> Path:
    """Write the file afresh, owner-only from its creation on (it holds passwords)."""
    path = credentials_path(home_path)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(_HEADER + "\n")
        for s in sign_ins:
            handle.write(f"{s.username}\t{' '.join(s.roles)}\t{' '.join(s.units)}\t{s.password}\n")
    make_owner_only(path)
    return path


def read_credentials(home_path: Path) -> list[DemoSignIn]:
    """The sign-ins the demo wrote; a clear error when the file is missing or damaged."""
    path = credentials_path(home_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing: the demo's sign-ins are lost; `npldesk demo --rebuild` makes "
            "new ones"
        ) from None
    sign_ins = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise DataError(f"{path}, line {number}: expected 4 tab-separated fields")
        username, roles, units, password = fields
        sign_ins.append(DemoSignIn(username, tuple(roles.split()), tuple(units.split()), password))
    return sign_ins


def one_per_role(sign_ins: Iterable[DemoSignIn]) -> dict[str, DemoSignIn]:
    """For each role, the first person holding it (the named demo staff come first)."""
    chosen: dict[str, DemoSignIn] = {}
    for s in sign_ins:
        for role in s.roles:
            chosen.setdefault(role, s)
    return chosen
