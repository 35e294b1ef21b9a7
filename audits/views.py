"""The host's own pages: the dashboard, refreshing it from Zoom, and a job's progress."""

from __future__ import annotations

from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth.views import redirect_to_login
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


def job_for_viewer(request: HttpRequest, job_id: int, action: str = "host.view") -> Job:
    """The job, for someone who may `action` its host. Anonymous people are sent to sign in
    before anything is looked up (job ids are sequential: whether one exists is not theirs to
    learn); someone else's job is a 404, as its host would be."""
    if not request.user.is_authenticated:
        raise ImmediateHttpResponse(redirect_to_login(request.get_full_path()))
    job = get_object_or_404(Job.objects.select_related("profile", "undo_of"), pk=job_id)
    job.host = get_host_or_404(request, job.host_id, action)
    return job


@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_for_viewer(request, job_id)
    # As on the job's page: someone else than the host records a reason before looking.
    from audits.helpdesk_views import reason_first

    if asked := reason_first(request, job.host):
        return asked
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
