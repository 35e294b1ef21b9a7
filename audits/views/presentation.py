"""What a host's pages show, built from snapshots and the checklist (never written twice)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from redis.exceptions import RedisError

from audits.checklist import items as checklist_items
from audits.checklist.items import GROUPS, ITEMS_BY_ID, meeting_fixes
from audits.jobs.machinery import active_job
from audits.jobs.plan import OUTCOME_LABELS, Plan, lock_layers, plan
from audits.models import HardeningProfile, InstitutionSettings, Job, JobKind, Snapshot, ZoomStatus
from audits.reports.charts import line_chart, score_gauge

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Words first: colour is never the only signal of a status.
STATUS_LABELS = {
    "pass": "Pass",
    "partial": "Partly",
    "fail": "Fail",
    "locked": "Set by your institution",
    "managed": "Managed by the institution",
    "not_applicable": "Not applicable",
    "unknown": "Unknown",
    "exempt": "Exempt",
    "advisory": "Advice",
}
STATUS_CLASSES = {
    "pass": "text-bg-success",
    "partial": "text-bg-warning",
    "fail": "text-bg-danger",
    "locked": "text-bg-secondary",
    "managed": "text-bg-secondary",
    "not_applicable": "text-bg-light border",
    "unknown": "text-bg-dark",
    "exempt": "text-bg-info",
    "advisory": "text-bg-light border",
}
log = logging.getLogger(__name__)
STALE_AFTER = timedelta(days=7)
HISTORY_LENGTH = 30
SHOWS_LAST_GOOD = {ZoomStatus.LINKED, ZoomStatus.OTHER_DOMAIN, ZoomStatus.UNREACHABLE}
CHECKLIST_TEMPLATE = "audits/_checklist_items.html"
SECTIONS_CACHE_SECONDS = 7 * 24 * 3600
VIEWER_KINDS = frozenset({"host", "helpdesk"})


def _deploy_version() -> str:
    """Changes with what the cached sections are made from: their templates, this module
    and the checklist's texts. Read once a process, so a deploy never serves an older section."""
    digest = hashlib.sha256()
    templates = Path(settings.BASE_DIR) / "templates"
    for path in (
        templates / CHECKLIST_TEMPLATE,
        templates / "audits/_changes.html",
        templates / "audits/_meeting_cards.html",
        Path(__file__),
        Path(checklist_items.__file__),
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


DEPLOY_VERSION = _deploy_version()


@dataclass
class ItemRow:
    item: Any
    status: str
    found: Any
    wanted: Any
    detail: str

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def badge_class(self) -> str:
        return STATUS_CLASSES.get(self.status, "text-bg-secondary")


def show_value(value: Any) -> str:
    if value is None:
        return "not reported by Zoom"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value) or "none"
    if isinstance(value, dict):
        if len(value) == 1:  # one field: its value says it all (the item's title names it)
            return show_value(next(iter(value.values())))
        return "; ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    return str(value)


def grouped_items(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: dict[str, list[ItemRow]] = {group.id: [] for group in GROUPS}
    for result in results.get("items", []):
        item = ITEMS_BY_ID.get(result["id"])
        if item is None:
            continue
        rows[item.group].append(
            ItemRow(
                item=item,
                status=result["status"],
                found=show_value(result.get("found")),
                wanted=show_value(result.get("wanted")),
                detail=result.get("detail", ""),
            )
        )
    return [{"group": group, "rows": rows[group.id]} for group in GROUPS if rows[group.id]]


def meetings_with_findings(results: dict[str, Any]) -> list[dict[str, Any]]:
    meetings = []
    for meeting in results.get("meetings", []):
        findings = [
            {
                **finding,
                "label": STATUS_LABELS.get(finding["status"], finding["status"]),
                "badge_class": STATUS_CLASSES.get(finding["status"], ""),
                "title": getattr(ITEMS_BY_ID.get(finding["item"]), "title", finding["item"]),
            }
            for finding in meeting.get("findings", [])
        ]
        meetings.append({**meeting, "findings": findings})
    return meetings


def changes_between(newer: Snapshot, older: Snapshot | None) -> list[dict[str, str]]:
    """Items whose status differs from the previous complete snapshot."""
    if older is None:
        return []
    before, after = older.item_statuses(), newer.item_statuses()
    return [
        {
            "title": ITEMS_BY_ID[item_id].title,
            "before": STATUS_LABELS.get(before.get(item_id, ""), "not checked"),
            "after": STATUS_LABELS.get(status, status),
        }
        for item_id, status in after.items()
        if before.get(item_id) != status and item_id in ITEMS_BY_ID
    ]


def snapshot_sections(
    shown: Snapshot | None, previous: Snapshot | None, viewer: str
) -> dict[str, Any]:
    """The dashboard's sections that one snapshot decides (the checklist, the changes since the
    previous reading, the upcoming meetings), rendered once and kept in the cache: a snapshot
    never changes, so its id with the viewer's kind, the deploy and the language is the key."""
    if viewer not in VIEWER_KINDS:
        raise ValueError(f"unknown viewer kind {viewer!r}")
    if shown is None:
        return {
            "checklist_html": "",
            "changes_html": "",
            "meetings_html": "",
            "meetings_to_fix": False,
        }
    # taken_at too: a test database rolled back (or a database restored) may reuse an id.
    snapshot_key = f"{shown.pk}-{shown.taken_at.timestamp()}"
    language = translation.get_language()
    key = f"dashboard-sections:{snapshot_key}:{viewer}:{DEPLOY_VERSION}:{language}"
    try:
        sections = cache.get(key)
    except (RedisError, OSError) as exc:  # the cache is a saving: the page is served without it
        log.warning("dashboard sections: cache unavailable (%s)", exc)
        sections, key = None, None
    if sections is None:
        results = shown.results
        fixed_by_meetings_fix = {item_id for item_id, _ in meeting_fixes().values()}
        sections = {
            "checklist_html": render_to_string(
                CHECKLIST_TEMPLATE,
                {"groups": grouped_items(results), "privacy_url": reverse("privacy")},
            ),
            "changes_html": render_to_string(
                "audits/_changes.html", {"changes": changes_between(shown, previous)}
            ),
            "meetings_html": render_to_string(
                "audits/_meeting_cards.html", {"meetings": meetings_with_findings(results)}
            ),
            "meetings_to_fix": any(
                finding["status"] in ("fail", "partial")
                and finding["item"] in fixed_by_meetings_fix
                for meeting in results.get("meetings", [])
                for finding in meeting.get("findings", [])
            ),
        }
        if key is not None:
            try:
                cache.set(key, sections, SECTIONS_CACHE_SECONDS)
            except (RedisError, OSError) as exc:
                log.warning("dashboard sections: cache unavailable (%s)", exc)
    # Rendered by the template engine, which escaped them there.
    return {
        name: mark_safe(value) if isinstance(value, str) else value  # noqa: S308
        for name, value in sections.items()
    }


def history_chart(host: User) -> dict[str, Any]:
    scored = list(
        Snapshot.objects.filter(host=host, score__isnull=False)
        .order_by("-taken_at")
        .values_list("taken_at", "score")[:HISTORY_LENGTH]
    )[::-1]
    if not scored:
        return {"svg": None, "points": []}
    first, last = scored[0], scored[-1]
    description = (
        f"{len(scored)} syncs from {first[0]:%Y-%m-%d} to {last[0]:%Y-%m-%d}; "
        f"the score went from {first[1]} to {last[1]}."
    )
    svg = line_chart(scored, title="Your score over time", description=description)
    return {"svg": svg, "points": scored, "description": description}


def host_dashboard(host: User, *, viewer: str = "host") -> dict[str, Any]:
    """What the dashboard shows; viewer is "host" (their own) or "helpdesk" (someone else's)."""
    # The documents and results are read only when the sections are not in the cache.
    latest = Snapshot.objects.filter(host=host).defer("documents", "results").first()
    good = list(Snapshot.objects.complete().filter(host=host).defer("documents", "results")[:2])
    last_good = good[0] if good else None
    active = active_job(host, JobKind.SYNC)
    now = timezone.now()
    state = latest.zoom_status if latest else "never"
    # After "not found" or "pending", an older reading describes a link that no longer holds.
    shown = last_good if state in SHOWS_LAST_GOOD else None
    previous = good[1] if shown and len(good) > 1 else None
    return {
        "host": host,
        "latest": latest,
        "last_good": shown,
        "state": state,
        "stale": bool(shown and now - shown.taken_at > STALE_AFTER),
        "gauge": score_gauge(shown.score, shown.grade or None) if shown else None,
        **snapshot_sections(shown, previous, viewer),
        "history": history_chart(host),
        "active_job": active,
        "recent_jobs": Job.objects.filter(host=host)
        .exclude(kind=JobKind.SYNC)
        .select_related("profile")[:5],
    }


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


def profile_preview(host: User, profile: HardeningProfile) -> tuple[Snapshot, Plan] | None:
    """What the profile would change for the host, from their last complete reading (Zoom is
    read again when the job runs); None without one. The host's and the helpdesk's previews."""
    snapshot = Snapshot.objects.complete().filter(host=host).first()
    if snapshot is None or not snapshot.documents.get("settings"):
        return None
    documents = snapshot.documents
    institution = InstitutionSettings.load().as_institution()
    return snapshot, plan(
        documents["settings"], lock_layers(documents), profile.overrides, institution
    )
