"""A host in the browser: dashboard, refresh from Zoom, preview, apply, verify, undo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.people import make_person
from tests.support import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("celery_worker")]
SLOW = 45_000  # a job crosses the broker and Zoom: allow it time, asserting only the outcome
SCORE_TEXT = re.compile(r"Score \d+ out of 100: grade")


def test_a_host_refreshes_hardens_and_undoes_from_the_browser(page, live_server, zoomsim):
    host = make_person("default.host@utoronto.ca", first_name="Dana", last_name="Default")
    sign_in(page, live_server, host)

    page.goto(live_server.url + "/me/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your Zoom security")
    expect(page.get_by_text("Not read from Zoom yet.")).to_be_visible()
    assert_accessible(page, "on a dashboard never synced")

    # Keyboard only: reach the refresh button and press it.
    page.get_by_role("button", name="Refresh from Zoom").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Refresh from Zoom")
    expect(page.get_by_text(SCORE_TEXT)).to_be_visible(timeout=SLOW)
    before = int(re.search(r"Score (\d+)", page.inner_text("main")).group(1))
    expect(page.locator("#item-meeting\\.waiting_room\\.on .badge")).to_have_text(
        re.compile("Pass|Fail|Partly")
    )
    expect(page.locator("#item-phone\\.numbers\\.masked .badge")).to_have_text("Fail")
    assert_accessible(page, "on a scored dashboard")

    page.get_by_role("link", name="Apply the recommended settings").click()
    expect(page.get_by_role("heading", name="What would change")).to_be_visible()
    expect(page.get_by_role("rowheader", name=re.compile("Phone numbers masked"))).to_be_visible()
    assert_accessible(page, "on the preview")
    page.get_by_role("button", name=re.compile(r"Apply these \d+ changes?")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Apply a profile")
    expect(page.get_by_role("status")).to_contain_text("Done", timeout=SLOW)
    expect(page.get_by_role("cell", name="Changed and verified").first).to_be_visible()
    assert_accessible(page, "on a finished job")

    page.get_by_role("link", name="Back to the dashboard").click()
    after = int(re.search(r"Score (\d+)", page.inner_text("main")).group(1))
    assert after > before
    expect(page.locator("#item-phone\\.numbers\\.masked .badge")).to_have_text("Pass")

    page.get_by_role("link", name=re.compile("Apply a profile: Institutional default")).click()
    page.get_by_role("button", name="Undo this change").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo a profile")
    expect(page.get_by_role("status")).to_contain_text("Done", timeout=SLOW)
    expect(page.get_by_role("cell", name="Put back and verified").first).to_be_visible()
    assert_accessible(page, "on a finished undo")
    assert page.console_errors == []


def test_a_host_zoom_does_not_know_sees_a_clear_page(page, live_server, zoomsim):
    host = make_person("not.in.zoom@utoronto.ca")
    sign_in(page, live_server, host)
    page.goto(live_server.url + "/me/")

    page.get_by_role("button", name="Refresh from Zoom").click()

    expect(page.get_by_text("No Zoom user found.")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("not.in.zoom@utoronto.ca").first).to_be_visible()
    assert_accessible(page, "on the not-found state")


def test_a_pending_host_is_told_to_accept_zooms_invitation(page, live_server, zoomsim):
    host = make_person("pending.host@utoronto.ca")
    sign_in(page, live_server, host)
    page.goto(live_server.url + "/me/")

    page.get_by_role("button", name="Refresh from Zoom").click()

    expect(page.get_by_text("Your Zoom account is not activated yet.")).to_be_visible(timeout=SLOW)
    assert_accessible(page, "on the pending state")


@pytest.mark.usefixtures("beat_sweep")  # retries wait in the job's row until the sweep
def test_when_zoom_is_unreachable_the_last_reading_stays_with_its_age(
    page, live_server, zoomsim, monkeypatch
):
    from audits.jobs import machinery as jobs

    monkeypatch.setattr(jobs, "RETRY_SCHEDULE", (0.2, 0.2, 0.2))
    host = make_person("mixed.host@utoronto.ca", department="History")
    sign_in(page, live_server, host)
    page.goto(live_server.url + "/me/")
    page.get_by_role("button", name="Refresh from Zoom").click()
    expect(page.get_by_text(SCORE_TEXT)).to_be_visible(timeout=SLOW)

    zoomsim.set_faults(outage=True)
    page.get_by_role("button", name="Refresh from Zoom").click()

    expect(page.get_by_text("Zoom could not be reached")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("Below is the last good reading")).to_be_visible()
    expect(page.get_by_text(SCORE_TEXT)).to_be_visible()
    assert_accessible(page, "on the unreachable state")
