"""Zoom's event notifications: verified by signature, then a fresh sync of the host."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audits.jobs.machinery import start_once
from audits.models import JobKind, Snapshot
from audits.zoom import client as zoom

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 300  # refuse replays of old notifications
ACCOUNT_EVENTS = {"account.settings_updated", "account.lock_settings_updated"}


def _signature(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verified(request: HttpRequest, secret: str) -> bool:
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    given = request.headers.get("x-zm-signature", "")
    if not secret or not timestamp.isdigit() or not given:
        return False
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(given, _signature(secret, timestamp, request.body))


def _hosts_for(account_object: dict):
    """The hosts with the event's e-mail or Zoom user id: a UNION of two index lookups (the
    e-mail's trigram index, migration 0005; the snapshots' Zoom id, 0006), not an OR across a
    join that reads every snapshot."""
    users = get_user_model().objects
    email = str(account_object.get("email") or "")
    zoom_id = str(account_object.get("id") or "")
    matches = []
    if email:
        matches.append(users.filter(email__iexact=email).values("pk"))
    if zoom_id:
        matches.append(Snapshot.objects.filter(zoom_user_id=zoom_id).order_by().values("host_id"))
    if not matches:
        return users.none()
    return users.filter(pk__in=matches[0].union(*matches[1:]))


@csrf_exempt  # Zoom cannot send our CSRF token; the HMAC signature authenticates it instead
@require_POST
def zoom_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.ZOOM_WEBHOOK_SECRET
    if not verified(request, secret):
        return JsonResponse({"error": "signature not valid"}, status=401)
    try:
        event = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "body is not JSON"}, status=400)
    problem = _shape_problem(event)
    if problem:
        log.warning("Zoom webhook refused: %s", problem)
        return JsonResponse({"error": f"body has an unexpected shape: {problem}"}, status=400)
    name, payload = event["event"], event.get("payload", {})
    if name == "endpoint.url_validation":
        plain = payload["plainToken"]
        encrypted = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        return JsonResponse({"plainToken": plain, "encryptedToken": encrypted})
    if name == "user.settings_updated":
        for host in _hosts_for(payload.get("object", {})):
            start_once(JobKind.SYNC, host, reason="Zoom reported a change of settings")
    if name in ACCOUNT_EVENTS:
        zoom.forget_institution_documents()  # the next sync reads the account's again
    return HttpResponse(status=204)


def _shape_problem(event: Any) -> str | None:
    """What is wrong with a (correctly signed) body, or None for the shape Zoom documents."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return "not an object with an 'event' name"
    payload = event.get("payload", {})
    if not isinstance(payload, dict):
        return "'payload' is not an object"
    if event["event"] == "endpoint.url_validation" and not isinstance(
        payload.get("plainToken"), str
    ):
        return "'payload.plainToken' is not a string"
    if event["event"] == "user.settings_updated":
        account_object = payload.get("object", {})
        if not isinstance(account_object, dict):
            return "'payload.object' is not an object"
        if not all(isinstance(account_object.get(k) or "", str) for k in ("id", "email")):
            return "'payload.object' id or email is not a string"
    return None
