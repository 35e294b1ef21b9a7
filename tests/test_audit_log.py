"""The audit log is append-only: not through the ORM, and on PostgreSQL not even by SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audits.models import AuditEvent
from tests.people import make_person


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
