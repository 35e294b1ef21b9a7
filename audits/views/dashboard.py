"""The host's own pages: the dashboard, refreshing it from Zoom, fixing upcoming meetings."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from audits.jobs.machinery import start_once
from audits.models import JobKind
from audits.views.presentation import host_dashboard
from portal.access import require


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    require(request, "host.dashboard")
    return render(request, "audits/dashboard.html", host_dashboard(request.user, viewer="host"))


@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    require(request, "host.act", request.user)
    job = start_once(JobKind.SYNC, request.user, requested_by=request.user)
    if request.htmx:
        return render(request, "audits/_job_progress.html", {"job": job})
    return redirect("dashboard")


@require_POST
def fix_meetings(request: HttpRequest) -> HttpResponse:
    require(request, "host.act", request.user)
    job = start_once(JobKind.MEETINGS, request.user, requested_by=request.user)
    return redirect("job_detail", job.pk)
