"""What the commands share: finding a host, waiting for a job and printing it."""

from __future__ import annotations

import getpass
import json
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from audits.models import Job

WAIT_SECONDS = 600


def host_by_email(email: str):
    """The portal user with this e-mail. Never created here: accounts come from sign-in, and
    one made by hand would stand in the way of that person's first SSO sign-in."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise CommandError(f"{email!r} is not an e-mail address") from None
    host = get_user_model().objects.filter(email__iexact=email).first()
    if host is None:
        raise CommandError(
            f"no portal user has the e-mail {email} (people appear once they sign in)"
        )
    return host


def add_actor_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--actor",
        metavar="EMAIL",
        help="the portal user on whose word this runs (recorded as the job's requester)",
    )


def command_line_origin(command: str, actor_email: str | None) -> tuple[Any, str]:
    """Who asked (the --actor's portal user, or nobody) and a reason naming the command and the
    operating-system user who ran it, shown on the job's page and in the audit log."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        os_user = "an unnamed user"
    requested_by = host_by_email(actor_email) if actor_email else None
    return requested_by, f"{command} on the command line ({os_user})"


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "host": job.host.email,
        "profile": job.profile.slug if job.profile else None,
        "undo_of": job.undo_of_id,
        "message": job.message,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "fields": (job.outcome or {}).get("fields", {}),
    }


def wait_for(job: Job, timeout: float = WAIT_SECONDS) -> Job:
    deadline = time.monotonic() + timeout
    while not job.is_finished:
        if time.monotonic() > deadline:
            raise CommandError(f"job {job.pk} is still {job.status} after {timeout:.0f} s")
        time.sleep(0.5)
        job.refresh_from_db()
    return job


def report(command: BaseCommand, job: Job, as_json: bool) -> None:
    if as_json:
        command.stdout.write(json.dumps(job_json(job), default=str))
        return
    command.stdout.write(f"job {job.pk} ({job.get_kind_display()}): {job.get_status_display()}")
    if job.message:
        command.stdout.write(job.message)
    for path, field in (job.outcome or {}).get("fields", {}).items():
        command.stdout.write(
            f"  {field['outcome']:<9} {path}: {field['before']!r} -> {field['now']!r}"
        )
