"""Fetch one host's Zoom documents, score them, and keep the snapshot."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from audits.models import Exemption, InstitutionSettings, Snapshot, ZoomStatus
from audits.reports.state import record_state
from audits.scoring.score import Documents, score
from audits.zoom import client as zoom

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

MAX_MEETINGS = 30
SECRET_URL_KEYS = {"start_url", "join_url", "registration_url"}
SECRET_SUFFIXES = ("password", "passcode")


def zoom_login_of(host: User) -> str:
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


def _optional(function, *args, **kwargs):
    """A document the score can do without: a permanent refusal makes its items unknown (a
    transient failure goes up to the task, which asks again later)."""
    try:
        return function(*args, **kwargs)
    except zoom.ZoomError as error:
        if not error.permanent:
            raise
        log.info("Zoom refused %s: %s", function.__name__, error.user_message)
        return None


def _both_variants(function, *args) -> dict | None:
    """A settings or locks document whole: Zoom answers the meeting_security section only with
    option=meeting_security. None when either answer is missing (nothing then counts as read)."""
    plain = _optional(function, *args)
    security = _optional(function, *args, option="meeting_security")
    if plain is None or security is None:
        return None
    return {**plain, "meeting_security": security.get("meeting_security", {})}


def _group_names() -> dict[str, str] | None:
    groups = _optional(zoom.list_groups)
    return None if groups is None else {g["id"]: g.get("name", "") for g in groups}


def account_documents(fresh: bool = False) -> dict[str, Any]:
    """The account's settings and locks (both variants) and its groups' names, read once per
    account for every host of a scan (zoom.cached); `fresh` reads them again."""
    return zoom.cached(
        "account",
        lambda: {
            "settings": _both_variants(zoom.get_account_settings),
            "locks": _both_variants(zoom.get_account_lock_settings),
            "group_names": _group_names(),
        },
        fresh,
    )


def group_documents(group_id: str, name: str, fresh: bool = False) -> dict[str, Any]:
    """One group's settings and locks (both variants), read once per group."""
    return zoom.cached(
        f"group:{group_id}",
        lambda: {
            "id": group_id,
            "name": name,
            "settings": _both_variants(zoom.get_group_settings, group_id),
            "locks": _both_variants(zoom.get_group_lock_settings, group_id),
        },
        fresh,
    )


def institution_documents(user: dict, fresh: bool = False) -> dict[str, Any]:
    """What the account and the user's groups decide for this user: account_settings,
    account_locks and groups ([{id, name, settings, locks}]; account lock > group lock)."""
    account = account_documents(fresh)
    names = account["group_names"] or {}
    groups = [
        group_documents(group_id, names.get(group_id) or group_id, fresh)
        for group_id in user.get("group_ids") or []
    ]
    return {
        "account_settings": account["settings"],
        "account_locks": account["locks"],
        "groups": groups,
    }


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


def fetch_documents(
    login: str, fresh: bool = False, known: dict[str, Any] | None = None
) -> tuple[ZoomStatus, dict[str, Any], str]:
    """Zoom's documents for one host, the link status, and a message for a failed link.
    `known` holds what a job has just read itself (its "user", its verified "settings", the
    "meetings" it read): those are not asked of Zoom again."""
    known = known or {}
    try:
        user = known.get("user") or zoom.get_user(login)
    except zoom.ZoomError as error:
        if not error.permanent:
            raise  # the task asks again on its schedule
        if error.status == 404 or error.code == 1001:
            return ZoomStatus.NOT_FOUND, {}, f"Zoom has no user with the e-mail {login}."
        return ZoomStatus.UNREACHABLE, {}, error.user_message
    if user.get("status") == "pending":
        return ZoomStatus.PENDING, {"user": user}, ""
    try:
        settings_doc = known.get("settings") or zoom.get_user_settings(user["id"])
    except zoom.ZoomError as error:
        if not error.permanent:
            raise
        if error.code in zoom.NOT_ACTIVATED:
            return ZoomStatus.PENDING, {"user": user}, ""
        return ZoomStatus.UNREACHABLE, {"user": user}, error.user_message
    documents = {
        "user": user,
        "settings": settings_doc,
        "meeting_security": _optional(zoom.get_user_settings, user["id"], "meeting_security"),
        **institution_documents(user, fresh),
        "meetings": known["meetings"] if "meetings" in known else _meetings(user["id"]),
    }
    return ZoomStatus.LINKED, redact(documents), ""


def exemptions_for(host: User) -> dict[str, str]:
    today = timezone.localdate()
    rows = Exemption.objects.filter(host=host, ends_on__gte=today)
    return {row.item_id: f"{row.reason} (until {row.ends_on:%Y-%m-%d})" for row in rows}


def score_documents(host: User, documents: dict[str, Any]):
    institution = InstitutionSettings.load().as_institution()
    docs = Documents(
        user=documents.get("user"),
        settings=documents.get("settings"),
        meeting_security=documents.get("meeting_security"),
        account_settings=documents.get("account_settings"),
        account_locks=documents.get("account_locks"),
        groups=documents.get("groups") or (),
        meetings=documents.get("meetings"),
    )
    return score(docs, institution, exemptions_for(host)), institution


def sync_host(host: User, *, fresh: bool = False, known: dict[str, Any] | None = None) -> Snapshot:
    """Read the host's documents from Zoom and store a snapshot. Raises a ZoomError that is
    not permanent when Zoom should be asked again later. The account's and groups' settings
    and locks come from the shared cache (read once per account for a few minutes, forgotten
    when Zoom's account webhooks say they changed); `fresh=True` reads them again. `known`:
    what the caller has just read (see fetch_documents)."""
    status, documents, message = fetch_documents(zoom_login_of(host), fresh, known)
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


def record_unreachable(host: User, message: str) -> Snapshot:
    """Zoom stayed unreachable through every retry: say so, keep the last good snapshot."""
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            host=host, zoom_status=ZoomStatus.UNREACHABLE, error=message
        )
        record_state(snapshot)
    return snapshot
