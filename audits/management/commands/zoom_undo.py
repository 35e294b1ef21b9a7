"""python manage.py zoom_undo JOB_ID [--wait] [--json] [--actor EMAIL]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audits.jobs.machinery import create_job
from audits.management.commands._jobcli import (
    add_actor_argument,
    command_line_origin,
    report,
    wait_for,
)
from audits.models import Job, JobKind, JobStatus


class Command(BaseCommand):
    help = "Undo a hardening job: put back what it changed, where it still holds its value."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int)
        parser.add_argument("--wait", action="store_true", help="wait until the undo ends")
        parser.add_argument("--json", action="store_true", dest="as_json")
        add_actor_argument(parser)

    def handle(self, *args: Any, job_id: int, wait: bool, as_json: bool, actor: str | None,
               **options: Any) -> None:  # fmt: skip
        requested_by, reason = command_line_origin("zoom_undo", actor)
        with transaction.atomic():
            # Locked: two runs at once must not both find no undo and make one each.
            original = (
                Job.objects.select_for_update().filter(pk=job_id, kind=JobKind.HARDEN).first()
            )
            if original is None:
                raise CommandError(f"job {job_id} is not a hardening job")
            if not original.is_finished:
                raise CommandError(f"job {job_id} is still {original.status}; undo it once it ends")
            undo = original.undone_by.exclude(status=JobStatus.FAILED).first()
            if undo is not None and undo.is_finished:
                raise CommandError(f"job {job_id} was already undone by job {undo.pk}")
            if undo is None:  # else the undo under way, reported again
                undo = create_job(JobKind.UNDO, original.host, undo_of=original,
                                  requested_by=requested_by, reason=reason)  # fmt: skip
        if wait:
            undo = wait_for(undo)
        report(self, undo, as_json)
        if undo.status == "failed":
            raise CommandError(undo.message)
