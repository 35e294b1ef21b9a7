"""What /healthz checks: each dependency answers within a short timeout, or is named."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu import Connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("value written was not read back")
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


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> dict[str, str]:
    """Return each dependency's state: "ok" or the reason it failed (no secrets in it)."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # a health check reports every failure, whatever its kind
            results[name] = f"unavailable: {type(exc).__name__}"
        else:
            results[name] = "ok"
    return results
