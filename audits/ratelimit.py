"""The Zoom rate budget shared by every process of the portal.

Zoom counts requests per account and per category (Light, Medium, Heavy) per second. Celery's
own rate_limit is per worker, so the budget lives in the `limits` package's moving window:
in Redis when REDIS_URL is set (shared by web, workers and beat), in process memory in the
embedded mode (each process then keeps the whole budget; the shared cool-down after a 429,
kept in Django's cache, still holds every process back).
"""

from __future__ import annotations

import time
from functools import cache

from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

LIGHT, MEDIUM, HEAVY = "LIGHT", "MEDIUM", "HEAVY"
# Sleep a little past the moment the window frees a slot: requests arrive at Zoom a few
# milliseconds after we count them, and Zoom's window must not see one too many.
WAKE_MARGIN = 0.05


@cache
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    storage: Storage = storage_from_string(redis_url) if redis_url else MemoryStorage()
    return MovingWindowRateLimiter(storage)


def _budget(category: str) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(int(getattr(settings, f"ZOOM_BUDGET_{category}")))


def acquire(category: str, account: str, max_wait: float) -> bool:
    """Take one request from the category's budget, waiting up to `max_wait` seconds.

    Answers False when no slot freed up in time (the caller reports a transient error).
    """
    limiter = _limiter(settings.REDIS_URL)
    item = _budget(category)
    deadline = time.monotonic() + max_wait
    while not limiter.hit(item, "zoom", account, category):
        reset_at = limiter.get_window_stats(item, "zoom", account, category).reset_time
        pause = max(reset_at - time.time(), 0.0) + WAKE_MARGIN
        if time.monotonic() + pause > deadline:
            return False
        time.sleep(pause)
    return True


def clear(account: str) -> None:
    """Forget the counted requests of every category (tests start from a full budget)."""
    limiter = _limiter(settings.REDIS_URL)
    for category in (LIGHT, MEDIUM, HEAVY):
        limiter.clear(_budget(category), "zoom", account, category)
