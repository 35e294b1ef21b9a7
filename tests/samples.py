"""Realistic Zoom documents for the tests and the benchmark (bench/score.py).

Shapes and values follow the examples of Zoom's OpenAPI documents (Users.json, Accounts.json,
Meetings.json). Zoom's out-of-the-box settings are the simulator's (zoomsim.seed), the one
place they are written. Every function returns fresh dictionaries, safe to change.
"""

from __future__ import annotations

import random
from typing import Any

from audits.scoring.score import Documents
from zoomsim.seed import zoom_default_settings

__all__ = ["zoom_default_settings"]  # tests read Zoom's defaults from here too


def hardened_settings() -> dict[str, Any]:
    """GET /users/{userId}/settings of a host who follows every recommendation."""
    return {
        "schedule_meeting": {
            "require_password_for_scheduling_new_meetings": True,
            "require_password_for_scheduled_meetings": True,
            "require_password_for_instant_meetings": True,
            "require_password_for_pmi_meetings": "all",
            "embed_password_in_join_link": False,
            "host_video": False,
            "participants_video": False,
            "join_before_host": False,
        },
        "in_meeting": {
            "screen_sharing": True,
            "who_can_share_screen": "host",
            "who_can_share_screen_when_someone_is_sharing": "host",
            "waiting_room": True,
            "custom_data_center_regions": True,
            "data_center_regions": ["CA"],
            "attention_mode_focus_mode": False,
        },
        "recording": {
            "local_recording": True,
            "cloud_recording": True,
            "record_speaker_view": True,
            "record_audio_file": True,
            "save_chat_text": True,
            "display_participant_name": True,
            "recording_thumbnails": True,
            "auto_recording": "none",
            "recording_disclaimer": True,
            "ask_participants_to_consent_disclaimer": True,
            "recording_notification_for_zoom_client": {
                "disclaimer_to_participants": "All participants",
                "play_voice_prompt": "All participants",
                "ask_host_to_confirm": True,
            },
        },
        "audio_conferencing": {
            "participant_phone_masking": {"enable": True, "masking_type": "mask_default"}
        },
        "profile": {"recording_storage_location": {"allowed_values": ["CA", "US"], "value": "CA"}},
    }


def user(email: str = "ada.lovelace@utoronto.ca", version: str = "6.2.5.12345(mac)") -> dict:
    """GET /users/{userId}."""
    return {
        "id": "KDcuGIm1QgePTO8WbOqwIQ",
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "type": 2,
        "status": "active",
        "dept": "Computer Science",
        "last_client_version": version,
        "timezone": "America/Toronto",
    }


def meeting_security(e2ee: bool = True) -> dict[str, Any]:
    """GET /users/{userId}/settings?option=meeting_security."""
    return {
        "meeting_security": {
            "auto_security": True,
            "embed_password_in_join_link": False,
            "encryption_type": "enhanced_encryption",
            "end_to_end_encrypted_meetings": e2ee,
            "meeting_password": True,
            "waiting_room": True,
        }
    }


def account_settings() -> dict[str, Any]:
    """GET /accounts/me/settings (the parts the checklist reads)."""
    return {
        "recording": {
            "cloud_recording_download": True,
            "cloud_recording_download_host": True,
            "host_delete_cloud_recording": True,
        }
    }


def account_locks(*locked: str) -> dict[str, Any]:
    """GET /accounts/me/lock_settings with the dotted lock keys given set to true."""
    locks: dict[str, Any] = {
        "schedule_meeting": {"host_video": False, "participant_video": False},
        "in_meeting": {"screen_sharing": False, "custom_data_center_regions": False},
        "recording": {"auto_recording": False, "cloud_recording": False},
        "meeting_security": {"waiting_room": False, "meeting_password": False},
    }
    for key in locked:
        section, name = key.split(".", 1)
        locks.setdefault(section, {})[name] = True
    return locks


def meeting(
    meeting_id: int = 85746065432, topic: str = "Weekly lab meeting", **settings: Any
) -> dict[str, Any]:
    """GET /meetings/{meetingId} of a well-configured upcoming meeting."""
    return {
        "id": meeting_id,
        "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
        "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
        "topic": topic,
        "type": 2,
        "start_time": "2027-01-15T15:00:00Z",
        "duration": 60,
        "timezone": "America/Toronto",
        "agenda": "Progress reports",
        "password": "x7Kp2q9z",
        "settings": {
            "waiting_room": True,
            "join_before_host": False,
            "auto_recording": "none",
            "mute_upon_entry": True,
            "host_video": False,
            "participant_video": False,
            **settings,
        },
    }


def hardened() -> Documents:
    return Documents(
        user=user(),
        settings=hardened_settings(),
        meeting_security=meeting_security(),
        account_settings=account_settings(),
        account_locks=account_locks(),
        meetings=[meeting(), meeting(85746065433, "Thesis committee")],
    )


def zoom_defaults() -> Documents:
    return Documents(
        user=user(),
        settings=zoom_default_settings(),
        meeting_security=meeting_security(e2ee=False),
        account_settings=account_settings(),
        account_locks=account_locks(),
        meetings=[meeting(waiting_room=False, auto_recording="local", mute_upon_entry=False)],
    )


def _scramble(node: dict[str, Any], rng: random.Random, other: dict[str, Any]) -> None:
    """Mix a hardened and a default document in place, sometimes dropping a field."""
    for key, value in list(node.items()):
        if isinstance(value, dict):
            _scramble(value, rng, other.get(key, {}))
        elif rng.random() < 0.03:
            del node[key]
        elif key in other and rng.random() < 0.5:
            node[key] = other[key]


def random_documents(rng: random.Random) -> Documents:
    """A plausible host somewhere between hardened and Zoom's defaults, for the benchmark."""
    settings = hardened_settings()
    _scramble(settings, rng, zoom_default_settings())
    topics = ("Lab meeting", "Office hours", "Patient case review", "Tenure file", "Seminar")
    meetings = [
        meeting(85700000000 + n, rng.choice(topics), waiting_room=rng.random() < 0.7)
        for n in range(rng.randrange(4))
    ]
    return Documents(
        user=user(version=rng.choice(("5.17.11.34827(mac)", "6.0.0.1(win)", "6.3.1(linux)"))),
        settings=settings,
        meeting_security=meeting_security(rng.random() < 0.5),
        account_settings=account_settings(),
        account_locks=account_locks(*(["in_meeting.screen_sharing"] * (rng.random() < 0.1))),
        meetings=meetings,
    )
