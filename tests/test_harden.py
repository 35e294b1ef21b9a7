"""The hardened profile against the simulator over HTTP with a real worker: what the preview
shows is what is sent, locks are respected, faults end in the right state, undo puts back."""

from __future__ import annotations

import pytest
from django.db import transaction

from audits.checklist.items import to_patch_body
from audits.jobs import machinery as jobs
from audits.jobs.plan import plan, read_fresh
from audits.models import AuditEvent, HardeningProfile, InstitutionSettings, Job, JobKind
from audits.models import JobStatus as S
from audits.zoom import client as zoom
from tests.people import make_person
from tests.support import run_job, wait_for
from tests.zoomspec import request_errors

pytestmark = pytest.mark.usefixtures("celery_worker", "beat_sweep")

DEFAULT_HOST = "default.host@utoronto.ca"
MASKING = "audio_conferencing.participant_phone_masking.enable"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_SCHEDULE", (0.2, 0.3, 0.4))


def default_profile() -> HardeningProfile:
    return HardeningProfile.default()


def settings_patches(simulator) -> list[dict]:
    return [
        r
        for r in simulator.requests()
        if r["method"] == "PATCH" and r["path"].endswith("/settings")
    ]


def preview_for(email: str):
    zoom_user_id = zoom.get_user(email)["id"]
    settings, locks = read_fresh(zoom_user_id)
    institution = InstitutionSettings.load().as_institution()
    return plan(settings, locks, default_profile().overrides, institution)


def test_what_the_preview_shows_is_exactly_what_is_sent_and_it_matches_zooms_schema(zoomsim):
    host = make_person(DEFAULT_HOST)
    preview = preview_for(DEFAULT_HOST)
    assert preview.changes, "Zoom's defaults differ from the institution's"

    job = run_job(JobKind.HARDEN, host, profile=default_profile())

    patches = settings_patches(zoomsim)
    assert len(patches) == 1
    assert patches[0]["body"] == to_patch_body(preview.dotted)
    assert request_errors("PATCH", "/users/{userId}/settings", body=patches[0]["body"]) == []
    assert job.status == S.DONE
    outcomes = {path: f["outcome"] for path, f in job.outcome["fields"].items()}
    assert all(outcomes[c.path] == "applied" for c in preview.changes)
    assert job.snapshot is not None
    assert job.snapshot.score > 0


@pytest.mark.parametrize("behaviour", ["keep", "reject"])
def test_a_field_the_account_locks_is_never_sent(zoomsim, behaviour):
    host = make_person(DEFAULT_HOST)
    locks = {"in_meeting": {"screen_sharing": True}, "recording": {"auto_recording": True}}
    zoomsim.put_account({"lock_settings": locks, "lock_behaviour": behaviour})

    job = run_job(JobKind.HARDEN, host, profile=default_profile())

    sent = settings_patches(zoomsim)[0]["body"]
    assert "who_can_share_screen" not in str(sent)
    assert "auto_recording" not in str(sent)
    fields = job.outcome["fields"]
    assert fields["in_meeting.who_can_share_screen"]["outcome"] == "locked"
    assert job.status == S.DONE


def test_a_field_zoom_refuses_is_reported_and_not_retried_forever(zoomsim):
    host = make_person(DEFAULT_HOST)
    settings = InstitutionSettings.load()
    settings.allowed_regions = ["XX"]  # not a region Zoom knows: it answers 400 code 300
    settings.save()

    job = run_job(JobKind.HARDEN, host, profile=default_profile())

    region = job.outcome["fields"]["in_meeting.data_center_regions"]
    assert region["outcome"] == "refused"
    assert region["message"]
    assert job.status == S.PARTIAL
    assert len(settings_patches(zoomsim)) == 2  # the refused field left out, the rest sent once


def test_a_burst_of_5xx_is_retried_and_the_job_finishes(zoomsim):
    host = make_person(DEFAULT_HOST)
    zoomsim.set_faults(error_rate=1.0, error_status=502)
    with transaction.atomic():
        job = jobs.create_job(JobKind.HARDEN, host, requested_by=host, profile=default_profile())
    wait_for(lambda: Job.objects.get(pk=job.pk).failures >= 2, what="two failed attempts")
    zoomsim.set_faults()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the job")
    job.refresh_from_db()
    assert job.status == S.DONE
    assert len(settings_patches(zoomsim)) == 1
    assert AuditEvent.objects.filter(job=job).count() == 1


@pytest.mark.parametrize("headers", [True, False])
def test_429_waits_and_finishes(zoomsim, headers):
    host = make_person(DEFAULT_HOST)
    zoomsim.set_faults(limits={"Light": 0, "Medium": 0}, ratelimit_headers=headers)
    with transaction.atomic():
        job = jobs.create_job(JobKind.HARDEN, host, requested_by=host, profile=default_profile())
    wait_for(lambda: "retrying" in Job.objects.get(pk=job.pk).message, what="a 429 retry")
    zoomsim.set_faults()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the job")
    job.refresh_from_db()
    assert job.status == S.DONE


def test_an_outage_longer_than_the_schedule_fails_the_job_with_a_clear_message(zoomsim):
    host = make_person(DEFAULT_HOST)
    zoomsim.set_faults(outage=True)

    job = run_job(JobKind.HARDEN, host, profile=default_profile())

    assert job.status == S.FAILED
    assert "Zoom could not be reached" in job.message
    assert settings_patches(zoomsim) == []
    assert AuditEvent.objects.filter(job=job, action="harden").count() == 1


def test_undo_puts_back_exactly_what_the_profile_changed(zoomsim):
    host = make_person(DEFAULT_HOST)
    zoom_user_id = zoom.get_user(DEFAULT_HOST)["id"]
    original = zoom.get_user_settings(zoom_user_id)
    harden = run_job(JobKind.HARDEN, host, profile=default_profile())

    undo = run_job(JobKind.UNDO, host, undo_of=harden)

    assert undo.status == S.DONE
    assert zoom.get_user_settings(zoom_user_id) == original
    assert {f["outcome"] for f in undo.outcome["fields"].values()} == {"restored"}
    actions = list(AuditEvent.objects.filter(subject=host).values_list("action", flat=True))
    assert sorted(actions) == ["harden", "undo"]


def test_undo_leaves_a_setting_the_host_changed_since_and_says_so(zoomsim):
    host = make_person(DEFAULT_HOST)
    harden = run_job(JobKind.HARDEN, host, profile=default_profile())
    # The host changes one hardened field in Zoom's own web page.
    assert harden.outcome["fields"][MASKING]["outcome"] == "applied"
    zoomsim.patch_settings(
        DEFAULT_HOST, {"audio_conferencing": {"participant_phone_masking": {"enable": False}}}
    )

    undo = run_job(JobKind.UNDO, host, undo_of=harden)

    assert undo.outcome["fields"][MASKING]["outcome"] == "conflict"
    zoom_user_id = zoom.get_user(DEFAULT_HOST)["id"]
    masking = zoom.get_user_settings(zoom_user_id)["audio_conferencing"][
        "participant_phone_masking"
    ]
    assert masking["enable"] is False
    assert any(f["outcome"] == "restored" for f in undo.outcome["fields"].values())


def test_timeouts_are_retried_and_nothing_is_sent_twice(zoomsim, settings):
    settings.ZOOM_READ_TIMEOUT = 0.5
    host = make_person(DEFAULT_HOST)
    zoomsim.set_faults(timeout_rate=1.0, timeout_seconds=2)
    with transaction.atomic():
        job = jobs.create_job(JobKind.HARDEN, host, requested_by=host, profile=default_profile())
    wait_for(lambda: "retrying" in Job.objects.get(pk=job.pk).message, what="a timed-out try")
    zoomsim.set_faults()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the job")
    job.refresh_from_db()
    assert job.status == S.DONE
    applied = [p for p in settings_patches(zoomsim) if p.get("status") == 204]
    assert len(applied) == 1


# --- Locks as Zoom reports them (issue 12) ---------------------------------------------------
MIXED_HOST = "mixed.host@utoronto.ca"  # waiting room off, instant meetings without passcode
WAITING_ROOM = "in_meeting.waiting_room"
INSTANT_PASSCODE = "schedule_meeting.require_password_for_instant_meetings"


def lock_waiting_room_in_account_and_instant_passcode_in_a_group(zoomsim) -> None:
    # The account locks the waiting room only where Zoom keeps that lock: meeting_security.
    zoomsim.put_account({"lock_settings": {"meeting_security": {"waiting_room": True}}})
    zoomsim.put_group(
        "g-tas",
        {
            "name": "Teaching assistants",
            "settings": {"schedule_meeting": {"require_password_for_instant_meetings": True}},
            "locks": {"schedule_meeting": {"require_password_for_instant_meetings": True}},
            "members": [MIXED_HOST],
        },
    )


def _command(*args: str) -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_account_and_group_locks_are_shown_everywhere_as_set_by_them_and_never_sent(
    zoomsim, client
):
    import json

    host = make_person(MIXED_HOST)
    lock_waiting_room_in_account_and_instant_passcode_in_a_group(zoomsim)
    account, group = "institution's Zoom account", "your group Teaching assistants"

    audit = json.loads(_command("zoom_audit", MIXED_HOST, "--json"))
    items = {item["id"]: item for item in audit["items"]}
    assert items["meeting.waiting_room.on"]["status"] == "locked"
    assert account in items["meeting.waiting_room.on"]["detail"]
    assert items["meeting.passcode.instant"]["status"] == "locked"
    assert group in items["meeting.passcode.instant"]["detail"]

    client.force_login(host)
    dashboard = client.get("/me/").content.decode()
    passcode_card = dashboard.split('id="item-meeting.passcode.instant"')[1].split("</li>")[0]
    assert "Set by your group Teaching assistants" in passcode_card
    assert "Change it yourself" not in passcode_card
    waiting_card = dashboard.split('id="item-meeting.waiting_room.on"')[1].split("</li>")[0]
    assert "Set and locked by the institution&#x27;s Zoom account" in waiting_card
    assert "Change it yourself" not in waiting_card
    preview = client.get("/me/harden/").content.decode()
    assert "(set by your group Teaching assistants)" in preview
    assert "(set by your institution&#x27;s Zoom account)" in preview

    dry = json.loads(_command("zoom_harden", MIXED_HOST, "--dry-run", "--json"))
    locked = {change["path"]: change["by"] for change in dry["locked"]}
    assert locked[WAITING_ROOM] == "your institution's Zoom account"
    assert locked[INSTANT_PASSCODE] == "your group Teaching assistants"
    assert {WAITING_ROOM, INSTANT_PASSCODE}.isdisjoint(c["path"] for c in dry["changes"])

    job = run_job(JobKind.HARDEN, host, profile=default_profile())

    sent = [p["body"] for p in settings_patches(zoomsim)]
    assert sent, "the profile changes other fields"
    for body in sent:
        assert "waiting_room" not in body.get("in_meeting", {})
        assert "require_password_for_instant_meetings" not in body.get("schedule_meeting", {})
    fields = job.outcome["fields"]
    assert fields[WAITING_ROOM]["outcome"] == fields[INSTANT_PASSCODE]["outcome"] == "locked"
    assert fields[INSTANT_PASSCODE]["message"] == "Set by your group Teaching assistants."
    assert job.status == S.DONE


def test_fixing_meetings_leaves_alone_a_waiting_room_a_group_locks(zoomsim):
    from datetime import UTC, datetime

    from django.core.cache import cache

    host = make_person("meetings.host@utoronto.ca", department="Medicine")
    zoom_user_id = zoom.get_user("meetings.host@utoronto.ca")["id"]
    # Today's count of meeting updates lives in the shared cache (Redis outlives a test).
    cache.delete(f"audits:meeting-updates:{zoom_user_id}:{datetime.now(UTC).date().isoformat()}")
    zoomsim.put_group(
        "g-clinics",
        {
            "name": "Clinics",
            "settings": {"meeting_security": {"waiting_room": False}},
            "locks": {"meeting_security": {"waiting_room": True}},
            "members": ["meetings.host@utoronto.ca"],
        },
    )

    job = run_job(JobKind.MEETINGS, host)

    patches = [r for r in zoomsim.requests() if r["method"] == "PATCH"]
    assert patches, "the seeded meetings need passcodes"
    assert all("waiting_room" not in str(p["body"]) for p in patches)
    waiting = [f for key, f in job.outcome["fields"].items() if key.endswith("waiting_room")]
    assert waiting
    assert {f["outcome"] for f in waiting} == {"locked"}


def test_a_dry_run_for_a_pending_user_says_the_account_is_not_activated_yet(zoomsim):
    from django.core.management import CommandError

    make_person("pending.host@utoronto.ca")

    with pytest.raises(CommandError, match="not activated their account yet"):
        _command("zoom_harden", "pending.host@utoronto.ca", "--dry-run")


@pytest.mark.parametrize("email", ["nobody.here@utoronto.ca", "pending.host@utoronto.ca"])
@pytest.mark.parametrize("kind", [JobKind.HARDEN, JobKind.MEETINGS, JobKind.UNDO])
def test_a_permanent_zoom_error_fails_the_job_at_once_with_zooms_message(zoomsim, kind, email):
    host = make_person(email)
    fields: dict = {"profile": default_profile()} if kind == JobKind.HARDEN else {}
    if kind == JobKind.UNDO:
        changed = {"item": "x", "before": False, "after": True, "now": True, "outcome": "applied"}
        fields["undo_of"] = Job.objects.create(
            kind=JobKind.HARDEN, host=host, status=S.DONE, outcome={"fields": {MASKING: changed}}
        )

    job = run_job(kind, host, **fields)

    assert job.status == S.FAILED
    if email.startswith("nobody"):
        assert job.message == "Zoom has no user with the e-mail nobody.here@utoronto.ca."
    else:
        assert "has not accepted the invitation" in job.message
    assert job.attempts == 1  # one claim: not the 7 claims of "tried too many times"
    assert settings_patches(zoomsim) == []


def test_a_429_that_names_its_wait_does_not_spend_the_retry_budget(zoomsim):
    host = make_person(DEFAULT_HOST)
    zoomsim.set_faults(limits={"Light": 0, "Medium": 0}, retry_after="1")
    with transaction.atomic():
        job = jobs.create_job(JobKind.HARDEN, host, requested_by=host, profile=default_profile())

    def waited_often() -> bool:
        waited = sum(r["status"] == 429 for r in zoomsim.requests())
        return waited > len(jobs.RETRY_SCHEDULE) + 1 and not Job.objects.get(pk=job.pk).is_finished

    wait_for(waited_often, timeout=60, what="more 429s than the retry schedule allows failures")
    zoomsim.set_faults()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the job")
    job.refresh_from_db()
    assert job.status == S.DONE
    assert job.failures == 0


def test_a_job_that_waited_many_times_is_not_stopped_as_tried_too_often(zoomsim, monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_SCHEDULE", (0.1,) * 20)
    host = make_person(DEFAULT_HOST)
    zoomsim.set_faults(error_rate=1.0, error_status=503)
    with transaction.atomic():
        job = jobs.create_job(JobKind.HARDEN, host, requested_by=host, profile=default_profile())
    wait_for(lambda: Job.objects.get(pk=job.pk).failures >= 10, timeout=60, what="ten failures")
    zoomsim.set_faults()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the job")
    job.refresh_from_db()
    assert job.status == S.DONE, job.message


def test_a_change_sent_before_zoom_stopped_answering_is_recorded_and_undone(zoomsim):
    host = make_person(DEFAULT_HOST)
    zoom_user_id = zoom.get_user(DEFAULT_HOST)["id"]
    original = zoom.get_user_settings(zoom_user_id)
    # How many Medium calls a hardening makes up to and including its PATCH (the reads of the
    # settings and the account's and groups' locks), measured on a first run...
    zoomsim.reset()
    run_job(JobKind.HARDEN, host, profile=default_profile())
    log = zoomsim.requests()
    patch_at = next(i for i, r in enumerate(log) if r["method"] == "PATCH")
    up_to_patch = sum(r.get("category") == "Medium" for r in log[: patch_at + 1])
    zoomsim.reset()
    zoom.forget_cached_state()
    # ...then the PATCH is applied (204) and the verifying read, the next Medium call of the
    # day, is refused by Zoom's daily limit until tomorrow.
    zoomsim.set_faults(daily_limits={"Medium": up_to_patch})

    harden = run_job(JobKind.HARDEN, host, profile=default_profile())

    assert [p["status"] for p in settings_patches(zoomsim)] == [204]
    assert harden.status == S.FAILED
    assert "The change was sent and may have been applied" in harden.message
    sent = harden.outcome["fields"]
    assert sent
    assert {f["outcome"] for f in sent.values()} == {"sent"}
    assert sent[MASKING]["before"] is False
    assert sent[MASKING]["after"] is True

    zoomsim.set_faults()
    zoom.forget_cached_state()  # the daily limit's cool-down
    undo = run_job(JobKind.UNDO, host, undo_of=harden)

    assert undo.status == S.DONE, undo.message
    assert {f["outcome"] for f in undo.outcome["fields"].values()} == {"restored"}
    assert zoom.get_user_settings(zoom_user_id) == original
