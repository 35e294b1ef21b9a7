"""The hardened profile: what it would change (preview), changing it (apply), and putting it
back (undo). Every step reads Zoom again and is safe to repeat, so a worker killed mid-way
leaves a job that a second worker finishes with the same outcome.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from audits.checklist import items as checklist
from audits.checklist.items import to_patch_body
from audits.checklist.model import LOCK_KEYS, Institution, _get
from audits.zoom import client as zoom

# Per-field outcomes, in words for the page.
APPLIED, ALREADY, LOCKED, REFUSED = "applied", "already", "locked", "refused"
CONFLICT, RESTORED, DEFERRED = "conflict", "restored", "deferred"
SENT = "sent"  # sent to Zoom, which stopped answering before the change could be read back
UNDOABLE = (APPLIED, SENT)  # what undo puts back
OUTCOME_LABELS = {
    APPLIED: "Changed and verified",
    ALREADY: "Already so",
    LOCKED: "Set by your institution",
    REFUSED: "Refused by Zoom",
    CONFLICT: "Changed since; left as it is",
    RESTORED: "Put back and verified",
    DEFERRED: "Left for tomorrow: Zoom's daily limit",
    SENT: "Sent, not yet verified",
}


ACCOUNT = "your institution's Zoom account"
# Who locks what, strongest first: (who, lock settings read with and without
# option=meeting_security, or None when unread). A bare mapping is the account's locks alone.
Locks = Sequence[tuple[str, Mapping[str, Any] | None]] | Mapping[str, Any] | None


@dataclass(frozen=True)
class Change:
    item_id: str
    path: str
    before: Any
    after: Any
    by: str = ""  # who locks it, for a locked field: the account or a group, named


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    locked: tuple[Change, ...]
    already: tuple[Change, ...]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "changes": [asdict(c) for c in self.changes],
            "locked": [asdict(c) for c in self.locked],
            "already": [asdict(c) for c in self.already],
        }

    @property
    def dotted(self) -> dict[str, Any]:
        return {change.path: change.after for change in self.changes}


def lock_layers(documents: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any] | None]]:
    """The locks of a snapshot's documents (audits.sync), account first, then each group."""
    layers = [(ACCOUNT, documents.get("account_locks"))]
    for group in documents.get("groups") or ():
        layers.append((f"your group {group.get('name')}", group.get("locks")))
    return layers


def locked_by(path: str, locks: Locks) -> str:
    """Who locks `path` ("" for nobody): Zoom's precedence is account > group > user."""
    if locks is None or isinstance(locks, Mapping):
        locks = [(ACCOUNT, locks)]
    for who, layer in locks:
        if any(_get(layer, key) is True for key in LOCK_KEYS.get(path, ())):
            return who
    return ""


def is_locked(path: str, locks: Locks) -> bool:
    return bool(locked_by(path, locks))


def desired_values(
    overrides: Mapping[str, Any], institution: Institution, settings: Mapping[str, Any]
) -> dict[str, tuple[str, Any]]:
    """Dotted path -> (item id, value) of the profile: the checklist's fixes, then overrides."""
    wanted: dict[str, tuple[str, Any]] = {}
    for item in checklist.profile_items():
        for path, value in item.fix_values(institution, settings).items():
            wanted[path] = (item.id, value)
    for path, value in overrides.items():
        wanted[path] = (wanted.get(path, ("profile", None))[0], value)
    return wanted


def plan(
    settings: Mapping[str, Any],
    locks: Locks,
    overrides: Mapping[str, Any],
    institution: Institution,
) -> Plan:
    """Only unlocked fields that differ are changed; the rest is reported."""
    changes, locked, already = [], [], []
    for path, (item_id, value) in desired_values(overrides, institution, settings).items():
        change = Change(item_id, path, _get(settings, path), value)
        if who := locked_by(path, locks):
            locked.append(Change(item_id, path, change.before, value, who))
        elif change.before == value:
            already.append(change)
        else:
            changes.append(change)
    return Plan(tuple(changes), tuple(locked), tuple(already))


def read_fresh(zoom_user_id: str) -> tuple[dict[str, Any], Locks]:
    """The host's settings and who locks what (the account's locks, then those of the host's
    groups, each with its meeting_security part), read now (never from a snapshot)."""
    return zoom.get_user_settings(zoom_user_id), read_locks(zoom_user_id)


def read_locks(zoom_user_id: str) -> Locks:
    """Who locks what for this user, read now: the account, then each of the user's groups."""
    groups = zoom.get_user(zoom_user_id).get("group_ids") or []
    names = _group_names() if groups else {}
    layers = [(ACCOUNT, _locks(zoom.get_account_lock_settings))]
    for group_id in groups:
        name = names.get(group_id) or group_id
        layers.append((f"your group {name}", _locks(zoom.get_group_lock_settings, group_id)))
    return layers


def _locks(read, *args: str) -> dict[str, Any] | None:
    """Lock settings whole: Zoom gives the meeting_security locks only with the option."""
    try:
        plain = read(*args)
        security = read(*args, option="meeting_security")
    except zoom.ZoomError as error:
        if not error.permanent:
            raise
        return None  # not available on this plan: nothing is locked at this level
    return {**plain, "meeting_security": security.get("meeting_security", {})}


def _group_names() -> dict[str, str]:
    try:
        return {group["id"]: group.get("name", "") for group in zoom.list_groups()}
    except zoom.ZoomError as error:
        if not error.permanent:
            raise
        return {}


def refused_fields(error: zoom.ZoomError, sent: Mapping[str, Any]) -> set[str]:
    """The dotted paths Zoom's 400 names in its `errors` list; all of them when it names none."""
    named = {
        path
        for path in sent
        for field in error.fields
        if field == path or field.startswith((path + "[", path + ".")) or path.endswith("." + field)
    }
    return named or set(sent)


def send_patch(zoom_user_id: str, dotted: Mapping[str, Any]) -> dict[str, str]:
    """PATCH the fields; on a permanent refusal, note the fields named and send the rest once.
    Returns path -> Zoom's message for refused fields. Transient errors propagate."""
    refused: dict[str, str] = {}
    remaining = dict(dotted)
    for _ in range(2):
        if not remaining:
            break
        try:
            zoom.patch_user_settings(zoom_user_id, to_patch_body(remaining))
            break
        except zoom.ZoomError as error:
            if not error.permanent:
                raise
            for path in refused_fields(error, remaining):
                refused[path] = error.user_message
                remaining.pop(path)
    return refused


def new_meeting_passcode() -> str:
    return f"{secrets.randbelow(10**8):08d}"
