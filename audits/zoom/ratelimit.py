"""The Zoom rate budget shared by every process of the portal, spent at an even pace.

Zoom counts requests per account and per category (Light, Medium, Heavy) in a moving
one-second window. A limiter that counts the same window lets a burst through at the start of
each second, and since a request reaches Zoom a few milliseconds after it is counted, Zoom's
window sometimes sees one too many (a 429 that cools every process down). So the budget is a
schedule instead (GCRA, the "generic cell rate algorithm"): each request is given the next free
slot, one emission interval (1 / budget seconds, and a little more: see SPREAD) after the
previous one, and its caller sleeps until then. Requests are never closer than the interval,
whichever process sends them.

With REDIS_URL the schedule lives in Redis and one Lua script takes a slot atomically for web,
workers and beat alike, on Redis's own clock. In the embedded mode it lives in process memory
(each process then keeps the whole budget; the shared cool-down after a 429, kept in Django's
cache, still holds every process back).
"""

from __future__ import annotations

import threading
import time
from functools import cache

import redis
from django.conf import settings

LIGHT, MEDIUM, HEAVY = "LIGHT", "MEDIUM", "HEAVY"
# Requests reach Zoom a little after their slots, each by a different delay: measured under
# load (load average 3 to 9 on 2 cores) 1 ms typically, 16 to 31 ms at the 99th percentile,
# now and then 100 ms or more. Slots exactly 1/budget apart would put budget + 1 requests in
# some of Zoom's one-second windows as soon as two delays differ, leaving no room for a late
# one. So one budget's worth of slots is spread over 1 s + SPREAD: a window then holds at most
# `budget` requests whose delays differ by less than SPREAD, and the one request a second that
# a budget below Zoom's limit leaves over absorbs a single later one.
# (Skipping a slot woken late for, tried too: under heavy load it wasted 9 % of the slots and
# saw more 429s than spreading alone.)
SPREAD = 0.025

# KEYS[1]: the slot after the last one given (seconds, Redis clock). ARGV: interval, max_wait.
# Answers {taken (1/0), the slot's time, now}; times as strings (Lua numbers become integers).
TAKE_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
if slot - now > tonumber(ARGV[2]) then
  return {0, tostring(slot), tostring(now)}
end
local keep_ms = math.ceil((slot + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', keep_ms)
return {1, string.format('%.6f', slot), string.format('%.6f', now)}
"""


class _MemorySchedule:
    """The same schedule for one process, on its monotonic clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def take(self, key: str, interval: float, max_wait: float) -> tuple[bool, float, float]:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next.get(key, 0.0), now)
            if slot - now > max_wait:
                return False, slot, now
            self._next[key] = slot + interval
            return True, slot, now

    def clear(self, key: str) -> None:
        with self._lock:
            self._next.pop(key, None)


_memory = _MemorySchedule()


@cache
def _redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@cache
def _script(redis_url: str):
    return _redis(redis_url).register_script(TAKE_SLOT)


def _key(account: str, category: str) -> str:
    return f"zoom:pace:{account}:{category}"


def _interval(category: str) -> float:
    return (1.0 + SPREAD) / int(getattr(settings, f"ZOOM_BUDGET_{category}"))


def reserve(category: str, account: str, max_wait: float) -> tuple[float, float] | None:
    """Take the next slot of the category's schedule if it comes within `max_wait` seconds.

    Answers (the slot's time, the time now) on the schedule's clock (Redis's, or this
    process's monotonic clock), or None without taking a slot.
    """
    key, interval = _key(account, category), _interval(category)
    if settings.REDIS_URL:
        taken, slot, now = _script(settings.REDIS_URL)(keys=[key], args=[interval, max_wait])
        if not int(taken):
            return None
        return float(slot), float(now)
    taken, slot, now = _memory.take(key, interval, max_wait)
    return (slot, now) if taken else None


def acquire(category: str, account: str, max_wait: float) -> bool:
    """Wait for this request's slot in the category's budget, up to `max_wait` seconds.

    Answers False at once when the next free slot is further away (the caller reports a
    transient error).
    """
    reserved = reserve(category, account, max_wait)
    if reserved is None:
        return False
    slot, now = reserved
    time.sleep(max(slot - now, 0.0))  # from the answer: never before the slot
    return True


def clear(account: str) -> None:
    """Forget the schedule of every category (tests start from a full budget)."""
    keys = [_key(account, category) for category in (LIGHT, MEDIUM, HEAVY)]
    if settings.REDIS_URL:
        _redis(settings.REDIS_URL).delete(*keys)
    for key in keys:
        _memory.clear(key)
