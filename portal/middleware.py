"""Request rules that hold for every page, so no view has to remember them.

- A NUL character in a query parameter is a 400 with a page saying so (PostgreSQL cannot store
  or compare text holding one, so any view that searched with it failed with a 500).
- A signed-in session ends PORTAL_SESSION_MAX_HOURS after sign-in, however busy: the idle
  timeout alone slides forever while a page polls a job's progress.
- A signed-in session's idle expiry (PORTAL_SESSION_IDLE_MINUTES) is renewed at most once a
  minute, not on every request: a page within the minute reads the session and writes nothing.
  So a session ends between IDLE - 1 and IDLE minutes after its last request.
- Whatever a signed-in person is shown (pages and exports) is `Cache-Control: no-store`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

SIGNED_IN_AT = "portal_signed_in_at"
RENEWED_AT = "portal_renewed_at"
RENEW_AFTER_SECONDS = 60
Handler = Callable[[HttpRequest], HttpResponse]


@receiver(user_logged_in)
def stamp_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT] = now
        request.session[RENEWED_AT] = now  # saved with the sign-in


def reject_nul_bytes(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or "\x00" in value for key, value in _query_items(request)):
            context = {"problem": "A parameter in the address cannot contain a NUL character."}
            return render(request, "400.html", context, status=400)
        return get_response(request)

    return middleware


def _query_items(request: HttpRequest):
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


def session_lifetime(get_response: Handler) -> Handler:
    """After AuthenticationMiddleware: sign out a session older than the absolute lifetime;
    renew the idle expiry of one last renewed more than a minute ago (changing the session
    makes SessionMiddleware save it, with a new expiry)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if not isinstance(signed_in_at, int | float):
                # A session from before this rule: its lifetime starts now.
                request.session[SIGNED_IN_AT] = now
            elif now - signed_in_at > settings.PORTAL_SESSION_MAX_HOURS * 3600:
                logout(request)
                return _sign_in_again(request)
            renewed_at = request.session.get(RENEWED_AT)
            if not isinstance(renewed_at, int | float) or now - renewed_at >= RENEW_AFTER_SECONDS:
                request.session[RENEWED_AT] = now
        return get_response(request)

    return middleware


def _sign_in_again(request: HttpRequest) -> HttpResponse:
    login = redirect_to_login(request.get_full_path())
    if request.headers.get("HX-Request") == "true":
        # A polled fragment: htmx takes the whole page to the sign-in, not into the fragment.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login["Location"]
        return response
    return login


def no_store_when_signed_in(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response

    return middleware
