"""How close a bulk hardening gets to the Zoom budget it is given, without a 429.

1,000 hosts hardened by 4 worker processes (Redis broker, the limiter's budget in Redis) under a
Medium budget of 20 requests a second. The simulator holds an Education account's Medium limit
(60/s): the portal's budget is its share, the rest belongs to the account's other apps. Four
processes each spending the whole budget would exceed it; the budget shared in Redis does not.
Prints the achieved Medium rate, its ratio to the budget (goal: 0.9 or more) and the number of
429s (goal: none). `--limit 20` runs it against a Pro account whose whole Medium limit is the
budget: then the odd request arriving late in a full second is refused.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_jobs \\
    REDIS_URL=redis://127.0.0.1:6379/9 CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
    DJANGO_SECRET_KEY=... .venv/bin/python bench/bulk_harden.py [--hosts 1000] [--budget 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from _harness import hosts, setup_django, workers

from zoomsim.testing import SimulatorProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--budget", type=int, default=20, help="ZOOM_BUDGET_MEDIUM")
    parser.add_argument("--limit", type=int, default=60, help="the simulator's Medium limit")
    options = parser.parse_args()
    args = ["--users", str(options.hosts + 60), "--limit-medium", str(options.limit)]
    with (
        tempfile.TemporaryDirectory() as folder,
        SimulatorProcess(Path(folder) / "s", *args) as sim,
    ):
        env = {**sim.env, "ZOOM_BUDGET_MEDIUM": str(options.budget), "ZOOM_MAX_WAIT": "60"}
        setup_django(env)
        from django.db import transaction

        from audits.jobs import machinery as jobs
        from audits.models import HardeningProfile, Job, JobKind
        from audits.zoom import client as zoom

        zoom.forget_cached_state()
        active = [u["email"] for u in zoom.list_users() if u.get("status") == "active"]
        people = hosts(active[: options.hosts])
        profile = HardeningProfile.default()
        seen = max((r["seq"] for r in sim.requests(kind=None)), default=0)
        counts: Counter = Counter()
        with workers(options.workers, env):
            started = time.perf_counter()
            with transaction.atomic():
                created = [
                    jobs.create_job(JobKind.HARDEN, host, profile=profile).pk for host in people
                ]
            while Job.objects.filter(pk__in=created, finished_at__isnull=True).exists():
                time.sleep(1)
                seen = tally(sim, seen, counts)
            elapsed = time.perf_counter() - started
        tally(sim, seen, counts)
        statuses = Counter(Job.objects.filter(pk__in=created).values_list("status", flat=True))
    rate = counts["Medium"] / elapsed
    print(f"hosts: {len(people)}, workers: {options.workers}, time: {elapsed:.1f} s")
    print(f"jobs: {dict(statuses)}")
    print(f"Medium calls: {counts['Medium']}, rate {rate:.2f}/s, budget {options.budget}/s, "
          f"ratio {rate / options.budget:.3f} (goal 0.9 or more)")  # fmt: skip
    print(f"Light calls: {counts['Light']}, 429 answers: {counts[429]} (goal: none)")


def tally(sim: SimulatorProcess, since: int, counts: Counter) -> int:
    for entry in sim.requests(kind="api", since=since):
        since = max(since, entry["seq"])
        counts[entry.get("category")] += 1
        counts[entry.get("status")] += 1
    return since


if __name__ == "__main__":
    main()
