"""What a portal admin edits in the Django admin: institution settings, profiles, exemptions.
Snapshots, jobs and the audit log are shown read-only; the audit log can never be changed."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from audits.models import AuditEvent, Exemption, HardeningProfile, InstitutionSettings, Job


@admin.register(InstitutionSettings)
class InstitutionSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email_domains", "allowed_regions", "min_client_version")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not InstitutionSettings.objects.exists()  # one row

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(HardeningProfile)
class HardeningProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_default")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Exemption)
class ExemptionAdmin(admin.ModelAdmin):
    list_display = ("host", "item_id", "ends_on", "approved_by")
    search_fields = ("host__email", "item_id")
    autocomplete_fields = ()
    raw_id_fields = ("host", "approved_by")

    def save_model(self, request: HttpRequest, obj: Exemption, form, change: bool) -> None:
        obj.approved_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "status", "host", "requested_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("host__email",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "subject", "reason")
    list_filter = ("action",)
    search_fields = ("subject__email", "actor__email", "reason")
