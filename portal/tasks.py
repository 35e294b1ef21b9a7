from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "portal:worker-heartbeat"


def record_heartbeat() -> str:
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task(name="portal.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Record that a worker consumed a message from beat; /healthz fails when it is too old."""
    return record_heartbeat()
