"""The Celery app, with the reliability settings measured in shared/NOTES.md."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings

from portal.env import exit_on_configuration_error

# Every process imports this module first (portal/__init__.py), so the settings are read
# here: a bad one stops the worker, beat, gunicorn or manage.py with one line naming it.
with exit_on_configuration_error():
    settings.INSTALLED_APPS  # noqa: B018

app = Celery("portal")


def broker_transport_options(broker_url: str, celery_dir: Path) -> dict:
    """Options that fit the broker in use; Redis-style options break other transports."""
    scheme = urlsplit(broker_url).scheme
    if scheme == "filesystem":
        folder = celery_dir / "broker"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    if scheme in {"redis", "rediss"}:
        return {
            # A message not acknowledged within this time is delivered again: every task's
            # time limit is kept at half of it or less (checked in settings).
            "visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT,
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
            "health_check_interval": 30,
        }
    return {}


app.conf.update(
    broker_url=settings.CELERY_BROKER_URL,
    broker_transport_options=broker_transport_options(
        settings.CELERY_BROKER_URL, settings.CELERY_DIR
    ),
    broker_connection_retry_on_startup=True,
    # A worker that lost the broker keeps trying to reconnect, however long it is down.
    broker_connection_max_retries=None,
    result_backend=settings.CELERY_RESULT_BACKEND,
    result_expires=24 * 3600,
    # Jobs keep their outcome in their own row; only tasks that say so store a result.
    task_ignore_result=True,
    # A task is acknowledged when it ends, so a worker killed mid-task leaves it queued; every
    # task is written to be safe to run twice.
    task_acks_late=True,
    task_retry_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=settings.CELERY_TASK_TIME_LIMIT,
    task_soft_time_limit=max(1, settings.CELERY_TASK_TIME_LIMIT - 10),
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    timezone=settings.TIME_ZONE,
    enable_utc=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    # Two queues, so a sweep or a retention run never makes a person wait: `interactive` for
    # the jobs someone started (a page, the helpdesk, a command), `bulk` for the periodic work.
    # Each needs at least one worker: `celery -A portal worker -Q interactive` (and `-Q bulk`).
    task_default_queue="interactive",
    task_routes={
        "audits.run_job": {"queue": "interactive"},
        "portal.heartbeat": {"queue": "interactive"},
        "audits.sweep_jobs": {"queue": "bulk"},
        "audits.purge_old_records": {"queue": "bulk"},
    },
)
if urlsplit(settings.CELERY_BROKER_URL).scheme in {"redis", "rediss"}:
    app.conf.result_backend_transport_options = {
        "visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT
    }

app.autodiscover_tasks()

app.conf.beat_schedule = {
    # /healthz fails when no worker has run it for PORTAL_HEALTHZ_WORKER_SECONDS (180 s).
    "worker-heartbeat": {"task": "portal.heartbeat", "schedule": 30.0},
}
# Waiting jobs live in their rows and the sweep sends them when due: its period is the slack
# added to every wait (a first retry after 5 s runs within 5-15 s).
app.conf.beat_schedule["sweep-jobs"] = {"task": "audits.sweep_jobs", "schedule": 10.0}
app.conf.beat_schedule["purge-old-records"] = {
    "task": "audits.purge_old_records",
    "schedule": 24 * 3600.0,
}


@worker_ready.connect
def _beat_at_start(**kwargs: object) -> None:
    """A worker that has just started (or been restarted) counts as beating at once."""
    from portal.tasks import record_heartbeat

    record_heartbeat()
