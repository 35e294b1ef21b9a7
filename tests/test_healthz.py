from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal.tasks import HEARTBEAT_KEY, record_heartbeat


@pytest.fixture
def worker_beating():
    """As if beat's heartbeat had just been run by a worker."""
    record_heartbeat()


@pytest.mark.django_db
@pytest.mark.usefixtures("worker_beating")
def test_healthz_answers_200_when_database_cache_broker_and_a_worker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "worker": "ok"}
    assert body["failing"] == []


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_worker_when_none_has_beaten_for_too_long(client, settings):
    settings.PORTAL_HEALTHZ_WORKER_SECONDS = 180
    four_minutes_ago = timezone.now() - timedelta(minutes=4)
    cache.set(HEARTBEAT_KEY, four_minutes_ago.isoformat(), timeout=None)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert "no worker heartbeat for 24" in body["checks"]["worker"]
    assert body["worker_heartbeat"] == four_minutes_ago.isoformat()


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_worker_when_none_ever_beat(client):
    cache.delete(HEARTBEAT_KEY)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


@pytest.mark.django_db
@pytest.mark.usefixtures("worker_beating")
def test_healthz_answers_503_naming_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9
    settings.PORTAL_HEALTHZ_TIMEOUT = 1.0

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"].startswith("unavailable")
    assert body["checks"]["database"] == "ok"
    assert "127.0.0.1:9" not in response.content.decode()  # no addresses or secrets leak


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_cache_when_it_is_down(client, settings):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    caches._settings = None
    try:
        response = client.get("/healthz")
    finally:
        caches._settings = None

    assert response.status_code == 503
    assert "cache" in response.json()["failing"]


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
