"""System checks that keep an unsafe sign-in configuration from starting."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def demo_signin_needs_the_embedded_demo(app_configs, **kwargs) -> list[Error]:
    # Demo sign-in lets anyone be anyone: settings refuse it outside the embedded demo, and
    # this check catches settings changed afterwards (DEBUG off, PostgreSQL, Redis).
    embedded = (
        settings.DEBUG
        and settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        and not settings.REDIS_URL
    )
    if settings.PORTAL_DEMO_SIGNIN and not embedded:
        return [
            Error(
                "PORTAL_DEMO_SIGNIN is on outside the embedded demo.",
                hint="Demo sign-in lets anyone sign in as any user. Unset PORTAL_DEMO_SIGNIN.",
                id="portal.E001",
            )
        ]
    return []
