"""The portal's records: institution settings, snapshots of a host's Zoom settings, jobs, and
the append-only audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audits.checklist.model import DEFAULT_INSTITUTION, Institution

# pg_advisory_xact_lock key held while an audit event is chained (any number, fixed).
AUDIT_CHAIN_LOCK = 0x4A0D17


def _default_domains() -> list[str]:
    return list(DEFAULT_INSTITUTION.email_domains)


def _default_regions() -> list[str]:
    return list(DEFAULT_INSTITUTION.allowed_regions)


class InstitutionSettings(models.Model):
    """The institution's choices the checklist is measured against (one row, edited in admin)."""

    email_domains = models.JSONField(
        default=_default_domains, help_text="The institution's e-mail domains, e.g. utoronto.ca"
    )
    allowed_regions = models.JSONField(
        default=_default_regions,
        help_text="Zoom data-centre region codes meetings may use, e.g. CA",
    )
    min_client_version = models.CharField(
        max_length=40,
        default=DEFAULT_INSTITUTION.min_client_version,
        help_text="The oldest Zoom client version the institution supports, e.g. 6.0.0",
    )
    sensitive_patterns = models.TextField(
        blank=True,
        help_text="Words or regular expressions that must not appear in meeting titles, "
        "one per line. Empty: the portal's default list.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "institution settings"
        verbose_name_plural = "institution settings"

    def __str__(self) -> str:
        return "Institution settings"

    @classmethod
    def load(cls) -> InstitutionSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def as_institution(self) -> Institution:
        defaults = DEFAULT_INSTITUTION
        patterns = tuple(
            line.strip() for line in self.sensitive_patterns.splitlines() if line.strip()
        )
        return Institution(
            email_domains=tuple(d.lower() for d in self.email_domains),
            allowed_regions=tuple(self.allowed_regions),
            min_client_version=self.min_client_version,
            sensitive_patterns=patterns or defaults.sensitive_patterns,
        )


class ZoomStatus(models.TextChoices):
    LINKED = "linked", "Linked"
    NOT_FOUND = "not_found", "No Zoom user with this e-mail"
    PENDING = "pending", "Zoom account not yet activated"
    OTHER_DOMAIN = "other_domain", "Zoom user on a non-institutional e-mail domain"
    UNREACHABLE = "unreachable", "Zoom could not be reached"


class SnapshotQuerySet(models.QuerySet):
    def complete(self) -> SnapshotQuerySet:
        """The readings a host can read (see Snapshot.is_complete), newest first."""
        linked = [ZoomStatus.LINKED, ZoomStatus.OTHER_DOMAIN]
        return self.filter(zoom_status__in=linked).exclude(results={}).order_by("-taken_at", "-id")


class Snapshot(models.Model):
    """One sync of one host: Zoom's raw documents, the scored results, and when."""

    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="snapshots"
    )
    taken_at = models.DateTimeField(default=timezone.now)
    zoom_status = models.CharField(max_length=20, choices=ZoomStatus.choices)
    zoom_user_id = models.CharField(max_length=64, blank=True)
    documents = models.JSONField(default=dict)
    results = models.JSONField(default=dict)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=1, blank=True)
    error = models.TextField(blank=True, help_text="What went wrong, in words safe to show")

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["host", "-taken_at"], name="snapshot_host_recent"),
            # Zoom's webhooks name the user by Zoom id (audits.webhooks finds the host by it).
            models.Index(fields=["zoom_user_id"], name="snapshot_zoom_user"),
        ]

    def __str__(self) -> str:
        return f"{self.host} at {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def is_complete(self) -> bool:
        """A snapshot a host can read: Zoom answered and the settings were scored."""
        linked = self.zoom_status in (ZoomStatus.LINKED, ZoomStatus.OTHER_DOMAIN)
        return linked and bool(self.results)

    def item_statuses(self) -> dict[str, str]:
        return {item["id"]: item["status"] for item in self.results.get("items", [])}


class JobKind(models.TextChoices):
    SYNC = "sync", "Refresh from Zoom"
    HARDEN = "harden", "Apply a profile"
    UNDO = "undo", "Undo a profile"
    MEETINGS = "meetings", "Fix upcoming meetings"


class AuditAction(models.TextChoices):
    """What an audit event records, in the words the host's activity page shows. The values
    are stored and covered by the hash chain: never rename one."""

    LOOKUP = "lookup", "Looked at your dashboard"
    REFRESH_ON_BEHALF = "refresh_on_behalf", "Asked for a refresh from Zoom for you"
    HARDEN_ON_BEHALF = "harden_on_behalf", "Asked to apply a profile for you"
    UNDO_ON_BEHALF = "undo_on_behalf", "Asked to undo a change for you"
    HARDEN = "harden", "Applied a profile"
    UNDO = "undo", "Undid a profile"
    FIX_MEETINGS = "fix_meetings", "Fixed upcoming meetings"


def job_action(kind: str) -> AuditAction:
    """The action a job of this kind is audited as (a sync changes nothing, so it has none)."""
    return {
        JobKind.HARDEN: AuditAction.HARDEN,
        JobKind.UNDO: AuditAction.UNDO,
        JobKind.MEETINGS: AuditAction.FIX_MEETINGS,
    }[JobKind(kind)]


class JobStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    VERIFYING = "verifying", "Verifying"
    DONE = "done", "Done"
    PARTIAL = "partial", "Partly done"
    FAILED = "failed", "Failed"


FINISHED = (JobStatus.DONE, JobStatus.PARTIAL, JobStatus.FAILED)


class Job(models.Model):
    """Background work is a row: created, enqueued on commit, claimed by one worker."""

    kind = models.CharField(max_length=10, choices=JobKind.choices)
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_zoom_jobs",
    )
    reason = models.TextField(blank=True)
    profile = models.ForeignKey(
        "audits.HardeningProfile", on_delete=models.PROTECT, null=True, blank=True
    )
    undo_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="undone_by"
    )
    plan = models.JSONField(default=dict, blank=True)
    before = models.JSONField(default=dict, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    # Claims that did not end in an orderly wait: 1 while running, more after a lost worker.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Transient Zoom failures counted against the retry schedule (a 429 that names its wait
    # is not counted), and the time before which a waiting job is not sent again.
    failures = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["host", "-created_at"], name="job_host_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.host} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class HardeningProfile(models.Model):
    """A set of desired values: the institutional default, or overrides of it."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(help_text="What the profile is for and what it trades off")
    overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text="Dotted Zoom field paths and values that replace the default, e.g. "
        '{"in_meeting.waiting_room": false}',
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> HardeningProfile:
        """The institutional default, recreated from the shipped definition if it was removed."""
        from audits.checklist.profiles import PROFILES

        found = cls.objects.filter(is_default=True).first()
        if found is None:
            shipped = next(p for p in PROFILES if p["is_default"])
            found, _ = cls.objects.update_or_create(slug=shipped["slug"], defaults=shipped)
        return found


class Exemption(models.Model):
    """An approved exception: the item is shown as exempt and left out of the score."""

    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_exemptions"
    )
    item_id = models.CharField(max_length=64)
    reason = models.TextField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    ends_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["host", "item_id"], name="one_exemption_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} for {self.host} until {self.ends_on}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only")


def audit_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 of the previous event's hash and this event's content: editing an event changes
    its hash, removing one breaks the link the next event holds."""
    content = {
        "prev": prev_hash,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "actor": event.actor_id,
        "subject": event.subject_id,
        "action": event.action,
        "reason": event.reason,
        "job": event.job_id,
        "detail": event.detail,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditEvent(models.Model):
    """Who did what to whose Zoom account, when and why. Rows are never changed or deleted
    (enforced here and by database triggers), and each holds the hash of the one before it
    (`manage.py verify_audit_log` checks the chain)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events_done",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events_about",
    )
    action = models.CharField(max_length=40, db_index=True, choices=AuditAction.choices)
    reason = models.TextField(blank=True)
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "-created_at"], name="audit_subject_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        # The detail as the database will give it back, so that the hash can be checked later.
        self.detail = json.loads(json.dumps(self.detail))
        with transaction.atomic(using=kwargs.get("using")):
            connection = transaction.get_connection(kwargs.get("using"))
            if connection.vendor == "postgresql":
                # One writer at a time extends the chain, until its transaction ends (SQLite's
                # transactions here are IMMEDIATE, so already one at a time).
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
            last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
            self.prev_hash = last or ""
            self.hash = audit_hash(self.prev_hash, self)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only")

    @property
    def action_label(self) -> str:
        # Failed meetings fixes were written as "meetings" before the vocabulary was closed; the
        # hash chain forbids rewriting them, so they are read as the one action they are.
        value = AuditAction.FIX_MEETINGS if self.action == JobKind.MEETINGS else self.action
        return AuditAction(value).label if value in AuditAction.values else str(value)


class HostState(models.Model):
    """Each host's latest reading, kept by the sync in the same transaction as the snapshot, so
    that reports are GROUP BY queries over one row per host (audits.reports writes it)."""

    host = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    department = models.CharField(max_length=200, blank=True, help_text="As the person has it")
    department_key = models.CharField(max_length=200, blank=True, help_text="Case-folded")
    zoom_status = models.CharField(max_length=20, blank=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.SET_NULL, null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=1, blank=True)
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the shown reading was taken"
    )
    hardened = models.BooleanField(default=False)
    failing_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["department_key", "score"], name="hoststate_dept_score"),
            models.Index(fields=["department_key", "grade"], name="hoststate_dept_grade"),
            models.Index(fields=["department_key", "synced_at"], name="hoststate_dept_synced"),
        ]

    def __str__(self) -> str:
        return f"State of {self.host_id}: {self.score}"


class FailingItem(models.Model):
    """One checklist item that fails (or partly passes) in a host's latest reading."""

    state = models.ForeignKey(HostState, on_delete=models.CASCADE, related_name="failing")
    department_key = models.CharField(max_length=200, blank=True)
    item_id = models.CharField(max_length=64)
    status = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["state", "item_id"], name="one_failing_row_per_item")
        ]
        indexes = [models.Index(fields=["department_key", "item_id"], name="failing_dept_item")]

    def __str__(self) -> str:
        return f"{self.item_id} fails for {self.state_id}"


class WeeklyScore(models.Model):
    """The sum and number of scores synced in a department in a week (Monday): the weekly trend
    without reading every snapshot."""

    department_key = models.CharField(max_length=200, blank=True)
    week = models.DateField()
    total = models.PositiveBigIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department_key", "week"], name="one_week_per_dept")
        ]
        indexes = [models.Index(fields=["week"], name="weeklyscore_week")]

    def __str__(self) -> str:
        return f"{self.department_key} {self.week}: {self.count}"


class DepartmentTally(models.Model):
    """One counter of a department's hosts, kept by audits.reports in the same transaction as
    the host states it counts: `figure` is "hosts", "scored", "score_total", "hardened",
    "grade:<A-F>", "band:<0-9>" (tens of points) or "item:<item id>" (hosts it fails for).
    A report then sums a few hundred counters instead of reading every host."""

    department_key = models.CharField(max_length=200, blank=True)
    figure = models.CharField(max_length=80)
    count = models.BigIntegerField(default=0)
    name = models.CharField(max_length=200, blank=True, help_text="The department as last seen")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department_key", "figure"], name="one_tally_per_dept_figure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_key} {self.figure}: {self.count}"
