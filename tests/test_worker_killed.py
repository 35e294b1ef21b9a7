"""A worker killed with SIGKILL in the middle of a hardening job, on Redis: a second worker
finishes it, Zoom's settings end right, nothing that changes the outcome is sent twice, and the
audit log holds one event. And the demo's supervisor starts a killed worker again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from celery import Celery

from audits.checklist.items import ITEMS
from audits.checklist.model import _get
from audits.models import AuditEvent, HardeningProfile, Job, JobKind, JobStatus
from audits.zoom import client as zoom
from portal.celery import app as portal_app
from portal.celery import broker_transport_options
from tests.conftest import worker_env
from tests.people import make_person
from tests.support import (
    ROOT,
    free_port,
    require_service,
    subprocess_env,
    wait_for,
    worker_process,
)

pytestmark = pytest.mark.worker

HOST = "default.host@utoronto.ca"
VISIBILITY = 16  # seconds before Redis gives an unacknowledged task to another worker
TIME_LIMIT = 8  # the job's lease: a claim older than this belongs to a dead worker


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_mid_way_is_finished_once_by_another(zoomsim, tmp_path):
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    require_service(redis_url, "Redis")
    broker = os.environ.get("CELERY_BROKER_URL", redis_url)
    host = make_person(HOST)
    job = Job.objects.create(
        kind=JobKind.HARDEN, host=host, requested_by=host, profile=HardeningProfile.default()
    )
    env = worker_env(
        {
            **zoomsim.env,
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": redis_url,
            "REDIS_URL": redis_url,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
            "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
        }
    )
    # Every Zoom answer takes a while, so the worker is still busy when it is killed.
    zoomsim.set_faults(latency=0.4)
    client = Celery("kill-test", broker=broker)
    client.conf.broker_transport_options = broker_transport_options(broker, tmp_path)
    client.conf.task_routes = portal_app.conf.task_routes  # to the queue the worker consumes
    client.connection_for_write().default_channel.client.flushdb()

    with worker_process(env, name="doomed") as doomed:
        client.send_task("audits.run_job", (job.pk,))
        wait_for(lambda: _patches(zoomsim), timeout=60, what="the first worker's PATCH")
        os.killpg(doomed.pid, signal.SIGKILL)  # mid-job: after the PATCH, before verifying
        doomed.wait()
    job.refresh_from_db()
    assert job.status in (JobStatus.RUNNING, JobStatus.VERIFYING)
    assert job.before, "what the job overwrote was saved before it sent anything"

    with worker_process(env, name="rescuer"):
        wait_for(
            lambda: Job.objects.get(pk=job.pk).is_finished,
            timeout=VISIBILITY * 6,
            what="the second worker to finish the job",
        )

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.attempts == 2  # claimed by the killed worker, then by the rescuer
    assert AuditEvent.objects.filter(job=job).count() == 1
    assert len(_patches(zoomsim)) == 1  # the second run found nothing left to send
    settings = zoom.get_user_settings(zoom.get_user(HOST)["id"])
    for path, field in job.outcome["fields"].items():
        if field["outcome"] in ("applied", "already"):
            assert _get(settings, path) == field["after"], path
    assert {f["outcome"] for f in job.outcome["fields"].values()} >= {"applied"}
    assert any(item.fixable for item in ITEMS)


def _patches(zoomsim) -> list[dict]:
    return [r for r in zoomsim.requests() if r["method"] == "PATCH"]


def _children(pid: int) -> dict[int, str]:
    listing = subprocess.run(
        ["ps", "-ww", "--ppid", str(pid), "-o", "pid=,args="], capture_output=True, text=True
    ).stdout
    return {int(p): args for p, _, args in (line.strip().partition(" ") for line in
            listing.splitlines())}  # fmt: skip


def _demo_worker(demo: subprocess.Popen) -> int | None:
    # The interactive queue's worker: the one that runs beat's heartbeat.
    found = [
        p
        for p, args in _children(demo.pid).items()
        if " worker " in f" {args} " and "--queues=interactive" in args
    ]
    return found[0] if found else None


def _healthz(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def test_the_demo_starts_a_worker_that_died_again_and_healthz_sees_it_beat(tmp_path):
    """`make demo`'s supervisor: a worker killed (as Redis can kill one) is started again."""
    zoom_port, port = free_port(), free_port()
    env = subprocess_env(
        DATABASE_URL=None, REDIS_URL=None, CELERY_BROKER_URL=None, DJANGO_SECRET_KEY=None,
        CELERY_RESULT_BACKEND=None, DJANGO_DEBUG=None, PORTAL_SQLITE_PATH=None,
        PORTAL_VAR_DIR=str(tmp_path), ZOOM_OAUTH_BASE=f"http://127.0.0.1:{zoom_port}",
        ZOOM_API_BASE=f"http://127.0.0.1:{zoom_port}/v2",
    )  # fmt: skip
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    log = open(tmp_path / "demo.log", "w")  # noqa: SIM115
    demo = subprocess.Popen(
        [*manage, "rundemo", f"--port={port}"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    healthz = f"http://127.0.0.1:{port}/healthz"
    try:
        wait_for(lambda: _healthz(healthz)[0] == 200, timeout=120, what="the demo to be healthy")
        first = wait_for(lambda: _demo_worker(demo), timeout=30, what="the demo's worker")

        os.kill(first, signal.SIGKILL)

        second = wait_for(
            lambda: (w := _demo_worker(demo)) not in (None, first) and w,
            timeout=60,
            what="the supervisor to start a worker again",
        )
        assert demo.poll() is None, "the demo kept running"
        assert second != first
        beaten = _healthz(healthz)[1]["worker_heartbeat"]
        wait_for(lambda: _healthz(healthz)[1].get("worker_heartbeat") != beaten, timeout=90,
                 what="the new worker to beat")  # fmt: skip
        assert _healthz(healthz)[0] == 200
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=60)
        log.close()
