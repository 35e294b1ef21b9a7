"""Each checklist item, scored on realistic Zoom documents and on the awkward ones."""

from __future__ import annotations

import dataclasses
import json

import pytest

from audits.checklist.items import (
    GROUPS,
    ITEMS,
    ITEMS_BY_ID,
    LOCK_KEYS,
    Institution,
    Level,
    to_patch_body,
)
from audits.scoring.score import STATUSES, Documents, grade_for, score
from tests import samples

CHECKLIST_IDS = [
    "meeting.passcode.new",
    "meeting.passcode.scheduled",
    "meeting.passcode.instant",
    "meeting.passcode.pmi",
    "meeting.screen_sharing.host_only",
    "meeting.attention_tracking.off",
    "meeting.waiting_room.on",
    "meeting.support_chat.allowed",
    "recording.local.allowed",
    "recording.cloud.allowed",
    "recording.cloud.active_speaker",
    "recording.cloud.audio_file",
    "recording.cloud.chat",
    "recording.cloud.participant_names",
    "recording.cloud.thumbnails",
    "recording.auto.off",
    "recording.download.host_only",
    "recording.delete.host_can",
    "recording.consent",
    "phone.numbers.masked",
    "practice.titles.not_sensitive",
    "practice.links.shared_directly",
    "practice.links.embedded_passcode",
    "practice.names.minimal",
    "practice.video.off_on_join",
    "practice.email.institutional",
    "concern.encryption.e2ee_available",
    "concern.residency.regions",
    "concern.residency.recordings",
    "concern.client.current",
]


def status_of(docs: Documents, item_id: str, **kwargs) -> str:
    return score(docs, Institution(), **kwargs).item(item_id).status


def with_settings(change, docs: Documents | None = None) -> Documents:
    """The hardened host with one change made to their settings document."""
    docs = docs or samples.hardened()
    change(docs.settings)
    return docs


# --- The checklist as data ---------------------------------------------------------------


def test_checklist_has_every_reference_item_with_its_id_in_order():
    assert [item.id for item in ITEMS] == CHECKLIST_IDS
    assert set(ITEMS_BY_ID) == set(CHECKLIST_IDS)


def test_every_item_says_why_how_and_where_in_its_group():
    group_ids = {group.id for group in GROUPS}
    for item in ITEMS:
        assert item.group in group_ids
        assert item.why
        assert item.how_to_fix
        assert item.wanted
        assert item.title
        assert item.concern in {"confidentiality", "residency", "meeting-security", "client"}


def test_weights_follow_severity():
    assert {item.severity.value: item.weight for item in ITEMS} == {
        "critical": 10,
        "high": 6,
        "medium": 3,
        "low": 1,
        "info": 0,
    }


def test_recording_rows_carry_no_weight_and_are_never_in_the_hardened_profile():
    for item in ITEMS:
        if item.id.startswith(("recording.local", "recording.cloud")):
            assert item.weight == 0
            assert not item.fixable


def test_lock_schema_names_participant_video_in_the_singular():
    assert LOCK_KEYS["schedule_meeting.participants_video"] == (
        "schedule_meeting.participant_video",
    )
    assert "recording.recording_disclaimer" not in LOCK_KEYS  # Zoom cannot lock it


def test_institution_decides_the_data_centre_regions_of_the_fix():
    item = ITEMS_BY_ID["concern.residency.regions"]
    assert item.fix_values(Institution(allowed_regions=("CA", "US"))) == {
        "in_meeting.custom_data_center_regions": True,
        "in_meeting.data_center_regions": ["CA", "US"],
    }


def test_fix_values_nest_into_zooms_patch_shape():
    fixes = {}
    settings = samples.zoom_default_settings()
    del settings["recording"]["recording_notification_for_zoom_client"]  # an older account's
    for item in ITEMS:
        if item.fixable and item.level is Level.USER:
            fixes.update(item.fix_values(Institution(), settings))
    body = to_patch_body(fixes)
    assert body["in_meeting"]["waiting_room"] is True
    assert body["schedule_meeting"]["require_password_for_pmi_meetings"] == "all"
    assert body["recording"]["auto_recording"] == "none"
    assert body["audio_conferencing"] == {"participant_phone_masking": {"enable": True}}
    # An account without recording_notification_for_zoom_client: not sent.
    assert "recording_notification_for_zoom_client" not in body["recording"]


def test_recording_storage_fix_picks_an_allowed_country_zoom_offers():
    item = ITEMS_BY_ID["concern.residency.recordings"]
    settings = {"profile": {"recording_storage_location": {"allowed_values": ["US", "DE"]}}}
    institution = Institution(allowed_regions=("CA", "DE"))
    assert item.fix_values(institution, settings) == {
        "profile.recording_storage_location.value": "DE"
    }


# --- Whole hosts --------------------------------------------------------------------------


def test_fully_hardened_host_scores_100_with_grade_a():
    result = score(samples.hardened(), Institution())
    assert (result.score, result.grade) == (100, "A")
    host_items = [r for r in result.items if ITEMS_BY_ID[r.id].host_controlled and r.weight]
    assert {r.status for r in host_items} == {"pass"}


def test_zoom_out_of_the_box_defaults_fail_the_critical_items():
    result = score(samples.zoom_defaults(), Institution())
    statuses = {r.id: r.status for r in result.items}
    assert statuses["meeting.waiting_room.on"] == "fail"
    assert statuses["meeting.screen_sharing.host_only"] == "fail"
    assert statuses["meeting.passcode.pmi"] == "partial"
    assert statuses["recording.auto.off"] == "fail"
    assert result.score is not None
    weighted = {r.id: r.status for r in result.items if r.weight}
    assert weighted == {
        "meeting.passcode.new": "pass",
        "meeting.passcode.scheduled": "pass",  # on since April 2020
        "meeting.passcode.instant": "pass",
        "meeting.passcode.pmi": "partial",
        "meeting.screen_sharing.host_only": "fail",
        "meeting.waiting_room.on": "fail",
        "recording.auto.off": "fail",
        "recording.consent": "partial",
        "phone.numbers.masked": "fail",
        "practice.titles.not_sensitive": "pass",
        "practice.video.off_on_join": "fail",
        "practice.email.institutional": "pass",
        "concern.residency.regions": "fail",
        "concern.residency.recordings": "fail",
        "concern.client.current": "pass",
    }
    assert (result.score, result.grade) == (56, "D")
    assert result.score < 60
    assert result.grade in {"D", "F"}


def test_result_is_plain_json_with_every_item_and_meeting():
    result = score(samples.hardened(), Institution())
    data = json.loads(json.dumps(result.to_dict()))
    assert data["score"] == 100
    assert data["grade"] == "A"
    assert [row["id"] for row in data["items"]] == CHECKLIST_IDS
    assert set(data["items"][0]) == {
        "id",
        "status",
        "level",
        "severity",
        "weight",
        "found",
        "wanted",
        "detail",
    }
    assert data["meetings"][0]["findings"][0].keys() == {"item", "status", "detail"}
    assert all(row["status"] in STATUSES for row in data["items"])


def test_no_documents_at_all_gives_no_score_rather_than_100():
    result = score(Documents(), Institution())
    assert result.score is None
    assert result.grade is None
    assert result.item("meeting.waiting_room.on").status == "unknown"
    assert (
        "GET /users/{userId}/settings did not answer"
        in result.item("meeting.waiting_room.on").detail
    )


def test_grades_follow_the_bands():
    assert [grade_for(v) for v in (100, 90, 89, 75, 74, 60, 59, 40, 39, 0, None)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
        "D",
        "F",
        "F",
        None,
    ]


# --- Passcodes, sharing, waiting room ---------------------------------------------------------


def test_pmi_passcode_only_for_join_before_host_is_a_partial_pass():
    docs = with_settings(
        lambda s: s["schedule_meeting"].update(require_password_for_pmi_meetings="jbh_only")
    )
    result = score(docs, Institution())
    assert result.item("meeting.passcode.pmi").status == "partial"
    assert 90 <= result.score < 100


def test_pmi_without_passcode_fails():
    docs = with_settings(
        lambda s: s["schedule_meeting"].update(require_password_for_pmi_meetings="none")
    )
    assert status_of(docs, "meeting.passcode.pmi") == "fail"


def test_screen_sharing_open_to_all_fails_and_host_start_only_is_partial():
    docs = with_settings(lambda s: s["in_meeting"].update(who_can_share_screen="all"))
    assert status_of(docs, "meeting.screen_sharing.host_only") == "fail"
    docs = with_settings(
        lambda s: s["in_meeting"].update(who_can_share_screen_when_someone_is_sharing="all")
    )
    assert status_of(docs, "meeting.screen_sharing.host_only") == "partial"


def test_missing_field_is_unknown_and_names_the_field():
    docs = with_settings(lambda s: s["in_meeting"].pop("waiting_room"))
    result = score(docs, Institution()).item("meeting.waiting_room.on")
    assert result.status == "unknown"
    assert "in_meeting.waiting_room" in result.detail


def test_locked_field_is_locked_and_left_out_of_the_score():
    docs = samples.zoom_defaults()
    docs = dataclasses.replace(
        docs, account_locks=samples.account_locks("in_meeting.screen_sharing")
    )
    result = score(docs, Institution())
    assert result.item("meeting.screen_sharing.host_only").status == "locked"
    unlocked = score(samples.zoom_defaults(), Institution())
    assert result.score > unlocked.score  # a failing item the host cannot change no longer counts


def test_waiting_room_locked_by_the_meeting_security_lock():
    docs = dataclasses.replace(
        samples.hardened(), account_locks=samples.account_locks("meeting_security.waiting_room")
    )
    assert status_of(docs, "meeting.waiting_room.on") == "locked"


def test_unread_lock_settings_make_lockable_items_unknown_but_not_the_others():
    docs = dataclasses.replace(samples.hardened(), account_locks=None)
    result = score(docs, Institution())
    assert result.item("meeting.waiting_room.on").status == "unknown"
    assert "lock_settings did not answer" in result.item("meeting.waiting_room.on").detail
    assert result.item("recording.consent").status == "pass"  # Zoom has no lock for it


# --- Upcoming meetings -----------------------------------------------------------------------


def test_meeting_without_passcode_makes_the_passing_setting_partial():
    docs = samples.hardened()
    docs.meetings[1]["password"] = ""
    result = score(docs, Institution())
    assert result.item("meeting.passcode.scheduled").status == "partial"
    assert "1 of 2 upcoming meetings" in result.item("meeting.passcode.scheduled").detail
    findings = {f.item: f.status for f in result.meetings[1].findings}
    assert findings["meeting.passcode.scheduled"] == "fail"


def test_meeting_allowing_join_before_host_fails_under_the_waiting_room_item():
    docs = samples.hardened()
    docs.meetings[0]["settings"]["join_before_host"] = True
    result = score(docs, Institution())
    assert result.item("meeting.waiting_room.on").status == "partial"


def test_failing_setting_stays_failing_even_when_meetings_pass():
    docs = with_settings(lambda s: s["recording"].update(auto_recording="cloud"))
    assert status_of(docs, "recording.auto.off") == "fail"


def test_unmuted_meeting_counts_under_camera_and_microphone_off():
    docs = samples.hardened()
    docs.meetings[0]["settings"]["mute_upon_entry"] = False
    assert status_of(docs, "practice.video.off_on_join") == "partial"


def test_sensitive_meeting_title_fails_the_title_item():
    docs = samples.hardened()
    docs.meetings[0]["topic"] = "Disciplinary hearing - J. Smith"
    docs.meetings[1]["topic"] = "Patient case review"
    result = score(docs, Institution())
    assert result.item("practice.titles.not_sensitive").status == "fail"
    assert "“Disciplinary”" in result.meetings[0].findings[-1].detail


def test_one_sensitive_title_of_two_is_partial():
    docs = samples.hardened()
    docs.meetings[1]["agenda"] = "Discuss grievances raised last week"
    result = score(docs, Institution()).item("practice.titles.not_sensitive")
    assert result.status == "partial"


def test_identifier_in_a_title_is_not_repeated_in_the_finding():
    docs = samples.hardened()
    docs.meetings[0]["topic"] = "Follow-up for 046 454 286"
    finding = score(docs, Institution()).meetings[0].findings[-1]
    assert finding.status == "fail"
    assert "046" not in finding.detail


def test_words_inside_other_words_are_not_sensitive():
    docs = samples.hardened()
    docs.meetings[0]["topic"] = "Outpatients clinic staffing; tenured faculty lunch"
    assert status_of(docs, "practice.titles.not_sensitive") == "pass"


def test_institution_may_add_its_own_sensitive_patterns():
    docs = samples.hardened()
    docs.meetings[0]["topic"] = "Project Nightingale sync"
    institution = Institution(sensitive_patterns=("nightingale",))
    assert score(docs, institution).item("practice.titles.not_sensitive").status == "partial"


def test_no_upcoming_meetings_is_not_applicable_and_unread_meetings_unknown():
    docs = dataclasses.replace(samples.hardened(), meetings=[])
    assert status_of(docs, "practice.titles.not_sensitive") == "not_applicable"
    docs = dataclasses.replace(samples.hardened(), meetings=None)
    result = score(docs, Institution())
    assert result.item("practice.titles.not_sensitive").status == "unknown"
    assert result.item("meeting.waiting_room.on").status == "pass"
    assert "not checked" in result.item("meeting.waiting_room.on").detail


def test_meeting_without_password_field_is_unknown_not_pass():
    docs = samples.hardened()
    del docs.meetings[0]["password"]
    findings = {f.item: f.status for f in score(docs, Institution()).meetings[0].findings}
    assert findings["meeting.passcode.scheduled"] == "unknown"


# --- Recording ------------------------------------------------------------------------------


def test_host_recording_less_than_the_default_is_not_penalised():
    docs = with_settings(lambda s: s["recording"].update(local_recording=False))
    result = score(docs, Institution())
    assert result.item("recording.local.allowed").status == "pass"
    assert "less" in result.item("recording.local.allowed").detail
    assert result.score == 100


def test_cloud_options_do_not_apply_when_cloud_recording_is_off():
    docs = with_settings(lambda s: s["recording"].update(cloud_recording=False))
    assert status_of(docs, "recording.cloud.chat") == "not_applicable"
    assert status_of(docs, "recording.cloud.allowed") == "pass"


def test_consent_with_the_new_notification_field_only():
    def new_style(s):
        del s["recording"]["recording_disclaimer"]

    assert status_of(with_settings(new_style), "recording.consent") == "pass"

    def guests_only(s):
        new_style(s)
        s["recording"]["recording_notification_for_zoom_client"]["disclaimer_to_participants"] = (
            "Guest only"
        )

    assert status_of(with_settings(guests_only), "recording.consent") == "partial"


def test_consent_with_the_deprecated_disclaimer_only():
    def old_style(s):
        del s["recording"]["recording_notification_for_zoom_client"]

    assert status_of(with_settings(old_style), "recording.consent") == "pass"

    def no_disclaimer(s):
        old_style(s)
        s["recording"]["recording_disclaimer"] = False

    assert status_of(with_settings(no_disclaimer), "recording.consent") == "fail"


def test_consent_unknown_when_neither_disclaimer_field_is_returned():
    def neither(s):
        del s["recording"]["recording_notification_for_zoom_client"]
        del s["recording"]["recording_disclaimer"]

    assert status_of(with_settings(neither), "recording.consent") == "unknown"


def test_account_recording_items_are_managed_and_never_scored():
    docs = samples.hardened()
    docs.account_settings["recording"]["host_delete_cloud_recording"] = False
    result = score(docs, Institution())
    item = result.item("recording.delete.host_can")
    assert item.status == "managed"
    assert "differs" in item.detail
    assert result.score == 100


def test_failed_account_settings_call_makes_managed_items_unknown():
    docs = dataclasses.replace(samples.hardened(), account_settings=None)
    item = score(docs, Institution()).item("recording.download.host_only")
    assert item.status == "unknown"
    assert "GET /accounts/me/settings" in item.detail


# --- Phone, practices, concerns ------------------------------------------------------------------


def test_phone_masking_off_fails():
    docs = with_settings(
        lambda s: s["audio_conferencing"]["participant_phone_masking"].update(enable=False)
    )
    assert status_of(docs, "phone.numbers.masked") == "fail"


def test_advisory_items_are_shown_but_never_scored():
    result = score(samples.hardened(), Institution())
    for item_id in ("meeting.attention_tracking.off", "practice.names.minimal"):
        assert result.item(item_id).status == "advisory"
        assert result.item(item_id).weight == 0


def test_embedded_passcode_is_the_hosts_choice():
    docs = with_settings(lambda s: s["schedule_meeting"].update(embed_password_in_join_link=True))
    result = score(docs, Institution())
    assert result.item("practice.links.embedded_passcode").status == "advisory"
    assert result.score == 100


def test_camera_on_for_participants_only_is_partial():
    docs = with_settings(lambda s: s["schedule_meeting"].update(participants_video=True))
    assert status_of(docs, "practice.video.off_on_join") == "partial"


def test_personal_email_fails_institutional_email():
    docs = dataclasses.replace(samples.hardened(), user=samples.user(email="ada@gmail.com"))
    assert status_of(docs, "practice.email.institutional") == "fail"
    docs = dataclasses.replace(samples.hardened(), user=samples.user(email="Ada@MAIL.utoronto.ca"))
    assert status_of(docs, "practice.email.institutional") == "pass"


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("5.17.11.34827(mac)", "fail"),
        ("6.0.0.1(win)", "pass"),
        ("10.0.1(linux)", "pass"),  # 10 > 6 as numbers, though "10" < "6" as strings
        ("5.9.6.4993(mac)", "fail"),
        ("", "unknown"),
    ],
)
def test_client_version_compared_as_numbers(version, status):
    docs = dataclasses.replace(samples.hardened(), user=samples.user(version=version))
    assert status_of(docs, "concern.client.current") == status


def test_failed_user_call_makes_user_object_items_unknown():
    docs = dataclasses.replace(samples.hardened(), user=None)
    item = score(docs, Institution()).item("concern.client.current")
    assert item.status == "unknown"
    assert "GET /users/{userId} did not answer" in item.detail


def test_end_to_end_encryption_unavailable_fails_without_weight():
    docs = dataclasses.replace(samples.hardened(), meeting_security=samples.meeting_security(False))
    result = score(docs, Institution())
    assert result.item("concern.encryption.e2ee_available").status == "fail"
    assert result.score == 100


def test_regions_outside_the_allowed_ones_fail_and_name_them():
    docs = with_settings(lambda s: s["in_meeting"].update(data_center_regions=["CA", "US"]))
    item = score(docs, Institution()).item("concern.residency.regions")
    assert item.status == "fail"
    assert "US" in item.detail
    assert status_of(docs, "concern.residency.regions") == "fail"
    allowing_us = Institution(allowed_regions=("CA", "US"))
    assert score(docs, allowing_us).item("concern.residency.regions").status == "pass"


def test_recording_storage_not_applicable_when_no_allowed_country_is_offered():
    docs = with_settings(
        lambda s: s["profile"].update(
            recording_storage_location={"allowed_values": ["US"], "value": "US"}
        )
    )
    assert status_of(docs, "concern.residency.recordings") == "not_applicable"
    docs = with_settings(
        lambda s: s["profile"].update(
            recording_storage_location={"allowed_values": ["US", "CA"], "value": "US"}
        )
    )
    assert status_of(docs, "concern.residency.recordings") == "fail"


# --- Exemptions ------------------------------------------------------------------------------


def test_exempt_item_is_shown_with_its_reason_and_left_out_of_the_score():
    docs = with_settings(lambda s: s["in_meeting"].update(waiting_room=False))
    failing = score(docs, Institution())
    exempted = score(docs, Institution(), {"meeting.waiting_room.on": "250-seat lecture"})
    assert exempted.item("meeting.waiting_room.on").status == "exempt"
    assert "250-seat lecture" in exempted.item("meeting.waiting_room.on").detail
    assert failing.score < exempted.score == 100


def test_exemption_for_an_account_item_changes_nothing():
    result = score(samples.hardened(), Institution(), {"recording.delete.host_can": "n/a"})
    assert result.item("recording.delete.host_can").status == "managed"


# --- Group locks (issue 12): account lock > group lock > user --------------------------------


def test_an_item_a_group_locks_names_the_group_and_is_not_the_hosts_to_fix():
    docs = dataclasses.replace(
        samples.hardened(),
        groups=[
            {"name": "Medicine", "locks": samples.account_locks("meeting_security.waiting_room")}
        ],
    )
    result = score(docs, Institution())
    waiting = result.item("meeting.waiting_room.on")
    assert waiting.status == "locked"
    assert waiting.detail == "Set by your group Medicine, which locks it"
    assert result.item("meeting.passcode.instant").status == "pass"


def test_the_accounts_lock_wins_over_a_groups():
    docs = dataclasses.replace(
        samples.hardened(),
        account_locks=samples.account_locks("meeting_security.waiting_room"),
        groups=[
            {"name": "Medicine", "locks": samples.account_locks("meeting_security.waiting_room")}
        ],
    )
    assert "institution's Zoom account" in score(docs).item("meeting.waiting_room.on").detail


def test_a_group_lock_on_the_in_meeting_key_locks_the_waiting_room_too():
    # A group's lock settings have in_meeting.waiting_room; the account's do not.
    docs = dataclasses.replace(
        samples.hardened(),
        groups=[{"name": "Large lecture", "locks": {"in_meeting": {"waiting_room": True}}}],
    )
    assert status_of(docs, "meeting.waiting_room.on") == "locked"


def test_unread_group_locks_make_lockable_items_unknown_naming_the_call():
    docs = dataclasses.replace(samples.hardened(), groups=[{"name": "Medicine", "locks": None}])
    result = score(docs, Institution())
    assert result.item("meeting.waiting_room.on").status == "unknown"
    assert (
        "/groups/{groupId}/lock_settings did not answer"
        in result.item("meeting.waiting_room.on").detail
    )
    assert result.item("recording.consent").status == "pass"


def test_every_lock_key_is_one_zoom_has_for_the_account_or_a_group():
    from zoomsim.openapi import load_lock_keys

    known = load_lock_keys()
    for path, keys in LOCK_KEYS.items():
        for key in keys:
            section, name = key.split(".")
            assert any(name in known[whose].get(section, ()) for whose in known), (path, key)
