"""Someone else than the host looks at a host's settings only with a recorded reason: the
reason form, the lookups a session has recorded, and the job a viewer may see."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from audits.models import Job
from portal.access import get_host_or_404

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LOOKUP_SECONDS = 30 * 60  # a recorded reason covers one host for this long in one session
LOOKUPS_KEY = "helpdesk_lookups"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        help_text="A ticket number or a sentence. The host sees it on their activity page.",
        max_length=500,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, prefix_id: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if prefix_id:
            self.auto_id = f"id_{prefix_id}_%s"


def lookup_until(request: HttpRequest, host: User) -> float | None:
    until = request.session.get(LOOKUPS_KEY, {}).get(str(host.pk))
    return until if until and until > time.time() else None


def reason_first(request: HttpRequest, host: User) -> HttpResponse | None:
    """The reason form, when someone else than the host has recorded no reason to look."""
    if host == request.user or lookup_until(request, host) is not None:
        return None
    return render(request, "audits/helpdesk_reason.html", {"host": host, "form": ReasonForm()})


def remember_lookup(request: HttpRequest, host: User) -> None:
    now = time.time()
    lookups = {k: v for k, v in request.session.get(LOOKUPS_KEY, {}).items() if v > now}
    lookups[str(host.pk)] = now + LOOKUP_SECONDS
    request.session[LOOKUPS_KEY] = lookups


def job_for_viewer(request: HttpRequest, job_id: int, action: str = "host.view") -> Job:
    """The job, for someone who may `action` its host. Anonymous people are sent to sign in
    before anything is looked up (job ids are sequential: whether one exists is not theirs to
    learn); someone else's job is a 404, as its host would be."""
    if not request.user.is_authenticated:
        raise ImmediateHttpResponse(redirect_to_login(request.get_full_path()))
    job = get_object_or_404(Job.objects.select_related("profile", "undo_of"), pk=job_id)
    job.host = get_host_or_404(request, job.host_id, action)
    return job
