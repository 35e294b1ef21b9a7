"""Trigram indexes for the helpdesk search on PostgreSQL: `icontains` is UPPER(col) LIKE
UPPER('%word%'), which a GIN index over UPPER(col) with gin_trgm_ops answers without reading
every host. Skipped (the search still works, only slower) on SQLite or where the pg_trgm
extension cannot be created."""

from django.db import migrations, transaction

INDEXES = (
    ("helpdesk_user_email_trgm", "auth_user", "email"),
    ("helpdesk_user_first_trgm", "auth_user", "first_name"),
    ("helpdesk_user_last_trgm", "auth_user", "last_name"),
    ("helpdesk_person_dept_trgm", "portal_person", "department"),
)


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - no privilege: keep the plain search
            return
        for name, table, column in INDEXES:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _, _ in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("audits", "0004_host_state")]

    operations = [migrations.RunPython(create, drop)]
