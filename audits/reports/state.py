"""Each host's report state, kept by the sync in the snapshot's transaction: the host's
latest score and failing items (HostState, FailingItem), the department's weekly scores and its
counters (DepartmentTally), and the signals that follow a person's department and activity.
audits.reports reads them.

"Hardened" here means: every setting the recommended profile sets passes in the host's latest
reading (or is decided by the institution, exempt or not applicable). It is read from the
settings themselves, so a host who set them by hand counts, and one who undid them does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Least
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from audits.checklist import items as checklist
from audits.checklist.items import ITEMS_BY_ID
from audits.models import (
    DepartmentTally,
    FailingItem,
    HostState,
    Snapshot,
    WeeklyScore,
    ZoomStatus,
)
from portal.models import Person

FAILING = ("fail", "partial")
SETTLED = frozenset({"pass", "locked", "managed", "exempt", "not_applicable"})


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
