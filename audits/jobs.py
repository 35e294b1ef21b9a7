"""Jobs are rows: created in the request's transaction, sent to Celery on commit, claimed by
exactly one worker with a conditional update, and finished with an outcome.

A job whose message never reached the broker (it was down at commit) stays pending; the
periodic sweep sends it again. A job whose worker died mid-way is claimed again once its lease
(the task time limit) has passed.
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

# Seconds to wait before each retry of a transient failure; a Retry-After from Zoom that asks
# for longer wins. After the last one the job fails with Zoom's message.
RETRY_SCHEDULE = (5, 20, 60)


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


def send(job_id: int, countdown: float = 0) -> bool:
    """Put the job's message on the broker; False (and the job stays pending) if it is down."""
    from audits.tasks import run_job

    try:
        run_job.apply_async((job_id,), countdown=countdown, retry=False)
    except (OperationalError, OSError) as exc:
        log.warning("broker unavailable, job %s stays queued for the sweep: %s", job_id, exc)
        return False
    Job.objects.filter(pk=job_id).update(enqueued_at=timezone.now())
    return True


def lease() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def claim(job_id: int) -> Job | None:
    """Take the job for this worker, or None if another worker has it or it is finished."""
    now = timezone.now()
    abandoned = Q(status__in=[JobStatus.RUNNING, JobStatus.VERIFYING], started_at__lt=now - lease())
    claimed = (
        Job.objects.filter(Q(status=JobStatus.PENDING) | abandoned, pk=job_id)
        .exclude(status__in=FINISHED)
        .update(status=JobStatus.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    return Job.objects.get(pk=job_id) if claimed else None


def set_status(job: Job, status: JobStatus, message: str = "") -> None:
    job.status, job.message = status, message
    Job.objects.filter(pk=job.pk).update(status=status, message=message)


def requeue(job: Job, message: str, countdown: float) -> None:
    """Back to pending while a retry waits, saying why: the page shows it honestly. The
    expected delivery time keeps the sweep from sending it again before the retry is due."""
    job.status, job.message = JobStatus.PENDING, message
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.PENDING,
        message=message,
        enqueued_at=timezone.now() + timedelta(seconds=countdown),
    )


def finish(job: Job, status: JobStatus, message: str, **fields) -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "message", "finished_at", *fields])


def sweep_pending(older_than: timedelta = timedelta(seconds=60)) -> int:
    """Send again the jobs that stayed pending (their message was lost or never sent)."""
    now = timezone.now()
    cutoff = now - older_than
    never_sent = Q(status=JobStatus.PENDING, enqueued_at__isnull=True, created_at__lt=cutoff)
    lost = Q(status=JobStatus.PENDING, enqueued_at__lt=cutoff)
    abandoned = Q(status__in=[JobStatus.RUNNING, JobStatus.VERIFYING], started_at__lt=now - lease())
    due = Job.objects.filter(never_sent | lost | abandoned).order_by("created_at")
    return sum(send(job_id) for job_id in due.values_list("pk", flat=True)[:500])
