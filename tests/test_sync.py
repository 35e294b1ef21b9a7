"""Refreshing from Zoom: a real worker, the simulator over HTTP, and every state a host sees."""

from __future__ import annotations

import pytest
from django.db import transaction

from audits.checklist.items import ITEMS
from audits.jobs import machinery as jobs
from audits.jobs.sync import sync_host
from audits.models import Job, JobKind, JobStatus, Snapshot, ZoomStatus
from tests.people import make_person
from tests.support import run_job, wait_for


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_SCHEDULE", (0.2, 0.2, 0.2))


@pytest.mark.usefixtures("celery_worker")
def test_refresh_stores_a_scored_snapshot_with_every_checklist_item(zoomsim):
    host = make_person("hardened.host@utoronto.ca", department="Computer Science")

    job = run_job(JobKind.SYNC, host)

    assert job.status == JobStatus.DONE
    snapshot = Snapshot.objects.get(host=host)
    assert snapshot.zoom_status == ZoomStatus.LINKED
    assert {item["id"] for item in snapshot.results["items"]} == {item.id for item in ITEMS}
    assert snapshot.grade == "A"
    assert snapshot.score >= 90
    assert snapshot.score == 100
    weighted = {item["id"]: item["status"] for item in snapshot.results["items"] if item["weight"]}
    # Every weighted item passes; automatic recording is the account's to decide (locked).
    assert weighted == {item_id: "pass" for item_id in weighted} | {"recording.auto.off": "locked"}


@pytest.mark.usefixtures("celery_worker")
def test_a_host_with_zoom_defaults_scores_lower_than_a_hardened_one(zoomsim):
    hardened = make_person("hardened.host@utoronto.ca")
    default = make_person("default.host@utoronto.ca")

    run_job(JobKind.SYNC, hardened), run_job(JobKind.SYNC, default)

    assert Snapshot.objects.get(host=default).score < Snapshot.objects.get(host=hardened).score


@pytest.mark.usefixtures("celery_worker")
def test_no_meeting_passcode_or_start_link_is_kept_in_the_portal(zoomsim):
    host = make_person("meetings.host@utoronto.ca", department="Medicine")

    run_job(JobKind.SYNC, host)

    stored = str(Snapshot.objects.get(host=host).documents)
    assert "start_url': 'http" not in stored
    assert "zak=" not in stored
    meetings = Snapshot.objects.get(host=host).documents["meetings"]
    assert meetings, "the seeded host has upcoming meetings"
    assert all(m.get("password") in ("", "[redacted]", None) for m in meetings)


@pytest.mark.usefixtures("celery_worker")
def test_unknown_zoom_user_ends_in_the_not_found_state(zoomsim):
    host = make_person("nobody.here@utoronto.ca")

    job = run_job(JobKind.SYNC, host)

    assert job.status == JobStatus.FAILED
    snapshot = Snapshot.objects.get(host=host)
    assert snapshot.zoom_status == ZoomStatus.NOT_FOUND
    assert "nobody.here@utoronto.ca" in snapshot.error


@pytest.mark.usefixtures("celery_worker")
def test_pending_zoom_user_ends_in_the_pending_state(zoomsim):
    host = make_person("pending.host@utoronto.ca")

    run_job(JobKind.SYNC, host)

    assert Snapshot.objects.get(host=host).zoom_status == ZoomStatus.PENDING


@pytest.mark.usefixtures("celery_worker", "beat_sweep", "quick_retries")
def test_zoom_errors_past_the_retry_schedule_keep_the_last_good_snapshot(zoomsim):
    host = make_person("mixed.host@utoronto.ca", department="History")
    run_job(JobKind.SYNC, host)
    good = Snapshot.objects.get(host=host)
    zoomsim.set_faults(error_rate=1.0, error_status=503)

    job = run_job(JobKind.SYNC, host)

    assert job.status == JobStatus.FAILED
    assert "Zoom could not be reached" in job.message
    latest = Snapshot.objects.filter(host=host).first()
    assert latest.zoom_status == ZoomStatus.UNREACHABLE
    assert Snapshot.objects.filter(host=host, pk=good.pk).exists()
    assert job.failures == len(jobs.RETRY_SCHEDULE) + 1


@pytest.mark.usefixtures("celery_worker", "beat_sweep", "quick_retries")
def test_a_timeout_is_retried_and_the_refresh_still_succeeds(zoomsim, settings):
    settings.ZOOM_READ_TIMEOUT = 0.5
    host = make_person("mixed.host@utoronto.ca", department="History")
    zoomsim.set_faults(timeout_rate=1.0, timeout_seconds=2)
    with transaction.atomic():
        job = jobs.create_job(JobKind.SYNC, host, requested_by=host)

    def retrying():
        job.refresh_from_db()
        return job.failures >= 1 and "retrying" in job.message

    wait_for(retrying, timeout=30, what="the first attempt to time out")
    zoomsim.set_faults()  # Zoom answers again

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=60, what="the retried sync")
    assert job.status == JobStatus.DONE
    assert job.failures >= 1


@pytest.mark.usefixtures("celery_worker")
def test_a_job_whose_message_never_reached_the_broker_is_run_after_the_sweep(zoomsim):
    host = make_person("mixed.host@utoronto.ca", department="History")
    job = Job.objects.create(kind=JobKind.SYNC, host=host)  # as if the broker was down
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at.replace(year=2020))
    job.refresh_from_db()
    assert job.get_status_display() == "Queued"  # what the page says meanwhile

    assert jobs.sweep_pending() == 1

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the swept job")
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
    assert jobs.sweep_pending() == 0


@pytest.mark.django_db
def test_a_job_is_claimed_by_one_worker_only():
    host = make_person("claim.host@utoronto.ca")
    job = Job.objects.create(kind=JobKind.SYNC, host=host)

    first, second = jobs.claim(job.pk), jobs.claim(job.pk)

    assert first is not None
    assert first.status == JobStatus.RUNNING
    assert second is None


@pytest.mark.django_db
def test_a_waiting_job_is_sent_by_the_sweep_once_its_wait_is_over_and_not_before():
    from datetime import timedelta

    from django.utils import timezone

    host = make_person("claim.host@utoronto.ca")
    job = Job.objects.create(kind=JobKind.SYNC, host=host)
    jobs.wait(jobs.claim(job.pk), "Zoom did not answer; retrying.", 300, failures=1)

    assert jobs.sweep_pending() == 0
    assert jobs.claim(job.pk) is None  # a stray message does not cut the wait short
    Job.objects.filter(pk=job.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    assert jobs.sweep_pending(older_than=timedelta(hours=1)) == 1
    assert jobs.sweep_pending(older_than=timedelta(hours=1)) == 0  # sent once, not each sweep
    assert jobs.claim(job.pk) is not None


@pytest.mark.django_db
def test_a_job_uses_the_zoom_user_id_of_the_last_reading_without_asking_zoom(zoomsim):
    host = make_person("default.host@utoronto.ca")
    stored = sync_host(host).zoom_user_id
    zoomsim.reset()

    assert jobs.zoom_user_id_of(host) == stored
    assert zoomsim.requests() == []
