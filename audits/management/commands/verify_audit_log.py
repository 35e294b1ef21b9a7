"""python manage.py verify_audit_log: check the audit log's hash chain, event by event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audits.models import AuditEvent, audit_hash


class Command(BaseCommand):
    help = (
        "Check that no audit event was changed or removed: each event's hash must match its "
        "content and the hash of the event before it. Exits non-zero and names each break."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        prev_hash, count = "", 0
        for event in AuditEvent.objects.order_by("id").iterator():
            count += 1
            if event.prev_hash != prev_hash:
                problems.append(
                    f"before event {event.pk}: the event it follows is missing (its link to "
                    "the previous hash is broken: events were deleted)"
                )
            if audit_hash(event.prev_hash, event) != event.hash:
                problems.append(f"event {event.pk}: its content was changed after it was written")
            prev_hash = event.hash
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(
            f"{count} events, the chain is intact; the last hash is {prev_hash or '(none)'}. "
            "Keep it elsewhere: removing the newest events leaves no gap to find."
        )
