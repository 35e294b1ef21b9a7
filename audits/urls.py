from django.urls import path

from audits.views import dashboard as views
from audits.views import harden as harden_views
from audits.views import helpdesk as helpdesk_views
from audits.views import jobs as job_views
from audits.views import reports as report_views
from audits.views import webhooks

urlpatterns = [
    path("me/", views.dashboard, name="dashboard"),
    path("me/refresh/", views.refresh, name="refresh"),
    path("jobs/<int:job_id>/progress/", job_views.job_progress, name="job_progress"),
    path("me/meetings/fix/", views.fix_meetings, name="fix_meetings"),
    path("me/harden/", harden_views.harden_preview, name="harden"),
    path("me/harden/apply/", harden_views.harden_apply, name="harden_apply"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/undo/", job_views.job_undo, name="job_undo"),
    path("zoom/webhook/", webhooks.zoom_webhook, name="zoom_webhook"),
    path("me/activity/", helpdesk_views.activity, name="activity"),
    path("helpdesk/", helpdesk_views.search, name="helpdesk_search"),
    path("helpdesk/hosts/<int:host_id>/", helpdesk_views.host_page, name="helpdesk_host"),
    path("helpdesk/hosts/<int:host_id>/refresh/", helpdesk_views.refresh, name="helpdesk_refresh"),
    path("helpdesk/hosts/<int:host_id>/harden/", helpdesk_views.harden, name="helpdesk_harden"),
    path(
        "helpdesk/hosts/<int:host_id>/jobs/<int:job_id>/undo/",
        helpdesk_views.undo,
        name="helpdesk_undo",
    ),
    path("reports/", report_views.index, name="reports"),
    path("reports/institution/", report_views.institution, name="report_institution"),
    path("reports/department/", report_views.department, name="report_department"),
    path("reports/department/hosts.csv", report_views.export_csv, name="report_csv"),
    path("reports/department/hosts.json", report_views.export_json, name="report_json"),
    path(
        "reports/department/action-plan.csv",
        report_views.export_action_plan,
        name="report_action_plan",
    ),
]
