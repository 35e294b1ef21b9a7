import pytest


@pytest.mark.django_db
def test_healthz_answers_200_when_database_cache_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    assert body["failing"] == []


@pytest.mark.django_db
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
