"""How close the shared rate budget gets to Zoom's limit without a single 429.

2,000 users' settings (GET /users/{id}/settings, a Medium call) are fetched by 4 processes
through audits.zoom and the paced budget in Redis, from the simulator configured with a Medium
limit of 20 requests a second and a budget of 19 (the portal spends a share of Zoom's limit:
on a loaded machine a request can reach Zoom tens of milliseconds late, and the gap between
budget and limit absorbs that). Prints the load average, the achieved rate, its ratio to the
budget (goal: 0.95 or more) and the number of 429s (goal: none). Takes about 110 s.

    REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/zoom_throughput.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zoomsim.testing import SimulatorProcess  # noqa: E402


def worker(env: dict[str, str], user_ids: list[str], start_at: float, results) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from audits.zoom import client as zoom

    fetched = refused = failed = 0
    time.sleep(max(start_at - time.time(), 0))
    for user_id in user_ids:
        while True:
            try:
                zoom.get_user_settings(user_id)
                fetched += 1
                break
            except zoom.ZoomError as error:
                if error.status != 429 and error.permanent:
                    failed += 1
                    break
                refused += error.status == 429
                time.sleep(error.retry_after or 0.5)
    results.put((fetched, refused, failed, time.time()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--limit", type=int, default=20, help="the simulator's Medium limit")
    parser.add_argument("--budget", type=int, default=19, help="ZOOM_BUDGET_MEDIUM")
    options = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state.json"
        # One seeded user is pending (no settings): seed one more than we fetch.
        args = ["--users", str(options.users + 1), "--limit-medium", str(options.limit)]
        with SimulatorProcess(state, *args) as sim:
            env = {
                **sim.env,
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "REDIS_URL": redis_url,
                "ZOOM_BUDGET_MEDIUM": str(options.budget),
                "ZOOM_MAX_WAIT": "60",
            }
            os.environ.update(env)
            import django

            django.setup()
            from audits.zoom import client as zoom

            zoom.forget_cached_state()
            ids = [u["id"] for u in zoom.list_users()][: options.users]
            zoom.get_user(ids[0])  # mint the token before the clock starts
            time.sleep(1.1)  # let list_users' Medium calls leave the window
            sent_before = len(sim.requests())

            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            start_at = time.time() + 3  # every process imported and ready
            processes = [
                context.Process(
                    target=worker,
                    args=(env, ids[i :: options.processes], start_at, results),
                )
                for i in range(options.processes)
            ]
            for process in processes:
                process.start()
            answers = [results.get(timeout=900) for _ in processes]
            for process in processes:
                process.join()
            finished = max(a[3] for a in answers)
            sent = sim.requests()[sent_before:]
    fetched = sum(a[0] for a in answers)
    elapsed = finished - start_at
    rate = fetched / elapsed
    refused_by_zoom = sum(1 for r in sent if r["status"] == 429)
    seen_by_client = sum(a[1] for a in answers)
    failures = sum(a[2] for a in answers)
    load = " / ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"load average at the end: {load} (1, 5, 15 min)")
    print(f"users' settings fetched: {fetched} by {options.processes} processes in {elapsed:.1f} s")
    print(f"achieved rate:           {rate:.2f} requests/s")
    print(f"ratio to budget:         {rate / options.budget:.3f} (budget {options.budget}/s,")
    print(f"                         simulator limit {options.limit}/s; goal >= 0.95)")
    print(f"429s from the simulator: {refused_by_zoom} (seen by the client: {seen_by_client})")
    print(f"permanent failures:      {failures}")


if __name__ == "__main__":
    main()
