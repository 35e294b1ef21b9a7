"""With the broker down, asking for a refresh loses nothing: the job waits, the page says it is
queued, and the sweep sends it once the broker answers again."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from audits.jobs import machinery as jobs
from audits.models import Job, JobStatus
from portal.celery import app
from tests.conftest import worker_env
from tests.people import make_person
from tests.support import ROOT

# The portal's web side, in its own process, with its broker on a port where nothing listens.
WEB_WITH_BROKER_DOWN = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
client.force_login(get_user_model().objects.get(email="mixed.host@utoronto.ca"))
asked = client.post("/me/refresh/")
page = client.get("/me/").content.decode()
print(json.dumps({"status": asked.status_code, "queued": "Refresh from Zoom: Queued" in page}))
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_refresh_asked_while_the_broker_is_down_waits_and_is_sent_later():
    host = make_person("mixed.host@utoronto.ca", department="History")
    env = worker_env({"CELERY_BROKER_URL": "redis://127.0.0.1:9/0"})

    web = subprocess.run(
        [sys.executable, "-c", WEB_WITH_BROKER_DOWN],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert web.returncode == 0, web.stderr
    answer = json.loads(web.stdout.strip().splitlines()[-1])
    assert answer == {"status": 302, "queued": True}
    job = Job.objects.get(host=host)
    assert job.status == JobStatus.PENDING
    assert job.enqueued_at is None  # the message never left
    # The broker answers again; the periodic sweep sends what stayed behind.
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at.replace(year=2020))
    assert jobs.sweep_pending() == 1
    job.refresh_from_db()
    assert job.enqueued_at is not None
    app.control.purge()  # running it is another test's business (tests/test_sync.py)
