"""The command-line tools, against the simulator over HTTP (and a real worker where a job runs)."""

from __future__ import annotations

import getpass
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audits.checklist.items import ITEMS
from tests.people import make_person

ITEM_KEYS = {"id", "status", "level", "severity", "found", "wanted", "detail"}


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email", ["hardened.host@utoronto.ca", "default.host@utoronto.ca", "meetings.host@utoronto.ca"]
)
def test_zoom_audit_json_prints_exactly_one_object_of_the_documented_shape(zoomsim, email):
    make_person(email)
    printed = run("zoom_audit", email, "--json")

    data = json.loads(printed)  # one object, nothing else on stdout
    assert {"email", "score", "grade", "synced_at", "items", "meetings"} <= set(data)
    assert data["email"] == email
    assert isinstance(data["score"], int)
    assert data["grade"] in {"A", "B", "C", "D", "F"}
    assert [item["id"] for item in data["items"]] == [item.id for item in ITEMS]
    assert all(set(item) == ITEM_KEYS for item in data["items"])
    for meeting in data["meetings"]:
        assert {"id", "topic", "findings"} == set(meeting)
        assert all({"item", "status", "detail"} == set(f) for f in meeting["findings"])


@pytest.mark.django_db
def test_zoom_audit_finds_the_sensitive_meeting_title(zoomsim):
    make_person("meetings.host@utoronto.ca")
    data = json.loads(run("zoom_audit", "meetings.host@utoronto.ca", "--json"))

    findings = [f for m in data["meetings"] for f in m["findings"]]
    assert any(f["item"] == "practice.titles.not_sensitive" and f["status"] == "fail"
               for f in findings)  # fmt: skip


@pytest.mark.django_db
def test_zoom_audit_of_an_unknown_user_says_so_and_fails(zoomsim):
    make_person("nobody@utoronto.ca")
    with pytest.raises(CommandError, match="Zoom has no user"):
        run("zoom_audit", "nobody@utoronto.ca", "--json")


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["", "not-an-email", "ab", "default.host@utoronto.ca"])
def test_zoom_audit_creates_no_user_for_an_address_nobody_signed_in_with(zoomsim, email):
    with pytest.raises(CommandError, match=r"not an e-mail address|no portal user"):
        run("zoom_audit", email)
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_zoom_harden_dry_run_shows_the_change_and_sends_nothing(zoomsim):
    from tests.people import make_person

    make_person("default.host@utoronto.ca")

    data = json.loads(run("zoom_harden", "default.host@utoronto.ca", "--dry-run", "--json"))

    assert data["dry_run"] is True
    assert data["profile"] == "institutional-default"
    assert {c["path"] for c in data["changes"]} >= {"in_meeting.who_can_share_screen"}
    assert not [r for r in zoomsim.requests() if r["method"] == "PATCH"]


@pytest.mark.usefixtures("celery_worker")
def test_zoom_harden_waits_and_zoom_undo_puts_it_back(zoomsim):
    from tests.people import make_person

    make_person("default.host@utoronto.ca")

    hardened = json.loads(run("zoom_harden", "default.host@utoronto.ca", "--wait", "--json"))
    assert hardened["status"] == "done"
    assert any(f["outcome"] == "applied" for f in hardened["fields"].values())

    undone = json.loads(run("zoom_undo", str(hardened["id"]), "--wait", "--json"))
    assert undone["status"] == "done"
    assert undone["undo_of"] == hardened["id"]
    assert {f["outcome"] for f in undone["fields"].values()} == {"restored"}


@pytest.mark.django_db
def test_zoom_harden_names_the_profiles_when_one_is_unknown(zoomsim):
    from tests.people import make_person

    make_person("default.host@utoronto.ca")

    with pytest.raises(CommandError, match="institutional-default"):
        run("zoom_harden", "default.host@utoronto.ca", "--profile", "no-such-thing")


def _finished_hardening(email: str):
    from audits.models import HardeningProfile, Job, JobKind, JobStatus

    host = make_person(email)
    field = {"item": "x", "outcome": "applied", "before": False, "after": True, "now": True}
    return Job.objects.create(
        kind=JobKind.HARDEN,
        host=host,
        status=JobStatus.DONE,
        profile=HardeningProfile.default(),
        outcome={"fields": {"in_meeting.waiting_room": field}},
    )


@pytest.mark.django_db
def test_zoom_undo_run_twice_makes_one_undo_job(zoomsim):
    original = _finished_hardening("default.host@utoronto.ca")
    first = json.loads(run("zoom_undo", str(original.pk), "--json"))

    again = json.loads(run("zoom_undo", str(original.pk), "--json"))

    assert again["id"] == first["id"]
    assert original.undone_by.count() == 1


@pytest.mark.django_db
def test_zoom_undo_of_a_change_already_undone_is_refused(zoomsim):
    from audits.models import JobStatus

    original = _finished_hardening("default.host@utoronto.ca")
    run("zoom_undo", str(original.pk))
    original.undone_by.update(status=JobStatus.DONE)

    with pytest.raises(CommandError, match="already undone"):
        run("zoom_undo", str(original.pk))
    assert original.undone_by.count() == 1


@pytest.mark.django_db
def test_a_job_from_the_command_line_names_who_ran_it(zoomsim, client):
    host = make_person("default.host@utoronto.ca")
    helpdesk = make_person("helpdesk.staff@utoronto.ca", roles=["helpdesk"])

    started = json.loads(run("zoom_harden", host.email, "--json"))
    by_helpdesk = json.loads(
        run("zoom_harden", host.email, "--profile", "large-lecture", "--actor", helpdesk.email,
            "--json")
    )  # fmt: skip

    client.force_login(host)
    page = client.get(f"/jobs/{started['id']}/", secure=True).content.decode()
    assert f"the command line ({getpass.getuser()})" in page
    page = client.get(f"/jobs/{by_helpdesk['id']}/", secure=True).content.decode()
    assert "asked by helpdesk.staff@utoronto.ca" in page
    assert f"the command line ({getpass.getuser()})" in page
