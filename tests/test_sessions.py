"""A signed-in session ends after PORTAL_SESSION_MAX_HOURS however busy it is (idle sessions
end sooner, after PORTAL_SESSION_IDLE_MINUTES)."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from audits.models import Job, JobKind
from portal.middleware import SIGNED_IN_AT
from tests.people import make_person

pytestmark = pytest.mark.django_db
HTTPS = {"secure": True}


@pytest.fixture
def host(settings):
    settings.PORTAL_SESSION_MAX_HOURS = 12
    return make_person("default.host@utoronto.ca")


@pytest.fixture
def host_client(host) -> Client:
    client = Client()
    client.force_login(host)
    return client


def _signed_in_hours_ago(client: Client, hours: float) -> None:
    session = client.session
    session[SIGNED_IN_AT] = time.time() - hours * 3600
    session.save()


def test_a_session_younger_than_the_lifetime_goes_on(host_client):
    _signed_in_hours_ago(host_client, 11.9)

    assert host_client.get("/me/activity/", **HTTPS).status_code == 200
    assert "_auth_user_id" in host_client.session


def test_a_session_older_than_the_lifetime_ends_and_asks_to_sign_in_again(host_client):
    _signed_in_hours_ago(host_client, 12.1)

    response = host_client.get("/me/activity/", **HTTPS)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in host_client.session


def test_progress_polling_does_not_keep_a_session_past_its_lifetime(host, host_client):
    job = Job.objects.create(kind=JobKind.SYNC, host=host)
    polled = host_client.get(f"/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true", **HTTPS)
    assert polled.status_code == 200
    _signed_in_hours_ago(host_client, 12.1)

    response = host_client.get(f"/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true", **HTTPS)

    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert "_auth_user_id" not in host_client.session


def test_a_session_from_before_the_lifetime_was_kept_starts_counting_now(host_client):
    session = host_client.session
    session.pop(SIGNED_IN_AT, None)
    session.save()

    assert host_client.get("/me/activity/", **HTTPS).status_code == 200
    assert time.time() - host_client.session[SIGNED_IN_AT] < 3600
