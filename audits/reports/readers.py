"""Department and institution reports, read from each host's latest state (kept by
audits.report_state). Every figure is a GROUP BY in the database, so a report costs the same
number of queries for 5 hosts as for 100,000."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from audits.checklist.items import ITEMS_BY_ID
from audits.models import (
    DepartmentTally,
    FailingItem,
    HostState,
    WeeklyScore,
)
from audits.reports.charts import bar_chart, line_chart
from audits.reports.state import department_key, week_of

GRADES = ("A", "B", "C", "D", "F")
TREND_WEEKS = 26
TOP_ITEMS = 10


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
