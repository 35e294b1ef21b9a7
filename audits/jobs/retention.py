"""Keeping data no longer than the "portal's own data" page says: old snapshots and the jobs
that left no audit record are deleted every day. The audit log itself is append-only and the
jobs it records stay with it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audits.models import FINISHED, Job, Snapshot

SNAPSHOT_DAYS = 396  # 13 months: this year beside last year
JOB_DAYS = 90  # long enough to undo a change


@transaction.atomic
def purge_old_records(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    newest_per_host = Snapshot.objects.values("host").annotate(newest=Max("id")).values("newest")
    snapshots, _ = (
        Snapshot.objects.filter(taken_at__lt=now - timedelta(days=SNAPSHOT_DAYS))
        .exclude(pk__in=newest_per_host)  # a host's last reading stays, however old
        .delete()
    )
    jobs, _ = Job.objects.filter(
        created_at__lt=now - timedelta(days=JOB_DAYS),
        status__in=FINISHED,
        auditevent__isnull=True,  # a change the audit log records keeps its job
        undone_by__isnull=True,
    ).delete()
    return {"snapshots": snapshots, "jobs": jobs}
