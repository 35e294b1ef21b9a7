"""The audit log becomes a hash chain, and on PostgreSQL TRUNCATE is refused too.

Each event stores the previous event's hash and its own (audits.models.audit_hash); the events
already there are chained now, in id order. The row trigger of 0002 is switched off only for
that, inside this migration's transaction. A statement trigger refuses TRUNCATE, which the row
trigger never sees. The table's owner can still switch triggers off: the README says how to run
the web and the workers as a role that cannot (INSERT and SELECT only)."""

from django.db import migrations, models

from audits.models import audit_hash

POSTGRES_TRUNCATE_GUARD = """
CREATE TRIGGER audits_auditevent_no_truncate
    BEFORE TRUNCATE ON audits_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audits_refuse_change();
"""
POSTGRES_NO_TRUNCATE_GUARD = (
    "DROP TRIGGER IF EXISTS audits_auditevent_no_truncate ON audits_auditevent;"
)


def chain_existing_events(apps, schema_editor) -> None:
    AuditEvent = apps.get_model("audits", "AuditEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE audits_auditevent DISABLE TRIGGER audits_auditevent_append_only"
        )
    prev_hash = ""
    for event in AuditEvent.objects.order_by("id").iterator():
        event_hash = audit_hash(prev_hash, event)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev_hash, hash=event_hash)
        prev_hash = event_hash
    if postgresql:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(
            "ALTER TABLE audits_auditevent ENABLE TRIGGER audits_auditevent_append_only"
        )
        schema_editor.execute(POSTGRES_TRUNCATE_GUARD)


def remove_truncate_guard(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_NO_TRUNCATE_GUARD)


class Migration(migrations.Migration):
    dependencies = [("audits", "0005_search_trigram_indexes")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(chain_existing_events, remove_truncate_guard),
    ]
