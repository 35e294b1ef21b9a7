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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from audits.jobs.plan import (
    ALREADY,
    APPLIED,
    CONFLICT,
    DEFERRED,
    LOCKED,
    REFUSED,
    RESTORED,
    UNDOABLE,
)
from audits.jobs.sync import sync_host, zoom_login_of
from audits.models import FINISHED, AuditEvent, Job, JobKind, JobStatus, Snapshot, job_action
from audits.zoom import client as zoom

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# Seconds to wait after each transient failure: 5 s doubling to a 5-minute cap, 14 waits
# (about 45 minutes of trying); a Retry-After from Zoom that asks for longer wins. After the
# last one the job fails with Zoom's message.
RETRY_SCHEDULE = tuple(min(5 * 2**n, 300) for n in range(14))
# However a job waits (429s that name their wait are not counted above), it stops trying after
# this long from its creation: nobody is waiting for it any more.
GIVE_UP_AFTER = timedelta(hours=2)


def create_job(
    kind: JobKind, host: User, *, requested_by: User | None = None, reason: str = "", **fields
) -> Job:
    """Create a job and send it to a worker once the surrounding transaction commits."""
    job = Job.objects.create(
        kind=kind, host=host, requested_by=requested_by, reason=reason, **fields
    )
    transaction.on_commit(lambda: send(job.pk))
    return job


def active_job(host: User, *kinds: JobKind) -> Job | None:
    """The host's job of one of these kinds that is still queued or running, if any."""
    return Job.objects.filter(host=host, kind__in=kinds).exclude(status__in=FINISHED).first()


def start_once(kind: JobKind, host: User, **fields) -> Job:
    """The job of this kind already under way for the host, or a new one: a second click, or
    a second notification from Zoom, does not queue the same work twice."""
    return active_job(host, kind) or create_job(kind, host, **fields)


def send(job_id: int) -> bool:
    """Put the job's message on the broker; False (and the job stays pending) if it is down.
    Sent by the task's name (audits.tasks.run_job), so this module needs not import the tasks."""
    try:
        current_app.send_task("audits.run_job", (job_id,), retry=False)
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


def undoable(job: Job) -> bool:
    """A finished hardening that changed something, not undone yet (a failed undo aside)."""
    fields = (job.outcome.get("fields") or {}).values()
    applied = any(f["outcome"] in UNDOABLE for f in fields)
    undone = job.undone_by.exclude(status=JobStatus.FAILED).exists()
    return job.kind == JobKind.HARDEN and job.is_finished and applied and not undone


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


# --- What every job that changes Zoom shares: one at a time per host, the Zoom user id, and an
# audited end ---------------------------------------------------------------------------------


class HostBusy(Exception):
    """Another job holds this host's lock (Zoom limits simultaneous updates of one user)."""


@contextmanager
def host_lock(host_id: int, job_id: int) -> Iterator[None]:
    """One job at a time changes a host's Zoom account; HostBusy (the job waits) otherwise."""
    key = f"audits:host-lock:{host_id}"
    # Expires with the job's lease, so a worker killed while holding it does not block forever.
    taken = cache.add(key, job_id, timeout=settings.CELERY_TASK_TIME_LIMIT)
    if not taken and cache.get(key) != job_id:
        raise HostBusy("another change to this Zoom account is in progress")
    try:
        yield
    finally:
        if cache.get(key) == job_id:
            cache.delete(key)


def zoom_user_id_of(host: User) -> str:
    """The host's Zoom user id: the one their last reading stored (Zoom's ids do not change),
    else asked of Zoom (see zoom_user_of)."""
    stored = Snapshot.objects.filter(host=host).values_list("zoom_user_id", flat=True).first()
    return stored or zoom_user_of(host)["id"]


def zoom_user_of(host: User) -> dict[str, Any]:
    """The host's Zoom user, read now in one call: by the id their last reading stored, else by
    their login. A job needs it anyway (the groups whose locks apply, and the snapshot it ends
    with). A permanent ZoomError naming the host when there is none to change (no such user, or
    one who has not accepted Zoom's invitation yet)."""
    login = zoom_login_of(host)
    stored = Snapshot.objects.filter(host=host).values_list("zoom_user_id", flat=True).first()
    try:
        user = zoom.get_user(stored or login)
    except zoom.ZoomError as error:
        if error.status == 404 or error.code == 1001:
            message = f"Zoom has no user with the e-mail {login}."
            raise zoom.ZoomError(message, status=404, code=error.code, permanent=True) from error
        raise
    if user.get("status") == "pending":
        message = f"Zoom's user {login} has not accepted the invitation to the account yet."
        raise zoom.ZoomError(message, code=1000, permanent=True)
    return user


def _end_status(fields: dict[str, dict[str, Any]]) -> JobStatus:
    outcomes = {f["outcome"] for f in fields.values()}
    worked = outcomes & {APPLIED, RESTORED}
    failed = outcomes & {REFUSED}
    if failed and worked:
        return JobStatus.PARTIAL
    if failed:
        return JobStatus.FAILED
    if DEFERRED in outcomes:
        return JobStatus.PARTIAL
    return JobStatus.DONE


def _summary(fields: dict[str, dict[str, Any]], status: JobStatus) -> str:
    counts: dict[str, int] = {}
    for field in fields.values():
        counts[field["outcome"]] = counts.get(field["outcome"], 0) + 1
    if not fields:
        return "Nothing to change: your settings already match."
    words = {
        APPLIED: "changed and verified",
        RESTORED: "put back and verified",
        ALREADY: "already so",
        LOCKED: "set by your institution",
        REFUSED: "refused by Zoom",
        CONFLICT: "changed since, left as they are",
        DEFERRED: "left for tomorrow (Zoom's daily limit)",
    }
    parts = [f"{n} {words[outcome]}" for outcome, n in counts.items()]
    return f"{status.label}: " + ", ".join(parts) + "."


def finish_audited(
    job: Job, fields: dict[str, dict[str, Any]], known: dict[str, Any] | None = None
) -> None:
    """End a job that changed Zoom: its status from the fields' outcomes, a fresh reading, and
    the audit event, in the transaction that finishes it. The reading reuses what the job has
    just read (`known`: the user, the settings its check read, the meetings it read), so only
    the rest is asked of Zoom."""
    status = _end_status(fields)
    try:
        snapshot = sync_host(job.host, known=known)
    except zoom.ZoomError:
        snapshot = None  # the change stands; the dashboard refreshes at the next sync
    with transaction.atomic():
        finish(job, status, _summary(fields, status), outcome={"fields": fields},
                    snapshot=snapshot)  # fmt: skip
        audit(
            job,
            profile=job.profile.slug if job.profile else None,
            before={path: f["before"] for path, f in fields.items()},
            after={path: f["now"] for path, f in fields.items()},
            outcome={path: f["outcome"] for path, f in fields.items()},
        )


def audit(job: Job, **detail: Any) -> None:
    """The audit event of a job that changed Zoom (or tried to), for whoever asked for it."""
    AuditEvent.objects.create(
        actor=job.requested_by,
        subject=job.host,
        action=job_action(job.kind),
        reason=job.reason,
        job=job,
        detail=detail,
    )
