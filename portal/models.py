"""A person who signs in: what their identity provider said about them, and what it means here."""

from __future__ import annotations

from django.conf import settings
from django.db import models

ROLE_HOST = "host"
ROLE_HELPDESK = "helpdesk"
ROLE_DEPT_ADMIN = "dept_admin"
ROLE_PORTAL_ADMIN = "portal_admin"
ROLES = (ROLE_HOST, ROLE_HELPDESK, ROLE_DEPT_ADMIN, ROLE_PORTAL_ADMIN)


class Person(models.Model):
    """One per user who signed in. Refreshed from the identity provider at every sign-in.

    `roles` and `admin_departments` are what the role map made of the IdP's groups at the last
    sign-in; a portal admin may override either in the Django admin (`override_*`, which win
    when set, and survive the next sign-in).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person"
    )
    department = models.CharField(max_length=200, blank=True, db_index=True)
    affiliations = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True, help_text="As last seen at sign-in.")
    roles = models.JSONField(default=list, blank=True, help_text="Mapped from the IdP's groups.")
    admin_departments = models.JSONField(
        default=list, blank=True, help_text="Departments a dept_admin role was mapped for."
    )
    override_roles = models.JSONField(
        null=True,
        blank=True,
        help_text='When set, replaces the mapped roles, e.g. ["helpdesk"]. "host" is implied.',
    )
    override_admin_departments = models.JSONField(
        null=True,
        blank=True,
        help_text='When set, replaces the mapped admin departments, e.g. ["Physics"].',
    )
    zoom_login = models.CharField(
        max_length=254,
        blank=True,
        db_index=True,
        help_text="The e-mail or ID the Zoom sync uses to find this person's Zoom user.",
    )
    identity_provider = models.CharField(max_length=200, blank=True)
    last_sso_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.user.email or self.user.get_username()

    def effective_roles(self) -> frozenset[str]:
        chosen = self.roles if self.override_roles is None else self.override_roles
        return frozenset({ROLE_HOST, *(r for r in chosen if r in ROLES)})

    def effective_admin_departments(self) -> frozenset[str]:
        chosen = (
            self.admin_departments
            if self.override_admin_departments is None
            else self.override_admin_departments
        )
        return frozenset(d.strip() for d in chosen if isinstance(d, str) and d.strip())
