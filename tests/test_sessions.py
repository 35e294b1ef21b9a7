"""A signed-in session ends after PORTAL_SESSION_MAX_HOURS however busy it is, and sooner after
PORTAL_SESSION_IDLE_MINUTES without a request; its idle expiry is renewed at most once a minute,
so that a page does not write the session on every request."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.models import Job, JobKind
from portal.middleware import RENEWED_AT, SIGNED_IN_AT
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


def _stored(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def _as_if_last_renewed_seconds_ago(client: Client, seconds: float) -> None:
    """The session row as the portal left it when it last renewed it, `seconds` ago."""
    session = client.session
    session[RENEWED_AT] = time.time() - seconds
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(seconds=session.get_expiry_age() - seconds)
    )


def _session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]


def test_a_signed_in_page_within_the_minute_does_not_write_the_session(host_client):
    assert host_client.get("/me/activity/", **HTTPS).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = host_client.get("/me/activity/", **HTTPS)

    assert response.status_code == 200
    assert _session_writes(queries) == []


def test_a_session_used_after_more_than_a_minute_is_renewed(host_client):
    _as_if_last_renewed_seconds_ago(host_client, 61)
    expiring = _stored(host_client).expire_date

    with CaptureQueriesContext(connection) as queries:
        response = host_client.get("/me/activity/", **HTTPS)

    assert response.status_code == 200
    assert len(_session_writes(queries)) == 1
    assert _stored(host_client).expire_date - expiring > timedelta(seconds=30)


def test_a_session_idle_for_the_idle_timeout_ends(settings, host_client):
    assert host_client.get("/me/activity/", **HTTPS).status_code == 200
    _as_if_last_renewed_seconds_ago(host_client, settings.SESSION_COOKIE_AGE + 1)

    response = host_client.get("/me/activity/", **HTTPS)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
