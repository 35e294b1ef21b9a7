"""A task sent through a real broker is run by a real worker process (never eager mode)."""

from __future__ import annotations

import os

import pytest
from celery import Celery

from portal.celery import app as portal_app
from portal.celery import broker_transport_options
from tests.support import ROOT, require_service, subprocess_env, worker_process

pytestmark = pytest.mark.worker


def _client_app(broker_url: str, backend: str, celery_dir) -> Celery:
    app = Celery("roundtrip-client", broker=broker_url, backend=backend)
    app.conf.broker_transport_options = broker_transport_options(broker_url, celery_dir)
    app.conf.accept_content = ["json"]
    app.conf.task_serializer = "json"
    # Sent where the portal sends it (the worker consumes the portal's queues, not "celery").
    app.conf.task_routes = portal_app.conf.task_routes
    return app


def _round_trip(env: dict[str, str], broker_url: str, backend: str, var_dir) -> None:
    app = _client_app(broker_url, backend, var_dir)
    with worker_process(env, name="roundtrip") as worker:
        result = app.send_task("portal.heartbeat")
        stamp = result.get(timeout=60)
        assert worker.poll() is None, "the worker died"
    assert stamp[:4].isdigit(), f"the worker answered {stamp!r}, not a timestamp"


@pytest.fixture(autouse=True)
def _celery_reads_no_broker_from_the_environment(monkeypatch):
    # Celery prefers CELERY_BROKER_URL and CELERY_RESULT_BACKEND from the environment over the
    # app's own configuration; each test names its broker explicitly instead.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)


def test_round_trip_through_redis_broker_and_worker_process(tmp_path):
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    require_service(redis_url, "Redis")
    env = subprocess_env(
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        REDIS_URL=redis_url,
        PORTAL_VAR_DIR=str(tmp_path),
    )

    _round_trip(env, redis_url, redis_url, tmp_path)


def test_round_trip_through_embedded_filesystem_broker_and_worker_process(tmp_path):
    backend = f"file://{tmp_path / 'results'}"
    (tmp_path / "results").mkdir()
    env = subprocess_env(
        CELERY_BROKER_URL="filesystem://",
        CELERY_RESULT_BACKEND=backend,
        REDIS_URL=None,
        DATABASE_URL=None,
        DJANGO_DEBUG="true",
        PORTAL_VAR_DIR=str(tmp_path),
        PORTAL_CELERY_DIR=str(tmp_path / "celery"),
    )

    _round_trip(env, "filesystem://", backend, tmp_path / "celery")
    assert (ROOT / "var").is_dir()
