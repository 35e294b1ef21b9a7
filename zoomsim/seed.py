"""The seeded account: a university on Zoom with hosts in every posture the portal shows.

Deterministic: the same day gives the same state (meeting dates are counted from today, so the
upcoming meetings stay upcoming). The README lists which seeded user has which posture.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from zoomsim import DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

DOMAIN = "utoronto.ca"
CREATED = "2020-03-16T14:00:00Z"


def zoom_id(text: str) -> str:
    """A 22-character id shaped like Zoom's, derived from `text` so the seed is stable."""
    digest = hashlib.sha256(text.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def zoom_default_settings() -> dict[str, Any]:
    """A licensed user's settings as Zoom ships them, before anyone changes anything: the one
    set of Zoom's defaults, used by the seed, the tests (tests/samples.py) and bench/score.py.

    Where a value comes from: "schema" marks the `default` that Zoom's OpenAPI document gives
    the field (GET /users/{userId}/settings in Users.json, zoomsim/spec/request_schemas.json);
    "2020" marks the passcodes Zoom turned on for every new meeting in April 2020, which the
    schema gives no default for. The schema documents no default for the other fields: their
    values are the seed's, the shapes those of Zoom's examples. The fields the schema gives a
    default and the checklist does not read (chat, annotation and the like) keep the values of
    a typical licensed user, so the demo's pages look familiar.
    """
    return {
        "schedule_meeting": {
            "audio_type": "both",
            "embed_password_in_join_link": True,
            "force_pmi_jbh_password": False,
            "host_video": True,
            "join_before_host": False,
            "participants_video": True,
            "personal_meeting": True,
            "pstn_password_protected": True,
            "require_password_for_instant_meetings": True,  # 2020
            "require_password_for_pmi_meetings": "jbh_only",  # 2020: only with join before host
            "require_password_for_scheduled_meetings": True,  # 2020
            "require_password_for_scheduling_new_meetings": True,  # 2020
            "use_pmi_for_instant_meetings": False,
            "use_pmi_for_scheduled_meetings": False,
            "meeting_password_requirement": {
                "length": 6,
                "have_letter": False,
                "have_number": False,
                "have_special_character": False,
                "only_allow_numeric": False,
                "have_upper_and_lower_characters": False,
                "consecutive_characters_length": 0,
                "weak_enhance_detection": False,
            },
        },
        "in_meeting": {
            "annotation": True,
            "attendee_on_hold": False,
            "attention_mode_focus_mode": False,
            "auto_saving_chat": False,
            "breakout_room": True,
            "chat": True,
            "closed_caption": True,
            "co_host": True,
            "custom_data_center_regions": False,
            "data_center_regions": [],
            "e2e_encryption": False,
            "entry_exit_chime": "none",
            "far_end_camera_control": False,
            "feedback": False,
            "file_transfer": True,
            "group_hd": False,
            "non_verbal_feedback": True,
            "polling": True,
            "private_chat": True,
            "remote_control": True,
            "screen_sharing": True,
            "show_meeting_control_toolbar": False,
            "virtual_background": True,
            "waiting_room": False,  # schema
            "who_can_share_screen": "all",
            "who_can_share_screen_when_someone_is_sharing": "host",
            "participants_share_simultaneously": "one",
            "allow_participants_chat_with": 1,
            "allow_users_save_chats": 2,
        },
        "email_notification": {
            "alternative_host_reminder": True,
            "cancel_meeting_reminder": True,
            "cloud_recording_available_reminder": True,
            "jbh_reminder": True,
            "schedule_for_reminder": True,
        },
        "recording": {
            "auto_recording": "local",  # schema
            "cloud_recording": False,  # schema
            "local_recording": True,
            "record_speaker_view": False,  # schema
            "record_gallery_view": False,
            "record_audio_file": False,  # schema
            "save_chat_text": False,  # schema
            "display_participant_name": True,
            "recording_thumbnails": True,
            "show_timestamp": True,
            "recording_audio_transcript": False,
            "host_pause_stop_recording": True,
            "auto_delete_cmr": False,
            "recording_disclaimer": False,
            "ask_participants_to_consent_disclaimer": False,
            "ask_host_to_confirm_disclaimer": False,
            "recording_notification_for_zoom_client": {
                "disclaimer_to_participants": "Guest only",
                "play_voice_prompt": "All participants",
                "ask_host_to_confirm": False,
            },
        },
        "telephony": {
            "third_party_audio": False,
            "audio_conference_info": "",
            "show_international_numbers_link": True,
            "telephony_regions": {"allowed_values": ["CA", "US"], "selection_values": "CA"},
        },
        "feature": {
            "meeting_capacity": 300,
            "large_meeting": False,
            "webinar": False,
            "cn_meeting": False,
            "in_meeting": False,
            "zoom_phone": False,
        },
        "audio_conferencing": {
            "personal_audio_conference": False,
            "participant_phone_masking": {"enable": False, "masking_type": "mask_default"},
        },
        "profile": {
            # Zoom stores in the US unless told; an account with a Canadian data center (this
            # university's) also offers CA.
            "recording_storage_location": {"allowed_values": ["US", "CA"], "value": "US"},
        },
        "meeting_security": {
            "auto_security": True,
            "block_user_domain": False,
            "embed_password_in_join_link": True,
            "encryption_type": "enhanced_encryption",
            "end_to_end_encrypted_meetings": False,
            "meeting_password": True,  # 2020
            "only_authenticated_can_join_from_webclient": False,
            "phone_password": True,
            "pmi_password": False,
            "require_password_for_scheduled_meeting": True,
            "waiting_room": True,
            "waiting_room_settings": {
                "participants_to_place_in_waiting_room": 0,
                "users_who_can_admit_participants_from_waiting_room": 0,
                "whitelisted_domains_for_waiting_room": "",
            },
        },
    }


# What the portal's one-click profile sets (checklist items with "fix: yes").
HARDENED = {
    "schedule_meeting": {
        "require_password_for_scheduling_new_meetings": True,
        "require_password_for_scheduled_meetings": True,
        "require_password_for_instant_meetings": True,
        "require_password_for_pmi_meetings": "all",
        "host_video": False,
        "participants_video": False,
    },
    "in_meeting": {
        "screen_sharing": True,
        "who_can_share_screen": "host",
        "who_can_share_screen_when_someone_is_sharing": "host",
        "waiting_room": True,
        "custom_data_center_regions": True,
        "data_center_regions": ["CA"],
    },
    "recording": {
        "auto_recording": "none",
        "recording_disclaimer": True,
        "ask_participants_to_consent_disclaimer": True,
        "recording_notification_for_zoom_client": {
            "disclaimer_to_participants": "All participants"
        },
    },
    "audio_conferencing": {"participant_phone_masking": {"enable": True}},
    "profile": {"recording_storage_location": {"value": "CA"}},
    "meeting_security": {"waiting_room": True, "end_to_end_encrypted_meetings": True},
}

# Some protections on, some off: the posture most hosts are in.
MIXED = {
    "schedule_meeting": {
        "require_password_for_instant_meetings": False,
        "require_password_for_pmi_meetings": "none",
        "host_video": False,
        "join_before_host": True,
    },
    "in_meeting": {"waiting_room": False, "who_can_share_screen": "host"},
    "recording": {"auto_recording": "cloud", "recording_disclaimer": True},
    "audio_conferencing": {"participant_phone_masking": {"enable": True}},
    "meeting_security": {"waiting_room": False},
}


def deep_merge(base: dict, changes: dict) -> dict:
    """`base` with `changes` applied field by field (lists and scalars are replaced)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def settings_for(posture: str) -> dict[str, Any]:
    base = zoom_default_settings()
    return {
        "hardened": lambda: deep_merge(base, HARDENED),
        "default": lambda: base,
        "mixed": lambda: deep_merge(base, MIXED),
    }[posture]()


def account_settings() -> dict[str, Any]:
    return {
        "schedule_meeting": {
            "audio_type": "both",
            "host_video": False,
            "participant_video": False,
            "join_before_host": False,
            "jbh_time": 0,
            "require_password_for_instant_meetings": True,
            "require_password_for_pmi_meetings": "jbh_only",
            "require_password_for_scheduled_meetings": True,
            "require_password_for_scheduling_new_meetings": True,
            "use_pmi_for_instant_meetings": False,
            "use_pmi_for_scheduled_meetings": False,
            "enforce_login": False,
            "not_store_meeting_topic": False,
        },
        "in_meeting": {
            "screen_sharing": True,
            "who_can_share_screen": "host",
            "who_can_share_screen_when_someone_is_sharing": "host",
            "custom_data_center_regions": True,
            "data_center_regions": ["CA", "US"],
            "chat": True,
            "e2e_encryption": True,
        },
        "recording": {
            "auto_recording": "none",
            "cloud_recording": True,
            "local_recording": True,
            "cloud_recording_download": True,
            "cloud_recording_download_host": True,
            "host_delete_cloud_recording": True,
            "account_user_access_recording": False,
            "prevent_host_access_recording": False,
            "recording_disclaimer": True,
            "auto_delete_cmr": True,
            "auto_delete_cmr_days": 120,
        },
        "audio_conferencing": {
            "participant_phone_masking": {"enable": False, "masking_type": "mask_default"},
        },
        "email_notification": {"cloud_recording_available_reminder": True, "jbh_reminder": True},
        # Answered only with ?option=meeting_security, as Zoom does.
        "meeting_security": {
            "auto_security": True,
            "block_user_domain": False,
            "embed_password_in_join_link": False,
            "encryption_type": "enhanced_encryption",
            "end_to_end_encrypted_meetings": True,
            "meeting_password": True,
            "only_authenticated_can_join_from_webclient": False,
            "phone_password": True,
            "pmi_password": True,
            "require_password_for_scheduled_meeting": True,
            "waiting_room": True,
            "waiting_room_settings": {
                "participants_to_place_in_waiting_room": 0,
                "users_who_can_admit_participants_from_waiting_room": 0,
                "whitelisted_domains_for_waiting_room": "",
            },
        },
    }


def account_lock_settings() -> dict[str, Any]:
    # The institution forces automatic recording off for everyone: hosts see that item as
    # "locked", and the hardened profile must leave it out.
    return {
        "schedule_meeting": {
            "host_video": False,
            "participant_video": False,
            "join_before_host": False,
            "require_password_for_instant_meetings": False,
            "require_password_for_pmi_meetings": False,
            "require_password_for_scheduling_new_meetings": False,
            "embed_password_in_join_link": False,
        },
        "in_meeting": {"screen_sharing": False, "custom_data_center_regions": False},
        "recording": {
            "auto_recording": True,
            "cloud_recording": False,
            "local_recording": False,
            "cloud_recording_download": True,
            "host_delete_cloud_recording": True,
        },
        "audio_conferencing": {"participant_phone_masking": False},
        "email_notification": {"jbh_reminder": False},
        # Answered only with ?option=meeting_security; nothing locked there in the seed.
        "meeting_security": {
            "auto_security": False,
            "embed_password_in_join_link": False,
            "end_to_end_encrypted_meetings": False,
            "meeting_password": False,
            "pmi_password": False,
            "waiting_room": False,
        },
    }


# Groups between the account and its users (account lock > group lock > user).
# name -> (settings, lock settings, members); the README lists the members.
UNLOCKED_IN_GROUP = {
    "in_meeting": {"screen_sharing": False},
    "recording": {"auto_recording": False},
}
GROUPS = {
    "Medicine": (
        {"in_meeting": {"waiting_room": True}, "meeting_security": {"waiting_room": True}},
        {**UNLOCKED_IN_GROUP, "meeting_security": {"waiting_room": True}},
        ["medicine.lead@utoronto.ca"],
    ),
    "Large lecture": (
        {"in_meeting": {"waiting_room": False}, "meeting_security": {"waiting_room": False}},
        {**UNLOCKED_IN_GROUP, "meeting_security": {"waiting_room": True}},
        ["lecture.host@utoronto.ca"],
    ),
}


def group_id(name: str) -> str:
    return zoom_id(f"group:{name}")


# email, first name, last name, dept, posture, status, last client version
NAMED_USERS = [
    ("hardened.host", "Ada", "Hartley", "Computer Science", "hardened", "active", "6.4.2.51220"),
    ("default.host", "Dana", "Fraser", "Physics", "default", "active", "6.3.5.49720"),
    ("mixed.host", "Morgan", "Ng", "History", "mixed", "active", "6.2.11.48011"),
    ("old.client", "Oliver", "Clement", "Chemistry", "mixed", "active", "5.4.9.2340"),
    ("pending.host", "Priya", "Desai", "Mathematics", "default", "pending", ""),
    ("meetings.host", "Miriam", "Osei", "Medicine", "default", "active", "6.3.1.47320"),
    ("medicine.lead", "Nia", "Mensah", "Medicine", "mixed", "active", "6.4.0.50800"),
    ("lecture.host", "Theo", "Lavoie", "Economics", "hardened", "active", "6.4.2.51220"),
    (
        "helpdesk.staff",
        "Hugo",
        "Lam",
        "Information Technology",
        "hardened",
        "active",
        "6.4.2.51220",
    ),
    ("physics.admin", "Farah", "Haddad", "Physics", "hardened", "active", "6.4.0.50800"),
    ("history.admin", "Liam", "Boucher", "History", "default", "active", "6.3.5.49720"),
    (
        "portal.admin",
        "Grace",
        "Tremblay",
        "Information Technology",
        "hardened",
        "active",
        "6.4.2.51220",
    ),
]

DEPARTMENTS = [
    "Computer Science",
    "Physics",
    "History",
    "Chemistry",
    "Medicine",
    "Information Technology",
    "Mathematics",
    "English",
    "Economics",
    "Nursing",
    "Law",
    "Civil Engineering",
]
FIRST = [
    "Alex",
    "Bea",
    "Chen",
    "Diego",
    "Elif",
    "Femi",
    "Gita",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lea",
    "Mei",
    "Nadia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
]
LAST = [
    "Abbott",
    "Bishop",
    "Cheng",
    "Dubois",
    "Evans",
    "Fournier",
    "Gupta",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Leblanc",
    "Morin",
    "Nakamura",
    "Okafor",
    "Patel",
    "Roy",
    "Singh",
]
VERSIONS = ["6.4.2.51220", "6.3.5.49720", "6.1.12.44512", "5.17.11.34827", "5.12.9.10650"]


def _user(
    email: str, first: str, last: str, dept: str, status: str, version: str, index: int
) -> dict[str, Any]:
    user_id = zoom_id(email)
    pmi = 8_000_000_000 + index * 7_919
    return {
        "id": user_id,
        "first_name": first,
        "last_name": last,
        "display_name": f"{first} {last}",
        "email": email,
        "type": 2,
        "role_name": "Member",
        "role_id": "2",
        "pmi": pmi,
        "use_pmi": False,
        "personal_meeting_url": f"https://utoronto.zoom.us/j/{pmi}",
        "timezone": "America/Toronto",
        "verified": 1,
        "dept": dept,
        "created_at": CREATED,
        "user_created_at": CREATED,
        "last_login_time": "" if status == "pending" else "2026-01-12T15:04:05Z",
        "last_client_version": version,
        "language": "en-US",
        "phone_number": "",
        "status": status,
        "account_id": DEMO_ACCOUNT_ID,
        "account_number": 4_021_337,
        "cluster": "us05",
        "job_title": "",
        "location": "Toronto",
        "login_types": [101],
        "group_ids": [],
        "im_group_ids": [],
    }


def _meeting(
    meeting_id: int, host: dict, topic: str, start: datetime, *, passcode: str, **settings: Any
) -> dict[str, Any]:
    meeting_settings = {
        "host_video": False,
        "participant_video": False,
        "join_before_host": False,
        "jbh_time": 0,
        "mute_upon_entry": True,
        "waiting_room": True,
        "auto_recording": "none",
        "approval_type": 2,
        "audio": "both",
        "use_pmi": False,
        "meeting_authentication": False,
        "encryption_type": "enhanced_encryption",
        "watermark": False,
        "alternative_hosts": "",
        "email_notification": True,
        "private_meeting": False,
        **settings,
    }
    uuid = base64.b64encode(hashlib.sha256(str(meeting_id).encode()).digest()[:16]).decode()
    return {
        "id": meeting_id,
        "uuid": uuid,
        "host_id": host["id"],
        "host_email": host["email"],
        "topic": topic,
        "type": 2,
        "status": "waiting",
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": 60,
        "timezone": "America/Toronto",
        "agenda": "",
        "created_at": CREATED,
        "join_url": f"https://utoronto.zoom.us/j/{meeting_id}",
        "start_url": f"https://utoronto.zoom.us/s/{meeting_id}",
        "password": passcode,
        "pre_schedule": False,
        "settings": meeting_settings,
        "creation_source": "web_portal",
    }


def seed_state(today: date | None = None, total_users: int = 56) -> dict[str, Any]:
    """The whole seeded state: account, settings, locks, users and their meetings."""
    today = today or datetime.now(UTC).date()
    rng = random.Random("utoronto")
    rows = [(f"{name}@{DOMAIN}", *rest) for name, *rest in NAMED_USERS]
    rows.append(
        ("personal.host@gmail.com", "Paul", "Girard", "Physics", "default", "active", "6.3.5.49720")
    )
    index = 0
    while len(rows) < total_users:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{index or ''}@{DOMAIN}".lower()
        index += 1
        if any(row[0] == email for row in rows):
            continue
        posture = rng.choice(["hardened", "default", "default", "mixed", "mixed"])
        rows.append(
            (email, first, last, rng.choice(DEPARTMENTS), posture, "active", rng.choice(VERSIONS))
        )
    users = {}
    for number, (email, first, last, dept, posture, status, version) in enumerate(rows):
        user = _user(email, first, last, dept, status, version, number)
        users[user["id"]] = {"user": user, "settings": settings_for(posture), "posture": posture}

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour, 0), tzinfo=UTC)

    host = users[zoom_id(f"meetings.host@{DOMAIN}")]["user"]
    hardened = users[zoom_id(f"hardened.host@{DOMAIN}")]["user"]
    mixed = users[zoom_id(f"mixed.host@{DOMAIN}")]["user"]
    meetings = [
        _meeting(84_113_200_101, host, "Weekly lab meeting", at(2, 15), passcode=""),
        _meeting(
            84_113_200_102, host, "Patient case review: oncology", at(3, 17), passcode="Xq7-2mPa"
        ),
        _meeting(
            84_113_200_103,
            host,
            "Residents' office hours",
            at(4, 19),
            passcode="k4Rt9wZe",
            join_before_host=True,
            waiting_room=False,
        ),
        _meeting(84_113_200_201, hardened, "CSC108 tutorial", at(1, 14), passcode="Tz8-qL3v"),
        _meeting(
            84_113_200_301,
            mixed,
            "Seminar: Upper Canada 1791-1841",
            at(5, 18),
            passcode="",
            auto_recording="cloud",
            mute_upon_entry=False,
        ),
    ]
    groups = {}
    for name, (settings, locks, members) in GROUPS.items():
        groups[group_id(name)] = {
            "id": group_id(name),
            "name": name,
            "settings": copy.deepcopy(settings),
            "lock_settings": copy.deepcopy(locks),
        }
        for email in members:
            users[zoom_id(email)]["user"]["group_ids"].append(group_id(name))
    return {
        "groups": groups,
        "account": {
            "id": DEMO_ACCOUNT_ID,
            "credentials": {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
            "settings": account_settings(),
            "lock_settings": account_lock_settings(),
            "lock_behaviour": "keep",
        },
        "users": users,
        "meetings": {str(meeting["id"]): meeting for meeting in meetings},
        "tokens": {},
    }
