"""audits.zoom against the simulator over real HTTP: paging, tokens, limits and failures."""

from __future__ import annotations

import bisect
import itertools
import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from audits.zoom import client as zoom
from audits.zoom import ratelimit
from tests.support import ROOT, require_service, subprocess_env

HOST = "default.host@utoronto.ca"


def test_list_users_follows_every_page(zoomsim):
    users = list(zoom.list_users(page_size=7))

    assert len(users) == len({u["id"] for u in users}) == 55  # the pending user is not active
    assert "hardened.host@utoronto.ca" in {u["email"] for u in users}
    assert len([r for r in zoomsim.requests() if r["path"] == "/v2/users"]) == 8


def test_pending_users_are_listed_by_status(zoomsim):
    assert [u["email"] for u in zoom.list_users(status="pending")] == ["pending.host@utoronto.ca"]


def test_upcoming_meetings_of_a_host(zoomsim):
    topics = {m["topic"] for m in zoom.list_upcoming_meetings("meetings.host@utoronto.ca")}

    assert "Patient case review: oncology" in topics
    assert len(topics) == 3


def test_one_token_serves_many_calls(zoomsim):
    zoom.get_user(HOST)
    zoom.get_user_settings(HOST)
    zoom.get_account_settings()

    assert len(zoomsim.requests(kind="oauth")) == 1


def test_token_about_to_expire_is_renewed_before_use(zoomsim, settings):
    zoomsim.set_faults(token_ttl=120)
    settings.ZOOM_TOKEN_RENEW_SECONDS = 300

    zoom.get_user(HOST)
    zoom.get_user(HOST)

    assert len(zoomsim.requests(kind="oauth")) == 2
    assert all(r["status"] == 200 for r in zoomsim.requests())


def test_token_refused_with_code_124_is_renewed_once(zoomsim):
    zoom.get_user(HOST)
    zoomsim.reset()  # Zoom forgets every token, as when another process minted a newer one

    assert zoom.get_user(HOST)["email"] == HOST
    statuses = [(r["kind"], r["status"]) for r in zoomsim.requests(kind=None)]
    assert statuses == [("api", 401), ("oauth", 200), ("api", 200)]


def test_token_still_refused_after_renewal_is_an_error(zoomsim):
    zoomsim.set_faults(token_ttl=0)  # every token is born expired

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user(HOST)

    assert (caught.value.status, caught.value.code) == (401, 124)
    assert len(zoomsim.requests(kind="oauth")) == 2


def test_wrong_credentials_are_permanent_and_never_shown(zoomsim, settings):
    settings.ZOOM_CLIENT_SECRET = "not-the-secret-3f9a"

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user(HOST)

    assert caught.value.permanent
    assert "3f9a" not in caught.value.user_message
    assert zoomsim.requests() == []


def test_unknown_user_is_permanent(zoomsim):
    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user("nobody@utoronto.ca")

    assert (caught.value.status, caught.value.code, caught.value.permanent) == (404, 1001, True)


def test_pending_user_settings_are_permanent_400(zoomsim):
    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user_settings("pending.host@utoronto.ca")

    assert (caught.value.status, caught.value.code, caught.value.permanent) == (400, 1120, True)
    assert "not activated their account yet" in caught.value.user_message


def test_misspelled_field_is_refused_and_named(zoomsim):
    with pytest.raises(zoom.ZoomError) as caught:
        zoom.patch_user_settings(HOST, {"schedule_meeting": {"participant_video": False}})

    assert (caught.value.status, caught.value.code, caught.value.permanent) == (400, 300, True)
    assert "schedule_meeting.participant_video" in caught.value.user_message


def test_patched_settings_persist(zoomsim):
    zoom.patch_user_settings(HOST, {"in_meeting": {"who_can_share_screen": "host"}})
    zoom.patch_user_settings(HOST, {"meeting_security": {"end_to_end_encrypted_meetings": True}})

    assert zoom.get_user_settings(HOST)["in_meeting"]["who_can_share_screen"] == "host"
    security = zoom.get_user_settings(HOST, option="meeting_security")["meeting_security"]
    assert security["end_to_end_encrypted_meetings"] is True


def test_patched_meeting_persists(zoomsim):
    zoom.patch_meeting(84_113_200_101, {"password": "Hq3-9vLm", "settings": {"waiting_room": True}})

    meeting = zoom.get_meeting("84113200101")
    assert meeting["password"] == "Hq3-9vLm"
    assert meeting["settings"]["waiting_room"] is True


def test_account_settings_and_locks(zoomsim):
    assert zoom.get_account_settings()["recording"]["auto_recording"] == "none"
    assert zoom.get_account_lock_settings()["recording"]["auto_recording"] is True


def test_429_with_daily_retry_after_holds_back_later_calls(zoomsim):
    zoomsim.set_faults(daily_limits={"Medium": 1})
    zoom.get_user_settings(HOST)

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user_settings(HOST)
    sent = len(zoomsim.requests())
    with pytest.raises(zoom.ZoomError) as again:
        zoom.get_user_settings("mixed.host@utoronto.ca")

    error = caught.value
    assert (error.status, error.permanent) == (429, False)
    # The daily limit resets at 00:00 UTC: the wait is until then.
    assert 0 < error.retry_after <= 24 * 3600
    assert again.value.retry_after > 0
    assert len(zoomsim.requests()) == sent, "a call during the cool-down reached Zoom"
    assert zoom.get_user(HOST)["email"] == HOST, "a Light call was held back by a Medium limit"


def test_429_without_headers_waits_the_default_cooldown(zoomsim, settings):
    settings.ZOOM_COOLDOWN_SECONDS = 120
    zoomsim.set_faults(daily_limits={"Medium": 1}, ratelimit_headers=False)
    zoom.get_user_settings(HOST)

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user_settings(HOST)

    assert (caught.value.status, caught.value.retry_after) == (429, 120)


RETRY_AFTER_FORMS = {
    "seconds": lambda moment: "90",
    "http-date": lambda moment: format_datetime(moment, usegmt=True),
    "iso-date-time": lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
}


@pytest.mark.parametrize("form", RETRY_AFTER_FORMS)
def test_retry_after_is_read_in_each_form(zoomsim, form):
    # The date is made when the test runs, not when the suite is collected minutes earlier.
    retry_after = RETRY_AFTER_FORMS[form](datetime.now(UTC) + timedelta(seconds=90))
    zoomsim.set_faults(daily_limits={"Light": 0}, retry_after=retry_after)

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_meeting(84_113_200_101)

    assert 30 < caught.value.retry_after <= 90


def test_server_errors_are_transient(zoomsim):
    zoomsim.set_faults(error_rate=1.0, error_status=503)

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user(HOST)

    assert (caught.value.status, caught.value.permanent) == (503, False)


def test_timeouts_are_transient(zoomsim, settings):
    settings.ZOOM_READ_TIMEOUT = 0.3
    zoom.get_user(HOST)  # the token first, so the timeout hits the API call
    zoomsim.set_faults(timeout_rate=1.0, timeout_seconds=1.0)

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user(HOST)

    assert (caught.value.status, caught.value.permanent) == (None, False)
    assert "in time" in caught.value.user_message


def test_outage_is_transient(zoomsim):
    zoomsim.set_faults(outage=True)

    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_user(HOST)

    assert caught.value.permanent is False


def test_a_second_process_sees_the_first_ones_cooldown(zoomsim, settings):
    """The cool-down after a 429 is in the shared cache: another process does not call Zoom."""
    if settings.REDIS_URL:
        require_service(settings.REDIS_URL, "Redis")
    zoomsim.set_faults(daily_limits={"Medium": 1})
    zoom.get_user_settings(HOST)
    with pytest.raises(zoom.ZoomError):
        zoom.get_user_settings(HOST)
    sent = len(zoomsim.requests())

    script = (
        "import django, json; django.setup()\n"
        "from audits.zoom import client as zoom\n"
        "try:\n"
        f"    zoom.get_user_settings({HOST!r})\n"
        "    print(json.dumps({'error': None}))\n"
        "except zoom.ZoomError as error:\n"
        "    print(json.dumps({'status': error.status, 'retry_after': error.retry_after}))\n"
    )
    env = subprocess_env(DJANGO_SETTINGS_MODULE="portal.settings", **zoomsim.env)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip

    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 429
    assert answer["retry_after"] > 0
    assert len(zoomsim.requests()) == sent, "the second process called Zoom during the cool-down"


# --- the account's and groups' documents (issue 12) ------------------------------------------
def _paths(zoomsim, prefix: str) -> list[str]:
    return [r["path"] for r in zoomsim.requests() if r["path"].startswith(prefix)]


def test_account_and_group_documents_are_read_once_per_scan_not_per_host(zoomsim):
    from audits.jobs.sync import fetch_documents

    hosts = ["meetings.host@utoronto.ca", HOST, "hardened.host@utoronto.ca"]
    zoomsim.put_group("g-med", {"name": "Clinical", "members": hosts[:2],
                                "locks": {"meeting_security": {"pmi_password": True}}})  # fmt: skip
    before = len(zoomsim.requests())

    documents = [fetch_documents(login, fresh=False)[1] for login in hosts]

    assert documents[0]["groups"][0]["name"] == "Clinical"
    assert documents[0]["groups"][0]["locks"]["meeting_security"]["pmi_password"] is True
    assert documents[0]["account_locks"]["meeting_security"]["waiting_room"] is False
    assert documents[0]["account_settings"]["meeting_security"]["waiting_room"] is True
    assert documents[2]["groups"] == []
    calls = zoomsim.requests()[before:]
    account = [r for r in calls if r["path"].startswith("/v2/accounts/")]
    group = [r for r in calls if r["path"].startswith("/v2/groups/")]
    assert len(account) == 4  # settings and locks, each with and without the option: once
    assert len(group) == 4  # the group shared by two hosts: read once
    assert len([r for r in calls if r["path"] == "/v2/groups"]) == 1
    per_host = [
        r for r in calls if r["path"].startswith("/v2/users/") and r["category"] == "Medium"
    ]
    assert len(per_host) == 3 * len(hosts)  # settings, settings?option, meetings


def test_an_account_webhook_makes_the_next_scan_read_the_account_again(zoomsim, client, settings):
    import hashlib
    import hmac
    import time

    from audits.jobs.sync import fetch_documents

    fetch_documents(HOST, fresh=False)
    zoomsim.put_account({"lock_settings": {"meeting_security": {"waiting_room": True}}})
    cached = fetch_documents(HOST, fresh=False)[1]
    assert cached["account_locks"]["meeting_security"]["waiting_room"] is False  # still cached

    settings.ZOOM_WEBHOOK_SECRET = "s3cret"
    body = json.dumps({"event": "account.lock_settings_updated", "payload": {}}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(b"s3cret", b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    answer = client.post(
        "/zoom/webhook/", data=body, content_type="application/json",
        headers={"x-zm-signature": "v0=" + digest.hexdigest(), "x-zm-request-timestamp": stamp},
    )  # fmt: skip
    assert answer.status_code == 204

    fresh = fetch_documents(HOST, fresh=False)[1]
    assert fresh["account_locks"]["meeting_security"]["waiting_room"] is True


def test_group_settings_and_locks_with_and_without_the_option(zoomsim):
    groups = {g["name"]: g["id"] for g in zoom.list_groups()}
    medicine = groups["Medicine"]

    assert "meeting_security" not in zoom.get_group_lock_settings(medicine)
    locks = zoom.get_group_lock_settings(medicine, option="meeting_security")
    assert locks == {"meeting_security": locks["meeting_security"]}
    assert locks["meeting_security"]["waiting_room"] is True
    assert zoom.get_group_settings(medicine, option="meeting_security")["meeting_security"]
    assert "meeting_security" not in zoom.get_account_lock_settings()
    assert "waiting_room" in zoom.get_account_lock_settings("meeting_security")["meeting_security"]
    with pytest.raises(zoom.ZoomError) as caught:
        zoom.get_group_settings("nope")
    assert (caught.value.status, caught.value.code) == (404, 4130)


# --- The paced budget (audits.ratelimit) ----------------------------------------------------
# Window counts, not durations: each is a property of the schedule, whatever the machine's speed.
def _most_in_any_window(moments: list[float], width: float) -> int:
    moments = sorted(moments)
    return max(bisect.bisect_left(moments, start + width) - i for i, start in enumerate(moments))


@pytest.fixture(params=["memory", "redis"])
def budget_store(request, settings):
    """The embedded (per-process) schedule, or the shared one in Redis."""
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("the shared budget lives in Redis: set REDIS_URL")
        require_service(settings.REDIS_URL, "Redis")
    else:
        settings.REDIS_URL = ""
    settings.ZOOM_BUDGET_MEDIUM = 20
    account = f"pace-{uuid.uuid4().hex}"
    yield account
    ratelimit.clear(account)


def test_threads_are_paced_evenly_not_let_through_in_a_burst(budget_store):
    """40 requests from 4 threads at 20 a second: never half the budget in a quarter second
    (a moving-window limiter let the first 20 through at once)."""
    granted: list[float] = []

    def send(count: int) -> None:
        for _ in range(count):
            if ratelimit.acquire(ratelimit.MEDIUM, budget_store, max_wait=30):
                granted.append(time.monotonic())

    threads = [threading.Thread(target=send, args=(10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(granted) == 40
    assert _most_in_any_window(granted, 0.25) < 10
    assert _most_in_any_window(granted, 1.0) <= 20 + 1  # one late wake-up at most


def test_a_request_that_would_wait_too_long_takes_no_slot(budget_store):
    for _ in range(20):
        assert ratelimit.reserve(ratelimit.MEDIUM, budget_store, max_wait=5) is not None
    assert ratelimit.reserve(ratelimit.MEDIUM, budget_store, max_wait=0.5) is None
    slot, now = ratelimit.reserve(ratelimit.MEDIUM, budget_store, max_wait=5)
    assert 1.0 <= slot - now < 1.1  # the 21st slot: the one the refused request did not take


def test_processes_sharing_the_redis_budget_never_exceed_it_in_any_second(settings):
    """Three processes take 30 slots each from one budget of 20 a second: the slots of all of
    them together are never more than 20 in any one-second window (nor in 1.02 s, so that
    delays differing by 20 ms cannot make 21), nor closer than 1/20 s."""
    if not settings.REDIS_URL:
        pytest.skip("the shared budget lives in Redis: set REDIS_URL")
    require_service(settings.REDIS_URL, "Redis")
    account = f"pace-{uuid.uuid4().hex}"
    script = (
        "import django, json; django.setup()\n"
        "from audits.zoom import ratelimit\n"
        f"slots = [ratelimit.reserve(ratelimit.MEDIUM, {account!r}, 60)[0] for _ in range(30)]\n"
        "print(json.dumps(slots))\n"
    )
    env = subprocess_env(DJANGO_SETTINGS_MODULE="portal.settings", ZOOM_BUDGET_MEDIUM="20")
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        slots = [slot for run in runs for slot in json.loads(run.communicate(timeout=120)[0])]
    finally:
        ratelimit.clear(account)

    assert len(slots) == 90
    assert _most_in_any_window(slots, 1.0) <= 20
    # Sent 20 ms apart from their slots, they would still be 20 at most in any one second:
    assert _most_in_any_window(slots, 1.02) <= 20
    gaps = [b - a for a, b in itertools.pairwise(sorted(slots))]
    assert min(gaps) >= 1 / 20 - 1e-5
