"""The simulator's HTTP server: Zoom's REST API v2 and OAuth over HTTP, and the /_sim/ API.

Standard library only. One ThreadingHTTPServer; the Simulator (simulator.py) answers each call,
control.py answers /_sim/, webhooks.py sends Zoom's webhooks.
"""

from __future__ import annotations

import json
import random
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from zoomsim import control
from zoomsim.simulator import (
    DEFAULT_FAULTS,
    HEAVY,
    LIGHT,
    MEDIUM,
    Config,
    Reply,
    Simulator,
    zoom_error,
)

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
        ("GET", r"^/v2/groups$", "list_groups", MEDIUM),
        ("GET", r"^/v2/groups/(?P<group>[^/]+)/settings$", "group_settings", MEDIUM),
        ("GET", r"^/v2/groups/(?P<group>[^/]+)/lock_settings$", "group_lock_settings", MEDIUM),
    ]
]


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
            control.serve(self, parts.path, query, raw)
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


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def make_server(host: str, port: int, simulator: Simulator) -> Server:
    handler = type("BoundHandler", (Handler,), {"sim": simulator})
    return Server((host, port), handler)


__all__ = [
    "DEFAULT_FAULTS",
    "HEAVY",
    "LIGHT",
    "MEDIUM",
    "ROUTES",
    "Config",
    "Handler",
    "Reply",
    "Server",
    "Simulator",
    "make_server",
    "zoom_error",
]
