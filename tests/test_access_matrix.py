"""Every URL of the portal for each of seven people: anonymous, a host, another host, the
helpdesk, the admins of department A and B, and a portal admin. Each answer has the expected
status, and no page or export shows a host the person may not see, whether reached through an
id in the URL, a filter or an export.

A new URL fails `test_every_url_of_the_portal_is_in_the_matrix` until it is added here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from audits.models import AuditEvent, HardeningProfile, Job, JobKind, JobStatus
from audits.views.lookup import LOOKUPS_KEY
from portal.access import allowed
from portal.tasks import record_heartbeat
from tests.people import make_person
from tests.test_reports import synced

ROLES = ("anonymous", "host", "other", "helpdesk", "admin_a", "admin_b", "portal_admin")
WAITING_ROOM = "meeting.waiting_room.on"
SIGN_IN = 302  # anonymous: sent to sign in
# Django's own admin and allauth's sign-in pages are theirs; the portal's own URLs are below.
NOT_OURS = ("django.contrib.admin", "allauth.")


@dataclass
class Case:
    name: str
    method: str = "get"
    args: tuple[str, ...] = ()  # names of fixtures objects: "host", "other", "job_a", "job_b"
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)
    looked_up: bool = False  # a lookup reason recorded in the session beforehand


def everyone(code: int, anonymous: int = SIGN_IN, **overrides: int) -> dict[str, int]:
    return {role: overrides.get(role, code) for role in ROLES} | {"anonymous": anonymous}


def only(codes: dict[str, int], otherwise: int, anonymous: int = SIGN_IN) -> dict[str, int]:
    return {role: codes.get(role, otherwise) for role in ROLES} | {"anonymous": anonymous}


# Who may view host A (Physics) and host B (History); who may act for them.
VIEW_A = {"host": 200, "helpdesk": 200, "admin_a": 200, "portal_admin": 200}
VIEW_B = {"other": 200, "helpdesk": 200, "admin_b": 200, "portal_admin": 200}
PHYSICS = {"department": "Physics"}
HISTORY = {"department": "History"}
FILTERED = {"department": "Physics", "item": WAITING_ROOM, "grade": "F", "sort": "name"}
REPORT_A = only({"admin_a": 200, "portal_admin": 200}, 403)
REPORT_B = only({"admin_b": 200, "portal_admin": 200}, 403)
ACT_A = only({"host": 302, "helpdesk": 302, "portal_admin": 302}, 404)
ACT_B = only({"other": 302, "helpdesk": 302, "portal_admin": 302}, 404)
REASON = {"reason": "INC0042"}

CASES = [
    *(Case(n, status=everyone(200, anonymous=200)) for n in ("landing", "privacy", "defaults")),
    *(Case(n, status=everyone(200, anonymous=200)) for n in ("best_practices", "portal_data")),
    Case("healthz", status=everyone(200, anonymous=200)),
    Case("signed_out", status=everyone(200, anonymous=200)),
    # Only in demo mode (DEBUG on embedded defaults), as the URL itself.
    *(
        [Case("demo_signin", status=everyone(200, anonymous=200))]
        if settings.PORTAL_DEMO_MODE
        else []
    ),
    Case("dashboard", status=everyone(200)),
    Case("refresh", "post", status=everyone(302)),
    Case("fix_meetings", "post", status=everyone(302)),
    Case("harden", status=everyone(200)),
    Case("harden_apply", "post", data={"profile": "institutional-default"}, status=everyone(302)),
    Case("activity", status=everyone(200)),
    Case("job_progress", args=("job_a",), status=only(VIEW_A, 404)),
    Case("job_progress", args=("job_b",), status=only(VIEW_B, 404)),
    Case("job_detail", args=("job_a",), status=only(VIEW_A, 404)),
    Case("job_detail", args=("job_b",), status=only(VIEW_B, 404)),
    Case("job_undo", "post", args=("job_a",), status=ACT_A),
    Case("job_undo", "post", args=("job_b",), status=ACT_B),
    Case("zoom_webhook", "post", status=everyone(401, anonymous=401)),
    Case(
        "helpdesk_search",
        params={"q": "utoronto"},
        status=only({"helpdesk": 200, "portal_admin": 200}, 403),
    ),
    Case(
        "helpdesk_search",
        params={"q": "History"},
        status=only({"helpdesk": 200, "portal_admin": 200}, 403),
    ),
    # The reason form, then the page itself once a reason is recorded.
    Case("helpdesk_host", args=("host",), status=only(VIEW_A | {"host": 302}, 404)),
    Case("helpdesk_host", args=("other",), status=only(VIEW_B | {"other": 302}, 404)),
    Case("helpdesk_host", args=("host",), looked_up=True, status=only(VIEW_A | {"host": 302}, 404)),
    Case(
        "helpdesk_host", args=("other",), looked_up=True, status=only(VIEW_B | {"other": 302}, 404)
    ),
    Case(
        "helpdesk_host",
        "post",
        args=("host",),
        data=REASON,
        status=only({r: 302 for r in VIEW_A}, 404),
    ),
    Case(
        "helpdesk_host",
        "post",
        args=("other",),
        data=REASON,
        status=only({r: 302 for r in VIEW_B}, 404),
    ),
    Case("helpdesk_refresh", "post", args=("host",), data=REASON, status=ACT_A),
    Case("helpdesk_refresh", "post", args=("other",), data=REASON, status=ACT_B),
    Case(
        "helpdesk_harden",
        "post",
        args=("host",),
        status=ACT_A,
        data={"profile": "institutional-default", **REASON},
    ),
    Case(
        "helpdesk_harden",
        "post",
        args=("other",),
        status=ACT_B,
        data={"profile": "institutional-default", **REASON},
    ),
    Case("helpdesk_undo", "post", args=("host", "job_a"), data=REASON, status=ACT_A),
    Case("helpdesk_undo", "post", args=("other", "job_b"), data=REASON, status=ACT_B),
    # A job id that belongs to someone else than the host in the URL.
    Case("helpdesk_undo", "post", args=("host", "job_b"), data=REASON, status=only({}, 404)),
    Case("reports", status=only({"admin_a": 200, "admin_b": 200, "portal_admin": 200}, 403)),
    Case("report_institution", status=only({"portal_admin": 200}, 403)),
    *(
        Case(name, params=params, status=status)
        for name in ("report_department", "report_csv", "report_json", "report_action_plan")
        for params, status in ((PHYSICS, REPORT_A), (HISTORY, REPORT_B), (FILTERED, REPORT_A))
    ),
    Case("report_department", params={"department": "physics"}, status=REPORT_A),
    Case("report_department", params={"department": ""}, status=only({}, 403)),
]


def case_id(case: Case) -> str:
    extra = "+lookup" if case.looked_up else ""
    shown = ",".join([*case.args, *(f"{k}={v}" for k, v in case.params.items())])
    return f"{case.method.upper()} {case.name}({shown}){extra}"


def portal_url_names() -> set[str]:
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield from [] if pattern.lookup_str.startswith(NOT_OURS) else [pattern.name]

    return set(walk(get_resolver().url_patterns))


def test_every_url_of_the_portal_is_in_the_matrix():
    assert portal_url_names() - {case.name for case in CASES} == set()


@pytest.fixture
def world(db) -> dict[str, Any]:
    people = {
        "host": make_person(
            "alice.physics@utoronto.ca",
            department="Physics",
            first_name="Alice",
            last_name="Aardvark",
        ),
        "other": make_person(
            "bob.history@utoronto.ca", department="History", first_name="Bob", last_name="Bandicoot"
        ),
        "helpdesk": make_person("help@utoronto.ca", department="IT", roles=["helpdesk"]),
        "admin_a": make_person(
            "admin.a@utoronto.ca",
            department="Physics",
            roles=["dept_admin"],
            admin_departments=["Physics"],
        ),
        "admin_b": make_person(
            "admin.b@utoronto.ca",
            department="History",
            roles=["dept_admin"],
            admin_departments=["History"],
        ),
        "portal_admin": make_person("boss@utoronto.ca", department="IT", roles=["portal_admin"]),
    }
    synced(people["host"], 20, failing=[WAITING_ROOM])
    record_heartbeat()  # a worker is running: /healthz answers 200
    synced(people["other"], 15, failing=[WAITING_ROOM])
    profile = HardeningProfile.default()
    objects: dict[str, Any] = {"host": people["host"], "other": people["other"]}
    for key, owner in (("job_a", people["host"]), ("job_b", people["other"])):
        objects[key] = Job.objects.create(
            kind=JobKind.HARDEN,
            host=owner,
            profile=profile,
            requested_by=owner,
            status=JobStatus.DONE,
            reason="secret " + key,
        )
        AuditEvent.objects.create(
            actor=people["helpdesk"],
            subject=owner,
            action="lookup",
            reason="reason about " + owner.email,
        )
    return {"people": people, "objects": objects}


def _marks(user) -> list[str]:
    return [user.email, user.first_name + " " + user.last_name, user.last_name]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_status_and_no_data_of_a_host_the_role_may_not_see(world, case: Case, role: str):
    client = Client()
    viewer = world["people"].get(role)
    if viewer is not None:
        client.force_login(viewer)
    args = [world["objects"][name].pk for name in case.args]
    if case.looked_up and viewer is not None:
        session = client.session
        session[LOOKUPS_KEY] = {str(pk): 4_000_000_000 for pk in args}
        session.save()
    url = reverse(case.name, args=args)
    if case.params:
        from urllib.parse import urlencode

        url += "?" + urlencode(case.params)
    response = getattr(client, case.method)(url, case.data)

    assert response.status_code == case.status[role], response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", errors="replace")
    for name in ("host", "other"):
        subject = world["objects"][name]
        if viewer is not None and allowed(viewer, "host.view", subject):
            continue
        for mark in _marks(subject):
            assert mark not in text, f"{role} sees {mark} at {url}"
        assert f"reason about {subject.email}" not in text
        assert f"secret job_{'a' if name == 'host' else 'b'}" not in text


@pytest.mark.parametrize("path", ["/jobs/{}/progress/", "/jobs/{}/"])
def test_job_progress_and_page_ask_someone_else_for_a_reason_first(world, path: str):
    job = world["objects"]["job_a"]
    client = Client()
    client.force_login(world["people"]["helpdesk"])

    asked = client.get(path.format(job.pk), secure=True).content.decode()
    assert "Record the reason and open the page" in asked
    assert "secret job_a" not in asked

    session = client.session
    session[LOOKUPS_KEY] = {str(job.host_id): 4_000_000_000}
    session.save()
    shown = client.get(path.format(job.pk), secure=True).content.decode()
    assert "Record the reason" not in shown


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/jobs/{}/progress/"), ("get", "/jobs/{}/"), ("post", "/jobs/{}/undo/")],
)
def test_anonymous_users_cannot_tell_whether_a_job_exists(world, method: str, path: str):
    client = Client()
    existing = world["objects"]["job_a"].pk
    missing = Job.objects.order_by("-pk").first().pk + 1000

    answers = [getattr(client, method)(path.format(pk), secure=True) for pk in (existing, missing)]

    assert [a.status_code for a in answers] == [302, 302]
    assert all("/accounts/login/" in a["Location"] for a in answers)
