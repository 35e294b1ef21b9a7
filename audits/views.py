"""The host's own pages: the dashboard, refreshing it from Zoom, and a job's progress."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from audits.jobs import start_once
from audits.models import Job, JobKind
from audits.presentation import host_dashboard
from portal.access import get_host_or_404, require


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    require(request, "host.dashboard")
    return render(request, "audits/dashboard.html", host_dashboard(request.user))


@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    require(request, "host.act", request.user)
    job = start_once(JobKind.SYNC, request.user, requested_by=request.user)
    if request.htmx:
        return render(request, "audits/_job_progress.html", {"job": job})
    return redirect("dashboard")


@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    # 404, not 403, for someone else's job: its existence is not theirs to know.
    get_host_or_404(request, job.host_id)
    response = render(request, "audits/_job_progress.html", {"job": job})
    if job.is_finished and request.htmx:
        # The page's score and items are now out of date: reload it to show the new ones.
        response["HX-Refresh"] = "true"
    return response


@require_POST
def fix_meetings(request: HttpRequest) -> HttpResponse:
    require(request, "host.act", request.user)
    job = start_once(JobKind.MEETINGS, request.user, requested_by=request.user)
    return redirect("job_detail", job.pk)
