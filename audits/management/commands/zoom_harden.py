"""python manage.py zoom_harden EMAIL [--profile NAME] [--dry-run] [--wait] [--json]"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from audits.jobs.machinery import create_job
from audits.jobs.plan import plan, read_fresh
from audits.jobs.sync import zoom_login_of
from audits.management.commands._jobcli import (
    add_actor_argument,
    command_line_origin,
    host_by_email,
    report,
    wait_for,
)
from audits.models import HardeningProfile, InstitutionSettings, JobKind
from audits.zoom import client as zoom

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Command(BaseCommand):
    help = "Apply a hardening profile to one host's Zoom settings (through a worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--profile", help="profile slug or name (default: the default)")
        parser.add_argument("--dry-run", action="store_true", help="show the change only")
        parser.add_argument("--wait", action="store_true", help="wait until the job ends")
        parser.add_argument("--json", action="store_true", dest="as_json")
        add_actor_argument(parser)

    def handle(self, *args: Any, email: str, profile: str | None, dry_run: bool, wait: bool,
               as_json: bool, actor: str | None, **options: Any) -> None:  # fmt: skip
        host = host_by_email(email)
        requested_by, reason = command_line_origin("zoom_harden", actor)
        chosen = _profile(profile)
        if dry_run:
            self._dry_run(host, chosen, as_json)
            return
        with transaction.atomic():
            job = create_job(JobKind.HARDEN, host, profile=chosen, requested_by=requested_by,
                             reason=reason)  # fmt: skip
        if wait:
            job = wait_for(job)
        report(self, job, as_json)
        if job.status == "failed":
            raise CommandError(job.message)

    def _dry_run(self, host: User, profile: HardeningProfile, as_json: bool) -> None:
        try:
            zoom_user_id = zoom.get_user(zoom_login_of(host))["id"]
            settings, locks = read_fresh(zoom_user_id)
        except zoom.ZoomError as error:
            raise CommandError(error.user_message) from error
        institution = InstitutionSettings.load().as_institution()
        preview = plan(settings, locks, profile.overrides, institution).to_dict()
        if as_json:
            self.stdout.write(json.dumps({"email": host.email, "profile": profile.slug,
                                          "dry_run": True, **preview}, default=str))  # fmt: skip
            return
        self.stdout.write(
            f"{host.email}, profile {profile.name}: {len(preview['changes'])} change(s)"
        )
        for change in preview["changes"]:
            self.stdout.write(
                f"  change  {change['path']}: {change['before']!r} -> {change['after']!r}"
            )
        for change in preview["locked"]:
            self.stdout.write(
                f"  locked  {change['path']}: {change['before']!r} (set by {change['by']})"
            )


def _profile(name: str | None) -> HardeningProfile:
    profiles = HardeningProfile.objects.all()
    if name is None:
        return HardeningProfile.default()
    found = profiles.filter(Q(slug=name) | Q(name__iexact=name)).first()
    if found is None:
        HardeningProfile.default()  # listed even if someone removed it
        names = ", ".join(profiles.values_list("slug", flat=True))
        raise CommandError(f"no profile {name!r}; choose one of: {names}")
    return found
