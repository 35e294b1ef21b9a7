"""Fixing upcoming meetings as a job, within Zoom's 100 meeting updates per user per day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from audits.models import AuditEvent, JobKind, JobStatus
from audits.zoom import client as zoom
from tests.people import make_person
from tests.support import run_job

pytestmark = pytest.mark.usefixtures("celery_worker")
HOST = "meetings.host@utoronto.ca"


def upcoming() -> list[dict]:
    zoom_user_id = zoom.get_user(HOST)["id"]
    return [zoom.get_meeting(m["id"]) for m in zoom.list_upcoming_meetings(zoom_user_id)]


def test_every_upcoming_meeting_gets_a_passcode_and_the_waiting_room(zoomsim):
    host = make_person(HOST, department="Medicine")
    assert any(not m.get("password") for m in upcoming()), "the seed has a meeting without one"

    job = run_job(JobKind.MEETINGS, host)

    assert job.status == JobStatus.DONE
    for meeting in upcoming():
        assert meeting["password"]
        assert meeting["settings"]["waiting_room"] is True
        assert meeting["settings"]["join_before_host"] is False
        assert meeting["settings"]["mute_upon_entry"] is True
    stored = str(job.outcome)
    assert all(m["password"] not in stored for m in upcoming())
    assert AuditEvent.objects.filter(job=job, action="fix_meetings").count() == 1


def test_past_the_daily_limit_meetings_are_left_for_tomorrow_and_nothing_is_sent(zoomsim):
    host = make_person(HOST, department="Medicine")
    zoom_user_id = zoom.get_user(HOST)["id"]
    day = datetime.now(UTC).date().isoformat()
    cache.set(f"audits:meeting-updates:{zoom_user_id}:{day}", 100, timeout=3600)

    job = run_job(JobKind.MEETINGS, host)

    assert job.status == JobStatus.PARTIAL
    outcomes = {f["outcome"] for f in job.outcome["fields"].values()}
    assert "deferred" in outcomes
    assert "tomorrow" in job.message
    assert not [r for r in zoomsim.requests() if r["method"] == "PATCH"]
