"""The embedded demo, as a person would use it: pick a seeded host on the demo sign-in page,
see the dashboard, refresh it from Zoom, and read every page. Demo sign-in exists only with
DEBUG on, so CI runs this file in its embedded pass."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.support import assert_accessible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("celery_worker"),
    pytest.mark.skipif(
        not settings.PORTAL_DEMO_MODE,
        reason="demo sign-in exists only in the embedded mode (DEBUG on)",
    ),
]
PAGES = {
    "Default settings": "The institution's default Zoom settings",
    "Best practices": "Best practices for hosts",
    "Privacy considerations": "Privacy considerations of using Zoom",
    "This portal's data": "This portal's own data",
}


def test_a_seeded_host_signs_in_refreshes_and_reads_every_page(page, live_server, zoomsim):
    page.goto(live_server.url + "/demo/sign-in/")
    page.get_by_role("button", name="Sign in as mixed.host@utoronto.ca").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your Zoom security")
    page.get_by_role("button", name="Refresh from Zoom").click()
    expect(page.get_by_text(re.compile(r"Score \d+ out of 100: grade"))).to_be_visible(
        timeout=45_000
    )
    expect(page.get_by_role("heading", name="Your upcoming meetings")).to_be_visible()
    assert_accessible(page, "on the demo host's dashboard")

    navigation = page.get_by_role("navigation", name="Main")
    for link, heading in PAGES.items():
        navigation.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.get_by_text("Last reviewed").first).to_be_visible()
        assert_accessible(page, f"on {link}")
    page.goto(live_server.url + "/me/activity/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity on your account")
    assert_accessible(page, "on the activity page")
    assert page.console_errors == []
