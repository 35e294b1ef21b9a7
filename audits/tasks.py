"""Celery tasks: thin interfaces that claim a job row and call plain functions."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from audits import jobs
from audits.harden_jobs import HostBusy, run_harden, run_undo
from audits.meeting_jobs import run_meetings
from audits.models import AuditEvent, Job, JobKind, JobStatus
from audits.sync import TransientSyncError, record_unreachable, sync_host

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6  # claims of one job: retries and redeliveries after a lost worker together
BUSY_COUNTDOWN = 3


def _run_sync(job: Job) -> None:
    snapshot = sync_host(job.host)
    status = JobStatus.DONE if snapshot.is_complete else JobStatus.FAILED
    message = snapshot.error or "Your settings were read from Zoom."
    jobs.finish(job, status, message, snapshot=snapshot)


RUNNERS = {
    JobKind.SYNC: _run_sync,
    JobKind.HARDEN: run_harden,
    JobKind.UNDO: run_undo,
    JobKind.MEETINGS: run_meetings,
}


@shared_task(bind=True, name="audits.run_job", max_retries=len(jobs.RETRY_SCHEDULE) + 20)
def run_job(self, job_id: int) -> str:
    job = jobs.claim(job_id)
    if job is None:
        return "not claimed: finished or taken by another worker"
    if job.attempts > MAX_ATTEMPTS:
        jobs.finish(job, JobStatus.FAILED, "The job was tried too many times and was stopped.")
        return "failed: too many attempts"
    try:
        RUNNERS[JobKind(job.kind)](job)
    except HostBusy as exc:
        # Waiting for another job is not a failure: it does not use up the retry schedule.
        jobs.requeue(job, f"Waiting: {exc}.", BUSY_COUNTDOWN)
        Job.objects.filter(pk=job.pk).update(attempts=job.attempts - 1)
        raise self.retry(countdown=BUSY_COUNTDOWN) from exc
    except TransientSyncError as exc:
        failures = job.attempts - 1  # this claim's failure is the n-th of the job
        if failures >= len(jobs.RETRY_SCHEDULE):
            _give_up(job, exc.error.user_message)
            return "failed after retries"
        countdown = max(jobs.RETRY_SCHEDULE[failures], exc.error.retry_after or 0)
        jobs.requeue(job, f"Zoom did not answer ({exc.error.user_message}); retrying.", countdown)
        raise self.retry(countdown=countdown) from exc
    return job.status


def _give_up(job: Job, message: str) -> None:
    if job.kind == JobKind.SYNC:
        snapshot = record_unreachable(job.host, message)
        jobs.finish(
            job, JobStatus.FAILED, f"Zoom could not be reached: {message}", snapshot=snapshot
        )
        return
    with transaction.atomic():
        jobs.finish(job, JobStatus.FAILED, f"Zoom could not be reached: {message}")
        # Recorded even so: a change may have reached Zoom before it stopped answering.
        AuditEvent.objects.create(
            actor=job.requested_by,
            subject=job.host,
            action=job.kind,
            reason=job.reason,
            job=job,
            detail={"error": message, "before": job.before, "plan": job.plan},
        )


@shared_task(name="audits.sweep_jobs")
def sweep_jobs() -> int:
    """Re-send jobs whose message never reached a worker (broker down at commit)."""
    return jobs.sweep_pending()


@shared_task(name="audits.purge_old_records")
def purge_old_records() -> dict[str, int]:
    """Delete what the portal promised not to keep (see audits.retention)."""
    from audits.retention import purge_old_records as purge

    return purge()
