"""Fetch one host's Zoom documents, score them, and keep the snapshot."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audits import zoom
from audits.models import Exemption, InstitutionSettings, Snapshot, ZoomStatus
from audits.reports import record_state
from audits.scoring import Documents, score

log = logging.getLogger(__name__)

ACCOUNT_CACHE_SECONDS = 300  # account settings are the same for every host of a bulk run
MAX_MEETINGS = 30
SECRET_URL_KEYS = {"start_url", "join_url", "registration_url"}
SECRET_SUFFIXES = ("password", "passcode")


class TransientSyncError(Exception):
    """Zoom did not answer in a way worth waiting for; the task retries on its schedule."""

    def __init__(self, error: zoom.ZoomError) -> None:
        super().__init__(error.user_message)
        self.error = error


def zoom_login_of(host) -> str:
    person = getattr(host, "person", None)
    return (getattr(person, "zoom_login", "") or host.email).strip().lower()


def redact(document: Any) -> Any:
    """Keep no meeting passcode or start link in our database: a start_url lets anyone start
    the meeting as its host. Emptiness is kept, since the checklist asks whether one is set."""
    if isinstance(document, list):
        return [redact(value) for value in document]
    if not isinstance(document, dict):
        return document
    clean: dict[str, Any] = {}
    for key, value in document.items():
        # "password", "pstn_password"… hold passcodes; "require_password_for_…" are settings.
        secret_text = key.endswith(SECRET_SUFFIXES) and isinstance(value, str)
        if secret_text or (key in SECRET_URL_KEYS and isinstance(value, str)):
            clean[key] = "[redacted]" if value else ""
        else:
            clean[key] = redact(value)
    return clean


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except zoom.ZoomError as error:
        if not error.permanent:
            raise TransientSyncError(error) from error
        raise


def _optional(function, *args, **kwargs):
    """A document the score can do without: a permanent refusal makes its items unknown."""
    try:
        return _call(function, *args, **kwargs)
    except zoom.ZoomError as error:
        log.info("Zoom refused %s: %s", function.__name__, error.user_message)
        return None


def _account_documents(fresh: bool) -> tuple[dict | None, dict | None]:
    cached = None if fresh else cache.get("audits:account-documents")
    if cached is None:
        cached = (
            _optional(zoom.get_account_settings),
            _optional(zoom.get_account_lock_settings),
        )
        cache.set("audits:account-documents", cached, ACCOUNT_CACHE_SECONDS)
    return cached


def _meetings(zoom_user_id: str) -> list[dict] | None:
    listed = _optional(zoom.list_upcoming_meetings, zoom_user_id)
    if listed is None:
        return None
    details = []
    for meeting in listed[:MAX_MEETINGS]:
        detail = _optional(zoom.get_meeting, meeting["id"])
        if detail is not None:
            details.append(detail)
    return details


def fetch_documents(login: str, fresh: bool = True) -> tuple[ZoomStatus, dict[str, Any], str]:
    """Zoom's documents for one host, the link status, and a message for a failed link."""
    try:
        user = _call(zoom.get_user, login)
    except zoom.ZoomError as error:
        if error.status == 404 or error.code == 1001:
            return ZoomStatus.NOT_FOUND, {}, f"Zoom has no user with the e-mail {login}."
        return ZoomStatus.UNREACHABLE, {}, error.user_message
    if user.get("status") == "pending":
        return ZoomStatus.PENDING, {"user": user}, ""
    try:
        settings_doc = _call(zoom.get_user_settings, user["id"])
    except zoom.ZoomError as error:
        if error.code == 1000:
            return ZoomStatus.PENDING, {"user": user}, ""
        return ZoomStatus.UNREACHABLE, {"user": user}, error.user_message
    account_settings, account_locks = _account_documents(fresh)
    documents = {
        "user": user,
        "settings": settings_doc,
        "meeting_security": _optional(zoom.get_user_settings, user["id"], "meeting_security"),
        "account_settings": account_settings,
        "account_locks": account_locks,
        "meetings": _meetings(user["id"]),
    }
    return ZoomStatus.LINKED, redact(documents), ""


def exemptions_for(host) -> dict[str, str]:
    today = timezone.localdate()
    rows = Exemption.objects.filter(host=host, ends_on__gte=today)
    return {row.item_id: f"{row.reason} (until {row.ends_on:%Y-%m-%d})" for row in rows}


def score_documents(host, documents: dict[str, Any]):
    institution = InstitutionSettings.load().as_institution()
    docs = Documents(
        user=documents.get("user"),
        settings=documents.get("settings"),
        meeting_security=documents.get("meeting_security"),
        account_settings=documents.get("account_settings"),
        account_locks=documents.get("account_locks"),
        meetings=documents.get("meetings"),
    )
    return score(docs, institution, exemptions_for(host)), institution


def sync_host(host, *, fresh: bool = True) -> Snapshot:
    """Read the host's documents from Zoom and store a snapshot. Raises TransientSyncError
    when Zoom should be asked again later. `fresh=False` lets a bulk run share the account's
    settings and locks for a few minutes instead of reading them for every host."""
    status, documents, message = fetch_documents(zoom_login_of(host), fresh)
    snapshot = Snapshot(
        host=host, zoom_status=status, documents=documents, error=message, taken_at=timezone.now()
    )
    if status == ZoomStatus.LINKED:
        result, institution = score_documents(host, documents)
        email = (documents["user"].get("email") or "").lower()
        if email.rpartition("@")[2] not in institution.email_domains:
            snapshot.zoom_status = ZoomStatus.OTHER_DOMAIN
        snapshot.zoom_user_id = documents["user"].get("id", "")
        snapshot.results = result.to_dict()
        snapshot.score, snapshot.grade = result.score, result.grade or ""
    with transaction.atomic():
        snapshot.save()
        record_state(snapshot)  # the reports' view of the host, in the same transaction
    return snapshot


def record_unreachable(host, message: str) -> Snapshot:
    """Zoom stayed unreachable through every retry: say so, keep the last good snapshot."""
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            host=host, zoom_status=ZoomStatus.UNREACHABLE, error=message
        )
        record_state(snapshot)
    return snapshot
