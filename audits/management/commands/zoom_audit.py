"""python manage.py zoom_audit EMAIL [--json]: sync one host from Zoom and print the result."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.jobs.sync import sync_host
from audits.management.commands._jobcli import host_by_email
from audits.models import Snapshot
from audits.zoom import client as zoom

ITEM_KEYS = ("id", "status", "level", "severity", "found", "wanted", "detail")


def snapshot_json(email: str, snapshot: Snapshot) -> dict[str, Any]:
    results = snapshot.results or {}
    return {
        "email": email,
        "score": snapshot.score,
        "grade": snapshot.grade or None,
        "synced_at": snapshot.taken_at.isoformat(),
        "zoom_status": snapshot.zoom_status,
        "items": [{key: item.get(key) for key in ITEM_KEYS} for item in results.get("items", [])],
        "meetings": [
            {
                "id": meeting.get("id"),
                "topic": meeting.get("topic"),
                "findings": [
                    {key: f.get(key) for key in ("item", "status", "detail")}
                    for f in meeting.get("findings", [])
                ],
            }
            for meeting in results.get("meetings", [])
        ],
    }


class Command(BaseCommand):
    help = "Read one host's Zoom settings, score them against the checklist, and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args: Any, email: str, as_json: bool, **options: Any) -> None:
        host = host_by_email(email)
        email = host.email
        try:
            snapshot = sync_host(host)
        except zoom.ZoomError as error:  # a permanent one is a snapshot's status instead
            raise CommandError(f"Zoom did not answer: {error.user_message}") from error
        data = snapshot_json(email, snapshot)
        if as_json:
            self.stdout.write(json.dumps(data, default=str))
        else:
            self._print_text(data, snapshot)
        if not snapshot.is_complete:
            raise CommandError(snapshot.error or snapshot.get_zoom_status_display())

    def _print_text(self, data: dict[str, Any], snapshot: Snapshot) -> None:
        score = data["score"]
        self.stdout.write(f"{data['email']}: {snapshot.get_zoom_status_display()}")
        if score is not None:
            self.stdout.write(f"Score {score} / 100, grade {data['grade']}")
        for item in data["items"]:
            self.stdout.write(f"  {item['status']:<15} {item['id']}: {item['detail']}")
        for meeting in data["meetings"]:
            self.stdout.write(f"  meeting {meeting['id']} {meeting['topic']!r}")
            for finding in meeting["findings"]:
                self.stdout.write(f"    {finding['status']:<13} {finding['item']}")
