"""The portal keeps no more than its "own data" page says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.jobs.retention import purge_old_records
from audits.models import AuditEvent, Job, JobKind, JobStatus, Snapshot, ZoomStatus
from tests.people import make_person

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - timedelta(days=500)


def snapshot(host, when):
    return Snapshot.objects.create(host=host, zoom_status=ZoomStatus.LINKED, taken_at=when)


def test_old_snapshots_go_but_each_hosts_last_reading_stays():
    host = make_person("mixed.host@utoronto.ca")
    old = snapshot(host, LONG_AGO)
    older_than_13_months_but_last = snapshot(host, LONG_AGO + timedelta(days=1))
    recent_host = make_person("default.host@utoronto.ca")
    recent = snapshot(recent_host, timezone.now())

    counts = purge_old_records()

    assert counts["snapshots"] == 1
    remaining = set(Snapshot.objects.values_list("pk", flat=True))
    assert remaining == {older_than_13_months_but_last.pk, recent.pk}
    assert old.pk not in remaining


def test_old_jobs_go_unless_the_audit_log_records_them():
    host = make_person("mixed.host@utoronto.ca")
    refresh = Job.objects.create(kind=JobKind.SYNC, host=host, status=JobStatus.DONE)
    change = Job.objects.create(kind=JobKind.HARDEN, host=host, status=JobStatus.DONE)
    Job.objects.filter(pk__in=[refresh.pk, change.pk]).update(created_at=LONG_AGO)
    AuditEvent.objects.create(actor=host, subject=host, action="harden", job=change)

    counts = purge_old_records()

    assert counts["jobs"] == 1
    assert list(Job.objects.values_list("pk", flat=True)) == [change.pk]
    assert AuditEvent.objects.filter(job=change).exists()
