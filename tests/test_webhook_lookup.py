"""Which hosts a Zoom notification is about: by e-mail (any case) or by the Zoom user id of
their readings, each host once."""

from __future__ import annotations

import pytest

from audits.models import Job, JobKind, Snapshot
from tests.people import make_person
from tests.test_webhook import SECRET, signed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ZOOM_WEBHOOK_SECRET = SECRET


def settings_updated(zoom_id: str, email: str) -> dict:
    return {
        "event": "user.settings_updated",
        "payload": {"account_id": "abc", "object": {"id": zoom_id, "email": email}},
    }


def read_as(host, zoom_id: str, times: int = 1) -> None:
    for _ in range(times):
        Snapshot.objects.create(host=host, zoom_status="linked", zoom_user_id=zoom_id)


def syncs_of(host) -> int:
    return Job.objects.filter(host=host, kind=JobKind.SYNC).count()


def test_a_host_whose_zoom_email_changed_is_found_by_zoom_id(client):
    host = make_person("renamed@utoronto.ca")
    read_as(host, "zu-renamed", times=3)

    assert signed(client, settings_updated("zu-renamed", "new.name@utoronto.ca")).status_code == 204

    assert syncs_of(host) == 1


def test_a_host_matched_by_both_email_and_zoom_id_gets_one_sync(client):
    host = make_person("both@utoronto.ca")
    read_as(host, "zu-both", times=2)

    signed(client, settings_updated("zu-both", "BOTH@utoronto.ca"))

    assert syncs_of(host) == 1


def test_only_the_named_hosts_are_synced(client):
    named, other = make_person("named@utoronto.ca"), make_person("other@utoronto.ca")
    read_as(other, "zu-other")

    signed(client, settings_updated("zu-nobody", "named@utoronto.ca"))

    assert (syncs_of(named), syncs_of(other)) == (1, 0)
