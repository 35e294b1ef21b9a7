"""The checklist is the only source of item knowledge: an item or a meeting check added to
audits.checklist alone is scored, planned by the hardener, shown in the preview, fixed on
meetings and counted in the reports."""

from __future__ import annotations

import pytest

from audits.checklist import items as checklist
from audits.checklist.items import Item, Level, MeetingCheck, Severity
from audits.jobs.meetings import meeting_changes
from audits.jobs.plan import lock_layers, plan
from audits.jobs.sync import sync_host
from audits.reports import readers as reports
from audits.reports import state as report_state
from audits.views.presentation import host_dashboard
from tests.people import make_person
from tests.support import client_for

HARDENED_HOST = "hardened.host@utoronto.ca"  # passes every item and meeting check of the seed
NEW_SETTING = "in_meeting.feedback"  # off by Zoom's default, checked by no item
NEW_MEETING_FIELD = "settings.watermark"  # off on the seed's meetings, checked by no item
NEW = Item(
    id="test.added.in_a_test",
    title="A check added in a test",
    group="meetings",
    level=Level.USER,
    severity=Severity.HIGH,
    wanted="On",
    why="Added by the test.",
    how_to_fix="Settings › Meeting › Feedback",
    concern="meeting-security",
    guidance="none",
    fields=(NEW_SETTING,),
    expect=((NEW_SETTING, True),),
    fix=((NEW_SETTING, True),),
    meeting_checks=(MeetingCheck(NEW_MEETING_FIELD, True, "Watermark on"),),
)


@pytest.fixture
def extended_checklist(monkeypatch):
    monkeypatch.setattr(checklist, "ITEMS", (*checklist.ITEMS, NEW))
    monkeypatch.setitem(checklist.ITEMS_BY_ID, NEW.id, NEW)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_an_item_added_only_to_the_checklist_is_scored_fixed_previewed_and_reported(
    zoomsim, extended_checklist
):
    host = make_person(HARDENED_HOST, department="Computer Science")
    snapshot = sync_host(host)

    found = {item["id"]: item for item in snapshot.results["items"]}
    assert found[NEW.id]["status"] == "fail"
    assert snapshot.score < 100
    meeting_findings = [f for m in snapshot.results["meetings"] for f in m["findings"]]
    assert {"item": NEW.id, "status": "fail", "detail": "Watermark on: no"} in meeting_findings

    documents = snapshot.documents
    planned = plan(documents["settings"], lock_layers(documents), {}, checklist.DEFAULT_INSTITUTION)
    assert [(c.item_id, c.path, c.after) for c in planned.changes] == [(NEW.id, NEW_SETTING, True)]

    assert NEW.title in client_for(host).get("/me/harden/").content.decode()

    assert host_dashboard(host)["meetings_to_fix"]
    for meeting in documents["meetings"]:
        send, locked = meeting_changes(meeting, lock_layers(documents))
        assert send == {NEW_MEETING_FIELD: True}
        assert locked == {}

    counts = reports.tallies("Computer Science")
    assert [row["id"] for row in reports.top_failing(counts)] == [NEW.id]
    assert not report_state.is_hardened(snapshot.results)
