"""allauth adapters: no local sign-up, SSO refusals before any session, sign-out that offers
the IdP's logout."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from portal.sso import (
    SESSION_IDP_KEY,
    profile_from_sociallogin,
    refuse_reason,
    render_refusal,
    withdraw,
)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Hosts never sign up with a password; accounts come from single sign-on only.
        return False

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        # Called before the session ends: remember which IdP to offer a logout for.
        identity_provider = request.session.get(SESSION_IDP_KEY, "")
        url = reverse("signed_out")
        return f"{url}?{urlencode({'idp': identity_provider})}" if identity_provider else url


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Refuse here, before allauth creates a user or a session; someone who was let in
        before loses the sessions and roles they still hold."""
        profile = profile_from_sociallogin(sociallogin)
        reason = refuse_reason(profile)
        if reason:
            if sociallogin.is_existing:
                withdraw(sociallogin.user, profile)
            raise ImmediateHttpResponse(render_refusal(request, profile, reason))

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = profile_from_sociallogin(sociallogin).email
        return user
