"""Celery tasks: thin interfaces that claim a job row and call plain functions."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from audits.jobs import machinery as jobs
from audits.jobs.harden import run_harden, run_undo, unverified_fields
from audits.jobs.meetings import run_meetings
from audits.jobs.sync import record_unreachable, sync_host
from audits.models import Job, JobKind, JobStatus
from audits.zoom import client as zoom

log = logging.getLogger(__name__)
# Claims of one job lost with their worker (a job that keeps killing workers), plus this one.
MAX_ATTEMPTS = 6
BUSY_SECONDS = 3
UNREACHABLE = "Zoom could not be reached: "


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


@shared_task(name="audits.run_job")
def run_job(job_id: int) -> str:
    """Run one claim of a job. A job that must wait goes back to its row (see audits.jobs):
    no countdown message is ever left with the broker."""
    job = jobs.claim(job_id)
    if job is None:
        return "not claimed: finished, waiting, or taken by another worker"
    if job.attempts > MAX_ATTEMPTS:
        _stop(job, "The job was tried too many times and was stopped.")
        return "failed: too many attempts"
    try:
        RUNNERS[JobKind(job.kind)](job)
    except jobs.HostBusy as exc:
        # Waiting for another job is not a failure: it does not use up the retry schedule.
        jobs.wait(job, f"Waiting: {exc}.", BUSY_SECONDS, failures=job.failures)
    except zoom.ZoomError as error:
        if not error.permanent:
            _retry_later(job, error)
        else:
            # Asking again cannot help (no such user, not activated, refused): say so now.
            _stop(job, error.user_message)
    return job.status


def _retry_later(job: Job, error: zoom.ZoomError) -> None:
    """Wait on the schedule, or give up once it is spent. A 429 that says how long to wait
    (or the portal's own budget saying so) is waited out without counting as a failure."""
    rate_limited = error.retry_after is not None and error.status in (429, None)
    failures = job.failures + (0 if rate_limited else 1)
    job.failures = failures
    Job.objects.filter(pk=job.pk).update(failures=failures)
    if failures > len(jobs.RETRY_SCHEDULE):
        _give_up(job, UNREACHABLE + error.user_message)
        return
    seconds = max(jobs.RETRY_SCHEDULE[failures - 1] if failures else 0, error.retry_after or 0)
    resume = timezone.now() + timedelta(seconds=seconds)
    if resume > job.created_at + jobs.GIVE_UP_AFTER:
        when = timezone.localtime(resume).strftime("%Y-%m-%d %H:%M")
        _give_up(job, f"Zoom asked the portal to wait until {when}; try again then.")
        return
    at = timezone.localtime(resume).strftime("%H:%M:%S")
    jobs.wait(job, f"Waiting for Zoom ({error.user_message}); retrying at {at}.", seconds,
              failures=failures)  # fmt: skip


def _give_up(job: Job, message: str) -> None:
    if job.kind == JobKind.SYNC:
        # The page puts "Zoom could not be reached" before the snapshot's error itself.
        snapshot = record_unreachable(job.host, message.removeprefix(UNREACHABLE))
        jobs.finish(job, JobStatus.FAILED, message, snapshot=snapshot)
        return
    _stop(job, message)


def _stop(job: Job, message: str) -> None:
    """Fail the job with `message`. A change may have reached Zoom before it stopped
    answering: the fields sent are recorded from the plan, so undo can put them back."""
    fields = unverified_fields(job) if job.kind == JobKind.HARDEN else {}
    if fields:
        message += " The change was sent and may have been applied: undo puts it back."
    with transaction.atomic():
        recorded = {"outcome": {"fields": fields}} if fields else {}
        jobs.finish(job, JobStatus.FAILED, message, **recorded)
        if job.kind == JobKind.SYNC:
            return
        jobs.audit(
            job,
            error=message,
            before=job.before,
            plan=job.plan,
            outcome={path: f["outcome"] for path, f in fields.items()},
        )


@shared_task(name="audits.sweep_jobs")
def sweep_jobs() -> int:
    """Send the jobs whose wait is over, and again those whose message never reached a
    worker (broker down at commit) or whose worker died."""
    return jobs.sweep_pending()


@shared_task(name="audits.purge_old_records")
def purge_old_records() -> dict[str, int]:
    """Delete what the portal promised not to keep (see audits.retention)."""
    from audits.jobs.retention import purge_old_records as purge

    return purge()
