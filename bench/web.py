"""Pages under load: req/s and p95 of the portal's pages served by gunicorn as in production.

gunicorn is started from deploy/portal-web.service's very command line (as scripts/production-run
does: 3 workers of 4 threads, --preload, --no-control-socket, the access log), DEBUG off, on
PostgreSQL and Redis, plain HTTP on loopback (DJANGO_SECURE_SSL_REDIRECT=false). The database
is created when missing, migrated and seeded once (bench/reports.py's hosts, 10,000 by default,
and one host with a history: 100 snapshots of scored Zoom documents and 100 jobs, written
through the ORM); the static files are collected. Each person is signed in by a session made
directly (the session engine's store and the auth keys), sent as a cookie.

The load generator is wrk (Debian's package, `scripts/install-system-packages`): one C process
on its own, so it takes little of the two cores from the server it loads, and a Lua `done`
hook reads the p95 from its latency histogram. For each page, at 8 and 32 connections, it
prints req/s, p95 and the ratio of req/s to the trivial view's (the landing page, signed in:
the cheapest signed-in page, it reads nothing but the session and the user), and the landing
page anonymous: a trivial view without a session.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_web \\
    REDIS_URL=redis://127.0.0.1:6379/11 CELERY_BROKER_URL=redis://127.0.0.1:6379/12 \\
    .venv/bin/python bench/web.py [--hosts 10000] [--duration 10] [--sessions db]

--sessions runs the pages with another session set-up than the portal's (for comparison):
db (the portal's: the database, renewed at most once a minute), db-every-request (the database,
rewritten on every request), cached_db (Redis in front of the database, renewed once a minute),
cache (Redis only, rewritten on every request).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib.machinery import SourceFileLoader
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_web")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")
import reports  # noqa: E402 (after the defaults above: it sets its own for what is left)

HOST_EMAIL = "bench.web.host@utoronto.ca"
DEPARTMENT = "Chemistry"
HISTORY = 100  # snapshots and jobs of the signed-in host
SESSIONS = {
    "db": {},
    "db-every-request": {"SESSION_SAVE_EVERY_REQUEST": True},
    "cached_db": {"SESSION_ENGINE": "django.contrib.sessions.backends.cached_db"},
    "cache": {
        "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
        "SESSION_SAVE_EVERY_REQUEST": True,
    },
}
P95_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("p95_us %d\\n", latency:percentile(95)))
  io.write(string.format("bad %d\\n", summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def settings_module(folder: Path, sessions: str) -> str:
    """portal.settings, with another session set-up when asked (nothing changes otherwise)."""
    # Importing the portal package reads its settings (portal/celery.py): let that first read
    # load portal.settings itself, then this module's overrides replace it for Django.
    lines = [
        "import os",
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings'",
        "from portal.settings import *  # noqa: F403",
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'bench_web_settings'",
    ]
    lines += [f"{name} = {value!r}" for name, value in SESSIONS[sessions].items()]
    (folder / "bench_web_settings.py").write_text("\n".join(lines) + "\n")
    return "bench_web_settings"


def seed_history(host) -> None:
    """100 snapshots of scored documents a day apart and 100 jobs, as the sync leaves them."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from audits.checklist.items import DEFAULT_INSTITUTION
    from audits.models import HardeningProfile, Job, JobKind, JobStatus, Snapshot, ZoomStatus
    from audits.reports.state import record_state
    from audits.scoring.score import score
    from tests.samples import random_documents

    if Snapshot.objects.filter(host=host).count() == HISTORY:
        return
    rng = random.Random(13)
    profile = HardeningProfile.default()
    now = timezone.now()
    with transaction.atomic():
        Job.objects.filter(host=host).delete()
        Snapshot.objects.filter(host=host).delete()
        for n in range(HISTORY, 0, -1):
            docs = random_documents(rng)
            result = score(docs, DEFAULT_INSTITUTION)
            documents = {f.name: getattr(docs, f.name) for f in dataclasses.fields(docs)}
            documents["groups"] = list(documents["groups"] or ())
            taken = now - timedelta(days=n)
            snapshot = Snapshot.objects.create(
                host=host, taken_at=taken, zoom_status=ZoomStatus.LINKED,
                zoom_user_id=docs.user["id"], documents=documents, results=result.to_dict(),
                score=result.score, grade=result.grade or "",
            )  # fmt: skip
            kind = JobKind.HARDEN if n % 10 == 0 else JobKind.SYNC
            Job.objects.create(
                kind=kind, status=JobStatus.DONE, host=host, requested_by=host,
                profile=profile if kind == JobKind.HARDEN else None, snapshot=snapshot,
                created_at=taken - timedelta(seconds=5), enqueued_at=taken - timedelta(seconds=5),
                started_at=taken - timedelta(seconds=4), finished_at=taken, attempts=1,
            )  # fmt: skip
        record_state(snapshot)


def sign_in(user) -> str:
    """A session as a sign-in leaves it, made directly; its key is the cookie's value."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from portal.middleware import SIGNED_IN_AT

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGNED_IN_AT] = time.time()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_page(url: str, cookie: str) -> None:
    """The page answers 200 to this cookie (a redirect to sign in would load nothing)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200")


def wrk(url: str, cookie: str, connections: int, duration: float, script: Path) -> dict:
    argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration:g}s",
            "--timeout=30s", "-s", str(script), url]  # fmt: skip
    if cookie:
        argv[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p95 = int(re.search(r"p95_us (\d+)", output).group(1)) / 1000
    bad = int(re.search(r"bad (\d+)", output).group(1))
    if bad:
        raise SystemExit(f"{url}: {bad} failed or non-2xx answers\n{output}")
    return {"rate": rate, "p95": p95}


def serve(port: int, env: dict, log: Path) -> subprocess.Popen:
    """gunicorn from deploy/portal-web.service's ExecStart, paths and port made local."""
    production_run = SourceFileLoader("production_run", str(ROOT / "scripts/production-run"))
    run = production_run.load_module()
    (argv,) = run.exec_starts("portal-web.service")
    argv = [a.replace(run.UNIT_BIND, f"127.0.0.1:{port}") for a in argv]
    with open(log, "w") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
            return process
        except OSError:
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit(f"gunicorn did not answer within 120 s:\n{log.read_text()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000, help="bench/reports.py's hosts")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load a case")
    parser.add_argument("--connections", default="8,32")
    parser.add_argument("--sessions", choices=sorted(SESSIONS), default="db")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: scripts/install-system-packages (or apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module(work, options.sessions),
        "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)]),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_DEBUG": "false",
        "PORTAL_VAR_DIR": os.environ.get("PORTAL_VAR_DIR", str(work / "var")),
    }
    os.environ.update(env)
    sys.path.insert(0, str(work))
    reports.ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    assert not settings.DEBUG, "bench/web.py measures with DEBUG off"
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if reports.seeded_hosts() != options.hosts:
        reports.seed(options.hosts)
    host = reports.person(HOST_EMAIL, department=DEPARTMENT, roles=["host"])
    seed_history(host)
    admin = reports.person(
        "bench.dept.admin@utoronto.ca", roles=["dept_admin"], admin_departments=[DEPARTMENT]
    )
    helpdesk = reports.person("bench.helpdesk@utoronto.ca", roles=["helpdesk"])
    cookies = {user.pk: sign_in(user) for user in (host, admin, helpdesk)}
    django.db.connections.close_all()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    script = work / "p95.lua"
    script.write_text(P95_SCRIPT)
    report = "/reports/department/?" + urlencode({"department": DEPARTMENT})
    cases = [
        ("trivial view, signed in (/)", "/", cookies[host.pk]),
        ("trivial view, anonymous (/)", "/", ""),
        ("dashboard (/me/)", "/me/", cookies[host.pk]),
        ("department report", report, cookies[admin.pk]),
        ("helpdesk search by name", "/helpdesk/?q=Last77", cookies[helpdesk.pk]),
    ]
    connections = [int(n) for n in options.connections.split(",")]
    process = serve(port, env, work / "gunicorn.log")
    results: dict[tuple[str, int], dict] = {}
    try:
        for _label, path, cookie in cases:
            check_page(base + path, cookie)
            wrk(base + path, cookie, 2, 2, script)  # warm each worker's caches
        for n in connections:
            for label, path, cookie in cases:
                results[label, n] = wrk(base + path, cookie, n, options.duration, script)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{reports.seeded_hosts():,} hosts; the host: {HISTORY} snapshots, {HISTORY} jobs; "
          f"sessions: {options.sessions}; gunicorn as deploy/portal-web.service; "
          f"wrk, {options.duration:g} s a case")  # fmt: skip
    trivial = cases[0][0]
    print(f"{'':30}" + "".join(f"{f'{n} connections':>29}" for n in connections))
    print(f"{'':30}" + f"{'req/s':>10} {'p95 ms':>8} {'ratio':>9}" * len(connections))
    for label, _path, _cookie in cases:
        row = f"{label:30}"
        for n in connections:
            figures = results[label, n]
            ratio = figures["rate"] / results[trivial, n]["rate"]
            row += f"{figures['rate']:10.0f} {figures['p95']:8.1f} {ratio:9.2f}"
        print(row)
    print(f"load average at the end: {load} (1, 5, 15 min)")
    shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
