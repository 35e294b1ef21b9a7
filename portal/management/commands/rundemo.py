"""Run the whole portal on its embedded defaults: web, worker, beat (and the Zoom simulator).

Started by `make demo`. Prints the address, and stops every process on Ctrl-C or SIGTERM. A
worker or beat that dies is started again (as systemd's `Restart=always` does in production);
if the web server or the simulator dies, or a worker keeps dying, the demo stops.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zoomsim import DEFAULT_PORT


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = field(default=None)
    restartable: bool = False
    restarts: list[float] = field(default_factory=list)


class Command(BaseCommand):
    help = "Run the portal with a Celery worker and beat on the embedded defaults."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: object, host: str, port: int, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("rundemo runs only in embedded mode (DEBUG on)")
        python = sys.executable
        children = [
            # First, so the portal's first Zoom call finds it: Zoom's API on loopback, with its
            # state under var/ and settings changes sent to the portal's webhook.
            Child(
                "zoomsim",
                [
                    python, "-m", "zoomsim", f"--port={self._zoomsim_port()}",
                    f"--state={settings.VAR_DIR / 'zoomsim.json'}",
                    f"--webhook-url=http://{host}:{port}/zoom/webhook/",
                    f"--webhook-secret={settings.ZOOM_WEBHOOK_SECRET}",
                ],
            ),
            Child(
                "web",
                [
                    python, "-m", "gunicorn", "portal.wsgi", f"--bind={host}:{port}",
                    "--workers=2", "--threads=4", "--access-logfile=-", "--graceful-timeout=5",
                ],
            ),
            # One worker per queue (portal/celery.py routes them), as in production: a sweep
            # or a retention run on `bulk` never delays a job someone is waiting for.
            *(
                Child(
                    f"worker-{queue}",
                    [
                        python, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO",
                        f"--queues={queue}", f"--hostname={queue}@%h", "--concurrency=1",
                        "--without-gossip", "--without-mingle",
                    ],
                    restartable=True,
                )
                for queue in ("interactive", "bulk")
            ),
            Child(
                "beat",
                [python, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"],
                restartable=True,
            ),
        ]  # fmt: skip
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for child in children:
            child.process = subprocess.Popen(child.argv)
        address = f"http://{'localhost' if host == '127.0.0.1' else host}:{port}/"
        self._wait_until_serving(address, children)
        self.stdout.write(self.style.SUCCESS(f"\nThe portal is running at {address}"))
        self.stdout.write("Press Ctrl-C to stop the web server, workers, beat and simulator.\n")
        exit_code = 0
        while not stopping:
            for child in children:
                if child.process.poll() is None or stopping:
                    continue
                if self._restart(child):
                    continue
                self.stderr.write(f"{child.name} stopped unexpectedly; stopping the rest")
                stopping, exit_code = True, 1
            time.sleep(0.3)
        self._stop_all(children)
        if exit_code:
            raise CommandError("the demo stopped because one of its processes failed")
        self.stdout.write("Stopped.")

    def _restart(self, child: Child) -> bool:
        """Start a dead worker or beat again, unless it died 5 times within the last minute."""
        now = time.monotonic()
        child.restarts = [t for t in child.restarts if t > now - 60]
        if not child.restartable or len(child.restarts) >= 5:
            return False
        code = child.process.returncode
        self.stderr.write(f"{child.name} stopped (exit code {code}); starting it again")
        child.restarts.append(now)
        child.process = subprocess.Popen(child.argv)
        return True

    def _zoomsim_port(self) -> int:
        return urlsplit(settings.ZOOM_OAUTH_BASE).port or DEFAULT_PORT

    def _wait_until_serving(self, address: str, children: list[Child]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(c.process.poll() is not None for c in children):
                self._stop_all(children)
                raise CommandError("a process of the demo failed to start; see above")
            try:
                with urllib.request.urlopen(address + "healthz", timeout=2):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return  # serving; /healthz may wait for the worker's first heartbeat
            except OSError:
                time.sleep(0.3)
        self._stop_all(children)
        raise CommandError(f"the web server did not answer at {address} within 60 s")

    def _stop_all(self, children: list[Child]) -> None:
        for child in children:
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        for child in children:
            if not child.process:
                continue
            try:
                child.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
