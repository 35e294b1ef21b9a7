"""Helpers the tests share: real services, worker processes, the browser and axe-core."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "tests" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_SOURCE = AXE_JS.read_text()
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true"}


def port_open(url: str, timeout: float = 0.5) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(url: str, what: str) -> None:
    """Skip on a developer's machine without the service; in CI a missing service fails."""
    if port_open(url):
        return
    message = f"{what} is not answering at {urlsplit(url).netloc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**overrides: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@contextmanager
def worker_process(env: dict[str, str], *, name: str = "test") -> Iterator[subprocess.Popen]:
    """A real Celery worker in its own process, consuming from the broker the env names."""
    log = open(ROOT / "var" / f"worker-{name}-{os.getpid()}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--queues=interactive,bulk",
            "--loglevel=INFO",
            f"--hostname={name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        stop_process(proc, timeout=15)
        log.close()


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask the process to stop (SIGTERM); kill it if it has not within `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float, failure) -> None:
    """Wait for `url` to answer 200; if the process dies or time runs out, raise
    RuntimeError with `failure()` (the server's log, say)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(failure()) from None
            time.sleep(0.2)


def assert_accessible(page, context: str = "") -> None:
    """Run axe-core's WCAG 2.1 A and AA rules on the page; any violation fails the test."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern; a
    # <script> tag would be (rightly) refused by the policy.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
    assert violations == [], f"axe-core violations {context}:\n{json.dumps(violations, indent=2)}"


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def client_for(user):  # -> django.test.Client
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def finished(job, timeout: float = 60):  # -> audits.models.Job
    """The job, once a worker has finished it (refreshed from its row)."""

    def done() -> bool:
        job.refresh_from_db()
        return job.is_finished

    wait_for(done, timeout=timeout, what=f"{job.kind} job {job.pk} to finish")
    return job


def run_job(kind, host, *, requested_by=None, timeout: float = 60, **fields):
    """Create a job as the portal does (sent on commit), and wait for a worker to finish it."""
    from django.db import transaction

    from audits.jobs import machinery as jobs

    with transaction.atomic():
        job = jobs.create_job(kind, host, requested_by=requested_by or host, **fields)
    return finished(job, timeout)


def sign_in(page, live_server, user) -> None:
    """Give the browser a session for `user`, as if they had come back from the IdP (the
    sign-in flows themselves are tested against real IdPs in tests/test_sso_*.py)."""
    from django.conf import settings

    client = client_for(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
