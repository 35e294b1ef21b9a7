"""Break-glass sign-in: a superuser's password opens the Django admin, and nothing else.

Failures are counted in the cache per client IP and per username; past the limit
(PORTAL_ADMIN_LOGIN_FAILURES in PORTAL_ADMIN_LOGIN_WINDOW_MINUTES) the admin's login answers
429 without checking the password. REMOTE_ADDR is the client as the WSGI server saw it.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


def _keys(request: HttpRequest, username: str) -> list[str]:
    ip = request.META.get("REMOTE_ADDR", "unknown")
    # Hashed: the cache key must not carry whatever a stranger typed as a username.
    user_hash = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return [f"signin-failures:ip:{ip}", f"signin-failures:user:{user_hash}"]


def _window() -> int:
    return settings.PORTAL_ADMIN_LOGIN_WINDOW_MINUTES * 60


def is_locked(request: HttpRequest, username: str) -> bool:
    counts = cache.get_many(_keys(request, username))
    return any(count >= settings.PORTAL_ADMIN_LOGIN_FAILURES for count in counts.values())


def record_failure(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        # add() starts the window at the first failure; incr() keeps its expiry.
        if not cache.add(key, 1, _window()):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, _window())


@receiver(user_login_failed)
def count_failed_password(sender, credentials: dict, request: HttpRequest | None = None, **kw):
    if request is not None:
        record_failure(request, str(credentials.get("username", "")))


@never_cache
def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    if request.method == "POST" and is_locked(request, request.POST.get("username", "")):
        minutes = settings.PORTAL_ADMIN_LOGIN_WINDOW_MINUTES
        return render(request, "portal/signin_locked.html", {"minutes": minutes}, status=429)
    return admin.site.login(request, extra_context)
