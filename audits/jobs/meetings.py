"""Fixing a host's upcoming meetings: passcode on, waiting room on, nobody joins before the
host, no automatic recording, muted on entry. Zoom allows 100 meeting updates per user per
day, so the portal counts them and leaves the rest for another day, saying so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache

from audits.checklist.items import NON_EMPTY, meeting_fixes, to_patch_body
from audits.checklist.model import _get
from audits.jobs import machinery as jobs
from audits.jobs.plan import (
    APPLIED,
    DEFERRED,
    LOCKED,
    REFUSED,
    Locks,
    is_locked,
    lock_layers,
    new_meeting_passcode,
)
from audits.jobs.sync import MAX_MEETINGS, institution_documents
from audits.models import Job, JobStatus
from audits.zoom import client as zoom

MAX_UPDATES_PER_DAY = 100


def _take_daily_update(zoom_user_id: str) -> bool:
    """Count one of today's (UTC) meeting updates; False once the 100 are used."""
    key = f"audits:meeting-updates:{zoom_user_id}:{datetime.now(UTC).date().isoformat()}"
    cache.add(key, 0, timeout=int(timedelta(days=1, hours=1).total_seconds()))
    return cache.incr(key) <= MAX_UPDATES_PER_DAY


def meeting_changes(meeting: dict[str, Any], locks: Locks) -> tuple[dict, dict]:
    """(dotted field -> value to send, dotted field -> its value, locked by the account)."""
    send, locked = {}, {}
    for path, (_, check) in meeting_fixes().items():
        now = _get(meeting, path)
        if now == check.wanted or (check.wanted is NON_EMPTY and now):
            continue
        if check.lock and is_locked(check.lock, locks):
            locked[path] = now
        else:
            send[path] = new_meeting_passcode() if check.wanted is NON_EMPTY else check.wanted
    return send, locked


def _shown(path: str, value: Any) -> Any:
    """A passcode is never kept in the portal: only whether one is set."""
    if path == "password":
        return "(set)" if value else "(none)"
    return value


def _field(path: str, before: Any, after: Any, now: Any, outcome: str, message: str = "") -> dict:
    return {
        "item": meeting_fixes()[path][0],
        "before": _shown(path, before),
        "after": _shown(path, after),
        "now": _shown(path, now),
        "outcome": outcome,
        "message": message,
    }


def _patch_and_verify(meeting: dict[str, Any], send: dict[str, Any]) -> tuple[dict, dict]:
    """The fields' outcomes, and the meeting as Zoom keeps it after the PATCH."""
    message = ""
    try:
        zoom.patch_meeting(meeting["id"], to_patch_body(send))
    except zoom.ZoomError as error:
        if not error.permanent:
            raise  # the task retries the whole job
        message = error.user_message
    after = zoom.get_meeting(meeting["id"])
    fields = {}
    for path, value in send.items():
        now = _get(after, path)
        done = bool(now) if meeting_fixes()[path][1].wanted is NON_EMPTY else now == value
        why = "" if done else message or "Zoom kept the previous value."
        outcome = APPLIED if done else REFUSED
        fields[path] = _field(path, _get(meeting, path), value, now, outcome, why)
    return fields, after


def run_meetings(job: Job) -> None:
    """Zoom calls: the user (their groups), their meetings list, each meeting, and for a
    meeting that needs it one PATCH and one read to verify; the snapshot that ends the job
    reuses those and reads the user's settings (both parts). Locks come from the institution's
    cached documents, as for a hardening (audits.jobs.harden)."""
    fields: dict[str, dict[str, Any]] = {}
    meetings: list[dict[str, Any]] = []  # as Zoom keeps them now, for the snapshot
    with jobs.host_lock(job.host_id, job.pk):
        user = jobs.zoom_user_of(job.host)
        zoom_user_id = user["id"]
        locks = lock_layers(institution_documents(user))  # the account's and groups'
        for listed in zoom.list_upcoming_meetings(zoom_user_id):
            meeting = zoom.get_meeting(listed["id"])
            now = meeting
            label = f"meeting {meeting['id']} ({meeting.get('topic', '')})"
            send, locked = meeting_changes(meeting, locks)
            found = {p: _field(p, v, v, v, LOCKED) for p, v in locked.items()}
            if send and _take_daily_update(zoom_user_id):
                verified, now = _patch_and_verify(meeting, send)
                found.update(verified)
            elif send:
                limit = "Zoom's limit of 100 meeting updates a day is reached: try tomorrow."
                for path, value in send.items():
                    before = _get(meeting, path)
                    found[path] = _field(path, before, value, before, DEFERRED, limit)
            fields.update({f"{label}: {path}": field for path, field in found.items()})
            meetings.append(now)
        jobs.set_status(job, JobStatus.VERIFYING)
    jobs.finish_audited(job, fields, {"user": user, "meetings": meetings[:MAX_MEETINGS]})
