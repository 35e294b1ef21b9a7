"""Reports and helpdesk search at scale: seed PostgreSQL with 100,000 hosts in 30 departments,
10 weekly snapshots each, then time the department report, the institution report, the
helpdesk search and one department's CSV export through Django's full request stack, and count
their queries; and time the webhook's lookup of a host by Zoom user id among the 1,000,000
snapshots.

Run from the repository root (the database is created when missing, migrated, seeded once and
reused; the static files are collected, as the pages need their manifest):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/reports.py
Options: --hosts N (100000), --runs N (40), --reseed.
Goals: p95 under 200 ms for the reports and the search, under 2 s for the export, under 10 ms
for the webhook lookup; the query counts do not depend on the number of hosts.

The seed writes rows as the sync would leave them (a snapshot per week, each host's state, its
failing items, the weekly sums and the departments' counters) in bulk SQL. Snapshots carry a
score but no Zoom documents: no report reads them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
DEPARTMENTS = (
    "Anthropology", "Architecture", "Astronomy", "Biochemistry", "Cell Biology", "Chemistry",
    "Classics", "Computer Science", "Dentistry", "Drama", "Earth Sciences", "Economics",
    "English", "Geography", "History", "Immunology", "Law", "Linguistics", "Management",
    "Mathematics", "Medicine", "Music", "Nursing", "Pharmacy", "Philosophy", "Physics",
    "Political Science", "Psychology", "Sociology", "Statistics",
)  # fmt: skip
SNAPSHOTS = 10
EMAIL_DOMAIN = "bench.utoronto.ca"


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    exists = subprocess.run(
        [
            "psql",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",  # noqa: S608 (our own URL)
            "postgres",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(
            [
                "createdb",
                "-h",
                parts.hostname or "127.0.0.1",
                "-p",
                str(parts.port or 5432),
                "-U",
                parts.username or "postgres",
                name,
            ],
            check=True,
        )


def seed(hosts: int) -> None:
    """Bulk SQL in one transaction: users, people, snapshots, states, failing items, weeks."""
    from django.db import connection, transaction

    from audits.checklist.items import ITEMS, profile_items
    from audits.reports.state import rebuild_tallies

    weighted = [item.id for item in ITEMS if item.weight > 0]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM auth_user)")
        if cursor.fetchone()[0]:
            # Refused once the audit log holds events (it is append-only): drop the database.
            cursor.execute(
                "TRUNCATE audits_weeklyscore, audits_departmenttally, audits_failingitem,"
                " audits_hoststate, audits_snapshot, portal_person, auth_user"
                " RESTART IDENTITY CASCADE"
            )
        else:  # a new database: the cascade would reach the audit log, which refuses TRUNCATE
            cursor.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), 1, false)")
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, 'host' || n || '@' || %(domain)s, 'First' || n, 'Last' || n,
                   'host' || n || '@' || %(domain)s, false, true, now()
            FROM generate_series(1, %(hosts)s) AS n
            """,
            {"hosts": hosts, "domain": EMAIL_DOMAIN},
        )
        cursor.execute(
            """
            INSERT INTO portal_person (user_id, department, affiliations, groups, roles,
                                       admin_departments, zoom_login, identity_provider)
            SELECT id, (%(departments)s::text[])[id %% %(count)s + 1],
                   '["faculty"]', '[]', '["host"]', '[]', email, 'bench'
            FROM auth_user
            """,
            {"departments": list(DEPARTMENTS), "count": len(DEPARTMENTS)},
        )
        # One snapshot a week for ten weeks; scores drift upwards a little week by week.
        cursor.execute(
            """
            INSERT INTO audits_snapshot (host_id, taken_at, zoom_status, zoom_user_id,
                                         documents, results, score, grade, error)
            SELECT u.id, now() - (w * interval '7 days') - (random() * interval '2 days'),
                   'linked', 'zu' || u.id, '{}', '{}', s.score,
                   CASE WHEN s.score >= 90 THEN 'A' WHEN s.score >= 75 THEN 'B'
                        WHEN s.score >= 60 THEN 'C' WHEN s.score >= 40 THEN 'D' ELSE 'F' END,
                   ''
            FROM auth_user u CROSS JOIN generate_series(0, %(last)s) AS w
            CROSS JOIN LATERAL (SELECT least(100, greatest(0,
                (30 + (u.id * 7919) %% 60 + (%(last)s - w) * 2 + random() * 10)::int)) AS score
            ) s
            """,
            {"last": SNAPSHOTS - 1},
        )
        cursor.execute(
            """
            INSERT INTO audits_hoststate (host_id, department, department_key, zoom_status,
                snapshot_id, score, grade, synced_at, hardened, failing_count)
            SELECT DISTINCT ON (s.host_id) s.host_id, p.department, lower(p.department),
                   'linked', s.id, s.score, s.grade, s.taken_at, s.score >= 90, 0
            FROM audits_snapshot s JOIN portal_person p ON p.user_id = s.host_id
            ORDER BY s.host_id, s.taken_at DESC
            """
        )
        # Each weighted item fails for a share of the hosts that falls as the score rises.
        cursor.execute(
            """
            INSERT INTO audits_failingitem (state_id, department_key, item_id, status)
            SELECT h.host_id, h.department_key, i.item_id,
                   CASE WHEN random() < 0.2 THEN 'partial' ELSE 'fail' END
            FROM audits_hoststate h
            CROSS JOIN unnest(%(items)s::text[]) WITH ORDINALITY AS i(item_id, position)
            WHERE NOT (h.hardened AND i.item_id = ANY(%(profile)s::text[]))
              AND random() < (100 - h.score) / 100.0 * (0.15 + 0.7 / i.position)
            """,
            {"items": weighted, "profile": [item.id for item in profile_items()]},
        )
        cursor.execute(
            """
            UPDATE audits_hoststate h SET failing_count = f.n
            FROM (SELECT state_id, count(*) AS n FROM audits_failingitem GROUP BY state_id) f
            WHERE f.state_id = h.host_id
            """
        )
        cursor.execute(
            """
            INSERT INTO audits_weeklyscore (department_key, week, total, count)
            SELECT lower(p.department),
                   date_trunc('week', s.taken_at AT TIME ZONE %(tz)s)::date,
                   sum(s.score), count(*)
            FROM audits_snapshot s JOIN portal_person p ON p.user_id = s.host_id
            GROUP BY 1, 2
            """,
            {"tz": os.environ.get("PORTAL_TIME_ZONE", "America/Toronto")},
        )
        rebuild_tallies()  # what record_state keeps, counted once for the bulk rows
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {hosts:,} hosts, {hosts * SNAPSHOTS:,} snapshots in "
        f"{time.perf_counter() - started:.0f} s"
    )


def seeded_hosts() -> int:
    from audits.models import HostState

    return HostState.objects.filter(host__email__endswith="@" + EMAIL_DOMAIN).count()


def person(email: str, **fields):
    from django.contrib.auth import get_user_model

    from portal.models import Person

    user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
    Person.objects.update_or_create(user=user, defaults={"department": "IT", **fields})
    return user


def measure(client, url: str, runs: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches and connections
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, secure=True)
    queries = len(captured)  # now: the next request clears the log it reads from
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, secure=True)
        if response.streaming:
            b"".join(response.streaming_content)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=20)
    return {
        "p50": statistics.median(timings),
        "p95": cuts[18],
        "queries": queries,
        "bytes": len(response.content),
    }


def measure_lookup(payload: dict, runs: int) -> dict[str, float]:
    """The webhook's host lookup (audits.webhooks._hosts_for), evaluated as the view does."""
    from audits.views.webhooks import _hosts_for

    for _ in range(3):
        found = list(_hosts_for(payload))
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        list(_hosts_for(payload))
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=20)
    return {"p50": statistics.median(timings), "p95": cuts[18], "hosts": len(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reseed", action="store_true")
    options = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from audits.models import Snapshot

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if options.reseed or seeded_hosts() != options.hosts:
        seed(options.hosts)
    department = "Chemistry"
    admin = person(
        "bench.dept.admin@utoronto.ca", roles=["dept_admin"], admin_departments=[department]
    )
    boss = person("bench.portal.admin@utoronto.ca", roles=["portal_admin"])
    helpdesk = person("bench.helpdesk@utoronto.ca", roles=["helpdesk"])
    clients = {}
    for user in (admin, boss, helpdesk):
        clients[user.pk] = Client()
        clients[user.pk].force_login(user)

    report = "/reports/department/?" + urlencode({"department": department})
    filtered = report + "&" + urlencode({"item": "meeting.waiting_room.on", "sort": "name"})
    export = "/reports/department/hosts.csv?" + urlencode({"department": department})
    cases = [
        ("department report", admin, report, 200),
        ("department report, filtered", admin, filtered, 200),
        ("institution report", boss, "/reports/institution/", 200),
        ("helpdesk search, e-mail", helpdesk, "/helpdesk/?q=host4242%40", 200),
        ("helpdesk search, name", helpdesk, "/helpdesk/?q=Last77", 200),
        ("helpdesk search, department", helpdesk, "/helpdesk/?q=chemistry", 200),
        ("helpdesk search, department, p. 40", helpdesk, "/helpdesk/?q=chemistry&page=40", 200),
        ("CSV export of one department", admin, export, 2000),
    ]
    print(f"{seeded_hosts():,} hosts in {len(DEPARTMENTS)} departments, {options.runs} runs each")
    print(f"{'':32} {'p50 ms':>8} {'p95 ms':>8} {'goal':>6} {'queries':>8} {'bytes':>9}")
    for label, user, url, goal in cases:
        figures = measure(clients[user.pk], url, options.runs)
        verdict = "ok" if figures["p95"] < goal else "SLOW"
        print(
            f"{label:32} {figures['p50']:8.1f} {figures['p95']:8.1f} {goal:6} "
            f"{figures['queries']:8} {figures['bytes']:9,} {verdict}"
        )
    from audits.views.helpdesk import search_hosts
    from portal.access import hosts_visible_to

    for label, query in (("name", "Last77"), ("department", "chemistry")):
        matches = search_hosts(hosts_visible_to(helpdesk), query).count()
        print(f"search by {label} {query!r}: {matches:,} hosts")
    snapshots = Snapshot.objects.count()
    n = min(4242, options.hosts)  # a seeded host: ids and e-mails are numbered from 1
    lookups = [
        (
            "webhook lookup, e-mail and Zoom id",
            {"id": f"zu{n}", "email": f"host{n}@{EMAIL_DOMAIN}"},
        ),
        ("webhook lookup, Zoom id (new e-mail)", {"id": f"zu{n}", "email": "renamed@example.com"}),
    ]
    print(f"{snapshots:,} snapshots")
    for label, payload in lookups:
        figures = measure_lookup(payload, options.runs)
        verdict = "ok" if figures["p95"] < 10 else "SLOW"
        print(
            f"{label:36} {figures['p50']:8.2f} {figures['p95']:8.2f} {10:6} "
            f"{figures['hosts']:>8} host {verdict}"
        )
    load = " / ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"load average at the end: {load} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
