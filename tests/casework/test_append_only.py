"""The audit trail and the recovery ledger are append-only in the database as well as in Django:
the ORM refuses ``update()`` and ``delete()``, and the tables' triggers refuse raw SQL UPDATE and
DELETE (and TRUNCATE on PostgreSQL), on whichever database the run uses. Emptying the whole
database (a transactional test's ``flush``) still works under ``erase_permitted``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from npldesk.casework import services
from npldesk.casework.append_only import erase_permitted
from npldesk.casework.models import AuditRecord, Recovery, Unit
from tests.casework.world import OPENED, World, build_world

TABLES = ("casework_auditrecord", "casework_recovery")


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    built = build_world(units)
    services.recovery_enter(
        actor=built.officer,
        case=built.case,
        loan_id=built.loan_id,
        received_on=OPENED,
        amount=Decimal("100.00"),
        source="borrower",
    )
    return built


def _refused(sql: str) -> None:
    # A savepoint per statement: on PostgreSQL a refused statement spoils its transaction.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


def test_the_orm_refuses_to_update_or_delete_audit_records(world: World) -> None:
    before = list(AuditRecord.objects.values_list("id", "action", "reason"))
    with pytest.raises(PermissionError, match="append-only"):
        AuditRecord.objects.update(reason="rewritten")
    with pytest.raises(PermissionError, match="append-only"):
        AuditRecord.objects.filter(case=world.case).update(reason="rewritten")
    with pytest.raises(PermissionError, match="append-only"):
        AuditRecord.objects.all().delete()
    with pytest.raises(PermissionError, match="append-only"):
        world.case.audit_records.all().delete()
    with pytest.raises(PermissionError, match="append-only"):
        AuditRecord.objects.first().delete()  # type: ignore[union-attr]
    with pytest.raises(PermissionError, match="append-only"), transaction.atomic():
        AuditRecord.objects.bulk_update(list(AuditRecord.objects.all()), ["reason"])
    assert list(AuditRecord.objects.values_list("id", "action", "reason")) == before


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_raw_updates_and_deletes(world: World, table: str) -> None:
    rows = _count(table)
    assert rows > 0
    _refused(f"UPDATE {table} SET id = id")
    _refused(f"DELETE FROM {table}")
    _refused(f"DELETE FROM {table} WHERE id = (SELECT min(id) FROM {table})")
    assert _count(table) == rows
    assert Recovery.objects.get().amount == Decimal("100.00")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", TABLES)
def test_postgresql_refuses_truncate(units: dict[str, Unit], table: str) -> None:
    # Committed rows: PostgreSQL refuses any TRUNCATE of a table written in the same
    # transaction (its foreign-key checks are still pending), which would prove nothing.
    world = build_world(units)
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=OPENED,
        amount=Decimal("100.00"),
        source="borrower",
    )
    rows = _count(table)
    _refused(f"TRUNCATE {table} CASCADE")
    assert _count(table) == rows > 0


def test_a_permit_to_wipe_lets_rows_be_deleted_but_never_edited(world: World) -> None:
    with erase_permitted(connection):
        _refused("UPDATE casework_auditrecord SET reason = 'rewritten'")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM casework_recovery")
            cursor.execute("DELETE FROM casework_auditrecord")
    assert AuditRecord.objects.count() == Recovery.objects.count() == 0
    # The permit ends with its block.
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 1, 2),
        amount=Decimal("5.00"),
        source="borrower",
    )
    _refused("DELETE FROM casework_recovery")


@pytest.mark.django_db(transaction=True)
def test_committed_history_survives_raw_sql_and_the_database_is_still_flushed(
    units: dict[str, Unit],
) -> None:
    """Committed rows (no test transaction around them) stay put; the ``flush`` that ends this
    test empties the tables, or the next test would find them full."""
    world = build_world(units)
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=OPENED,
        amount=Decimal("100.00"),
        source="borrower",
    )
    for table in TABLES:
        rows = _count(table)
        _refused(f"UPDATE {table} SET id = id")
        _refused(f"DELETE FROM {table}")
        assert _count(table) == rows > 0


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_tables_are_empty_and_still_guarded(units: dict[str, Unit]) -> None:
    assert AuditRecord.objects.count() == Recovery.objects.count() == 0
    world = build_world(units)
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=OPENED,
        amount=Decimal("1.00"),
        source="borrower",
    )
    _refused("DELETE FROM casework_recovery")


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])
