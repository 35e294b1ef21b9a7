"""Zoom's side of the simulator: the REST API v2 and OAuth behaviour, limits and faults.

No HTTP here (server.py carries requests to the Simulator and its answers back). Every method
takes the state's lock only while it reads or changes the state, so many requests are served at
once.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from zoomsim import openapi, webhooks
from zoomsim.seed import deep_merge
from zoomsim.state import State

LIGHT, MEDIUM, HEAVY = "Light", "Medium", "Heavy"
LIST_USER_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "display_name",
    "email",
    "type",
    "pmi",
    "timezone",
    "verified",
    "dept",
    "created_at",
    "user_created_at",
    "last_login_time",
    "last_client_version",
    "status",
    "role_id",
    "group_ids",
    "im_group_ids",
)
LIST_MEETING_FIELDS = (
    "uuid",
    "id",
    "host_id",
    "topic",
    "type",
    "start_time",
    "duration",
    "timezone",
    "agenda",
    "created_at",
    "join_url",
)
# Lock keys that name a user field differently (Zoom's own inconsistency).
LOCK_ALIASES = {("schedule_meeting", "participant_video"): "participants_video"}
# One setting shown in two places of a user's settings: locking one locks both.
TWINS = {
    ("meeting_security", "waiting_room"): ("in_meeting", "waiting_room"),
    ("in_meeting", "waiting_room"): ("meeting_security", "waiting_room"),
    ("meeting_security", "embed_password_in_join_link"): (
        "schedule_meeting",
        "embed_password_in_join_link",
    ),
    ("schedule_meeting", "embed_password_in_join_link"): (
        "meeting_security",
        "embed_password_in_join_link",
    ),
}
MAX_PAGE_SIZE = {"users": 2000, "meetings": 300, "groups": 300}
# The values of `option` each settings or lock endpoint documents; meeting_security is modelled.
OPTIONS = {
    "get_settings": {"meeting_authentication", "recording_authentication", "meeting_security"},
    "account_settings": {
        "meeting_authentication",
        "recording_authentication",
        "security",
        "meeting_security",
    },
    "group_settings": {"meeting_authentication", "recording_authentication", "meeting_security"},
    "lock_settings": {"meeting_security"},
    "group_lock_settings": {"meeting_security"},
}
DEFAULT_FAULTS: dict[str, Any] = {
    "latency": 0.0,  # seconds added to every API answer
    "error_rate": 0.0,  # share of API requests answered with error_status
    "error_status": 503,
    "timeout_rate": 0.0,  # share of API requests never answered (held timeout_seconds)
    "timeout_seconds": 10.0,
    "outage": False,  # every API and OAuth connection closed without an answer
    "ratelimit_headers": True,  # send X-RateLimit-* and Retry-After with a 429
    "retry_after": None,  # a literal Retry-After for every 429 (seconds or a date)
    "token_ttl": None,  # seconds a new token lasts (None: the --token-ttl option)
    "limits": {},  # per-second limits per category, over the options: {"Medium": 5}
    "daily_limits": {},  # requests per category per UTC day: {"Medium": 1000}
}
MAX_DAILY_MEETING_UPDATES = 100
MISSING = object()


class Reply(Exception):
    """Raised inside a handler to answer at once: status, JSON body and extra headers."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def zoom_error(status: int, code: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"code": code, "message": message, **extra})


@dataclass
class Config:
    allow_control: bool = False
    webhook_url: str = ""
    webhook_secret: str = ""
    token_ttl: int = 3599
    limits: dict[str, int] = field(default_factory=lambda: {LIGHT: 30, MEDIUM: 20, HEAVY: 10})
    faults: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_FAULTS))
    verbose: bool = False


class Simulator:
    """Everything the handler needs: state, configuration, rate counters and the request log."""

    def __init__(self, state: State, config: Config) -> None:
        self.state, self.config = state, config
        self.rate_lock = threading.Lock()
        self.windows: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self.daily: collections.Counter = collections.Counter()
        self.meeting_updates: collections.Counter = collections.Counter()
        self.updating_users: set[str] = set()
        self.log: list[dict[str, Any]] = []
        self.log_lock = threading.Lock()
        self.sequence = 0
        self.generation = 0  # bumped by a reset: answers to older requests are not logged
        self.request_schemas = openapi.load_request_schemas()
        self.lock_keys = openapi.load_lock_keys()

    # --- bookkeeping -----------------------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.log_lock:
            if entry.pop("generation", self.generation) != self.generation:
                return entry
            self.sequence += 1
            entry["seq"] = self.sequence
            self.log.append(entry)
            del self.log[:-5000]
        return entry

    def fault(self, name: str) -> Any:
        return self.config.faults.get(name, DEFAULT_FAULTS[name])

    def check_rate(self, category: str) -> None:
        """Zoom's per-second (moving one-second window) and daily limits, per category."""
        now = time.time()
        per_second = self.fault("limits").get(category, self.config.limits.get(category, 10))
        per_day = self.fault("daily_limits").get(category)
        today = datetime.now(UTC).date().isoformat()
        with self.rate_lock:
            if per_day is not None and self.daily[(category, today)] >= per_day:
                midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
                reset = (midnight + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
                raise self.too_many(
                    f"You have exceeded the daily rate limit ({per_day}) of {category} API "
                    "requests permitted for this particular account. Try again later.",
                    category,
                    "Daily-limit",
                    per_day,
                    reset,
                )
            window = self.windows[category]
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= per_second:
                raise self.too_many(
                    "You have reached the maximum per-second rate limit for this API. "
                    "Try again later.",
                    category,
                    "QPS",
                    per_second,
                    "1",
                )
            window.append(now)
            self.daily[(category, today)] += 1

    def too_many(
        self, message: str, category: str, kind: str, limit: int, retry_after: str
    ) -> Reply:
        headers = {}
        if self.fault("ratelimit_headers"):
            headers = {
                "X-RateLimit-Category": category,
                "X-RateLimit-Type": kind,
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "Retry-After": self.fault("retry_after") or retry_after,
            }
        return Reply(429, {"code": 429, "message": message}, headers)

    # --- OAuth -----------------------------------------------------------------------------
    def issue_token(self, authorization: str, form: dict[str, list[str]]) -> dict[str, Any]:
        account = self.state.data["account"]
        expected = "{client_id}:{client_secret}".format(**account["credentials"])
        try:
            given = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            given = ""
        if not authorization.startswith("Basic ") or not hmac.compare_digest(given, expected):
            raise Reply(
                401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
            )
        if form.get("grant_type") != ["account_credentials"]:
            raise Reply(
                400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}
            )
        if form.get("account_id") != [account["id"]]:
            raise Reply(400, {"reason": "Invalid account_id", "error": "invalid_request"})
        ttl = self.fault("token_ttl")
        ttl = self.config.token_ttl if ttl is None else int(ttl)
        token = "zsim." + secrets.token_urlsafe(32)
        with self.state.lock:
            tokens = self.state.data["tokens"]
            now = time.time()
            for old in [t for t, expires in tokens.items() if expires < now]:
                del tokens[old]
            tokens[token] = now + ttl
            self.state.save()
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": "user:read:admin user:write:admin meeting:read:admin meeting:write:admin "
            "account:read:admin group:read:admin",
            "api_url": "https://api.zoom.us",
        }

    def check_token(self, authorization: str) -> None:
        token = authorization.removeprefix("Bearer ").strip()
        expires = self.state.data["tokens"].get(token)
        if not authorization.startswith("Bearer ") or expires is None or expires < time.time():
            raise zoom_error(401, 124, "Invalid access token.")

    # --- the API ---------------------------------------------------------------------------
    def user_or_404(self, user_id: str) -> dict[str, Any]:
        record = self.state.find_user(unquote(user_id))
        if record is None:
            raise zoom_error(404, 1001, f"User does not exist: {unquote(user_id)}.")
        return record

    def active_user_or_400(self, user_id: str) -> dict[str, Any]:
        record = self.user_or_404(user_id)
        if record["user"]["status"] == "pending":
            # The code and message Zoom documents for this operation's 400.
            message = "A valid invitation to join the Zoom account was not found for this user."
            raise zoom_error(400, 1120, message)
        return record

    def group_or_404(self, group_id: str) -> dict[str, Any]:
        group = self.state.data.get("groups", {}).get(unquote(group_id))
        if group is None:
            raise zoom_error(404, 4130, f"Group does not exist: {unquote(group_id)}.")
        return group

    def meeting_or_404(self, meeting_id: str) -> dict[str, Any]:
        meeting = self.state.data["meetings"].get(str(meeting_id))
        if meeting is None:
            raise zoom_error(404, 3001, f"Meeting does not exist: {meeting_id}.")
        return meeting

    def account_or_404(self, account_id: str) -> dict[str, Any]:
        account = self.state.data["account"]
        if account_id not in {"me", account["id"]}:
            raise zoom_error(404, 2001, f"Account does not exist: {account_id}.")
        return account

    def lock_layers(self, user: dict[str, Any]) -> list[tuple[str, dict, dict]]:
        """(who, lock settings, settings) from the strongest: the account, then its groups."""
        account = self.state.data["account"]
        layers = [("the account admin", account["lock_settings"], account["settings"])]
        groups = self.state.data.get("groups", {})
        for group_id in user.get("group_ids", []):
            if group_id in groups:
                group = groups[group_id]
                layers.append(
                    (f"the group {group['name']}", group["lock_settings"], group["settings"])
                )
        return layers

    def locked_fields(self, user: dict[str, Any]) -> dict[tuple[str, str], tuple[str, Any]]:
        """(section, user field) -> (who locks it, the value it holds, or MISSING)."""
        locked: dict[tuple[str, str], tuple[str, Any]] = {}
        for who, locks, settings in self.lock_layers(user):
            for section, values in locks.items():
                if not isinstance(values, dict):
                    continue
                for key, on in values.items():
                    if on is not True:
                        continue
                    twin = TWINS.get((section, key))
                    value = settings.get(section, {}).get(key, MISSING)
                    if value is MISSING and twin:
                        value = settings.get(twin[0], {}).get(twin[1], MISSING)
                    for place in ((section, LOCK_ALIASES.get((section, key), key)), twin):
                        if place and place not in locked:  # a stronger layer already holds it
                            locked[place] = (who, value)
        return locked

    def effective_settings(self, record: dict[str, Any]) -> dict[str, Any]:
        """A user's settings as Zoom shows them: a locked field carries the locking level's
        value (the account's before a group's)."""
        settings = json.loads(json.dumps(record["settings"]))
        for (section, key), (_, value) in self.locked_fields(record["user"]).items():
            if value is not MISSING and key in settings.get(section, {}):
                settings[section][key] = value
        return settings

    def unknown_lock_keys(self, locks: Any, whose: str) -> list[str]:
        """Lock keys that Zoom's lock-settings schema does not hold (for "account" or "group")."""
        if not isinstance(locks, dict):
            return ["(the lock settings must be an object)"]
        known = self.lock_keys[whose]
        unknown = []
        for section, values in locks.items():
            if section not in known or not isinstance(values, dict):
                unknown.append(section)
                continue
            unknown += [f"{section}.{key}" for key in values if key not in known[section]]
        return unknown

    def check_lock_keys(self, locks: Any, whose: str) -> None:
        unknown = self.unknown_lock_keys(locks, whose)
        if unknown:
            raise zoom_error(
                400,
                300,
                f"Unknown lock setting {', '.join(unknown)}: not a key of the {whose}'s lock "
                "settings in Zoom's API (see zoomsim/spec/lock_keys.json).",
                errors=[{"field": key, "message": "Invalid field."} for key in unknown],
            )

    @staticmethod
    def with_option(document: dict[str, Any], query: dict, name: str) -> dict[str, Any]:
        """Zoom's `option`: meeting_security answers that section alone; without an option the
        section is left out (the two branches of the response's oneOf)."""
        option = query.get("option", [""])[0]
        if option == "meeting_security":
            return {"meeting_security": document.get("meeting_security", {})}
        if option and option not in OPTIONS[name]:
            raise zoom_error(400, 300, f"Invalid field: option={option}.")
        if option:
            return {}  # a documented option the simulator does not model: nothing in it
        return {k: v for k, v in document.items() if k != "meeting_security"}

    def paginate(
        self, items: list[dict], query: dict[str, list[str]], key: str, default_size: int
    ) -> dict[str, Any]:
        """Zoom's paging: page_size (up to the operation's maximum), next_page_token, and the
        deprecated page_number; a value that is not a number is a 400 as Zoom answers it."""
        size = min(max(self.number(query, "page_size", default_size), 1), MAX_PAGE_SIZE[key])
        offset = (max(self.number(query, "page_number", 1), 1) - 1) * size
        token = query.get("next_page_token", [""])[0]
        if token:
            try:
                kind, number = base64.urlsafe_b64decode(token.encode()).decode().split(":")
                offset = int(number)
                if kind != key:
                    raise ValueError(kind)
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise zoom_error(400, 300, "The next page token is invalid or expired.") from None
        page = items[offset : offset + size]
        following = offset + size
        return {
            "page_count": max(1, -(-len(items) // size)),
            "page_number": offset // size + 1,
            "page_size": size,
            "total_records": len(items),
            "next_page_token": (
                base64.urlsafe_b64encode(f"{key}:{following}".encode()).decode()
                if following < len(items)
                else ""
            ),
            key: page,
        }

    @staticmethod
    def number(query: dict[str, list[str]], name: str, default: int) -> int:
        value = query.get(name, [""])[0]
        if value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise zoom_error(
                400,
                300,
                "Validation Failed.",
                errors=[{"field": name, "message": f"Invalid value: {value!r} is not a number."}],
            ) from None

    def handle_api(self, name: str, params: dict[str, str], query: dict, body: Any) -> Any:
        data = self.state.data
        with self.state.lock:
            if name == "list_users":
                status = query.get("status", ["active"])[0]
                users = [r["user"] for r in data["users"].values() if r["user"]["status"] == status]
                users = [{k: u[k] for k in LIST_USER_FIELDS if k in u} for u in users]
                return self.paginate(users, query, "users", 30)
            if name == "get_user":
                return self.state.snapshot(self.user_or_404(params["user"])["user"])
            if name == "get_settings":
                settings = self.effective_settings(self.active_user_or_400(params["user"]))
                return self.with_option(settings, query, name)
            if name == "list_meetings":
                user = self.user_or_404(params["user"])["user"]
                return self.paginate(self.upcoming(user, query), query, "meetings", 30)
            if name == "get_meeting":
                return self.state.snapshot(self.meeting_or_404(params["meeting"]))
            if name == "account_settings":
                settings = self.account_or_404(params["account"])["settings"]
                return self.state.snapshot(self.with_option(settings, query, name))
            if name == "lock_settings":
                locks = self.account_or_404(params["account"])["lock_settings"]
                return self.state.snapshot(self.with_option(locks, query, name))
            if name == "list_groups":
                groups = [
                    {"id": g["id"], "name": g["name"], "total_members": self.members(g["id"])}
                    for g in data.get("groups", {}).values()
                ]
                page = self.paginate(groups, query, "groups", 30)
                return {k: page[k] for k in ("groups", "total_records", "next_page_token")}
            if name == "group_settings":
                settings = self.group_or_404(params["group"])["settings"]
                return self.state.snapshot(self.with_option(settings, query, name))
            if name == "group_lock_settings":
                locks = self.group_or_404(params["group"])["lock_settings"]
                return self.state.snapshot(self.with_option(locks, query, name))
            if name == "patch_meeting":
                return self.patch_meeting(params["meeting"], body)
        if name == "patch_settings":
            return self.patch_settings(params["user"], body, operator=None)
        raise zoom_error(404, 404, "Not found")

    def members(self, group_id: str) -> int:
        users = self.state.data["users"].values()
        return sum(group_id in r["user"].get("group_ids", []) for r in users)

    def upcoming(self, user: dict[str, Any], query: dict) -> list[dict[str, Any]]:
        kind = query.get("type", ["scheduled"])[0]
        now = datetime.now(UTC)
        meetings = sorted(
            (m for m in self.state.data["meetings"].values() if m["host_id"] == user["id"]),
            key=lambda m: m["start_time"],
        )
        if kind in {"upcoming", "upcoming_meetings"}:
            meetings = [
                m
                for m in meetings
                if datetime.fromisoformat(m["start_time"].replace("Z", "+00:00"))
                + timedelta(minutes=m["duration"])
                >= now
            ]
        return [{k: m[k] for k in LIST_MEETING_FIELDS if k in m} for m in meetings]

    def validate(self, schema: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise zoom_error(400, 300, "Request Body should be a valid JSON object.")
        problems = openapi.errors(self.request_schemas[schema], body)
        if problems:
            raise zoom_error(400, 300, "Validation Failed.", errors=problems)

    def patch_meeting(self, meeting_id: str, body: Any) -> None:
        meeting = self.meeting_or_404(meeting_id)
        self.validate("meeting", body)
        day = (meeting["host_id"], datetime.now(UTC).date().isoformat())
        if self.meeting_updates[day] >= MAX_DAILY_MEETING_UPDATES:
            raise Reply(
                429,
                {
                    "code": 429,
                    "message": "You have reached the maximum daily "
                    f"number of meeting updates ({MAX_DAILY_MEETING_UPDATES}) for "
                    "this user. Try again tomorrow.",
                },
            )
        self.meeting_updates[day] += 1
        self.state.data["meetings"][str(meeting_id)] = deep_merge(meeting, body)
        self.state.save()

    def patch_settings(self, user_id: str, body: Any, operator: str | None) -> None:
        """Validate, claim the user (Zoom refuses simultaneous updates), merge, save, notify."""
        with self.state.lock:
            record = self.active_user_or_400(user_id)
            self.validate("user_settings", body)
            user = record["user"]
            if user["id"] in self.updating_users:
                raise Reply(
                    429,
                    {
                        "code": 429,
                        "message": "Too many concurrent requests to update this "
                        "user's settings. Try again later.",
                    },
                    {"Retry-After": "1"} if self.fault("ratelimit_headers") else {},
                )
            self.updating_users.add(user["id"])
        try:
            # Zoom takes a moment to apply settings: the latency fault widens that moment.
            time.sleep(float(self.fault("latency")))
            with self.state.lock:
                body = self.apply_locks(body, user)
                before = self.effective_settings(record)
                record["settings"] = deep_merge(record["settings"], body)
                after = self.effective_settings(record)
                self.state.save()
        finally:
            with self.state.lock:
                self.updating_users.discard(user["id"])
        webhooks.notify_settings_updated(self, user, before, after, operator)

    def apply_locks(self, body: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        """Drop locked fields from a PATCH body, or refuse it: the two behaviours Zoom may have."""
        holders = self.locked_fields(user)
        locked = [(s, k) for (s, k) in holders if k in (body.get(s) or {})]
        if not locked:
            return body
        if self.state.data["account"].get("lock_behaviour") == "reject":
            names = ", ".join(f"{s}.{k} (locked by {holders[(s, k)][0]})" for s, k in locked)
            raise zoom_error(400, 200, f"No permission: {names}.")
        body = json.loads(json.dumps(body))
        for section, key in locked:
            del body[section][key]
        return body
