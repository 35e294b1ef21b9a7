"""The helpdesk: search, a host's page behind a recorded reason, actions on the host's behalf
with a real worker and the Zoom simulator, and the host's activity page that shows it all."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from audits.jobs import machinery as jobs
from audits.models import (
    AuditAction,
    AuditEvent,
    HardeningProfile,
    Job,
    JobKind,
    JobStatus,
    Snapshot,
    ZoomStatus,
    job_action,
)
from audits.views.lookup import LOOKUPS_KEY
from tests import samples
from tests.people import make_person
from tests.support import client_for, finished

DEFAULT_HOST = "default.host@utoronto.ca"


@pytest.fixture
def helpdesk():
    return make_person("help@utoronto.ca", department="IT", roles=["helpdesk"],
                       first_name="Hal", last_name="Desk")  # fmt: skip


@pytest.fixture
def host():
    return make_person(DEFAULT_HOST, department="Physics", first_name="Dee", last_name="Fault")


def look_up(client: Client, host, reason: str = "INC0012345") -> None:
    response = client.post(reverse("helpdesk_host", args=[host.pk]), {"reason": reason})
    assert response.status_code == 302


# --- Search -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_search_finds_hosts_by_email_name_or_department(helpdesk, host):
    make_person("other@utoronto.ca", department="History", first_name="Otto", last_name="Her")
    client = client_for(helpdesk)
    for query in ["default.host", "Fault", "dee fault", "physics"]:
        found = client.get(reverse("helpdesk_search"), {"q": query}).context["page"]
        assert [h.email for h in found] == [DEFAULT_HOST], query
    found = client.get(reverse("helpdesk_search"), {"q": "utoronto"})
    assert len(found.context["page"]) == 3
    assert "3 hosts found" in found.content.decode()


@pytest.mark.django_db
def test_a_department_is_matched_by_its_name_not_inside_another(helpdesk):
    make_person("chem@utoronto.ca", department="Chemistry")
    make_person("biochem@utoronto.ca", department="Biochemistry")
    make_person("cs@utoronto.ca", department="Computer Science", last_name="Turing")
    make_person("sci@utoronto.ca", department="Science Studies", first_name="Computer")
    client = client_for(helpdesk)

    def emails(query: str) -> list[str]:
        page = client.get(reverse("helpdesk_search"), {"q": query}).context["page"]
        return [h.email for h in page]

    assert emails("Chemistry") == ["chem@utoronto.ca"]
    assert emails("biochemistry") == ["biochem@utoronto.ca"]
    assert emails("computer science") == ["cs@utoronto.ca"]
    assert emails("science turing") == []  # "science" is not a department of its own
    assert emails("chemistry chem@") == ["chem@utoronto.ca"]  # department and e-mail


@pytest.mark.django_db
def test_search_pages_follow_without_counting_every_match(helpdesk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(30):
        make_person(f"many{n:02d}@utoronto.ca", department="Chemistry")
    client = client_for(helpdesk)
    with CaptureQueriesContext(connection) as captured:
        first = client.get(reverse("helpdesk_search"), {"q": "chemistry"})
    assert not [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert "Hosts 1 to 25, more on the next page" in first.content.decode()
    second = client.get(reverse("helpdesk_search"), {"q": "chemistry", "page": 2}).content.decode()
    assert "Hosts 26 to 30" in second
    assert "Previous page" in second
    assert "Next page" not in second


@pytest.mark.django_db
def test_search_is_paginated(helpdesk):
    for n in range(30):
        make_person(f"many{n:02d}@utoronto.ca", department="Chemistry")
    client = client_for(helpdesk)
    first = client.get(reverse("helpdesk_search"), {"q": "chemistry"})
    assert len(first.context["page"]) == 25
    assert "page=2" in first.content.decode()
    second = client.get(reverse("helpdesk_search"), {"q": "chemistry", "page": 2})
    assert [h.email for h in second.context["page"]][-1] == "many29@utoronto.ca"


@pytest.mark.django_db
def test_search_is_for_the_helpdesk_only(host):
    assert client_for(host).get(reverse("helpdesk_search"), {"q": "a"}).status_code == 403
    anonymous = Client().get(reverse("helpdesk_search"))
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


# --- Looking at a host --------------------------------------------------------------------
@pytest.mark.django_db
def test_opening_a_host_asks_for_a_reason_first_and_shows_nothing_yet(helpdesk, host):
    Snapshot.objects.create(host=host, zoom_status="linked", score=42, grade="D",
                            results={"items": [], "meetings": []})  # fmt: skip
    response = client_for(helpdesk).get(reverse("helpdesk_host", args=[host.pk]))
    assert response.status_code == 200
    assert "audits/helpdesk_reason.html" in [t.name for t in response.templates]
    assert "Sync history" not in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_an_empty_reason_is_refused_with_the_error_shown(helpdesk, host):
    response = client_for(helpdesk).post(reverse("helpdesk_host", args=[host.pk]), {"reason": " "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_reason_records_the_lookup_and_opens_the_page_for_this_host_only(helpdesk, host):
    other = make_person("other@utoronto.ca")
    client = client_for(helpdesk)
    look_up(client, host, "Ticket INC0012345: cannot share screen")

    event = AuditEvent.objects.get()
    assert (event.actor, event.subject, event.action) == (helpdesk, host, "lookup")
    assert event.reason == "Ticket INC0012345: cannot share screen"
    page = client.get(reverse("helpdesk_host", args=[host.pk]))
    assert "audits/helpdesk_host.html" in [t.name for t in page.templates]
    assert "Sync history" in page.content.decode()
    other_page = client.get(reverse("helpdesk_host", args=[other.pk]))
    assert "audits/helpdesk_reason.html" in [t.name for t in other_page.templates]


@pytest.mark.django_db
def test_the_reason_expires_after_thirty_minutes(helpdesk, host):
    client = client_for(helpdesk)
    look_up(client, host)
    session = client.session
    session[LOOKUPS_KEY] = {str(host.pk): time.time() - 1}
    session.save()
    page = client.get(reverse("helpdesk_host", args=[host.pk]))
    assert "audits/helpdesk_reason.html" in [t.name for t in page.templates]


@pytest.mark.django_db
def test_history_shows_what_changed_between_syncs(helpdesk, host):
    def snap(status: str, score: int):
        items = [{"id": "meeting.waiting_room.on", "status": status}]
        Snapshot.objects.create(host=host, zoom_status="linked", score=score, grade="C",
                                results={"items": items, "meetings": []})  # fmt: skip

    snap("fail", 60)
    snap("pass", 70)
    client = client_for(helpdesk)
    look_up(client, host)
    page = client.get(reverse("helpdesk_host", args=[host.pk]))
    history = page.context["history"]
    assert [c["after"] for c in history[0]["changes"]] == ["Pass"]
    assert history[1]["first"]
    assert "Waiting room" in page.content.decode()


@pytest.mark.django_db
def test_a_department_admin_may_look_but_not_act(host):
    admin = make_person("padmin@utoronto.ca", department="Physics", roles=["dept_admin"],
                        admin_departments=["Physics"])  # fmt: skip
    client = client_for(admin)
    look_up(client, host)
    page = client.get(reverse("helpdesk_host", args=[host.pk]))
    assert not page.context["can_act"]
    refused = client.post(reverse("helpdesk_refresh", args=[host.pk]), {"reason": "x"})
    assert refused.status_code == 404
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_actions_need_a_reason_and_keep_what_was_typed(helpdesk, host):
    client = client_for(helpdesk)
    look_up(client, host)
    response = client.post(reverse("helpdesk_harden", args=[host.pk]),
                           {"profile": HardeningProfile.default().slug, "reason": ""})  # fmt: skip
    assert response.status_code == 400
    assert response.context["harden_form"].errors["reason"]
    response = client.post(reverse("helpdesk_refresh", args=[host.pk]), {"reason": ""})
    assert response.status_code == 400
    assert not Job.objects.exists()
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["lookup"]


@pytest.mark.django_db
def test_undo_from_the_plain_job_page_sends_the_helpdesk_to_give_a_reason(helpdesk, host):
    job = Job.objects.create(kind=JobKind.HARDEN, host=host, status=JobStatus.DONE,
                             outcome={"fields": {"a.b": {"outcome": "applied"}}})  # fmt: skip
    response = client_for(helpdesk).post(reverse("job_undo", args=[job.pk]))
    assert response["Location"] == reverse("helpdesk_host", args=[host.pk])
    assert Job.objects.count() == 1


# --- Acting on the host's behalf, with a real worker and the simulator ----------------------
@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_SCHEDULE", (0.2, 0.3, 0.4))


@pytest.mark.usefixtures("celery_worker", "quick_retries")
def test_refresh_harden_and_undo_on_behalf_are_audited_and_shown_to_the_host(
    zoomsim, helpdesk, host
):
    client = client_for(helpdesk)
    look_up(client, host, "INC1 slow Zoom")

    client.post(reverse("helpdesk_refresh", args=[host.pk]), {"reason": "INC1 refresh"})
    sync = finished(Job.objects.get(kind=JobKind.SYNC))
    assert (sync.status, sync.requested_by, sync.reason) == ("done", helpdesk, "INC1 refresh")

    profile = HardeningProfile.default()
    response = client.post(reverse("helpdesk_harden", args=[host.pk]),
                           {"profile": profile.slug, "reason": "INC1 harden"})  # fmt: skip
    harden = finished(Job.objects.get(kind=JobKind.HARDEN))
    assert response["Location"] == reverse("job_detail", args=[harden.pk])
    assert harden.status == "done"
    assert harden.requested_by == helpdesk

    page = client.get(reverse("helpdesk_host", args=[host.pk]))
    entry = next(e for e in page.context["jobs"] if e["job"] == harden)
    assert entry["undoable"]
    assert {f["outcome"] for f in entry["fields"]} >= {"applied"}

    client.post(reverse("helpdesk_undo", args=[host.pk, harden.pk]), {"reason": "INC1 undo"})
    undo = finished(Job.objects.get(kind=JobKind.UNDO))
    assert undo.status == "done"
    assert undo.reason == "INC1 undo"

    events = list(AuditEvent.objects.filter(subject=host).order_by("created_at", "id"))
    assert [(e.action, e.reason) for e in events] == [
        ("lookup", "INC1 slow Zoom"),
        ("refresh_on_behalf", "INC1 refresh"),
        ("harden_on_behalf", "INC1 harden"),
        ("harden", "INC1 harden"),
        ("undo_on_behalf", "INC1 undo"),
        ("undo", "INC1 undo"),
    ]
    assert all(e.actor == helpdesk for e in events)

    activity = client_for(host).get(reverse("activity"))
    text = activity.content.decode()
    for reason in ["INC1 slow Zoom", "INC1 refresh", "INC1 harden", "INC1 undo"]:
        assert reason in text
    assert "Hal Desk" in text
    assert len(activity.context["rows"]) == 6


@pytest.mark.django_db
def test_the_activity_page_shows_only_the_hosts_own_events(helpdesk, host):
    other = make_person("other@utoronto.ca")
    client = client_for(helpdesk)
    look_up(client, host, "about the host")
    look_up(client, other, "about the other")
    text = client_for(host).get(reverse("activity")).content.decode()
    assert "about the host" in text
    assert "about the other" not in text
    assert Client().get(reverse("activity")).status_code == 302


@pytest.mark.django_db
def test_the_activity_page_names_every_action_in_words(host):
    """Every action the portal writes has a label; a failed meetings fix and a finished one are
    the same action."""
    for action in AuditAction:
        AuditEvent.objects.create(actor=host, subject=host, action=action, reason="INC7")
    activity = client_for(host).get(reverse("activity"))
    labels = [row["label"] for row in activity.context["rows"]]
    assert sorted(labels) == sorted(action.label for action in AuditAction)
    for action in AuditAction:
        assert f">{action.value}<" not in activity.content.decode()
    assert {action.value for action in AuditAction} == {
        "lookup", "refresh_on_behalf", "harden_on_behalf", "undo_on_behalf",
        "harden", "undo", "fix_meetings",
    }  # fmt: skip
    assert job_action(JobKind.MEETINGS) == AuditAction.FIX_MEETINGS


@pytest.mark.django_db
def test_the_host_and_the_helpdesk_preview_the_same_changes_for_a_host_on_another_domain(helpdesk):
    """A host whose Zoom account is on another e-mail domain still sees, on their own preview,
    what the helpdesk sees on theirs."""
    host = make_person("other.domain@utoronto.ca")
    documents = {"settings": samples.zoom_default_settings(), "account_locks": None}
    Snapshot.objects.create(host=host, zoom_status=ZoomStatus.OTHER_DOMAIN, documents=documents,
                            results={"items": [], "meetings": []})  # fmt: skip

    own = client_for(host).get(reverse("harden")).context
    client = client_for(helpdesk)
    look_up(client, host)
    theirs = client.get(reverse("helpdesk_host", args=[host.pk])).context["preview"]

    assert own["fresh"]
    assert [row["path"] for row in own["changes"]] == [row["path"] for row in theirs["changes"]]
    assert theirs["changes"]


# --- A job's page: someone else's settings only after a recorded reason ---------------------
@pytest.fixture
def job_of_host(db):
    host = make_person("alice@utoronto.ca", first_name="Alice", last_name="Aardvark")
    return Job.objects.create(
        kind=JobKind.HARDEN,
        host=host,
        profile=HardeningProfile.default(),
        requested_by=host,
        status=JobStatus.DONE,
        reason="the host's own words",
        outcome={
            "fields": {
                "in_meeting.waiting_room": {
                    "item": "meeting.waiting_room.on",
                    "outcome": "applied",
                    "before": "before-value-xyz",
                    "after": True,
                    "now": True,
                }
            }
        },
    )


@pytest.mark.parametrize(
    "viewer",
    [
        lambda: make_person("help@utoronto.ca", department="IT", roles=["helpdesk"]),
        lambda: make_person(
            "physics.admin@utoronto.ca",
            department="Physics",
            roles=["dept_admin"],
            admin_departments=["Physics"],
        ),
    ],
    ids=["helpdesk", "department admin"],
)
def test_job_page_of_someone_else_asks_for_a_reason_first(job_of_host, viewer):
    client = client_for(viewer())
    url = reverse("job_detail", args=[job_of_host.pk])

    before = client.get(url)
    assert "before-value-xyz" not in before.text
    assert "the host&#x27;s own words" not in before.text
    assert reverse("helpdesk_host", args=[job_of_host.host_id]) in before.text

    session = client.session
    session[LOOKUPS_KEY] = {str(job_of_host.host_id): 4_000_000_000}
    session.save()
    after = client.get(url)
    assert after.status_code == 200
    assert "before-value-xyz" in after.text


def test_host_reads_their_own_job_page_without_a_reason(job_of_host):
    response = client_for(job_of_host.host).get(reverse("job_detail", args=[job_of_host.pk]))

    assert response.status_code == 200
    assert "before-value-xyz" in response.text
