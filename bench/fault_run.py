"""50 hardenings through Zoom trouble: do they end well once Zoom is back?

2 worker processes and beat (its sweep sends the jobs whose wait is over), PostgreSQL and Redis,
against the simulator, which answers for 60 s with 503s (half the calls) and 0.5 s of latency,
then drops every connection for 60 s, then answers every API call with a 429 for 60 s, then
recovers. Prints how many jobs ended done / partial / failed (with their messages), how many
changed something in Zoom and how many of those can be undone, and the wall time. Goal: every
job done once Zoom is back, or failed with a true message and undoable where it changed anything.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_faults \\
    REDIS_URL=redis://127.0.0.1:6379/5 CELERY_BROKER_URL=redis://127.0.0.1:6379/6 \\
    DJANGO_SECRET_KEY=... .venv/bin/python bench/fault_run.py [--hosts 50] [--phase 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from _harness import ROOT, hosts, setup_django, workers

from zoomsim.testing import SimulatorProcess

FAULTS = [
    ("5xx and latency", {"error_rate": 0.5, "error_status": 503, "latency": 0.5}),
    ("outage", {"outage": True}),
    ("429s", {"limits": {"Light": 0, "Medium": 0}}),
]


@contextmanager
def beat(folder: Path):
    """Celery beat with the portal's schedule: the heartbeat, and the sweep every 10 s."""
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=WARNING",
         f"--pidfile={folder / 'beat.pid'}"],
        cwd=ROOT, env=dict(os.environ), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--phase", type=float, default=60.0, help="seconds of each fault")
    parser.add_argument("--give-up", type=float, default=1800.0, help="seconds to wait at most")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        SimulatorProcess(Path(folder) / "s", "--users", str(options.hosts + 60)) as sim,
    ):
        setup_django(sim.env)
        from django.db import transaction

        from audits.jobs import machinery as jobs
        from audits.jobs.machinery import undoable as _undoable
        from audits.models import HardeningProfile, Job, JobKind
        from audits.zoom import client as zoom

        zoom.forget_cached_state()
        active = [u for u in zoom.list_users() if u.get("status") == "active"]
        people = hosts([u["email"] for u in active[: options.hosts]])
        user_ids = {u["email"]: u["id"] for u in active}
        profile = HardeningProfile.default()
        with workers(2, sim.env), beat(Path(folder)):
            started = time.perf_counter()
            sim.set_faults(**FAULTS[0][1])
            with transaction.atomic():
                created = [
                    jobs.create_job(JobKind.HARDEN, host, requested_by=host, profile=profile).pk
                    for host in people
                ]
            for name, faults in FAULTS:
                sim.set_faults(**faults)
                print(f"{time.perf_counter() - started:6.0f} s  {name}", flush=True)
                time.sleep(options.phase)
            sim.set_faults()
            print(f"{time.perf_counter() - started:6.0f} s  Zoom is back", flush=True)
            deadline = time.monotonic() + options.give_up
            unfinished = Job.objects.filter(pk__in=created, finished_at__isnull=True)
            while unfinished.exists() and time.monotonic() < deadline:
                time.sleep(1)
            elapsed = time.perf_counter() - started
        changed_users = {
            r["path"].split("/")[3]
            for r in sim.requests()
            if r["method"] == "PATCH" and r["path"].endswith("/settings") and r["status"] == 204
        }
        finished = list(Job.objects.filter(pk__in=created).select_related("host"))
    statuses = Counter(job.status for job in finished)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"hardenings: {len(created)}, workers: 2, wall time: {elapsed:.0f} s (load {load})")
    print(f"ended: {dict(statuses)}")
    for (status, message), n in Counter((j.status, j.message) for j in finished).items():
        if status != "done":
            print(f"  {n} x {status}: {message}")
    changed = [job for job in finished if user_ids.get(job.host.email) in changed_users]
    undoable = [job for job in changed if _undoable(job)]
    print(f"changed something in Zoom: {len(changed)}, of which undoable: {len(undoable)}")


if __name__ == "__main__":
    main()
