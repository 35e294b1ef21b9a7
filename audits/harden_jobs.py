"""Running hardening and undo jobs: claim, lock the host, read, write only what differs, read
again to verify, record per field, and audit in the same transaction that ends the job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction

from audits import jobs, zoom
from audits.checklist_model import _get
from audits.harden import (
    ALREADY,
    APPLIED,
    CONFLICT,
    DEFERRED,
    LOCKED,
    REFUSED,
    RESTORED,
    SENT,
    UNDOABLE,
    is_locked,
    locked_by,
    plan,
    read_fresh,
    send_patch,
)
from audits.models import AuditEvent, InstitutionSettings, Job, JobStatus, job_action
from audits.sync import TransientSyncError, sync_host, zoom_login_of

log = logging.getLogger(__name__)


class HostBusy(Exception):
    """Another job holds this host's lock (Zoom limits simultaneous updates of one user)."""


@contextmanager
def host_lock(host_id: int, job_id: int) -> Iterator[None]:
    key = f"audits:host-lock:{host_id}"
    # Expires with the job's lease, so a worker killed while holding it does not block forever.
    taken = cache.add(key, job_id, timeout=django_settings.CELERY_TASK_TIME_LIMIT)
    if not taken and cache.get(key) != job_id:
        raise HostBusy("another change to this Zoom account is in progress")
    try:
        yield
    finally:
        if cache.get(key) == job_id:
            cache.delete(key)


def zoom_call(function, *args):
    try:
        return function(*args)
    except zoom.ZoomError as error:
        if not error.permanent:
            raise TransientSyncError(error) from error
        raise


def zoom_user_id_of(host) -> str:
    """The host's Zoom user id; a permanent ZoomError naming the host when there is none to
    change (no such user, or one who has not accepted Zoom's invitation yet)."""
    login = zoom_login_of(host)
    try:
        user = zoom_call(zoom.get_user, login)
    except zoom.ZoomError as error:
        if error.status == 404 or error.code == 1001:
            message = f"Zoom has no user with the e-mail {login}."
            raise zoom.ZoomError(message, status=404, code=error.code, permanent=True) from error
        raise
    if user.get("status") == "pending":
        message = f"Zoom's user {login} has not accepted the invitation to the account yet."
        raise zoom.ZoomError(message, code=1000, permanent=True)
    return user["id"]


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


def finish_audited(job: Job, fields: dict[str, dict[str, Any]]) -> None:
    status = _end_status(fields)
    try:
        # The account's settings were just read; a bulk run shares them for a few minutes.
        snapshot = sync_host(job.host, fresh=False)
    except (TransientSyncError, zoom.ZoomError):
        snapshot = None  # the change stands; the dashboard refreshes at the next sync
    with transaction.atomic():
        jobs.finish(job, status, _summary(fields, status), outcome={"fields": fields},
                    snapshot=snapshot)  # fmt: skip
        AuditEvent.objects.create(
            actor=job.requested_by,
            subject=job.host,
            action=job_action(job.kind),
            reason=job.reason,
            job=job,
            detail={
                "profile": job.profile.slug if job.profile else None,
                "before": {path: f["before"] for path, f in fields.items()},
                "after": {path: f["now"] for path, f in fields.items()},
                "outcome": {path: f["outcome"] for path, f in fields.items()},
            },
        )


def run_harden(job: Job) -> None:
    zoom_user_id = zoom_user_id_of(job.host)
    with host_lock(job.host_id, job.pk):
        current, locks = zoom_call(read_fresh, zoom_user_id)
        institution = InstitutionSettings.load().as_institution()
        overrides = job.profile.overrides if job.profile else {}
        if not job.plan:
            # Saved before anything is sent: a rerun after a crash knows what it overwrote.
            first = plan(current, locks, overrides, institution)
            job.plan = first.to_dict()
            job.before = {change.path: change.before for change in first.changes}
            job.save(update_fields=["plan", "before"])
        still = plan(current, locks, overrides, institution)
        mark_sent(job, still.dotted)
        refused = zoom_call(send_patch, zoom_user_id, still.dotted)
        jobs.set_status(job, JobStatus.VERIFYING)
        after = zoom_call(zoom.get_user_settings, zoom_user_id)
        locks_after = locks
        if any(_get(after, c["path"]) != c["after"] for c in job.plan["changes"]):
            # Something did not take: was it locked meanwhile? Only then ask Zoom again.
            locks_after = zoom_call(read_fresh, zoom_user_id)[1]
    fields = {}
    for entry in [*job.plan["changes"], *job.plan["locked"], *job.plan["already"]]:
        path, wanted = entry["path"], entry["after"]
        now = _get(after, path)
        if holder := locked_by(path, locks_after):
            outcome = LOCKED
            refused[path] = f"Set by {holder}."
        elif path in refused:
            outcome = REFUSED
        elif now == wanted:
            outcome = APPLIED if path in job.before else ALREADY
        else:
            outcome = REFUSED
            refused.setdefault(path, "Zoom kept the previous value.")
        fields[path] = {
            "item": entry["item_id"],
            "before": job.before.get(path, entry["before"]),
            "after": wanted,
            "now": now,
            "outcome": outcome,
            "message": refused.get(path, ""),
        }
    finish_audited(job, fields)


def mark_sent(job: Job, dotted: dict[str, Any]) -> None:
    """Note, before the PATCH, which fields it carries: if Zoom then stops answering, the job
    still records them (see unverified_fields) and undo can put them back."""
    sent = sorted({*job.plan.get("sent", []), *dotted})
    if sent != job.plan.get("sent", []):
        job.plan["sent"] = sent
        job.save(update_fields=["plan"])


def unverified_fields(job: Job) -> dict[str, dict[str, Any]]:
    """The fields a hardening sent before it stopped, from its plan: "sent, not yet
    verified", with what they held before."""
    planned = {c["path"]: c for c in (job.plan or {}).get("changes", [])}
    return {
        path: {
            "item": planned[path]["item_id"],
            "before": job.before.get(path, planned[path]["before"]),
            "after": planned[path]["after"],
            "now": None,
            "outcome": SENT,
            "message": "Sent to Zoom, which stopped answering before it could be checked.",
        }
        for path in (job.plan or {}).get("sent", [])
        if path in planned
    }


def run_undo(job: Job) -> None:
    original = job.undo_of
    applied = {
        path: field
        for path, field in (original.outcome.get("fields") or {}).items()
        if field["outcome"] in UNDOABLE
    }
    zoom_user_id = zoom_user_id_of(job.host)
    with host_lock(job.host_id, job.pk):
        current, locks = zoom_call(read_fresh, zoom_user_id)
        if not job.plan:
            # Decided once: a field the host changed since the profile was applied is theirs.
            job.plan = {
                # A field Zoom did not report before cannot be put back to "absent".
                "restore": [
                    p
                    for p, f in applied.items()
                    if _get(current, p) == f["after"] and f["before"] is not None
                ],
                "conflict": [p for p, f in applied.items() if _get(current, p) != f["after"]],
            }
            job.before = {path: _get(current, path) for path in applied}
            job.save(update_fields=["plan", "before"])
        pending = {
            path: applied[path]["before"]
            for path in job.plan["restore"]
            if _get(current, path) == applied[path]["after"] and not is_locked(path, locks)
        }
        refused = zoom_call(send_patch, zoom_user_id, pending)
        jobs.set_status(job, JobStatus.VERIFYING)
        after, _ = zoom_call(read_fresh, zoom_user_id)
    fields = {}
    for path, field in applied.items():
        now = _get(after, path)
        if path in job.plan["conflict"] and field["outcome"] == SENT:
            outcome, message = CONFLICT, "Zoom did not keep this change: nothing to put back."
        elif path in job.plan["conflict"]:
            outcome, message = CONFLICT, "You changed this after the profile was applied."
        elif path not in job.plan["restore"]:
            outcome = CONFLICT
            message = "Zoom did not report a value before the change; left as it is."
        elif now == field["before"]:
            outcome, message = RESTORED, ""
        else:
            outcome = REFUSED
            message = refused.get(path, "Zoom kept the hardened value.")
        fields[path] = {
            "item": field["item"],
            "before": job.before.get(path),
            "after": field["before"],
            "now": now,
            "outcome": outcome,
            "message": message,
        }
    finish_audited(job, fields)
