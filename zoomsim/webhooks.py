"""Webhooks the simulator sends, signed as Zoom signs them (user.settings_updated, and
account.settings_updated / account.lock_settings_updated when the control API changes the
account)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoomsim.simulator import Simulator


def notify_settings_updated(
    sim: Simulator, user: dict, before: dict, after: dict, operator: str | None
) -> None:
    new, old = changed(before, after), changed(after, before)
    if not sim.config.webhook_url or not new:
        return
    now_ms = int(time.time() * 1000)
    event = {
        "event": "user.settings_updated",
        "event_ts": now_ms,
        "payload": {
            "account_id": sim.state.data["account"]["id"],
            "operator": operator or user["email"],
            "operator_id": user["id"] if operator is None else zoomish(operator),
            "time_stamp": now_ms,
            "object": {"id": user["id"], "settings": new},
            "old_object": {"id": user["id"], "settings": old},
        },
    }
    threading.Thread(target=deliver, args=(sim, event), daemon=True).start()


def notify_account_updated(sim: Simulator, kind: str, before: dict, after: dict) -> None:
    """`kind` is "settings" or "lock_settings": Zoom's account.<kind>_updated, by the owner."""
    new, old = changed(before, after), changed(after, before)
    if not sim.config.webhook_url or not (new or old):
        return
    now_ms = int(time.time() * 1000)
    account_id = sim.state.data["account"]["id"]
    event = {
        "event": f"account.{kind}_updated",
        "event_ts": now_ms,
        "payload": {
            "account_id": account_id,
            "operator": "owner@utoronto.ca",
            "operator_id": zoomish("owner@utoronto.ca"),
            "time_stamp": now_ms,
            "object": {"id": account_id, "settings": new},
            "old_object": {"id": account_id, "settings": old},
        },
    }
    threading.Thread(target=deliver, args=(sim, event), daemon=True).start()


def deliver(sim: Simulator, event: dict[str, Any]) -> None:
    """POST an event signed as Zoom signs it; the outcome goes into the request log."""
    raw = json.dumps(event, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    message = b"v0:" + timestamp.encode() + b":" + raw
    digest = hmac.new(sim.config.webhook_secret.encode(), message, hashlib.sha256)
    request = urllib.request.Request(  # noqa: S310 - the operator's own webhook URL
        sim.config.webhook_url,
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
        "path": sim.config.webhook_url,
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
    sim.record(entry)


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
