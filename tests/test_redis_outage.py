"""Redis, the broker, stops and starts while a hardening waits for Zoom to come back: the job
still finishes, the worker still serves, and /healthz names the worker once none beats.

kombu 5.7's Redis transport kills a worker that holds an unacknowledged countdown message when
Redis goes away (shared/NOTES.md); the portal keeps waits in the job's row instead. The Redis
here is our own, on a free port: the shared one on 6379 is never touched.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client
from kombu import Connection

from audits.models import HardeningProfile, Job, JobKind, JobStatus
from audits.tasks import run_job
from tests.conftest import worker_env
from tests.people import make_person
from tests.support import ROOT, free_port, port_open, stop_process, wait_for, worker_process

HOST = "default.host@utoronto.ca"


@contextmanager
def redis_server(port: int, folder: Path) -> Iterator[subprocess.Popen]:
    """A redis-server of our own on loopback, keeping nothing on disk."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: port_open(f"redis://127.0.0.1:{port}"), timeout=20, what="redis-server")
        yield proc
    finally:
        stop_process(proc)


@contextmanager
def beat_process(env: dict[str, str], folder: Path) -> Iterator[subprocess.Popen]:
    """Celery beat as in production: the heartbeat and the sweep that sends waiting jobs."""
    log = open(ROOT / "var" / "beat-redis-outage.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO",
         f"--pidfile={folder / 'beat.pid'}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        stop_process(proc, timeout=15)
        log.close()


def healthz() -> tuple[int, dict]:
    response = Client().get("/healthz")
    return response.status_code, response.json()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redis_restart_while_a_job_waits_for_zoom_leaves_a_serving_worker(
    zoomsim, settings, tmp_path
):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    settings.CELERY_BROKER_URL = broker  # /healthz checks the same broker as the worker
    env = worker_env({**zoomsim.env, "CELERY_BROKER_URL": broker})
    host = make_person(HOST)
    with (
        redis_server(port, tmp_path) as redis,
        worker_process(env, name="outage") as worker,
        beat_process(env, tmp_path),
    ):
        wait_for(lambda: healthz()[0] == 200, timeout=60, what="/healthz to see the worker")
        zoomsim.set_faults(outage=True)
        job = Job.objects.create(
            kind=JobKind.HARDEN, host=host, requested_by=host, profile=HardeningProfile.default()
        )
        # As the web process does on commit, on this test's broker (this process's own Celery
        # app was bound to another one when it was imported).
        with Connection(broker) as connection:
            run_job.apply_async((job.pk,), connection=connection)
        wait_for(lambda: "retrying" in Job.objects.get(pk=job.pk).message, timeout=60,
                 what="the job to wait for a retry")  # fmt: skip

        time.sleep(1)  # a worker given a countdown message has it by now (it waits 5 s)
        stop_process(redis)  # Redis goes away while the job waits...
        wait_for(lambda: not port_open(broker), what="Redis to stop")
        time.sleep(3)  # long enough for the worker to try to reconnect
        with redis_server(port, tmp_path):  # ...and comes back, empty
            zoomsim.set_faults()  # and Zoom answers again
            wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=180,
                     what="the job to finish after Redis came back")  # fmt: skip
            job.refresh_from_db()
            assert job.status == JobStatus.DONE, job.message
            assert worker.poll() is None, "the worker survived the Redis restart"
            code, body = healthz()
            assert code == 200, body

            stop_process(worker)  # no worker any more: /healthz says so once it is overdue
            settings.PORTAL_HEALTHZ_WORKER_SECONDS = 5
            wait_for(lambda: healthz()[0] == 503, timeout=60, what="/healthz to fail")
            assert healthz()[1]["failing"] == ["worker"]
