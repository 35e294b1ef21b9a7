"""The simulator's HTTP server: Zoom's REST API v2 and OAuth shapes, limits, faults, webhooks.

Standard library only. One ThreadingHTTPServer; every request takes the state's lock only while
it reads or changes the state, so many requests are served at once.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import json
import random
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from zoomsim import openapi
from zoomsim.seed import deep_merge
from zoomsim.state import State

LIGHT, MEDIUM, HEAVY = "Light", "Medium", "Heavy"
# Zoom's own labels for the operations the portal uses (see each operation's description).
ROUTES: list[tuple[str, re.Pattern, str, str]] = [
    (method, re.compile(pattern), name, category)
    for method, pattern, name, category in [
        ("GET", r"^/v2/users$", "list_users", MEDIUM),
        ("GET", r"^/v2/users/(?P<user>[^/]+)$", "get_user", LIGHT),
        ("GET", r"^/v2/users/(?P<user>[^/]+)/settings$", "get_settings", MEDIUM),
        ("PATCH", r"^/v2/users/(?P<user>[^/]+)/settings$", "patch_settings", MEDIUM),
        ("GET", r"^/v2/users/(?P<user>[^/]+)/meetings$", "list_meetings", MEDIUM),
        ("GET", r"^/v2/meetings/(?P<meeting>[^/]+)$", "get_meeting", LIGHT),
        ("PATCH", r"^/v2/meetings/(?P<meeting>[^/]+)$", "patch_meeting", LIGHT),
        ("GET", r"^/v2/accounts/(?P<account>[^/]+)/settings$", "account_settings", MEDIUM),
        ("GET", r"^/v2/accounts/(?P<account>[^/]+)/lock_settings$", "lock_settings", MEDIUM),
    ]
]
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
            "account:read:admin",
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
            raise zoom_error(
                400,
                1000,
                f"User has not accepted the invitation to the account: {record['user']['email']}.",
            )
        return record

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

    def locked_fields(self) -> list[tuple[str, str]]:
        """(section, user field) pairs the account locks."""
        locks = self.state.data["account"]["lock_settings"]
        return [
            (section, LOCK_ALIASES.get((section, key), key))
            for section, values in locks.items()
            if isinstance(values, dict)
            for key, locked in values.items()
            if locked is True
        ]

    def effective_settings(self, record: dict[str, Any]) -> dict[str, Any]:
        """A user's settings as Zoom shows them: a locked field carries the account's value."""
        settings = json.loads(json.dumps(record["settings"]))
        account = self.state.data["account"]["settings"]
        for section, key in self.locked_fields():
            account_key = next(
                (k for (s, k), v in LOCK_ALIASES.items() if s == section and v == key), key
            )
            if account_key in account.get(section, {}) and key in settings.get(section, {}):
                settings[section][key] = account[section][account_key]
        return settings

    def paginate(
        self, items: list[dict], query: dict[str, list[str]], key: str, default_size: int
    ) -> dict[str, Any]:
        size = min(max(int(query.get("page_size", [default_size])[0]), 1), 300)
        offset = 0
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
                if query.get("option", [""])[0] == "meeting_security":
                    return {"meeting_security": settings["meeting_security"]}
                settings.pop("meeting_security", None)
                return settings
            if name == "list_meetings":
                user = self.user_or_404(params["user"])["user"]
                return self.paginate(self.upcoming(user, query), query, "meetings", 30)
            if name == "get_meeting":
                return self.state.snapshot(self.meeting_or_404(params["meeting"]))
            if name == "account_settings":
                settings = self.account_or_404(params["account"])["settings"]
                if query.get("option", [""])[0] == "meeting_security":
                    return {"meeting_security": settings.get("meeting_security", {})}
                return self.state.snapshot(settings)
            if name == "lock_settings":
                return self.state.snapshot(self.account_or_404(params["account"])["lock_settings"])
            if name == "patch_meeting":
                return self.patch_meeting(params["meeting"], body)
        if name == "patch_settings":
            return self.patch_settings(params["user"], body, operator=None)
        raise zoom_error(404, 404, "Not found")

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
                body = self.apply_locks(body)
                before = self.effective_settings(record)
                record["settings"] = deep_merge(record["settings"], body)
                after = self.effective_settings(record)
                self.state.save()
        finally:
            with self.state.lock:
                self.updating_users.discard(user["id"])
        self.notify_settings_updated(user, before, after, operator)

    def apply_locks(self, body: dict[str, Any]) -> dict[str, Any]:
        """Drop locked fields from a PATCH body, or refuse it: the two behaviours Zoom may have."""
        locked = [(s, k) for s, k in self.locked_fields() if k in (body.get(s) or {})]
        if not locked:
            return body
        if self.state.data["account"].get("lock_behaviour") == "reject":
            names = ", ".join(f"{s}.{k}" for s, k in locked)
            raise zoom_error(400, 200, f"No permission: {names} is locked by the account admin.")
        body = json.loads(json.dumps(body))
        for section, key in locked:
            del body[section][key]
        return body

    # --- webhooks --------------------------------------------------------------------------
    def notify_settings_updated(
        self, user: dict, before: dict, after: dict, operator: str | None
    ) -> None:
        new, old = changed(before, after), changed(after, before)
        if not self.config.webhook_url or not new:
            return
        now_ms = int(time.time() * 1000)
        event = {
            "event": "user.settings_updated",
            "event_ts": now_ms,
            "payload": {
                "account_id": self.state.data["account"]["id"],
                "operator": operator or user["email"],
                "operator_id": user["id"] if operator is None else zoomish(operator),
                "time_stamp": now_ms,
                "object": {"id": user["id"], "settings": new},
                "old_object": {"id": user["id"], "settings": old},
            },
        }
        threading.Thread(target=self.deliver, args=(event,), daemon=True).start()

    def deliver(self, event: dict[str, Any]) -> None:
        """POST an event signed as Zoom signs it; the outcome goes into the request log."""
        raw = json.dumps(event, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        message = b"v0:" + timestamp.encode() + b":" + raw
        digest = hmac.new(self.config.webhook_secret.encode(), message, hashlib.sha256)
        request = urllib.request.Request(  # noqa: S310 - the operator's own webhook URL
            self.config.webhook_url,
            data=raw,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Zoom Marketplace/1.1a",
                "x-zm-request-timestamp": timestamp,
                "x-zm-signature": "v0=" + digest.hexdigest(),
            },
        )
        entry = {
            "kind": "webhook",
            "time": time.time(),
            "method": "POST",
            "path": self.config.webhook_url,
            "body": event,
            "status": None,
        }
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                entry["status"] = response.status
        except urllib.error.HTTPError as error:
            entry["status"] = error.code
        except OSError as error:
            entry["error"] = str(error)
        self.record(entry)


def changed(old: dict, new: dict) -> dict:
    """The fields of `new` that differ from `old`, nested as Zoom's webhooks nest them."""
    out = {}
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(old.get(key), dict):
            inner = changed(old[key], value)
            if inner:
                out[key] = inner
        elif old.get(key) != value:
            out[key] = value
    return out


def zoomish(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()[:16]).decode()[:22]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write (buffered, flushed per answer) and without Nagle's
    # delay: otherwise a keep-alive client waits ~40 ms for the delayed ACK on every answer.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server_version = "zoomsim"
    sim: Simulator

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.sim.config.verbose:
            super().log_message(format, *args)

    def dispatch(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path.startswith("/_sim/"):
            self.control(parts.path, query, raw)
            return
        entry = {
            "kind": "api",
            "generation": self.sim.generation,
            "time": time.time(),
            "method": self.command,
            "path": parts.path,
            "query": {k: v[0] for k, v in query.items()},
            "status": None,
        }
        sim = self.sim
        try:
            if sim.fault("outage"):
                entry["status"] = "closed"
                self.close_connection = True
                return
            if parts.path == "/oauth/token" and self.command == "POST":
                entry["kind"] = "oauth"
                form = parse_qs(parts.query) | parse_qs(raw.decode(errors="replace"))
                entry["query"] = {"grant_type": form.get("grant_type", [""])[0]}
                self.answer(200, sim.issue_token(self.headers.get("Authorization", ""), form))
                entry["status"] = 200
                return
            entry["body"] = json.loads(raw) if raw else None
            route = next(
                (
                    (name, m.groupdict(), cat)
                    for method, pattern, name, cat in ROUTES
                    if method == self.command and (m := pattern.match(parts.path))
                ),
                None,
            )
            if route is None:
                raise zoom_error(404, 404, "The requested resource was not found.")
            name, params, category = route
            entry["category"] = category
            if name != "patch_settings":
                time.sleep(float(sim.fault("latency")))
            if random.random() < float(sim.fault("timeout_rate")):
                time.sleep(float(sim.fault("timeout_seconds")))
                entry["status"] = "timeout"
                self.close_connection = True
                return
            sim.check_token(self.headers.get("Authorization", ""))
            sim.check_rate(category)
            if random.random() < float(sim.fault("error_rate")):
                status = int(sim.fault("error_status"))
                raise zoom_error(status, status, "Internal Server Error, please try again later.")
            result = sim.handle_api(name, params, query, entry["body"])
            status = 204 if result is None else 200
            self.answer(status, result)
            entry["status"] = status
        except json.JSONDecodeError:
            entry["status"] = 400
            self.answer(
                400, {"code": 300, "message": "Request Body should be a valid JSON object."}
            )
        except Reply as reply:
            entry["status"] = reply.status
            entry["response"] = reply.body
            self.answer(reply.status, reply.body, reply.headers)
        finally:
            sim.record(entry)

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None or status == 204 else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    # --- /_sim/: the control API, for tests and the demo ------------------------------------
    def control(self, path: str, query: dict, raw: bytes) -> None:
        sim = self.sim
        if path == "/_sim/health":
            self.answer(200, {"status": "ok"})
            return
        if not sim.config.allow_control:
            self.answer(403, {"code": 403, "message": "Start the simulator with --allow-control."})
            return
        try:
            body = json.loads(raw) if raw else {}
            self.answer(*control(sim, self.command, path, query, body))
        except json.JSONDecodeError:
            self.answer(400, {"code": 300, "message": "The body is not JSON."})
        except Reply as reply:
            self.answer(reply.status, reply.body, reply.headers)


def control(sim: Simulator, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
    state = sim.state
    if (method, path) == ("POST", "/_sim/reset"):
        state.reset()
        with sim.rate_lock:
            sim.windows.clear()
            sim.daily.clear()
            sim.meeting_updates.clear()
        with sim.log_lock:
            sim.log.clear()
            sim.generation += 1
        sim.config.faults = dict(DEFAULT_FAULTS)
        return 200, {"status": "reset", "users": len(state.data["users"])}
    if path == "/_sim/requests" and method == "GET":
        since = int(query.get("since", ["0"])[0])
        with sim.log_lock:
            return 200, {"requests": [e for e in sim.log if e["seq"] > since]}
    if path == "/_sim/faults" and method in {"GET", "PUT"}:
        if method == "PUT":
            unknown = set(body) - set(DEFAULT_FAULTS)
            if unknown:
                raise zoom_error(400, 300, f"Unknown faults: {', '.join(sorted(unknown))}")
            sim.config.faults = {**DEFAULT_FAULTS, **body}
        return 200, sim.config.faults
    if path == "/_sim/account" and method == "PUT":
        with state.lock:
            account = state.data["account"]
            for key in ("settings", "lock_settings"):
                if key in body:
                    account[key] = body[key]
            if body.get("lock_behaviour") in {"keep", "reject"}:
                account["lock_behaviour"] = body["lock_behaviour"]
            state.save()
            return 200, {
                k: account[k] for k in ("id", "settings", "lock_settings", "lock_behaviour")
            }
    match = re.match(r"^/_sim/users/(?P<email>[^/]+)(?P<settings>/settings)?$", path)
    if match and method == "PUT" and not match["settings"]:
        return 200, put_user(sim, unquote(match["email"]), body)
    if match and method == "PATCH" and match["settings"]:
        operator = query.get("operator", [None])[0]
        sim.patch_settings(unquote(match["email"]), body, operator=operator)
        return 204, None
    raise zoom_error(404, 404, f"No control endpoint {method} {path}")


def put_user(sim: Simulator, email: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Create or replace a user: fields over the seed's defaults, settings over Zoom's."""
    from zoomsim.seed import _user, settings_for, zoom_id

    state = sim.state
    with state.lock:
        existing = state.find_user(email)
        if existing is not None:
            del state.data["users"][existing["user"]["id"]]
        user = _user(email, "New", "User", "", "active", "6.4.2.51220", len(state.data["users"]))
        user.update({k: v for k, v in payload.items() if k not in {"settings", "posture"}})
        user["id"] = payload.get("id") or zoom_id(email)
        settings = deep_merge(
            settings_for(payload.get("posture", "default")), payload.get("settings", {})
        )
        record = {"user": user, "settings": settings, "posture": payload.get("posture", "custom")}
        state.data["users"][user["id"]] = record
        state.save()
        return state.snapshot(record)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def make_server(host: str, port: int, simulator: Simulator) -> Server:
    handler = type("BoundHandler", (Handler,), {"sim": simulator})
    return Server((host, port), handler)
