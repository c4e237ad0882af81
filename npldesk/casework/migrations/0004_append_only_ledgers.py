"""The audit trail and the recovery ledger refuse UPDATE and DELETE in the database itself
(and TRUNCATE on PostgreSQL); only a permit to wipe the whole database lets rows go
(``npldesk.casework.append_only``, ADR 0006).

The SQL is written out here, not imported, so that this migration keeps doing what it did when
the module changes. On SQLite a later migration that rebuilds one of these tables (Django
copies a table to alter it) drops its triggers: such a migration must create them again; the
tests of the append-only tables fail if it does not.
"""

from typing import Any

from django.db import migrations

TABLES = {
    "casework_auditrecord": "audit records are append-only: they are never edited or deleted",
    "casework_recovery": "the recovery ledger is append-only: enter a reversal instead",
}

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION npldesk_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND coalesce(current_setting('npldesk.erase_permitted', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% (% on %)', TG_ARGV[0], TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def _postgresql(table: str, message: str) -> list[str]:
    quoted = message.replace("'", "''")
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION npldesk_refuse_change('{quoted}')",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION npldesk_refuse_change('{quoted}')",
    ]


def _sqlite(table: str, message: str) -> list[str]:
    quoted = message.replace("'", "''")
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{quoted}'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"WHEN NOT npldesk_erase_permitted() BEGIN SELECT RAISE(ABORT, '{quoted}'); END",
    ]


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements: list[str] = []
    if vendor == "postgresql":
        statements.append(POSTGRESQL_FUNCTION)
        for table, message in TABLES.items():
            statements += _postgresql(table, message)
    elif vendor == "sqlite":
        for table, message in TABLES.items():
            statements += _sqlite(table, message)
    for statement in statements:
        # No parameters: the function body's % must reach PostgreSQL as written.
        schema_editor.execute(statement, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS npldesk_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("casework", "0003_system_actor")]
    operations = [migrations.RunPython(create, drop)]
