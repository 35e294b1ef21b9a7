"""Department and institution reports: each host's latest state, kept by the sync, and the
queries over it. Every figure is a GROUP BY in the database, so a report costs the same number
of queries for 5 hosts as for 100,000.

"Hardened" here means: every setting the recommended profile sets passes in the host's latest
reading (or is decided by the institution, exempt or not applicable). It is read from the
settings themselves, so a host who set them by hand counts, and one who undid them does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Least
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from audits import checklist
from audits.charts import bar_chart, line_chart
from audits.checklist import ITEMS_BY_ID
from audits.models import (
    DepartmentTally,
    FailingItem,
    HostState,
    Snapshot,
    WeeklyScore,
    ZoomStatus,
)
from portal.models import Person

GRADES = ("A", "B", "C", "D", "F")
FAILING = ("fail", "partial")
SETTLED = frozenset({"pass", "locked", "managed", "exempt", "not_applicable"})
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
    profile = (item.id for item in checklist.profile_items())
    return bool(statuses) and all(statuses.get(i) in SETTLED for i in profile)


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
    reading, as the dashboard does. Only active people have a state (see `follow_person`).
    The department's counters follow in the same transaction."""
    people = Person.objects.filter(user_id=snapshot.host_id, user__is_active=True)
    department = people.values_list("department", flat=True).first()
    if department is None:
        return None
    key = department_key(department)
    with transaction.atomic():
        state, created = HostState.objects.select_for_update().get_or_create(
            host_id=snapshot.host_id, defaults={"department": department, "department_key": key}
        )
        known = [] if created else _failing_ids(state)
        before = Counter() if created else tally_of(state, known)
        moved = state.department_key != key
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
            if moved:
                FailingItem.objects.filter(state=state).update(department_key=key)
            _count(before, tally_of(state, known), {key: department})
            return state
        state.save()
        FailingItem.objects.filter(state=state).delete()
        FailingItem.objects.bulk_create(
            FailingItem(state=state, department_key=key, item_id=item_id, status=status)
            for item_id, status in failing.items()
        )
        _count(before, tally_of(state, failing), {key: department})
        if snapshot.is_complete and snapshot.score is not None:
            _add_to_week(key, week_of(snapshot.taken_at), snapshot.score)
    return state


# --- The departments' counters (DepartmentTally), kept with the states ---------------------
def tally_of(state: HostState, failing: Iterable[str]) -> Counter[tuple[str, str]]:
    """What one host's state adds to its department's counters, by (department key, figure)."""
    key = state.department_key
    figures: Counter[tuple[str, str]] = Counter({(key, "hosts"): 1})
    if state.score is not None:
        figures[key, "scored"] += 1
        figures[key, "score_total"] += state.score
        figures[key, f"band:{min(state.score // 10, 9)}"] += 1
    if state.grade:
        figures[key, f"grade:{state.grade}"] += 1
    if state.hardened:
        figures[key, "hardened"] += 1
    for item_id in failing:
        figures[key, f"item:{item_id}"] += 1
    return figures


def _failing_ids(state: HostState) -> list[str]:
    return list(FailingItem.objects.filter(state=state).values_list("item_id", flat=True))


def _count(
    before: Counter[tuple[str, str]], after: Counter[tuple[str, str]], names: dict[str, str]
) -> None:
    """Add the difference to the counters: one upsert, rows in a fixed order so that two
    syncs of one department lock them in the same order (no deadlock)."""
    change = Counter(after)
    change.subtract(before)
    rows = sorted((key, figure, n) for (key, figure), n in change.items() if n)
    if not rows:
        return
    table = connection.ops.quote_name(DepartmentTally._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [v for key, figure, n in rows for v in (key, figure, n, names.get(key, key))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (department_key, figure, count, name) VALUES {values} "  # noqa: S608 - our table name, values as parameters
            f"ON CONFLICT (department_key, figure) DO UPDATE "
            f"SET count = {table}.count + excluded.count, name = excluded.name",
            params,
        )


def recount(
    states_model: type[HostState] = HostState, failing_model: type[FailingItem] = FailingItem
) -> Counter[tuple[str, str]]:
    """Every counter counted again from the host states with GROUP BY queries (the migration
    that adds the counters, the seeding bench, and the tests that check the kept ones)."""
    figures: Counter[tuple[str, str]] = Counter()
    found = states_model.objects.order_by()
    for row in found.values("department_key").annotate(
        hosts=Count("pk"),
        scored=Count("score"),
        score_total=Sum("score"),
        hardened=Count("pk", filter=Q(hardened=True)),
    ):
        for figure in ("hosts", "scored", "score_total", "hardened"):
            figures[row["department_key"], figure] += row[figure] or 0
    grades = found.exclude(grade="").values_list("department_key", "grade").annotate(Count("pk"))
    for key, grade, n in grades:
        figures[key, f"grade:{grade}"] += n
    bands = (
        found.filter(score__isnull=False)
        .annotate(band=Least(F("score") / 10, 9))
        .values_list("department_key", "band")
        .annotate(Count("pk"))
    )
    for key, band, n in bands:
        figures[key, f"band:{band}"] += n
    items = failing_model.objects.order_by().values_list("department_key", "item_id")
    for key, item_id, n in items.annotate(Count("pk")):
        figures[key, f"item:{item_id}"] += n
    return Counter({figure: n for figure, n in figures.items() if n})


def kept_counts() -> Counter[tuple[str, str]]:
    """The counters as kept, without the zeros."""
    return Counter(
        {
            (key, figure): n
            for key, figure, n in DepartmentTally.objects.values_list(
                "department_key", "figure", "count"
            )
            if n
        }
    )


def rebuild_tallies(
    states_model: type[HostState] = HostState,
    failing_model: type[FailingItem] = FailingItem,
    tally_model: type[DepartmentTally] = DepartmentTally,
) -> None:
    """Replace every counter by a recount (the migration that adds them, and rows written in
    bulk past the sync). The models are arguments so that a migration can pass its own."""
    names = dict(
        states_model.objects.order_by()
        .values_list("department_key")
        .annotate(Max("department"))
        .values_list("department_key", "department__max")
    )
    with transaction.atomic():
        tally_model.objects.all().delete()
        tally_model.objects.bulk_create(
            (
                tally_model(department_key=key, figure=figure, count=n, name=names.get(key, key))
                for (key, figure), n in recount(states_model, failing_model).items()
            ),
            batch_size=2000,
        )


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
        with transaction.atomic():
            # Locked and read again: a sync of this host may have changed it meanwhile.
            state = HostState.objects.select_for_update().filter(pk=state.pk).first()
            if state is None:
                return
            failing = _failing_ids(state)
            before = tally_of(state, failing)
            HostState.objects.filter(pk=state.pk).update(department=department, department_key=key)
            FailingItem.objects.filter(state=state).update(department_key=key)
            state.department, state.department_key = department, key
            _count(before, tally_of(state, failing), {key: department})
            DepartmentTally.objects.filter(department_key=key).update(name=department)


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


@receiver(pre_delete, sender=HostState)
def _uncount(sender: type, instance: HostState, **kwargs: Any) -> None:
    """A state leaves (deactivation, a deleted person or user): so do its counts. Sent before
    anything is deleted (in the deletion's transaction), so its failing items are still there
    to read; the row is locked and read again, as a sync of this host may have changed it
    since the deletion collected it, and locked first as a sync locks it (no deadlock)."""
    state = HostState.objects.select_for_update().filter(pk=instance.pk).first()
    if state is not None:
        names = {state.department_key: state.department}
        _count(tally_of(state, _failing_ids(state)), Counter(), names)


def _restore(host_id: int, department: str) -> None:
    last_good = Snapshot.objects.complete().filter(host_id=host_id).first()
    if last_good is not None:
        record_state(last_good)
    else:
        key = department_key(department)
        with transaction.atomic():
            state, created = HostState.objects.get_or_create(
                host_id=host_id, defaults={"department": department, "department_key": key}
            )
            if created:
                _count(Counter(), tally_of(state, ()), {key: department})


# --- Reading it ----------------------------------------------------------------------------
def states(department: str | None = None) -> QuerySet[HostState]:
    """The states of active hosts, of one department or (None) of the whole institution."""
    found = HostState.objects.all()
    if department is not None:
        found = found.filter(department_key=department_key(department))
    return found


def tallies(department: str | None) -> Counter[str]:
    """The counters of one department or (None) the whole institution, by figure: one query
    over a few hundred rows, whatever the number of hosts."""
    rows = DepartmentTally.objects.all()
    if department is not None:
        rows = rows.filter(department_key=department_key(department))
    summed = rows.values("figure").annotate(n=Sum("count")).order_by()
    return Counter({row["figure"]: row["n"] for row in summed})


def summary(counts: Counter[str]) -> dict[str, Any]:
    """Hosts, scored hosts, average, hardened and the count at each grade."""
    hosts, scored, hardened = counts["hosts"], counts["scored"], counts["hardened"]
    grades = [
        {"grade": g, "hosts": counts[f"grade:{g}"], "share": _share(counts[f"grade:{g}"], scored)}
        for g in GRADES
    ]
    return {
        "hosts": hosts,
        "scored": scored,
        "unscored": hosts - scored,
        "average": round(counts["score_total"] / scored) if scored else None,
        "hardened": hardened,
        "hardened_share": _share(hardened, hosts),
        "grades": grades,
    }


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def distribution(counts: Counter[str]) -> list[tuple[str, int]]:
    """Hosts per band of ten points (90 to 100 is one band), every band listed."""
    return [(f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", counts[f"band:{b}"]) for b in range(10)]


def top_failing(counts: Counter[str], limit: int = TOP_ITEMS) -> list[dict[str, Any]]:
    failing = [
        (-n, figure.removeprefix("item:"))
        for figure, n in counts.items()
        if figure.startswith("item:") and n > 0 and figure.removeprefix("item:") in ITEMS_BY_ID
    ]
    return [
        {"item": ITEMS_BY_ID[item_id], "id": item_id, "hosts": -negative}
        for negative, item_id in sorted(failing)[:limit]
    ]


def trend(department: str | None, weeks: int = TREND_WEEKS) -> list[tuple[date, float]]:
    """The average score of the syncs of each week, oldest first."""
    since = week_of(timezone.now()) - timedelta(weeks=weeks - 1)
    rows = WeeklyScore.objects.filter(week__gte=since)
    if department is not None:
        rows = rows.filter(department_key=department_key(department))
    weekly = rows.values("week").annotate(total=Sum("total"), n=Sum("count")).order_by("week")
    return [(row["week"], round(row["total"] / row["n"], 1)) for row in weekly if row["n"]]


SIDE_BY_SIDE = ("hosts", "scored", "score_total", "hardened", "grade:D", "grade:F")


def by_department(keys: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per department with hosts, side by side: one query over their counters."""
    rows = DepartmentTally.objects.filter(figure__in=SIDE_BY_SIDE)
    if keys is not None:
        rows = rows.filter(department_key__in=keys)
    counted: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    for key, figure, n, name in rows.values_list("department_key", "figure", "count", "name"):
        counted.setdefault(key, Counter())[figure] += n
        if figure == "hosts":
            names[key] = name
    found = []
    for key in sorted(counted):
        c = counted[key]
        if c["hosts"] <= 0:
            continue
        low = c["grade:D"] + c["grade:F"]
        found.append(
            {
                "department_key": key,
                "name": names.get(key, key),
                "hosts": c["hosts"],
                "scored": c["scored"],
                "average": round(c["score_total"] / c["scored"]) if c["scored"] else None,
                "hardened": c["hardened"],
                "low": low,
                "hardened_share": _share(c["hardened"], c["hosts"]),
                "low_share": _share(low, c["scored"]),
            }
        )
    return found


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
    """Everything the report page shows above its table: two queries (counters, weeks)."""
    counts = tallies(department)
    bands = distribution(counts)
    failing = top_failing(counts)
    weekly = trend(department)
    return {
        "summary": summary(counts),
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
                "portal_can_fix": item.in_profile,
                "fix": item.how_to_fix,
            }
        )
    return plan
