"""What /healthz checks: each dependency answers within a short timeout, or is named."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from kombu import Connection

from portal.tasks import HEARTBEAT_KEY


class Unhealthy(RuntimeError):
    """A check's own finding, in words safe to show (no address, no secret)."""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise Unhealthy("value written was not read back")
    cache.delete(key)


def check_broker() -> None:
    from portal.celery import broker_transport_options

    url = settings.CELERY_BROKER_URL
    timeout = settings.PORTAL_HEALTHZ_TIMEOUT
    options = broker_transport_options(url, settings.CELERY_DIR)
    with Connection(url, transport_options=options, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=0, timeout=timeout)
        # A transport may connect lazily: open a channel to be sure the broker answers.
        conn.default_channel.close()


def check_worker() -> None:
    """A worker ran beat's heartbeat lately: beat, the broker and a worker all work. Jobs
    wait for nobody otherwise, so a monitor (or systemd) must hear of it."""
    beaten = cache.get(HEARTBEAT_KEY)
    if not beaten:
        raise Unhealthy("no worker has run the heartbeat")
    age = (timezone.now() - datetime.fromisoformat(beaten)).total_seconds()
    if age > settings.PORTAL_HEALTHZ_WORKER_SECONDS:
        raise Unhealthy(f"no worker heartbeat for {age:.0f} s")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "worker": check_worker,
}


def run_checks() -> dict[str, str]:
    """Return each dependency's state: "ok" or the reason it failed (no secrets in it)."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # a health check reports every failure, whatever its kind
            # Our own findings are safe to show; other errors' texts may hold addresses.
            why = str(exc) if isinstance(exc, Unhealthy) else type(exc).__name__
            results[name] = f"unavailable: {why}"
        else:
            results[name] = "ok"
    return results
