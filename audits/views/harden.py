"""Pages of the hardened profile: preview and apply (a job's page and undo: audits.job_views)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audits.checklist.items import ITEMS_BY_ID
from audits.jobs.machinery import active_job, create_job
from audits.models import HardeningProfile, JobKind
from audits.views.presentation import profile_preview, show_value
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
    found = profile_preview(request.user, profile)
    snapshot = found[0] if found else None
    fresh = bool(snapshot and timezone.now() - snapshot.taken_at < PREVIEW_FRESH_FOR)
    context = {
        "profiles": HardeningProfile.objects.all(),
        "profile": profile,
        "fresh": fresh,
        "sync_job": active_job(request.user, JobKind.SYNC),
        "change_job": active_job(request.user, JobKind.HARDEN, JobKind.UNDO),
    }
    if found and fresh:
        preview = found[1].to_dict()
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
