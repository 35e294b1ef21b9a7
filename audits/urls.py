from django.urls import path

from audits import harden_views, views, webhooks

urlpatterns = [
    path("me/", views.dashboard, name="dashboard"),
    path("me/refresh/", views.refresh, name="refresh"),
    path("jobs/<int:job_id>/progress/", views.job_progress, name="job_progress"),
    path("me/meetings/fix/", views.fix_meetings, name="fix_meetings"),
    path("me/harden/", harden_views.harden_preview, name="harden"),
    path("me/harden/apply/", harden_views.harden_apply, name="harden_apply"),
    path("jobs/<int:job_id>/", harden_views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/undo/", harden_views.job_undo, name="job_undo"),
    path("zoom/webhook/", webhooks.zoom_webhook, name="zoom_webhook"),
]
