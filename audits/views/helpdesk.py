"""The helpdesk: find a host, look at their dashboard with a recorded reason, and act on their
behalf (refresh, apply a profile, undo), each action with its own reason in the audit log.
A host reads every lookup and action on their account on their activity page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits.jobs.machinery import active_job, create_job, start_once, undoable
from audits.models import (
    AuditAction,
    AuditEvent,
    HardeningProfile,
    HostState,
    Job,
    JobKind,
    Snapshot,
)
from audits.reports.state import department_key
from audits.views.lookup import ReasonForm, lookup_until, remember_lookup
from audits.views.presentation import (
    STATUS_LABELS,
    changes_between,
    host_dashboard,
    job_fields,
    profile_preview,
    show_value,
)
from portal.access import allowed, get_host_or_404, hosts_visible_to, require

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SEARCH_PAGE = 25
MAX_PAGE = 1000  # deeper than anyone pages: a narrower search is the answer
HISTORY_ROWS = 20
JOB_ROWS = 10


class SearchForm(forms.Form):
    q = forms.CharField(
        label="E-mail, name or department", max_length=200, strip=True, required=True
    )


class HardenForm(ReasonForm):
    profile = forms.ModelChoiceField(
        queryset=HardeningProfile.objects.all(), to_field_name="slug", empty_label=None
    )
    field_order = ["profile", "reason"]


def search_hosts(hosts: QuerySet, text: str) -> QuerySet:
    """Hosts matching every word of `text` in their e-mail or name, or whose department is the
    word; and, for a query of several words, every host of the department it names ("Computer
    Science"). A department is matched by its whole key, so "chemistry" is not "Biochemistry".
    Each word is a UNION of per-table matches, so PostgreSQL's indexes answer it (trigram
    indexes, migration 0005, for e-mail and names; the host states' department key)."""
    users = get_user_model().objects
    words = text.split()[:5]
    matching = hosts
    for word in words:
        matches = [
            users.filter(email__icontains=word).values("pk"),
            users.filter(first_name__icontains=word).values("pk"),
            users.filter(last_name__icontains=word).values("pk"),
            HostState.objects.filter(department_key=department_key(word)).values("host_id"),
        ]
        matching = matching.filter(pk__in=matches[0].union(*matches[1:]))
    if len(words) < 2:
        return matching
    department = HostState.objects.filter(department_key=department_key(" ".join(words)))
    return hosts.filter(Q(pk__in=matching.values("pk")) | Q(pk__in=department.values("host_id")))


@dataclass
class ResultPage:
    """One page of search results without counting them all: one row more than the page
    says whether there is a next page."""

    rows: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start(self) -> int:
        return (self.number - 1) * SEARCH_PAGE + 1

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def result_page(found: QuerySet, number: str | None) -> ResultPage:
    page = int(number) if number and number.isdigit() and 0 < int(number) <= MAX_PAGE else 1
    offset = (page - 1) * SEARCH_PAGE
    rows = list(found[offset : offset + SEARCH_PAGE + 1])
    return ResultPage(rows[:SEARCH_PAGE], page, len(rows) > SEARCH_PAGE)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    require(request, "helpdesk.search")
    form = SearchForm(request.GET or None)
    page = None
    if form.is_valid():
        found = (
            search_hosts(hosts_visible_to(request.user), form.cleaned_data["q"])
            .select_related("person", "state")
            .order_by("email", "pk")
        )
        page = result_page(found, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "audits/helpdesk_search.html", context)


def _history(host: User) -> list[dict[str, Any]]:
    """The latest syncs, newest first, each with what changed since the previous reading."""
    snapshots = list(Snapshot.objects.filter(host=host)[: HISTORY_ROWS + 1])
    rows = []
    for index, snapshot in enumerate(snapshots[:HISTORY_ROWS]):
        older = next((s for s in snapshots[index + 1 :] if s.is_complete), None)
        rows.append(
            {
                "snapshot": snapshot,
                "changes": changes_between(snapshot, older) if snapshot.is_complete else [],
                "first": older is None,
            }
        )
    return rows


def _preview(host: User, profile: HardeningProfile) -> dict[str, Any] | None:
    found = profile_preview(host, profile)
    if found is None:
        return None
    snapshot, changes = found
    rows = [{"path": c.path, "before": show_value(c.before), "after": show_value(c.after)}
            for c in changes.changes]  # fmt: skip
    return {"snapshot": snapshot, "profile": profile, "changes": rows}


def _host_page(request: HttpRequest, host: User, status: int = 200, **forms_: Any) -> HttpResponse:
    until = lookup_until(request, host)
    if until is None:
        form = forms_.get("reason_form") or ReasonForm()
        return render(
            request, "audits/helpdesk_reason.html", {"host": host, "form": form}, status=status
        )
    profile = HardeningProfile.objects.filter(slug=request.GET.get("profile") or "").first()
    profile = profile or HardeningProfile.default()
    jobs = list(
        Job.objects.filter(host=host)
        .exclude(kind=JobKind.SYNC)
        .select_related("profile", "requested_by", "undo_of")[:JOB_ROWS]
    )
    can_act = allowed(request.user, "host.act", host)
    context = {
        **host_dashboard(host, viewer="helpdesk"),
        "lookup_until": datetime.fromtimestamp(until, tz=timezone.get_current_timezone()),
        "history": _history(host),
        "jobs": [
            {"job": job, "fields": job_fields(job), "undoable": can_act and undoable(job)}
            for job in jobs
        ],
        "can_act": can_act,
        "preview": _preview(host, profile) if can_act else None,
        "refresh_form": forms_.get("refresh_form") or ReasonForm(prefix_id="refresh"),
        "harden_form": forms_.get("harden_form")
        or HardenForm(prefix_id="harden", initial={"profile": profile}),
        "undo_form": forms_.get("undo_form"),
        "undo_job_id": forms_.get("undo_job_id"),
        "status_labels": STATUS_LABELS,
    }
    return render(request, "audits/helpdesk_host.html", context, status=status)


@require_http_methods(["GET", "POST"])
def host_page(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_host_or_404(request, host_id, "host.view")
    if host == request.user:
        return redirect("dashboard")
    if request.method == "POST":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return _host_page(request, host, status=400, reason_form=form)
        AuditEvent.objects.create(
            actor=request.user,
            subject=host,
            action=AuditAction.LOOKUP,
            reason=form.cleaned_data["reason"],
        )
        remember_lookup(request, host)
        return redirect("helpdesk_host", host.pk)
    return _host_page(request, host)


def _audit(
    request: HttpRequest, host: User, action: AuditAction, reason: str, job: Job, **detail: Any
) -> None:
    AuditEvent.objects.create(
        actor=request.user, subject=host, action=action, reason=reason, job=job, detail=detail
    )


@require_POST
def refresh(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_host_or_404(request, host_id, "host.act")
    form = ReasonForm(request.POST, prefix_id="refresh")
    if not form.is_valid():
        return _host_page(request, host, status=400, refresh_form=form)
    reason = form.cleaned_data["reason"]
    with transaction.atomic():
        job = start_once(JobKind.SYNC, host, requested_by=request.user, reason=reason)
        _audit(request, host, AuditAction.REFRESH_ON_BEHALF, reason, job)
    messages.success(request, "Refresh asked for: Zoom is read again in a few seconds.")
    return redirect("helpdesk_host", host.pk)


@require_POST
def harden(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_host_or_404(request, host_id, "host.act")
    form = HardenForm(request.POST, prefix_id="harden")
    if not form.is_valid():
        return _host_page(request, host, status=400, harden_form=form)
    running = active_job(host, JobKind.HARDEN, JobKind.UNDO)
    if running:
        messages.info(request, "A change to this host's Zoom settings is already in progress.")
        return redirect("job_detail", running.pk)
    profile, reason = form.cleaned_data["profile"], form.cleaned_data["reason"]
    with transaction.atomic():
        job = create_job(
            JobKind.HARDEN, host, requested_by=request.user, reason=reason, profile=profile
        )
        _audit(request, host, AuditAction.HARDEN_ON_BEHALF, reason, job, profile=profile.slug)
    return redirect("job_detail", job.pk)


@require_POST
def undo(request: HttpRequest, host_id: int, job_id: int) -> HttpResponse:
    host = get_host_or_404(request, host_id, "host.act")
    job = get_object_or_404(Job, pk=job_id, host=host)
    form = ReasonForm(request.POST, prefix_id=f"undo-{job.pk}")
    if not form.is_valid():
        return _host_page(request, host, status=400, undo_form=form, undo_job_id=job.pk)
    if not undoable(job):
        messages.info(request, "There is nothing left to undo for this change.")
        return redirect("helpdesk_host", host.pk)
    reason = form.cleaned_data["reason"]
    with transaction.atomic():
        undo_job = create_job(
            JobKind.UNDO, host, requested_by=request.user, reason=reason, undo_of=job
        )
        _audit(request, host, AuditAction.UNDO_ON_BEHALF, reason, undo_job, undo_of=job.pk)
    return redirect("job_detail", undo_job.pk)


@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    require(request, "host.dashboard")
    events = AuditEvent.objects.filter(subject=request.user).select_related(
        "actor", "job", "job__profile"
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [{"event": event, "label": event.action_label} for event in page]
    return render(request, "audits/activity.html", {"page": page, "rows": rows})
