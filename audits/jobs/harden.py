"""Running hardening and undo jobs: lock the host, read, write only what differs, read again to
verify, record per field; audits.jobs finishes and audits them.

Zoom calls (README, "Refreshing, hardening and undoing"): the user (their groups), their
settings, one PATCH, their settings again to verify; the snapshot that ends the job reuses
those and reads only the meeting_security part and the meetings list. Who locks what comes
from the institution's cached documents (forgotten on Zoom's account webhooks); should a lock
be newer than the cache, Zoom keeps the field (the check sees it) or refuses the PATCH: only
then are the locks read again, the rest sent once more, and the field reported as locked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audits.checklist.model import _get
from audits.jobs import machinery as jobs
from audits.jobs.plan import (
    ALREADY,
    APPLIED,
    CONFLICT,
    LOCKED,
    REFUSED,
    RESTORED,
    SENT,
    UNDOABLE,
    Locks,
    is_locked,
    lock_layers,
    locked_by,
    plan,
    send_patch,
)
from audits.jobs.sync import institution_documents
from audits.models import InstitutionSettings, Job, JobStatus
from audits.zoom import client as zoom


def _read(job: Job) -> tuple[dict[str, Any], dict[str, Any], Locks]:
    """The host's Zoom user, their settings read now, and who locks what (cached)."""
    user = jobs.zoom_user_of(job.host)
    current = zoom.get_user_settings(user["id"])
    return user, current, lock_layers(institution_documents(user))


def _verify(zoom_user_id: str, sent: Mapping[str, Any], current: dict[str, Any]) -> dict:
    """The settings after the PATCH: read again when something was sent, else as they were."""
    return zoom.get_user_settings(zoom_user_id) if sent else current


def _send(user: dict[str, Any], dotted: Mapping[str, Any]) -> tuple[dict[str, str], Locks]:
    """send_patch, and when Zoom refuses fields (a lock newer than the cache makes it refuse
    the whole PATCH) the locks read again and what they do not lock sent once more. Returns
    the refused fields and the locks when they were read again (else None)."""
    refused = send_patch(user["id"], dotted)
    if not refused:
        return refused, None
    locks = lock_layers(institution_documents(user, fresh=True))
    now_locked = {path for path in refused if is_locked(path, locks)}
    again = {p: v for p, v in dotted.items() if p in refused and p not in now_locked}
    if now_locked and again:
        for path in again:
            del refused[path]
        refused.update(send_patch(user["id"], again))
    return refused, locks


def run_harden(job: Job) -> None:
    with jobs.host_lock(job.host_id, job.pk):
        user, current, locks = _read(job)
        zoom_user_id = user["id"]
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
        refused, fresh_locks = _send(user, still.dotted)
        locks_read = fresh_locks is not None
        locks = fresh_locks or locks
        jobs.set_status(job, JobStatus.VERIFYING)
        after = _verify(zoom_user_id, still.dotted, current)
        locks_after = locks
        if not locks_read and any(
            _get(after, c["path"]) != c["after"] for c in job.plan["changes"]
        ):
            # Something did not take: was it locked meanwhile? Only then ask Zoom again (and
            # the cache is renewed for the next job).
            locks_after = lock_layers(institution_documents(user, fresh=True))
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
    jobs.finish_audited(job, fields, {"user": user, "settings": after})


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
    with jobs.host_lock(job.host_id, job.pk):
        user, current, locks = _read(job)
        zoom_user_id = user["id"]
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
        refused, _ = _send(user, pending)
        jobs.set_status(job, JobStatus.VERIFYING)
        after = _verify(zoom_user_id, pending, current)
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
    jobs.finish_audited(job, fields, {"user": user, "settings": after})
