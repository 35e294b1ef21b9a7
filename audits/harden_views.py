"""Pages of the hardened profile: preview, apply, a job's page, and undo."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audits.checklist import ITEMS_BY_ID
from audits.harden import OUTCOME_LABELS, UNDOABLE, lock_layers, plan
from audits.jobs import active_job, create_job
from audits.models import (
    HardeningProfile,
    InstitutionSettings,
    Job,
    JobKind,
    JobStatus,
    Snapshot,
    ZoomStatus,
)
from audits.presentation import show_value
from audits.views import job_for_viewer
from portal.access import require

PREVIEW_FRESH_FOR = timedelta(minutes=2)


def _profile(slug: str | None) -> HardeningProfile:
    chosen = HardeningProfile.objects.filter(slug=slug).first() if slug else None
    return chosen or HardeningProfile.default()


def _rows(entries: list[dict]) -> list[dict]:
    return [
        {
            "title": getattr(ITEMS_BY_ID.get(e["item_id"]), "title", "Profile setting"),
            "path": e["path"],
            "before": show_value(e["before"]),
            "after": show_value(e["after"]),
            "by": e.get("by", ""),
        }
        for e in entries
    ]


@require_GET
def harden_preview(request: HttpRequest) -> HttpResponse:
    require(request, "host.act", request.user)
    profile = _profile(request.GET.get("profile"))
    snapshot = (
        Snapshot.objects.filter(host=request.user, zoom_status=ZoomStatus.LINKED)
        .exclude(results={})
        .first()
    )
    fresh = bool(snapshot and timezone.now() - snapshot.taken_at < PREVIEW_FRESH_FOR)
    context = {
        "profiles": HardeningProfile.objects.all(),
        "profile": profile,
        "fresh": fresh,
        "sync_job": active_job(request.user, JobKind.SYNC),
        "change_job": active_job(request.user, JobKind.HARDEN, JobKind.UNDO),
    }
    if fresh:
        institution = InstitutionSettings.load().as_institution()
        documents = snapshot.documents
        preview = plan(
            documents["settings"], lock_layers(documents), profile.overrides, institution
        ).to_dict()
        context.update(
            snapshot=snapshot,
            changes=_rows(preview["changes"]),
            locked=_rows(preview["locked"]),
            already=_rows(preview["already"]),
        )
    return render(request, "audits/harden.html", context)


@require_POST
def harden_apply(request: HttpRequest) -> HttpResponse:
    require(request, "host.act", request.user)
    profile = HardeningProfile.objects.filter(slug=request.POST.get("profile", "")).first()
    if profile is None:
        messages.error(request, "Choose one of the profiles listed; nothing was changed.")
        return redirect("harden")
    running = active_job(request.user, JobKind.HARDEN, JobKind.UNDO)
    if running:
        messages.info(request, "A change to your Zoom settings is already in progress.")
        return redirect("job_detail", running.pk)
    job = create_job(JobKind.HARDEN, request.user, requested_by=request.user, profile=profile)
    return redirect("job_detail", job.pk)


@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_for_viewer(request, job_id)
    host = job.host
    # The job shows the host's settings: someone else looks with a recorded reason, as on the
    # host's helpdesk page. (Imported here: helpdesk_views imports this module.)
    from audits.helpdesk_views import reason_first

    if asked := reason_first(request, host):
        return asked
    context = {
        "job": job,
        "host": host,
        "fields": job_fields(job),
        # Someone else's change is undone from the helpdesk page, where a reason is asked.
        "can_undo": _undoable(job) and host == request.user,
    }
    return render(request, "audits/job.html", context)


def job_fields(job: Job) -> list[dict]:
    """Each field of a finished job with its outcome, in words for a page."""
    return [
        {
            **field,
            "path": path,
            "title": getattr(ITEMS_BY_ID.get(field["item"]), "title", "Profile setting"),
            "label": OUTCOME_LABELS.get(field["outcome"], field["outcome"]),
            "before_text": show_value(field["before"]),
            "after_text": show_value(field["after"]),
            "now_text": show_value(field["now"]),
        }
        for path, field in (job.outcome.get("fields") or {}).items()
    ]


def _undoable(job: Job) -> bool:
    fields = (job.outcome.get("fields") or {}).values()
    applied = any(f["outcome"] in UNDOABLE for f in fields)
    undone = job.undone_by.exclude(status=JobStatus.FAILED).exists()
    return job.kind == JobKind.HARDEN and job.is_finished and applied and not undone


@require_POST
def job_undo(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_for_viewer(request, job_id, "host.act")
    host = job.host
    if host != request.user:
        messages.info(request, "Undo a change on someone's behalf from their helpdesk page.")
        return redirect("helpdesk_host", host.pk)
    if not _undoable(job):
        messages.info(request, "There is nothing left to undo for this change.")
        return redirect("job_detail", job.pk)
    undo = create_job(JobKind.UNDO, host, requested_by=request.user, undo_of=job, reason=job.reason)
    return redirect("job_detail", undo.pk)
