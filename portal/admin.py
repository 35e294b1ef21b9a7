from __future__ import annotations

from django.contrib import admin

from portal.models import Person
from portal.sso import sync_staff


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Portal admins override roles here; what the IdP said stays read-only."""

    list_display = ("user", "department", "identity_provider", "last_sso_at")
    list_filter = ("department", "identity_provider")
    search_fields = ("user__email", "user__username", "department", "zoom_login")
    readonly_fields = (
        "user",
        "department",
        "affiliations",
        "groups",
        "roles",
        "admin_departments",
        "zoom_login",
        "identity_provider",
        "last_sso_at",
    )
    fields = (*readonly_fields[:6], "override_roles", "override_admin_departments")
    fields = (*fields, "zoom_login", "identity_provider", "last_sso_at")

    def has_add_permission(self, request) -> bool:
        return False  # people are created by signing in

    def save_model(self, request, obj: Person, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        sync_staff(obj.user)
