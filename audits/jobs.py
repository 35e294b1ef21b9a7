"""Jobs are rows: created in the request's transaction, sent to Celery on commit, claimed by
exactly one worker with a conditional update, and finished with an outcome.

A job whose message never reached the broker (it was down at commit) stays pending; the
periodic sweep sends it again. A job whose worker died mid-way is claimed again once its lease
(the task time limit) has passed.

A job that must wait (Zoom failed for now, or another job holds the host) waits in its row, not
on the broker: pending with `not_before` set, sent again by the sweep once that time has come.
A countdown message held unacknowledged by a worker kills that worker when Redis drops (kombu
5.7, shared/NOTES.md), and it is lost with the worker; a row is neither.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from audits.models import FINISHED, Job, JobKind, JobStatus

log = logging.getLogger(__name__)

# Seconds to wait after each transient failure: 5 s doubling to a 5-minute cap, 14 waits
# (about 45 minutes of trying); a Retry-After from Zoom that asks for longer wins. After the
# last one the job fails with Zoom's message.
RETRY_SCHEDULE = tuple(min(5 * 2**n, 300) for n in range(14))
# However a job waits (429s that name their wait are not counted above), it stops trying after
# this long from its creation: nobody is waiting for it any more.
GIVE_UP_AFTER = timedelta(hours=2)


def create_job(kind: JobKind, host, *, requested_by=None, reason: str = "", **fields) -> Job:
    """Create a job and send it to a worker once the surrounding transaction commits."""
    job = Job.objects.create(
        kind=kind, host=host, requested_by=requested_by, reason=reason, **fields
    )
    transaction.on_commit(lambda: send(job.pk))
    return job


def active_job(host, *kinds: JobKind) -> Job | None:
    """The host's job of one of these kinds that is still queued or running, if any."""
    return Job.objects.filter(host=host, kind__in=kinds).exclude(status__in=FINISHED).first()


def start_once(kind: JobKind, host, **fields) -> Job:
    """The job of this kind already under way for the host, or a new one: a second click, or
    a second notification from Zoom, does not queue the same work twice."""
    return active_job(host, kind) or create_job(kind, host, **fields)


def send(job_id: int) -> bool:
    """Put the job's message on the broker; False (and the job stays pending) if it is down."""
    from audits.tasks import run_job

    try:
        run_job.apply_async((job_id,), retry=False)
    except (OperationalError, OSError) as exc:
        log.warning("broker unavailable, job %s stays queued for the sweep: %s", job_id, exc)
        return False
    Job.objects.filter(pk=job_id).update(enqueued_at=timezone.now(), not_before=None)
    return True


def lease() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def claim(job_id: int) -> Job | None:
    """Take the job for this worker, or None if another worker has it or it is finished."""
    now = timezone.now()
    abandoned = Q(status__in=[JobStatus.RUNNING, JobStatus.VERIFYING], started_at__lt=now - lease())
    # A stray message (a redelivery) does not cut a wait short.
    ready = Q(status=JobStatus.PENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    claimed = (
        Job.objects.filter(ready | abandoned, pk=job_id)
        .exclude(status__in=FINISHED)
        .update(status=JobStatus.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    return Job.objects.get(pk=job_id) if claimed else None


def set_status(job: Job, status: JobStatus, message: str = "") -> None:
    job.status, job.message = status, message
    Job.objects.filter(pk=job.pk).update(status=status, message=message)


def wait(job: Job, message: str, seconds: float, *, failures: int) -> None:
    """Back to pending until `seconds` from now, saying why: the page shows it honestly. The
    sweep sends it again once the time has come. This claim ended in order, so it is given
    back: `attempts` keeps counting only claims lost with their worker."""
    job.status, job.message, job.failures = JobStatus.PENDING, message, failures
    job.not_before = timezone.now() + timedelta(seconds=seconds)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.PENDING,
        message=message,
        failures=failures,
        not_before=job.not_before,
        enqueued_at=None,
        attempts=F("attempts") - 1,
    )


def finish(job: Job, status: JobStatus, message: str, **fields) -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "message", "finished_at", *fields])


def sweep_pending(older_than: timedelta = timedelta(seconds=60)) -> int:
    """Send the jobs whose wait is over, and again those that stayed pending (their message
    was lost or never sent) or whose worker died."""
    now = timezone.now()
    cutoff = now - older_than
    waited = Q(status=JobStatus.PENDING, not_before__lte=now)
    unsent = Q(status=JobStatus.PENDING, not_before__isnull=True)
    never_sent = unsent & Q(enqueued_at__isnull=True, created_at__lt=cutoff)
    lost = unsent & Q(enqueued_at__lt=cutoff)
    abandoned = Q(status__in=[JobStatus.RUNNING, JobStatus.VERIFYING], started_at__lt=now - lease())
    due = Job.objects.filter(waited | never_sent | lost | abandoned).order_by("created_at")
    return sum(send(job_id) for job_id in due.values_list("pk", flat=True)[:500])
