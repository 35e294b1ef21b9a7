"""The audit log is append-only: not through the ORM, and on PostgreSQL not even by SQL."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audits.models import AuditEvent
from tests.people import make_person
from tests.support import ROOT, subprocess_env


@pytest.fixture
def event(db):
    host = make_person("mixed.host@utoronto.ca")
    return AuditEvent.objects.create(actor=host, subject=host, action="lookup", reason="ticket 1")


def test_an_event_cannot_be_changed(event):
    event.reason = "something else"

    with pytest.raises(PermissionError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(PermissionError):
        event.delete()


def test_events_cannot_be_updated_or_deleted_in_bulk(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_an_update_by_sql(event):
    sql = "UPDATE audits_auditevent SET reason = 'x' WHERE id = %s"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.reason == "ticket 1"


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers and roles are PostgreSQL's"
)


@postgresql_only
def test_the_database_refuses_to_truncate_the_log(event):
    # The test database switches the guard off for the runner's own TRUNCATE (conftest).
    with connection.cursor() as cursor:
        # The test's own inserts have deferred foreign-key checks, which ALTER TABLE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audits_auditevent ENABLE TRIGGER audits_auditevent_no_truncate")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE audits_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgresql_only
def test_a_role_with_insert_and_select_only_cannot_change_or_empty_the_log(event):
    """The README's grants for the web and worker role, while another role owns the tables."""
    role = f"portal_app_{connection.settings_dict['NAME']}"[:60]
    with connection.cursor() as cursor:
        # Rolled back with the test's transaction, the role included.
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audits_auditevent FROM {role}")
        cursor.execute(f"SET ROLE {role}")
        try:
            # The portal still writes its events, chained.
            written = AuditEvent.objects.create(subject=event.subject, action="lookup")
            assert written.prev_hash == event.hash
            for statement in (
                "UPDATE audits_auditevent SET reason = 'x'",
                "DELETE FROM audits_auditevent",
                "TRUNCATE audits_auditevent",
                "ALTER TABLE audits_auditevent DISABLE TRIGGER USER",
            ):
                with (
                    pytest.raises(DatabaseError, match=r"permission denied|must be owner"),
                    transaction.atomic(),
                ):
                    cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")
    event.refresh_from_db()
    assert event.reason == "ticket 1"


def _tamper(sql: str, params: list) -> None:
    """What the table's owner could still do by hand: switch the row trigger off and edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE audits_auditevent DISABLE TRIGGER audits_auditevent_append_only"
            )
        cursor.execute(sql, params)


@pytest.fixture
def chain(db) -> list[AuditEvent]:
    host = make_person("mixed.host@utoronto.ca")
    return [
        AuditEvent.objects.create(
            actor=host, subject=host, action="lookup", reason=f"ticket {n}", detail={"n": n}
        )
        for n in range(4)
    ]


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def test_verify_audit_log_finds_an_intact_chain(chain):
    assert "4 events, the chain is intact" in _verify()


def test_verify_audit_log_reports_a_deleted_event(chain):
    _tamper("DELETE FROM audits_auditevent WHERE id = %s", [chain[1].pk])

    with pytest.raises(CommandError, match=f"before event {chain[2].pk}.*missing"):
        _verify()


def test_verify_audit_log_reports_an_edited_event(chain):
    _tamper("UPDATE audits_auditevent SET reason = 'nothing' WHERE id = %s", [chain[2].pk])

    with pytest.raises(CommandError, match=f"event {chain[2].pk}.*changed"):
        _verify()


@postgresql_only
def test_migrate_connects_as_the_migration_role(tmp_path):
    database = connection.settings_dict
    url = f"postgres://{{}}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/"
    env = subprocess_env(
        DATABASE_URL=url.format(database["USER"]) + database["NAME"],
        MIGRATION_DATABASE_URL=url.format("no_such_owner") + database["NAME"],
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert 'role "no_such_owner" does not exist' in result.stderr


@pytest.mark.django_db(transaction=True)
def test_events_written_at_the_same_time_still_form_one_chain():
    host = make_person("mixed.host@utoronto.ca")

    def write(n: int) -> None:
        try:
            with transaction.atomic():
                AuditEvent.objects.create(subject=host, action="lookup", reason=f"ticket {n}")
        finally:
            connection.close()  # this thread's own

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(24)))

    assert "24 events, the chain is intact" in _verify()
