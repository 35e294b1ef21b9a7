"""Zoom's notifications are accepted only with a valid signature, and trigger a fresh sync."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from audits.models import Job, JobKind
from tests.people import make_person

SECRET = "test-webhook-secret"
URL = "/zoom/webhook/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ZOOM_WEBHOOK_SECRET = SECRET


def signed(client, event: dict, *, secret: str = SECRET, timestamp: int | None = None):
    body = json.dumps(event).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"x-zm-signature": "v0=" + digest.hexdigest(), "x-zm-request-timestamp": stamp},
    )


def settings_updated(email: str) -> dict:
    return {
        "event": "user.settings_updated",
        "payload": {
            "account_id": "abc",
            "object": {"id": "zoomid", "email": email, "settings": {}},
            "old_object": {"id": "zoomid", "settings": {}},
        },
    }


@pytest.mark.django_db
def test_a_signed_settings_change_queues_a_sync_of_that_host(client):
    host = make_person("mixed.host@utoronto.ca")

    response = signed(client, settings_updated("Mixed.Host@utoronto.ca"))

    assert response.status_code == 204
    assert Job.objects.filter(host=host, kind=JobKind.SYNC).count() == 1


@pytest.mark.django_db
def test_a_wrong_signature_is_refused_and_changes_nothing(client):
    make_person("mixed.host@utoronto.ca")

    response = signed(client, settings_updated("mixed.host@utoronto.ca"), secret="guess")

    assert response.status_code == 401
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_an_old_notification_replayed_later_is_refused(client):
    make_person("mixed.host@utoronto.ca")

    response = signed(client, settings_updated("mixed.host@utoronto.ca"), timestamp=1_600_000_000)

    assert response.status_code == 401
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_an_unsigned_notification_is_refused(client):
    response = client.post(URL, data="{}", content_type="application/json")

    assert response.status_code == 401


@pytest.mark.django_db
def test_zoom_url_validation_is_answered_with_the_encrypted_token(client):
    response = signed(
        client, {"event": "endpoint.url_validation", "payload": {"plainToken": "abc123"}}
    )

    expected = hmac.new(SECRET.encode(), b"abc123", hashlib.sha256).hexdigest()
    assert response.json() == {"plainToken": "abc123", "encryptedToken": expected}


def test_the_webhook_accepts_only_post(client):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db
def test_with_no_secret_configured_every_notification_is_refused(client, settings):
    settings.ZOOM_WEBHOOK_SECRET = ""

    response = signed(client, settings_updated("mixed.host@utoronto.ca"), secret="")

    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        [],
        "user.settings_updated",
        7,
        {"event": 5},
        {"event": "user.settings_updated", "payload": []},
        {"event": "user.settings_updated", "payload": {"object": "x"}},
        {"event": "user.settings_updated", "payload": {"object": {"email": 5}}},
        {"event": "user.settings_updated", "payload": {"object": {"id": {"a": 1}}}},
        {"event": "endpoint.url_validation", "payload": "token"},
        {"event": "endpoint.url_validation", "payload": {"plainToken": ["a"]}},
    ],
)
def test_a_signed_body_of_an_unexpected_shape_is_a_bad_request(client, body):
    make_person("mixed.host@utoronto.ca")

    response = signed(client, body)

    assert response.status_code == 400
    assert "unexpected shape" in response.json()["error"]
    assert not Job.objects.exists()
