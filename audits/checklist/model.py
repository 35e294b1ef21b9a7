"""The shapes of the checklist (audits.checklist holds the items) and what they depend on:
severity weights, the institution's defaults, where each setting can be locked, and how a
fix becomes a PATCH body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    USER = "user"
    ACCOUNT = "account"
    MEETING = "meeting"
    USER_OBJECT = "user-object"
    ADVISORY = "advisory"
    # Default settings for new meetings plus a per-meeting check on upcoming ones.
    USER_AND_MEETING = "user + meeting"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


WEIGHTS: Mapping[Severity, int] = {
    Severity.CRITICAL: 10,
    Severity.HIGH: 6,
    Severity.MEDIUM: 3,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
HOST_CONTROLLED = frozenset({Level.USER, Level.MEETING, Level.USER_OBJECT, Level.USER_AND_MEETING})
# The levels whose settings a hardened profile sets (through PATCH /users/{userId}/settings).
FIXABLE_LEVELS = (Level.USER, Level.USER_AND_MEETING)


# Institution defaults live here and nowhere else.
DEFAULT_EMAIL_DOMAINS = ("utoronto.ca", "mail.utoronto.ca")
DEFAULT_ALLOWED_REGIONS = ("CA",)
DEFAULT_MIN_CLIENT_VERSION = "6.0.0"
# Whole words (a trailing plural "s" also matches) or regular expressions, case-insensitive.
DEFAULT_SENSITIVE_PATTERNS = (
    "patient",
    r"diagnos[ie]s",
    "medical",
    "health record",
    "grievance",
    "disciplinary",
    "discipline",
    "confidential",
    "tenure",
    "harassment",
    "misconduct",
    "investigation",
    "termination",
    "accommodation",
    "salary",
    "performance review",
    "student appeal",
    r"\d{3}[- ]\d{3}[- ]\d{3}",  # a social insurance number written in groups
    r"\d{9}",  # a SIN without spaces (Zoom's own meeting IDs are mostly 10 or 11 digits)
    r"\d{4}[- ]\d{3}[- ]\d{3}",  # an Ontario health card number
)


@dataclass(frozen=True)
class Institution:
    """What the institution decides: who counts as ours, where data may go, what is too old."""

    email_domains: tuple[str, ...] = DEFAULT_EMAIL_DOMAINS
    allowed_regions: tuple[str, ...] = DEFAULT_ALLOWED_REGIONS
    min_client_version: str = DEFAULT_MIN_CLIENT_VERSION
    sensitive_patterns: tuple[str, ...] = DEFAULT_SENSITIVE_PATTERNS


DEFAULT_INSTITUTION = Institution()

# Which Zoom call answers each document, for "unknown: ... did not answer" details.
SOURCES: Mapping[str, str] = {
    "user": "GET /users/{userId}",
    "settings": "GET /users/{userId}/settings",
    "meeting_security": "GET /users/{userId}/settings?option=meeting_security",
    "account_settings": "GET /accounts/me/settings",
    "account_locks": "GET /accounts/me/lock_settings",
    "group_locks": "GET /groups/{groupId}/lock_settings",
    "meetings": "GET /users/{userId}/meetings and GET /meetings/{meetingId}",
    "": "no Zoom call",
}

# User setting -> the keys of the account's or a group's lock settings that lock it (any one
# locks). The lock schema names some settings differently (participant_video, singular) and
# has no key at all for others: a field missing here cannot be locked. The meeting_security
# keys come only from the option=meeting_security answer; a group's locks also have
# in_meeting.waiting_room, the account's do not (zoomsim/spec/lock_keys.json).
LOCK_KEYS: Mapping[str, tuple[str, ...]] = {
    "schedule_meeting.require_password_for_scheduling_new_meetings": (
        "schedule_meeting.require_password_for_scheduling_new_meetings",
    ),
    "schedule_meeting.require_password_for_scheduled_meetings": (
        "meeting_security.meeting_password",
    ),
    "schedule_meeting.require_password_for_instant_meetings": (
        "schedule_meeting.require_password_for_instant_meetings",
        "meeting_security.meeting_password",
    ),
    "schedule_meeting.require_password_for_pmi_meetings": (
        "schedule_meeting.require_password_for_pmi_meetings",
        "meeting_security.pmi_password",
    ),
    "schedule_meeting.embed_password_in_join_link": (
        "schedule_meeting.embed_password_in_join_link",
        "meeting_security.embed_password_in_join_link",
    ),
    "schedule_meeting.host_video": ("schedule_meeting.host_video",),
    "schedule_meeting.participants_video": ("schedule_meeting.participant_video",),
    "in_meeting.screen_sharing": ("in_meeting.screen_sharing",),
    "in_meeting.who_can_share_screen": ("in_meeting.screen_sharing",),
    "in_meeting.who_can_share_screen_when_someone_is_sharing": ("in_meeting.screen_sharing",),
    "in_meeting.waiting_room": ("meeting_security.waiting_room", "in_meeting.waiting_room"),
    "in_meeting.custom_data_center_regions": ("in_meeting.custom_data_center_regions",),
    "in_meeting.data_center_regions": ("in_meeting.custom_data_center_regions",),
    "recording.local_recording": ("recording.local_recording",),
    "recording.cloud_recording": ("recording.cloud_recording",),
    "recording.auto_recording": ("recording.auto_recording",),
    "audio_conferencing.participant_phone_masking.enable": (
        "audio_conferencing.participant_phone_masking",
    ),
    "meeting_security.end_to_end_encrypted_meetings": (
        "meeting_security.end_to_end_encrypted_meetings",
    ),
}

Fixer = Callable[["Item", Institution, Mapping[str, Any] | None], dict[str, object]]


@dataclass(frozen=True)
class MeetingCheck:
    """One check on an upcoming meeting's details (GET /meetings/{meetingId}), which the
    meetings fix sets to `wanted` (NON_EMPTY: a new passcode) unless `lock` is locked."""

    field: str
    wanted: object  # the value wanted; NON_EMPTY for "any value but empty"
    label: str
    lock: str | None = None  # the user setting whose account or group lock also locks it


NON_EMPTY = "(not empty)"


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    group: str
    level: Level
    severity: Severity
    wanted: str
    why: str
    how_to_fix: str
    concern: str
    guidance: str  # where it comes from in the institution's guidance
    source: str = "settings"  # the document of Documents holding `fields` ("" for none)
    fields: tuple[str, ...] = ()
    check: str = "equal"  # the scoring rule, see audits.scoring
    expect: tuple[tuple[str, object], ...] = ()  # field -> desired value, for "equal"
    partial: tuple[tuple[str, object], ...] = ()  # field -> value earning half credit
    fix: tuple[tuple[str, object], ...] = ()  # what the hardened profile sets
    fixer: Fixer | None = field(default=None, repr=False)  # when the fix depends on more
    meeting_checks: tuple[MeetingCheck, ...] = ()
    cis: tuple[str, ...] | None = None
    cis_note: str | None = None

    @property
    def weight(self) -> int:
        return WEIGHTS[self.severity]

    @property
    def fixable(self) -> bool:
        return bool(self.fix) or self.fixer is not None

    @property
    def in_profile(self) -> bool:
        """Set by the hardened profile: fixable, at a level the portal may change."""
        return self.fixable and self.level in FIXABLE_LEVELS

    @property
    def host_controlled(self) -> bool:
        return self.level in HOST_CONTROLLED

    @property
    def lock_keys(self) -> tuple[str, ...]:
        if self.level not in (Level.USER, Level.USER_AND_MEETING):
            return ()
        keys = (key for path in self.fields for key in LOCK_KEYS.get(path, ()))
        return tuple(dict.fromkeys(keys))

    def fix_values(
        self, institution: Institution = DEFAULT_INSTITUTION, settings: Mapping | None = None
    ) -> dict[str, object]:
        """Dotted path -> value the hardened profile sends; `settings` narrows alternatives."""
        if self.fixer is not None:
            return self.fixer(self, institution, settings)
        return dict(self.fix)


def _get(document: Mapping[str, Any] | None, path: str) -> object:
    value: object = document
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def fix_regions(item: Item, institution: Institution, settings: Mapping | None) -> dict:
    return {
        "in_meeting.custom_data_center_regions": True,
        "in_meeting.data_center_regions": list(institution.allowed_regions),
    }


def fix_storage(item: Item, institution: Institution, settings: Mapping | None) -> dict:
    offered = _get(settings, "profile.recording_storage_location.allowed_values")
    choices = [r for r in institution.allowed_regions if not offered or r in offered]
    if not choices:
        return {}
    return {"profile.recording_storage_location.value": choices[0]}


def fix_consent(item: Item, institution: Institution, settings: Mapping | None) -> dict:
    """Send the deprecated switch and its replacement only where the account uses each."""
    values = dict(item.fix)
    if settings is not None:
        recording = _get(settings, "recording")
        recording = recording if isinstance(recording, Mapping) else {}
        if "recording_notification_for_zoom_client" not in recording:
            del values[
                "recording.recording_notification_for_zoom_client.disclaimer_to_participants"
            ]
        if "recording_disclaimer" not in recording:
            del values["recording.recording_disclaimer"]
    return values


def to_patch_body(dotted: Mapping[str, object]) -> dict[str, object]:
    """Nest {"a.b": 1, "a.c": 2} into Zoom's PATCH shape {"a": {"b": 1, "c": 2}}."""
    body: dict[str, Any] = {}
    for path, value in dotted.items():
        *parents, leaf = path.split(".")
        node = body
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path} nests under a value that is not an object")
        node[leaf] = value
    return body
