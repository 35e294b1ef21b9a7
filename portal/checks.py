"""System checks that keep an unsafe sign-in configuration from starting."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def demo_signin_needs_debug(app_configs, **kwargs) -> list[Error]:
    # Demo sign-in lets anyone be anyone: it must never run in production settings.
    if settings.PORTAL_DEMO_SIGNIN and not settings.DEBUG:
        return [
            Error(
                "PORTAL_DEMO_SIGNIN is on while DEBUG is off.",
                hint="Demo sign-in lets anyone sign in as any user. Unset PORTAL_DEMO_SIGNIN.",
                id="portal.E001",
            )
        ]
    return []
