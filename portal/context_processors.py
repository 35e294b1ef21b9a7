from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from portal.access import admin_departments_of, allowed


def portal(request: HttpRequest) -> dict[str, object]:
    return {
        "portal_name": settings.PORTAL_NAME,
        "institution_name": settings.PORTAL_INSTITUTION,
        "can": Allowed(getattr(request, "user", None) or AnonymousUser()),
    }


class Allowed:
    """What the current user may reach, for the navigation; asked of portal.access, lazily."""

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def helpdesk(self) -> bool:
        return allowed(self.user, "helpdesk.search")

    @cached_property
    def reports(self) -> bool:
        return allowed(self.user, "report.institution") or any(
            allowed(self.user, "report.department", d) for d in admin_departments_of(self.user)
        )
