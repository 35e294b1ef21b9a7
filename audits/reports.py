"""Department and institution reports: each host's latest state, kept by the sync, and the
queries over it. Every figure is a GROUP BY in the database, so a report costs the same number
of queries for 5 hosts as for 100,000.

"Hardened" here means: every setting the recommended profile sets passes in the host's latest
reading (or is decided by the institution, exempt or not applicable). It is read from the
settings themselves, so a host who set them by hand counts, and one who undid them does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Least
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from audits.charts import bar_chart, line_chart
from audits.checklist import ITEMS, ITEMS_BY_ID
from audits.harden import FIXABLE_LEVELS
from audits.models import FailingItem, HostState, Snapshot, WeeklyScore, ZoomStatus
from portal.models import Person

GRADES = ("A", "B", "C", "D", "F")
FAILING = ("fail", "partial")
SETTLED = frozenset({"pass", "locked", "managed", "exempt", "not_applicable"})
PROFILE_ITEMS = tuple(i.id for i in ITEMS if i.fixable and i.level in FIXABLE_LEVELS)
TREND_WEEKS = 26
TOP_ITEMS = 10


def department_key(name: str) -> str:
    return name.strip().casefold()


# --- Keeping the state: called by audits.sync in the snapshot's transaction ----------------
def failing_items(results: dict[str, Any]) -> dict[str, str]:
    """Item id -> status, for the items that fail or partly pass."""
    return {
        item["id"]: item["status"]
        for item in results.get("items", [])
        if item.get("status") in FAILING and item["id"] in ITEMS_BY_ID
    }


def is_hardened(results: dict[str, Any]) -> bool:
    statuses = {item["id"]: item.get("status") for item in results.get("items", [])}
    return bool(statuses) and all(statuses.get(i) in SETTLED for i in PROFILE_ITEMS)


def week_of(moment: datetime) -> date:
    day = timezone.localdate(moment)
    return day - timedelta(days=day.weekday())


def _add_to_week(key: str, week: date, score: int) -> None:
    bump = {"total": F("total") + score, "count": F("count") + 1}
    if WeeklyScore.objects.filter(department_key=key, week=week).update(**bump):
        return
    try:
        with transaction.atomic():
            WeeklyScore.objects.create(department_key=key, week=week, total=score, count=1)
    except IntegrityError:  # another sync created the week's row meanwhile
        WeeklyScore.objects.filter(department_key=key, week=week).update(**bump)


def record_state(snapshot: Snapshot) -> HostState | None:
    """Make the host's state say what this snapshot says: a complete reading replaces the score
    and failing items; "not found" and "pending" clear them; "unreachable" keeps the last good
    reading, as the dashboard does. Only active people have a state (see `follow_person`)."""
    people = Person.objects.filter(user_id=snapshot.host_id, user__is_active=True)
    department = people.values_list("department", flat=True).first()
    if department is None:
        return None
    key = department_key(department)
    with transaction.atomic():
        state, _ = HostState.objects.select_for_update().get_or_create(
            host_id=snapshot.host_id, defaults={"department": department, "department_key": key}
        )
        state.department, state.department_key = department, key
        state.zoom_status = snapshot.zoom_status
        if snapshot.is_complete:
            failing = failing_items(snapshot.results)
            state.snapshot, state.score, state.grade = snapshot, snapshot.score, snapshot.grade
            state.synced_at = snapshot.taken_at
            state.hardened = is_hardened(snapshot.results)
            state.failing_count = len(failing)
        elif snapshot.zoom_status != ZoomStatus.UNREACHABLE:
            failing = {}
            state.snapshot, state.score, state.grade, state.synced_at = None, None, "", None
            state.hardened, state.failing_count = False, 0
        else:
            state.save(update_fields=["department", "department_key", "zoom_status"])
            return state
        state.save()
        FailingItem.objects.filter(state=state).delete()
        FailingItem.objects.bulk_create(
            FailingItem(state=state, department_key=key, item_id=item_id, status=status)
            for item_id, status in failing.items()
        )
        if snapshot.is_complete and snapshot.score is not None:
            _add_to_week(key, week_of(snapshot.taken_at), snapshot.score)
    return state


# A state exists exactly for the active users who have a Person, the hosts portal.access lets
# anyone see; so the reports need no join to auth_user or portal_person, and stay fast.
@receiver(post_save, sender=Person)
def follow_person(sender: type, instance: Person, **kwargs: Any) -> None:
    """A person's department comes from the IdP at each sign-in; reports follow it at once."""
    department = instance.department
    key = department_key(department)
    state = HostState.objects.filter(host_id=instance.user_id).first()
    if state is None:
        if get_user_model().objects.filter(pk=instance.user_id, is_active=True).exists():
            _restore(instance.user_id, department)
    elif state.department != department:
        HostState.objects.filter(pk=state.pk).update(department=department, department_key=key)
        FailingItem.objects.filter(state=state).update(department_key=key)


@receiver(post_delete, sender=Person)
def forget_person(sender: type, instance: Person, **kwargs: Any) -> None:
    HostState.objects.filter(host_id=instance.user_id).delete()


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def follow_user(sender: type, instance: Any, update_fields=None, **kwargs: Any) -> None:
    """A deactivated user leaves the reports; a reactivated one comes back with their last
    reading. (Signing in saves last_login only: nothing to do.)"""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    if not instance.is_active:
        HostState.objects.filter(host_id=instance.pk).delete()
        return
    if not HostState.objects.filter(host_id=instance.pk).exists():
        department = (
            Person.objects.filter(user_id=instance.pk).values_list("department", flat=True).first()
        )
        if department is not None:
            _restore(instance.pk, department)


def _restore(host_id: int, department: str) -> None:
    last_good = next(
        (s for s in Snapshot.objects.filter(host_id=host_id)[:20] if s.is_complete), None
    )
    if last_good is not None:
        record_state(last_good)
    else:
        key = department_key(department)
        HostState.objects.get_or_create(
            host_id=host_id, defaults={"department": department, "department_key": key}
        )


# --- Reading it ----------------------------------------------------------------------------
def states(department: str | None = None) -> QuerySet[HostState]:
    """The states of active hosts, of one department or (None) of the whole institution."""
    found = HostState.objects.all()
    if department is not None:
        found = found.filter(department_key=department_key(department))
    return found


def _failing_rows(department: str | None) -> QuerySet[FailingItem]:
    rows = FailingItem.objects.all()
    if department is not None:
        rows = rows.filter(department_key=department_key(department))
    return rows


def summary(found: QuerySet[HostState]) -> dict[str, Any]:
    """Hosts, scored hosts, average, hardened and the count at each grade: one query."""
    figures = found.aggregate(
        hosts=Count("pk"),
        scored=Count("score"),
        average=Avg("score"),
        hardened=Count("pk", filter=Q(hardened=True)),
        **{f"grade_{g}": Count("pk", filter=Q(grade=g)) for g in GRADES},
    )
    hosts, scored = figures["hosts"], figures["scored"]
    grades = [
        {
            "grade": g,
            "hosts": figures[f"grade_{g}"],
            "share": _share(figures[f"grade_{g}"], scored),
        }
        for g in GRADES
    ]
    return {
        "hosts": hosts,
        "scored": scored,
        "unscored": hosts - scored,
        "average": round(figures["average"]) if figures["average"] is not None else None,
        "hardened": figures["hardened"],
        "hardened_share": _share(figures["hardened"], hosts),
        "grades": grades,
    }


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def distribution(found: QuerySet[HostState]) -> list[tuple[str, int]]:
    """Hosts per band of ten points (90 to 100 is one band), every band listed."""
    counted = dict(
        found.filter(score__isnull=False)
        .annotate(band=Least(F("score") / 10, 9))
        .values_list("band")
        .annotate(n=Count("pk"))
        .values_list("band", "n")
    )
    return [(f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", counted.get(b, 0)) for b in range(10)]


def top_failing(department: str | None, limit: int = TOP_ITEMS) -> list[dict[str, Any]]:
    counted = (
        _failing_rows(department)
        .values("item_id")
        .annotate(hosts=Count("pk"))
        .order_by("-hosts", "item_id")[:limit]
    )
    return [
        {"item": ITEMS_BY_ID[row["item_id"]], "id": row["item_id"], "hosts": row["hosts"]}
        for row in counted
        if row["item_id"] in ITEMS_BY_ID
    ]


def trend(department: str | None, weeks: int = TREND_WEEKS) -> list[tuple[date, float]]:
    """The average score of the syncs of each week, oldest first."""
    since = week_of(timezone.now()) - timedelta(weeks=weeks - 1)
    rows = WeeklyScore.objects.filter(week__gte=since)
    if department is not None:
        rows = rows.filter(department_key=department_key(department))
    weekly = rows.values("week").annotate(total=Sum("total"), n=Sum("count")).order_by("week")
    return [(row["week"], round(row["total"] / row["n"], 1)) for row in weekly if row["n"]]


def by_department(keys: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per department, side by side: one query whatever the number of departments."""
    found = states()
    if keys is not None:
        found = found.filter(department_key__in=keys)
    rows = (
        found.values("department_key")
        .annotate(
            name=Max("department"),
            hosts=Count("pk"),
            scored=Count("score"),
            average=Avg("score"),
            hardened=Count("pk", filter=Q(hardened=True)),
            low=Count("pk", filter=Q(grade__in=["D", "F"])),
        )
        .order_by("department_key")
    )
    return [
        {
            **row,
            "average": round(row["average"]) if row["average"] is not None else None,
            "hardened_share": _share(row["hardened"], row["hosts"]),
            "low_share": _share(row["low"], row["scored"]),
        }
        for row in rows
    ]


# --- Charts --------------------------------------------------------------------------------
@dataclass
class Charts:
    distribution: Any
    distribution_text: str
    failing: Any
    failing_text: str
    trend: Any
    trend_text: str


def charts(
    bands: list[tuple[str, int]], failing: list[dict[str, Any]], weekly: list[tuple[date, float]]
) -> Charts:
    scored = sum(n for _, n in bands)
    dist_text = (
        f"{scored} scored hosts: " + ", ".join(f"{n} scored {band}" for band, n in bands if n)
        if scored
        else "No host has a score yet."
    )
    fail_text = (
        "; ".join(f"{row['item'].title} ({row['id']}): {row['hosts']} hosts" for row in failing)
        if failing
        else "No item fails for any host."
    )
    if weekly:
        trend_text = (
            f"Weekly average score over {len(weekly)} weeks, from {weekly[0][1]:g} in the week "
            f"of {weekly[0][0]:%Y-%m-%d} to {weekly[-1][1]:g} in the week of "
            f"{weekly[-1][0]:%Y-%m-%d}."
        )
    else:
        trend_text = "No syncs in the last weeks."
    trend_points = [(datetime.combine(w, datetime.min.time()), v) for w, v in weekly]
    return Charts(
        distribution=bar_chart(bands, title="Hosts by score", description=dist_text, unit=" hosts"),
        distribution_text=dist_text,
        failing=bar_chart(
            [(row["item"].title, row["hosts"]) for row in failing],
            title="Items that fail most",
            description=fail_text,
            unit=" hosts",
        )
        if failing
        else None,
        failing_text=fail_text,
        trend=line_chart(trend_points, title="Average score by week", description=trend_text)
        if weekly
        else None,
        trend_text=trend_text,
    )


def report(department: str | None) -> dict[str, Any]:
    """Everything the report page shows above its table: five queries."""
    found = states(department)
    bands = distribution(found)
    failing = top_failing(department)
    weekly = trend(department)
    return {
        "summary": summary(found),
        "bands": bands,
        "failing": failing,
        "weekly": weekly,
        "charts": charts(bands, failing, weekly),
    }


# --- The table of hosts and its exports ----------------------------------------------------
SYNCED_CHOICES = (
    ("week", "In the last 7 days"),
    ("month", "In the last 30 days"),
    ("older", "More than 30 days ago"),
    ("never", "Never"),
)
SORTS = {
    "name": ("host__last_name", "host__first_name", "host__email"),
    "email": ("host__email",),
    "score": (F("score").asc(nulls_first=True), "host__email"),
    "-score": (F("score").desc(nulls_last=True), "host__email"),
    "synced": (F("synced_at").asc(nulls_first=True), "host__email"),
    "-synced": (F("synced_at").desc(nulls_last=True), "host__email"),
}


def filter_hosts(found: QuerySet[HostState], chosen: dict[str, Any]) -> QuerySet[HostState]:
    """Apply the table's filters (grade, failing item, last sync) and its sort order."""
    grade, item, synced = chosen.get("grade"), chosen.get("item"), chosen.get("synced")
    if grade == "none":
        found = found.filter(score__isnull=True)
    elif grade:
        found = found.filter(grade=grade)
    if item:
        found = found.filter(failing__item_id=item)
    now = timezone.now()
    if synced == "week":
        found = found.filter(synced_at__gte=now - timedelta(days=7))
    elif synced == "month":
        found = found.filter(synced_at__gte=now - timedelta(days=30))
    elif synced == "older":
        found = found.filter(synced_at__lt=now - timedelta(days=30))
    elif synced == "never":
        found = found.filter(synced_at__isnull=True)
    return found.order_by(*SORTS.get(chosen.get("sort") or "", SORTS["-score"]))


def host_rows(found: QuerySet[HostState]) -> list[dict[str, Any]]:
    """Every host of the filtered table with their failing item ids: two queries."""
    hosts = list(
        found.values(
            "host_id",
            "host__email",
            "host__first_name",
            "host__last_name",
            "department",
            "score",
            "grade",
            "hardened",
            "synced_at",
            "zoom_status",
        )
    )
    failing: dict[int, list[str]] = {}
    rows = FailingItem.objects.filter(state__in=found.order_by().values("pk"))
    for host_id, item_id in rows.order_by("state_id", "item_id").values_list("state_id", "item_id"):
        failing.setdefault(host_id, []).append(item_id)
    return [
        {
            "email": h["host__email"],
            "name": f"{h['host__first_name']} {h['host__last_name']}".strip(),
            "department": h["department"],
            "score": h["score"],
            "grade": h["grade"] or None,
            "hardened": h["hardened"],
            "last_sync": h["synced_at"].isoformat() if h["synced_at"] else None,
            "zoom_status": h["zoom_status"] or None,
            "failing_items": failing.get(h["host_id"], []),
        }
        for h in hosts
    ]


def action_plan(found: QuerySet[HostState]) -> list[dict[str, Any]]:
    """Every failing item of every host in the table, with how to fix it: one query."""
    rows = (
        FailingItem.objects.filter(state__in=found.order_by().values("pk"))
        .order_by("state__host__email", "item_id")
        .values_list("state__host__email", "item_id", "status")
    )
    plan = []
    for email, item_id, status in rows:
        item = ITEMS_BY_ID[item_id]
        plan.append(
            {
                "email": email,
                "item_id": item_id,
                "item": item.title,
                "status": status,
                "severity": str(item.severity),
                "portal_can_fix": item.fixable and item.level in FIXABLE_LEVELS,
                "fix": item.how_to_fix,
            }
        )
    return plan
