"""Break-glass sign-in: a superuser's password opens the Django admin, and nothing else.

Tries are counted in the cache per client address and username together: past the limit
(PORTAL_ADMIN_LOGIN_FAILURES in PORTAL_ADMIN_LOGIN_WINDOW_MINUTES) the admin's login answers 429
without checking the password. Counting per pair, not per username or per address, keeps a
stranger from locking the real admin out (or everyone behind the same proxy). The count goes up
before the password is checked, atomically in Redis, so parallel tries cannot all slip under
the limit; a successful sign-in clears it.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind PORTAL_TRUSTED_PROXY_HOPS proxies the
    address the outermost of them saw. Entries further left were written by the client."""
    hops = settings.PORTAL_TRUSTED_PROXY_HOPS
    remote = request.META.get("REMOTE_ADDR", "unknown")
    if hops == 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [a.strip() for a in forwarded.split(",") if a.strip()] + [remote]
    return chain[max(0, len(chain) - 1 - hops)]


def _key(request: HttpRequest, username: str) -> str:
    # Hashed: the cache key must not carry whatever a stranger typed.
    who = f"{client_address(request)}\0{username.strip().casefold()}"
    return f"signin-tries:{hashlib.sha256(who.encode()).hexdigest()[:40]}"


def count_try(request: HttpRequest, username: str) -> int:
    """This try's number in the window, counted before the password is looked at."""
    key, window = _key(request, username), settings.PORTAL_ADMIN_LOGIN_WINDOW_MINUTES * 60
    # add() starts the window at the first try; incr() is atomic in Redis and keeps the expiry.
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.add(key, 1, window)
        return 1


@never_cache
def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    username = request.POST.get("username", "")
    if count_try(request, username) > settings.PORTAL_ADMIN_LOGIN_FAILURES:
        minutes = settings.PORTAL_ADMIN_LOGIN_WINDOW_MINUTES
        return render(request, "portal/signin_locked.html", {"minutes": minutes}, status=429)
    response = admin.site.login(request, extra_context)
    if request.user.is_authenticated:
        cache.delete(_key(request, username))
    return response
