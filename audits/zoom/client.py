"""Zoom's REST API v2, one function per call; the only module that talks to Zoom.

Every call goes through `_request`, which always sets timeouts, takes the call's category from
the shared rate budget, keeps one Server-to-Server OAuth token per account in Django's cache
(renewed shortly before it expires, and once on a 401 code 124), and turns every failure into
a `ZoomError` that says whether it is permanent. Settings are read at call time.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.cache import cache

from audits.zoom import ratelimit
from audits.zoom.ratelimit import LIGHT, MEDIUM

log = logging.getLogger(__name__)
TOKEN_EXPIRED = 124
# A pending user's settings: Zoom documents 1120; 1000 is read the same way, as it was before.
NOT_ACTIVATED = (1120, 1000)
T = TypeVar("T")
_local = threading.local()


class ZoomError(Exception):
    """A Zoom call that failed; `permanent` says whether trying again can help."""

    def __init__(
        self,
        user_message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        permanent: bool = False,
        retry_after: float | None = None,
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(user_message)
        self.fields = fields  # the fields Zoom named as refused (a 400 with code 300)
        self.status = status
        self.code = code
        self.permanent = permanent
        self.retry_after = retry_after
        self.user_message = user_message

    def __repr__(self) -> str:
        return (
            f"ZoomError(status={self.status}, code={self.code}, permanent={self.permanent}, "
            f"retry_after={self.retry_after}, {self.user_message!r})"
        )


# --- the calls ------------------------------------------------------------------------------
def list_users(status: str = "active", page_size: int = 300) -> Iterator[dict]:
    """Zoom "List users" (GET /users), every page."""
    params: dict[str, Any] = {"status": status, "page_size": page_size}
    while True:
        page = _request("GET", "/users", MEDIUM, params=params)
        yield from page.get("users", [])
        token = page.get("next_page_token")
        if not token:
            return
        params = {**params, "next_page_token": token}


def get_user(user_id: str) -> dict:
    """Zoom "Get a user" (GET /users/{userId}); the id may be the user's e-mail."""
    return _request("GET", f"/users/{_segment(user_id)}", LIGHT)


def get_user_settings(user_id: str, option: str | None = None) -> dict:
    """Zoom "Get user settings" (GET /users/{userId}/settings), e.g. option="meeting_security"."""
    params = {"option": option} if option else None
    return _request("GET", f"/users/{_segment(user_id)}/settings", MEDIUM, params=params)


def patch_user_settings(user_id: str, body: dict) -> None:
    """Zoom "Update user settings" (PATCH /users/{userId}/settings); Zoom answers 204."""
    params = {"option": "meeting_security"} if set(body) == {"meeting_security"} else None
    _request("PATCH", f"/users/{_segment(user_id)}/settings", MEDIUM, params=params, json=body)


def list_upcoming_meetings(user_id: str) -> list[dict]:
    """Zoom "List meetings" (GET /users/{userId}/meetings?type=upcoming), every page."""
    params: dict[str, Any] = {"type": "upcoming", "page_size": 300}
    meetings: list[dict] = []
    while True:
        page = _request("GET", f"/users/{_segment(user_id)}/meetings", MEDIUM, params=params)
        meetings += page.get("meetings", [])
        token = page.get("next_page_token")
        if not token:
            return meetings
        params = {**params, "next_page_token": token}


def get_meeting(meeting_id: int | str) -> dict:
    """Zoom "Get a meeting" (GET /meetings/{meetingId})."""
    return _request("GET", f"/meetings/{_segment(str(meeting_id))}", LIGHT)


def patch_meeting(meeting_id: int | str, body: dict) -> None:
    """Zoom "Update a meeting" (PATCH /meetings/{meetingId}); Zoom answers 204."""
    _request("PATCH", f"/meetings/{_segment(str(meeting_id))}", LIGHT, json=body)


def get_account_settings(option: str | None = None) -> dict:
    """Zoom "Get account settings" (GET /accounts/me/settings); the meeting_security section
    comes only with option="meeting_security", and then alone."""
    return _request("GET", "/accounts/me/settings", MEDIUM, params=_option(option))


def get_account_lock_settings(option: str | None = None) -> dict:
    """Zoom "Get locked settings" (GET /accounts/me/lock_settings); the meeting_security locks
    (waiting room, passcodes, encryption) come only with option="meeting_security"."""
    return _request("GET", "/accounts/me/lock_settings", MEDIUM, params=_option(option))


def list_groups() -> list[dict]:
    """Zoom "List groups" (GET /groups), every page: [{id, name, total_members}]."""
    params: dict[str, Any] = {"page_size": 300}
    groups: list[dict] = []
    while True:
        page = _request("GET", "/groups", MEDIUM, params=params)
        groups += page.get("groups", [])
        token = page.get("next_page_token")
        if not token:
            return groups
        params = {**params, "next_page_token": token}


def get_group_settings(group_id: str, option: str | None = None) -> dict:
    """Zoom "Get a group's settings" (GET /groups/{groupId}/settings)."""
    path = f"/groups/{_segment(group_id)}/settings"
    return _request("GET", path, MEDIUM, params=_option(option))


def get_group_lock_settings(group_id: str, option: str | None = None) -> dict:
    """Zoom "Get locked settings" of a group (GET /groups/{groupId}/lock_settings)."""
    path = f"/groups/{_segment(group_id)}/lock_settings"
    return _request("GET", path, MEDIUM, params=_option(option))


def _option(option: str | None) -> dict[str, str] | None:
    return {"option": option} if option else None


# --- the institution's documents, read once per account or group ----------------------------
INSTITUTION_CACHE_SECONDS = 300  # the same for every host of a scan; webhooks end it sooner


def cached(name: str, read: Callable[[], T], fresh: bool = False) -> T:
    """`read()` kept in the shared cache for a few minutes under `name` (the account's or a
    group's documents), so a scan reads them once, not once per host. `fresh` reads again."""
    key = f"zoom:documents:{_account_scope()}:{_documents_generation()}:{name}"
    if not fresh:
        found = cache.get(key)
        if found is not None:
            return found
    value = read()
    cache.set(key, value, INSTITUTION_CACHE_SECONDS)
    return value


def forget_institution_documents() -> None:
    """The account's settings or locks changed (Zoom's account.*_updated webhooks): every
    cached account and group document is read again at next use."""
    key = _generation_key()
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=None)


def _generation_key() -> str:
    return f"zoom:documents-generation:{_account_scope()}"


def _documents_generation() -> int:
    return cache.get(_generation_key()) or 0


# --- the one request function ---------------------------------------------------------------
def _request(
    method: str,
    path: str,
    category: str,
    *,
    params: dict | None = None,
    json: dict | None = None,
) -> Any:
    """Send one API request and answer its JSON (None for 204), or raise ZoomError."""
    account = _account_scope()
    _wait_out_cooldown(category, account)
    if not ratelimit.acquire(category, account, settings.ZOOM_MAX_WAIT):
        raise ZoomError(
            "The portal is using its whole Zoom budget; try again in a moment.",
            retry_after=1.0,
        )
    token = _token()
    response = _send(method, path, token, params, json)
    if response.status_code == 401 and _error_code(response) == TOKEN_EXPIRED:
        # Zoom invalidates older tokens when a newer one is minted elsewhere: renew once.
        token = _token(stale=token)
        response = _send(method, path, token, params, json)
    if response.status_code == 429:
        _start_cooldown(response, category, account)
    if response.status_code >= 400:
        raise _error_from(response)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ZoomError("Zoom answered with something that is not JSON.", status=200) from None


def _send(method: str, path: str, token: str, params: dict | None, json: dict | None):
    try:
        return _session().request(
            method,
            settings.ZOOM_API_BASE.rstrip("/") + path,
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=(settings.ZOOM_CONNECT_TIMEOUT, settings.ZOOM_READ_TIMEOUT),
        )
    except requests.Timeout:
        raise ZoomError("Zoom did not answer in time; try again later.") from None
    except requests.RequestException as error:
        log.warning("zoom %s %s failed: %s", method, path, type(error).__name__)
        raise ZoomError("The portal could not reach Zoom; try again later.") from None


def _session() -> requests.Session:
    # One session per thread: connections are reused, and sessions are not shared by threads.
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _segment(value: str) -> str:
    return quote(value, safe="@")


def _error_code(response: requests.Response) -> int | None:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _error_from(response: requests.Response) -> ZoomError:
    status, code = response.status_code, _error_code(response)
    try:
        answer = response.json()
        message = str(answer.get("message", ""))[:200]
        # Zoom's 300 names the refused fields: worth showing whoever reads the message.
        fields = [str(e.get("field")) for e in answer.get("errors", []) if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        message, fields = "", []
    if fields:
        message = f"{message} {', '.join(fields[:5])}".strip()
    if status == 429:
        return ZoomError(
            "Zoom asked the portal to slow down; try again shortly.",
            status=status,
            code=code,
            retry_after=_retry_after(response) or settings.ZOOM_COOLDOWN_SECONDS,
        )
    if status >= 500:
        return ZoomError(
            "Zoom is having trouble right now; try again later.",
            status=status,
            code=code,
            retry_after=_retry_after(response),
        )
    if status == 401:
        text = "Zoom refused the portal's credentials; an administrator must check them."
    elif status == 400 and code in NOT_ACTIVATED:
        text = "This Zoom user has not activated their account yet (Zoom's invitation is pending)."
    elif status == 404:
        text = "Zoom does not know this user or meeting."
    else:
        text = f"Zoom refused the request: {message or 'no reason given'} (code {code})."
    return ZoomError(text, status=status, code=code, permanent=True, fields=tuple(fields))


# --- Retry-After and the shared cool-down ---------------------------------------------------
def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait: Retry-After as seconds, an HTTP date or an ISO date-time."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        if response.headers.get("X-RateLimit-Type", "").lower().startswith("daily"):
            return _seconds_until(_next_utc_midnight())
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    for parse in (parsedate_to_datetime, _parse_iso):
        try:
            moment = parse(value)
        except (TypeError, ValueError, IndexError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return _seconds_until(moment)
    return None


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _next_utc_midnight() -> datetime:
    # Zoom's daily limits reset at 00:00 UTC.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def _seconds_until(moment: datetime) -> float:
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _cooldown_key(category: str, account: str) -> str:
    return f"zoom:cooldown:{account}:{category}"


def _start_cooldown(response: requests.Response, category: str, account: str) -> None:
    """After a 429 every process of the portal holds back: the cool-down is in the cache."""
    if response.headers.get("X-RateLimit-Type", "").lower().startswith("concurrent"):
        return  # one user's settings were busy: nothing for the other calls to wait for
    seconds = _retry_after(response) or settings.ZOOM_COOLDOWN_SECONDS
    cache.set(_cooldown_key(category, account), time.time() + seconds, timeout=int(seconds) + 1)


def _wait_out_cooldown(category: str, account: str) -> None:
    until = cache.get(_cooldown_key(category, account))
    remaining = (until or 0) - time.time()
    if remaining <= 0:
        return
    if remaining > settings.ZOOM_MAX_WAIT:
        raise ZoomError(
            "Zoom asked the portal to slow down; try again later.",
            status=429,
            retry_after=remaining,
        )
    time.sleep(remaining)


# --- the token ------------------------------------------------------------------------------
def _account_scope() -> str:
    """Names the account's budget and cool-downs: one Zoom (or simulator) account, one scope."""
    return f"{settings.ZOOM_ACCOUNT_ID}@{_digest(settings.ZOOM_API_BASE)}"


def _token_key() -> str:
    # The secret is in the key (hashed): new credentials never reuse the old ones' token.
    credentials = "|".join(
        [settings.ZOOM_OAUTH_BASE, settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET]
    )
    return f"zoom:token:{settings.ZOOM_ACCOUNT_ID}:{_digest(credentials)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(stale: str | None = None) -> str:
    """The account's cached token, minted when missing, about to expire, or `stale`."""
    key = _token_key()
    cached = cache.get(key)
    if cached and cached["token"] != stale and cached["expires_at"] > _renew_after():
        return cached["token"]
    # One process mints while the others wait for its token: a new token may invalidate older.
    lock = key + ":minting"
    if cache.add(lock, 1, timeout=int(settings.ZOOM_CONNECT_TIMEOUT + settings.ZOOM_READ_TIMEOUT)):
        try:
            return _mint(key)
        finally:
            cache.delete(lock)
    deadline = time.monotonic() + settings.ZOOM_CONNECT_TIMEOUT + settings.ZOOM_READ_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.05)
        cached = cache.get(key)
        if cached and cached["token"] != stale and cached["expires_at"] > _renew_after():
            return cached["token"]
    return _mint(key)


def _renew_after() -> float:
    return time.time() + settings.ZOOM_TOKEN_RENEW_SECONDS


def _mint(key: str) -> str:
    """Zoom "Server-to-Server OAuth" (POST /oauth/token, grant_type=account_credentials)."""
    basic = base64.b64encode(f"{settings.ZOOM_CLIENT_ID}:{settings.ZOOM_CLIENT_SECRET}".encode())
    try:
        response = _session().post(
            settings.ZOOM_OAUTH_BASE.rstrip("/") + "/oauth/token",
            data={"grant_type": "account_credentials", "account_id": settings.ZOOM_ACCOUNT_ID},
            headers={"Authorization": f"Basic {basic.decode()}"},
            timeout=(settings.ZOOM_CONNECT_TIMEOUT, settings.ZOOM_READ_TIMEOUT),
        )
    except requests.Timeout:
        raise ZoomError("Zoom's sign-in did not answer in time; try again later.") from None
    except requests.RequestException:
        raise ZoomError("The portal could not reach Zoom's sign-in; try again later.") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise ZoomError(
            "Zoom's sign-in is having trouble; try again later.",
            status=response.status_code,
            retry_after=_retry_after(response),
        )
    if response.status_code != 200:
        raise ZoomError(
            "Zoom refused the portal's credentials; an administrator must check them.",
            status=response.status_code,
            permanent=True,
        )
    try:
        answer = response.json()
        token, lifetime = str(answer["access_token"]), float(answer["expires_in"])
    except (ValueError, KeyError, TypeError):
        raise ZoomError("Zoom's sign-in answered something unexpected.", status=200) from None
    cache.set(key, {"token": token, "expires_at": time.time() + lifetime}, timeout=int(lifetime))
    return token


def forget_cached_state() -> None:
    """Drop the cached token, the cool-downs, the counted budget and the cached account and
    group documents of the configured account.

    For tests and for an administrator who changed the credentials.
    """
    account = _account_scope()
    cache.delete_many(
        [_token_key(), *(_cooldown_key(c, account) for c in (LIGHT, MEDIUM, ratelimit.HEAVY))]
    )
    ratelimit.clear(account)
    forget_institution_documents()
