"""The audit trail and the recovery ledger are append-only in the database, not only in Django.

Migration ``0004_append_only_ledgers`` puts triggers on both tables that refuse every UPDATE
and DELETE (and TRUNCATE on PostgreSQL), so raw SQL, a database console or a future bulk path
cannot rewrite history either (ADR 0006). Emptying a whole database is the one exception: a
test run's ``flush`` (and anything else that must wipe a database it owns) does it inside
``erase_permitted``, which the triggers check:

- on PostgreSQL through the session setting ``npldesk.erase_permitted``;
- on SQLite through the SQL function ``npldesk_erase_permitted()``, which every connection
  Django opens is given here (a connection without it, such as the ``sqlite3`` shell, is
  refused all the same: the trigger cannot run).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

APPEND_ONLY_TABLES = ("casework_auditrecord", "casework_recovery")
SQLITE_PERMIT_FUNCTION = "npldesk_erase_permitted"
POSTGRESQL_PERMIT_SETTING = "npldesk.erase_permitted"

# Per thread, as Django's connections are: a permit given to one connection is not another's.
_permits = threading.local()


def _erase_permitted_now() -> int:
    return 1 if getattr(_permits, "active", False) else 0


def give_sqlite_connection_the_permit_function(
    sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """``connection_created`` receiver: SQLite's triggers ask this function for a permit."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_PERMIT_FUNCTION, 0, _erase_permitted_now)


def connect_signals() -> None:
    connection_created.connect(
        give_sqlite_connection_the_permit_function, dispatch_uid="npldesk-append-only-permit"
    )


@contextmanager
def erase_permitted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let rows of the append-only tables be deleted (never updated) on ``connection`` within
    the block: for wiping a whole database, never for editing history."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {POSTGRESQL_PERMIT_SETTING} = 'on'")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"RESET {POSTGRESQL_PERMIT_SETTING}")
        return
    _permits.active = True
    try:
        yield
    finally:
        _permits.active = False
