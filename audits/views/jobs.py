"""A job's pages: its progress, its outcome field by field, and undoing a hardening."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from audits.jobs.machinery import create_job, undoable
from audits.models import JobKind
from audits.views.lookup import job_for_viewer, reason_first
from audits.views.presentation import job_fields


@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_for_viewer(request, job_id)
    # As on the job's page: someone else than the host records a reason before looking.
    if asked := reason_first(request, job.host):
        return asked
    response = render(request, "audits/_job_progress.html", {"job": job})
    if job.is_finished and request.htmx:
        # The page's score and items are now out of date: reload it to show the new ones.
        response["HX-Refresh"] = "true"
    return response


@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_for_viewer(request, job_id)
    host = job.host
    # The job shows the host's settings: someone else looks with a recorded reason, as on the
    # host's helpdesk page.
    if asked := reason_first(request, host):
        return asked
    context = {
        "job": job,
        "host": host,
        "fields": job_fields(job),
        # Someone else's change is undone from the helpdesk page, where a reason is asked.
        "can_undo": undoable(job) and host == request.user,
    }
    return render(request, "audits/job.html", context)


@require_POST
def job_undo(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_for_viewer(request, job_id, "host.act")
    host = job.host
    if host != request.user:
        messages.info(request, "Undo a change on someone's behalf from their helpdesk page.")
        return redirect("helpdesk_host", host.pk)
    if not undoable(job):
        messages.info(request, "There is nothing left to undo for this change.")
        return redirect("job_detail", job.pk)
    undo = create_job(JobKind.UNDO, host, requested_by=request.user, undo_of=job, reason=job.reason)
    return redirect("job_detail", undo.pk)
