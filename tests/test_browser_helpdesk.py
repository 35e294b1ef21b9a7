"""The helpdesk in the browser, by keyboard: search, give a reason, look, act on the host's
behalf; then the host reads all of it on their activity page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audits.models import AuditEvent
from tests.people import make_person
from tests.support import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("celery_worker")]
SLOW = 45_000  # a job crosses the broker and Zoom: allow it time, asserting only the outcome
SCORE_TEXT = re.compile(r"Score \d+ out of 100: grade")


def test_helpdesk_looks_up_a_host_and_acts_for_them_and_the_host_sees_it(
    page, live_server, zoomsim
):
    host = make_person(
        "default.host@utoronto.ca", department="Physics", first_name="Dana", last_name="Default"
    )
    make_person("mixed.host@utoronto.ca", department="History")
    helpdesk = make_person(
        "help@utoronto.ca", department="IT", roles=["helpdesk"], first_name="Hal", last_name="Desk"
    )
    sign_in(page, live_server, helpdesk)

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Helpdesk").click()
    search = page.get_by_label("E-mail, name or department")
    search.focus()
    page.keyboard.type("default.host")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="1 host found")).to_be_visible()
    assert_accessible(page, "on the search results")

    page.get_by_role("link", name="Dana Default").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dana Default")
    page.get_by_role("button", name=re.compile("Record the reason")).click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert_accessible(page, "on the reason form with an error")
    page.get_by_label("Reason").fill("INC0099: cannot record")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Read-only view for the helpdesk")).to_be_visible()
    assert_accessible(page, "on a host never synced")

    page.locator("#id_refresh_reason").fill("INC0099: read settings")
    page.get_by_role("button", name="Refresh from Zoom").click()
    expect(page.get_by_text(SCORE_TEXT)).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="Sync history")).to_be_visible()
    assert_accessible(page, "on a synced host's helpdesk page")

    page.locator("#id_harden_reason").fill("INC0099: harden")
    page.get_by_role("button", name="Apply the profile").click()
    expect(page.get_by_role("status")).to_contain_text("Done", timeout=SLOW)
    expect(page.get_by_text("because: INC0099: harden")).to_be_visible()

    page.goto(live_server.url + f"/helpdesk/hosts/{host.pk}/")
    expect(page.get_by_role("cell", name="Changed and verified").first).to_be_visible()
    undo_reason = page.get_by_label("Reason for undoing this change")
    undo_reason.fill("INC0099: host asked to undo")
    undo_reason.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo a profile")
    expect(page.get_by_role("status")).to_contain_text("Done", timeout=SLOW)
    # The empty reason was answered 400 on purpose; nothing else may have failed.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
    page.console_errors.clear()

    sign_in(page, live_server, host)
    page.goto(live_server.url + "/")
    page.goto(live_server.url + "/me/")
    page.get_by_role("link", name="Who looked at or changed your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity on your account")
    for reason in [
        "INC0099: cannot record",
        "INC0099: read settings",
        "INC0099: harden",
        "INC0099: host asked to undo",
    ]:
        expect(page.get_by_role("cell", name=reason).first).to_be_visible()
    expect(page.get_by_role("cell", name="Hal Desk").first).to_be_visible()
    expect(page.get_by_role("cell", name="Looked at your dashboard")).to_be_visible()
    assert page.locator("tbody tr").count() == AuditEvent.objects.filter(subject=host).count()
    assert_accessible(page, "on the host's activity page")
    assert page.console_errors == []
