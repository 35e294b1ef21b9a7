"""The /_sim/ control API, for tests and the demo: reset, the request log, faults, users.

Only /_sim/health answers without --allow-control.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from zoomsim import webhooks
from zoomsim.seed import _user, deep_merge, settings_for, zoom_id
from zoomsim.simulator import DEFAULT_FAULTS, Reply, Simulator, zoom_error

if TYPE_CHECKING:
    from zoomsim.server import Handler


def serve(handler: Handler, path: str, query: dict, raw: bytes) -> None:
    sim = handler.sim
    if path == "/_sim/health":
        handler.answer(200, {"status": "ok"})
        return
    if not sim.config.allow_control:
        handler.answer(403, {"code": 403, "message": "Start the simulator with --allow-control."})
        return
    try:
        body = json.loads(raw) if raw else {}
        handler.answer(*control(sim, handler.command, path, query, body))
    except json.JSONDecodeError:
        handler.answer(400, {"code": 300, "message": "The body is not JSON."})
    except Reply as reply:
        handler.answer(reply.status, reply.body, reply.headers)


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
        if "lock_settings" in body:
            sim.check_lock_keys(body["lock_settings"], "account")
        with state.lock:
            account = state.data["account"]
            for key in ("settings", "lock_settings"):
                if key in body:
                    before, account[key] = account[key], body[key]
                    webhooks.notify_account_updated(sim, key, before, body[key])
            if body.get("lock_behaviour") in {"keep", "reject"}:
                account["lock_behaviour"] = body["lock_behaviour"]
            state.save()
            return 200, {
                k: account[k] for k in ("id", "settings", "lock_settings", "lock_behaviour")
            }
    group = re.match(r"^/_sim/groups/(?P<id>[^/]+)$", path)
    if group and method == "PUT":
        return 200, put_group(sim, unquote(group["id"]), body)
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


def put_group(sim: Simulator, group_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Create or replace a group: name, settings, locks (keys checked against Zoom's group
    lock settings) and members (e-mails or ids; every other user leaves the group)."""
    locks = payload.get("locks", {})
    sim.check_lock_keys(locks, "group")
    state = sim.state
    with state.lock:
        members = []
        for member in payload.get("members", []):
            record = state.find_user(str(member))
            if record is None:
                raise zoom_error(404, 1001, f"User does not exist: {member}.")
            members.append(record["user"]["id"])
        group = {
            "id": group_id,
            "name": str(payload.get("name") or group_id),
            "settings": payload.get("settings", {}),
            "lock_settings": locks,
        }
        state.data.setdefault("groups", {})[group_id] = group
        for record in state.data["users"].values():
            ids = [g for g in record["user"].get("group_ids", []) if g != group_id]
            record["user"]["group_ids"] = ids + [group_id] * (record["user"]["id"] in members)
        state.save()
        return {**state.snapshot(group), "members": members}
