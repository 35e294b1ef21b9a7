"""python manage.py zoom_undo JOB_ID [--wait] [--json]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audits.jobs import create_job
from audits.management.commands._jobcli import report, wait_for
from audits.models import Job, JobKind


class Command(BaseCommand):
    help = "Undo a hardening job: put back what it changed, where it still holds its value."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int)
        parser.add_argument("--wait", action="store_true", help="wait until the undo ends")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args: Any, job_id: int, wait: bool, as_json: bool, **options: Any) -> None:
        original = Job.objects.filter(pk=job_id, kind=JobKind.HARDEN).first()
        if original is None:
            raise CommandError(f"job {job_id} is not a hardening job")
        if not original.is_finished:
            raise CommandError(f"job {job_id} is still {original.status}; undo it once it ends")
        with transaction.atomic():
            undo = create_job(JobKind.UNDO, original.host, undo_of=original,
                              reason="zoom_undo command")  # fmt: skip
        if wait:
            undo = wait_for(undo)
        report(self, undo, as_json)
        if undo.status == "failed":
            raise CommandError(undo.message)
