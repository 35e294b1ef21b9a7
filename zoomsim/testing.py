"""Run the simulator as a subprocess and drive its /_sim/ control API (tests and benchmarks)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from zoomsim import DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimulatorProcess:
    """`python -m zoomsim` on a free loopback port, with control helpers."""

    def __init__(self, state: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.state = state
        self.args = ["--port", str(self.port), "--state", str(state), "--allow-control", *args]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    # --- the process -----------------------------------------------------------------------
    def start(self) -> SimulatorProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zoomsim", *self.args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"zoomsim exited: {self.process.stderr.read().decode()}")
            try:
                self.call("GET", "/_sim/health")
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"zoomsim did not answer on {self.url} within 20 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- how the portal reaches it ---------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """The variables that point a portal process (a worker, say) at this simulator."""
        return {
            "ZOOM_API_BASE": f"{self.url}/v2",
            "ZOOM_OAUTH_BASE": self.url,
            "ZOOM_ACCOUNT_ID": DEMO_ACCOUNT_ID,
            "ZOOM_CLIENT_ID": DEMO_CLIENT_ID,
            "ZOOM_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        }

    # --- the control API -------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw else None

    def reset(self) -> None:
        self.call("POST", "/_sim/reset")

    def put_user(self, email: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", f"/_sim/users/{quote(email)}", payload)

    def patch_settings(self, email: str, body: dict[str, Any]) -> None:
        """Change settings as if the host did it in Zoom's web page (fires the webhook)."""
        self.call("PATCH", f"/_sim/users/{quote(email)}/settings", body)

    def put_account(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", "/_sim/account", payload)

    def put_group(self, group_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", f"/_sim/groups/{quote(group_id)}", payload)

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return self.call("PUT", "/_sim/faults", faults)

    def requests(self, kind: str | None = "api", since: int = 0) -> list[dict[str, Any]]:
        entries = self.call("GET", f"/_sim/requests?since={since}")["requests"]
        return [e for e in entries if kind is None or e["kind"] == kind]


__all__ = ["SimulatorProcess", "free_port"]
