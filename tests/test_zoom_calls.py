"""The Zoom calls each path makes, read from the simulator's request log: exactly the calls the
README's table documents (Refreshing, hardening and undoing), in order. A path that makes one
more call than documented fails here.

Every path runs with the institution's documents (the account's and groups' settings and locks)
already cached, as they are after the first host of a scan or refresh: the cold case adds the
account's five reads once per account (test_a_cold_cache_reads_the_account_once)."""

from __future__ import annotations

import re

import pytest

from audits.models import HardeningProfile, JobKind, JobStatus
from tests.people import make_person
from tests.support import run_job

pytestmark = pytest.mark.usefixtures("celery_worker")

HOST = "default.host@utoronto.ca"  # no upcoming meetings in the seed
MEETINGS_HOST = "meetings.host@utoronto.ca"  # three upcoming meetings, two to fix

USER = ("GET", "/users/{userId}")
SETTINGS = ("GET", "/users/{userId}/settings")
SECURITY = ("GET", "/users/{userId}/settings?option=meeting_security")
PATCH_SETTINGS = ("PATCH", "/users/{userId}/settings")
MEETINGS = ("GET", "/users/{userId}/meetings")
MEETING = ("GET", "/meetings/{meetingId}")
PATCH_MEETING = ("PATCH", "/meetings/{meetingId}")
ACCOUNT = [
    ("GET", "/accounts/me/settings"),
    ("GET", "/accounts/me/settings?option=meeting_security"),
    ("GET", "/accounts/me/lock_settings"),
    ("GET", "/accounts/me/lock_settings?option=meeting_security"),
    ("GET", "/groups"),
]


def template(entry: dict) -> tuple[str, str]:
    path = entry["path"].removeprefix("/v2")
    path = re.sub(r"^/users/[^/]+", "/users/{userId}", path)
    path = re.sub(r"^/meetings/\d+", "/meetings/{meetingId}", path)
    if (entry.get("query") or {}).get("option"):
        path += f"?option={entry['query']['option']}"
    return entry["method"], path


class Log:
    """The API calls the simulator received since the last look."""

    def __init__(self, simulator) -> None:
        self.simulator, self.seen = simulator, 0

    def new(self) -> list[tuple[str, str]]:
        entries = self.simulator.requests(kind=None)
        fresh, self.seen = entries[self.seen :], len(entries)
        return [template(e) for e in fresh if e["kind"] == "api"]


def refreshed(host, log: Log):
    """A first refresh fills the account's cache; the log starts after it."""
    job = run_job(JobKind.SYNC, host)
    assert job.status == JobStatus.DONE
    log.new()
    return job


def test_a_refresh_reads_the_user_their_settings_and_their_meetings(zoomsim):
    host, log = make_person(HOST), Log(zoomsim)
    refreshed(host, log)

    job = run_job(JobKind.SYNC, host)

    assert job.status == JobStatus.DONE
    assert log.new() == [USER, SETTINGS, SECURITY, MEETINGS]


def test_a_cold_cache_reads_the_account_once(zoomsim):
    host, log = make_person(HOST), Log(zoomsim)

    run_job(JobKind.SYNC, host)

    assert log.new() == [USER, SETTINGS, SECURITY, *ACCOUNT, MEETINGS]


def test_a_refresh_reads_each_upcoming_meeting(zoomsim):
    host, log = make_person(MEETINGS_HOST, department="Medicine"), Log(zoomsim)
    refreshed(host, log)

    run_job(JobKind.SYNC, host)

    assert log.new() == [USER, SETTINGS, SECURITY, MEETINGS, MEETING, MEETING, MEETING]


def test_a_hardening_reads_once_changes_once_and_builds_the_snapshot_from_its_check(zoomsim):
    host, log = make_person(HOST), Log(zoomsim)
    refreshed(host, log)

    job = run_job(JobKind.HARDEN, host, profile=HardeningProfile.default())

    assert job.status == JobStatus.DONE
    assert job.snapshot is not None
    assert log.new() == [USER, SETTINGS, PATCH_SETTINGS, SETTINGS, SECURITY, MEETINGS]


def test_a_hardening_with_nothing_to_change_sends_nothing_and_checks_nothing(zoomsim):
    host, log = make_person(HOST), Log(zoomsim)
    refreshed(host, log)
    run_job(JobKind.HARDEN, host, profile=HardeningProfile.default())
    log.new()

    job = run_job(JobKind.HARDEN, host, profile=HardeningProfile.default())

    assert job.status == JobStatus.DONE
    assert log.new() == [USER, SETTINGS, SECURITY, MEETINGS]


def test_an_undo_reads_once_changes_once_and_builds_the_snapshot_from_its_check(zoomsim):
    host, log = make_person(HOST), Log(zoomsim)
    refreshed(host, log)
    hardening = run_job(JobKind.HARDEN, host, profile=HardeningProfile.default())
    log.new()

    job = run_job(JobKind.UNDO, host, undo_of=hardening)

    assert job.status == JobStatus.DONE
    assert log.new() == [USER, SETTINGS, PATCH_SETTINGS, SETTINGS, SECURITY, MEETINGS]


def test_a_meetings_fix_reads_each_meeting_once_and_checks_only_what_it_changed(zoomsim):
    host, log = make_person(MEETINGS_HOST, department="Medicine"), Log(zoomsim)
    refreshed(host, log)

    job = run_job(JobKind.MEETINGS, host)

    assert job.status == JobStatus.DONE
    fix = [MEETING, PATCH_MEETING, MEETING]
    assert log.new() == [USER, MEETINGS, *fix, MEETING, *fix, SETTINGS, SECURITY]


@pytest.mark.parametrize("behaviour", ["keep", "reject"])
def test_a_lock_newer_than_the_cache_is_still_reported_as_the_institutions(zoomsim, behaviour):
    """The hardening takes the locks from the cache: a lock set since (its webhook not yet
    arrived) does not take, the check sees it, reads the locks again and says who locks it."""
    host, log = make_person(HOST), Log(zoomsim)
    refreshed(host, log)
    # The account locks the host's camera on at the start of a meeting: the profile wants it off.
    account = zoomsim.put_account({})
    for key in ("settings", "lock_settings"):
        account[key].setdefault("schedule_meeting", {})["host_video"] = True
    zoomsim.put_account({**account, "lock_behaviour": behaviour})

    job = run_job(JobKind.HARDEN, host, profile=HardeningProfile.default())

    field = job.outcome["fields"]["schedule_meeting.host_video"]
    assert field["outcome"] == "locked"
    assert "institution's Zoom account" in field["message"]
    assert job.status == JobStatus.DONE
    assert ("GET", "/accounts/me/lock_settings") in log.new()
