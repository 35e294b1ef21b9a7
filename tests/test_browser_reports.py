"""Reports in the browser: a department admin's report with its three charts, filters by
keyboard and exports; a portal admin's institution report. Every page passes axe-core."""

from __future__ import annotations

import csv
import io
import json

import pytest
from playwright.sync_api import expect

from tests.people import make_person
from tests.support import assert_accessible, sign_in
from tests.test_reports import synced

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAITING_ROOM = "meeting.waiting_room.on"
PASSCODE = "meeting.passcode.new"


def downloaded(download) -> str:
    with open(download.path(), encoding="utf-8") as file:
        return file.read()


@pytest.fixture
def departments():
    for n, (score, failing) in enumerate(
        [(96, []), (55, [WAITING_ROOM]), (20, [WAITING_ROOM, PASSCODE])]
    ):
        host = make_person(
            f"phys{n}@utoronto.ca", department="Physics", first_name=f"Phys{n}", last_name="Icist"
        )
        synced(host, score - 10, failing=failing, days_ago=8)
        synced(host, score, failing=failing)
    synced(
        make_person("hist@utoronto.ca", department="History", first_name="His", last_name="Torian"),
        40,
        failing=[PASSCODE],
    )


def test_department_admin_reads_filters_and_exports_their_department(
    page, live_server, departments
):
    admin = make_person(
        "padmin@utoronto.ca",
        department="Physics",
        roles=["dept_admin"],
        admin_departments=["Physics"],
    )
    sign_in(page, live_server, admin)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("rowheader", name="History")).to_have_count(0)
    page.get_by_role("link", name="Physics").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Physics")
    for chart in ["Hosts by score", "Items that fail most", "Average score by week"]:
        expect(page.get_by_role("img", name=chart)).to_be_visible()
    expect(page.get_by_role("row", name="F 1 33.3%")).to_be_visible()
    expect(page.get_by_text("His Torian")).to_have_count(0)
    assert_accessible(page, "on the department report")

    page.get_by_label("Failing item").select_option(WAITING_ROOM)
    page.get_by_label("Sort by").select_option("score")
    page.get_by_role("button", name="Show").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("2 hosts shown.")).to_be_visible()
    names = page.locator("tbody th a").all_inner_texts()
    assert names == ["Phys2 Icist", "Phys1 Icist"]
    assert_accessible(page, "on the filtered department report")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(downloaded(download.value))))
    assert sorted(r["email"] for r in rows) == ["phys1@utoronto.ca", "phys2@utoronto.ca"]
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON", exact=True).click()
    data = json.loads(downloaded(download.value))
    assert {h["email"] for h in data["hosts"]} == {"phys1@utoronto.ca", "phys2@utoronto.ca"}
    with page.expect_download() as download:
        page.get_by_role("link", name="action plan", exact=False).click()
    plan = list(csv.DictReader(io.StringIO(downloaded(download.value))))
    assert {(r["email"], r["item_id"]) for r in plan} == {
        ("phys1@utoronto.ca", WAITING_ROOM),
        ("phys2@utoronto.ca", PASSCODE),
        ("phys2@utoronto.ca", WAITING_ROOM),
    }
    assert all(r["fix"] for r in plan)

    page.get_by_role("link", name="Phys2 Icist").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Phys2 Icist")
    assert page.console_errors == []


def test_portal_admin_sees_the_institution_and_every_department(page, live_server, departments):
    boss = make_person("boss@utoronto.ca", department="IT", roles=["portal_admin"])
    sign_in(page, live_server, boss)
    page.goto(live_server.url + "/reports/")
    page.get_by_role("link", name="The whole institution").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The whole institution")
    for chart in ["Hosts by score", "Items that fail most", "Average score by week"]:
        expect(page.get_by_role("img", name=chart)).to_be_visible()
    for department in ["History", "IT", "Physics"]:
        expect(page.get_by_role("rowheader", name=department)).to_be_visible()
    assert_accessible(page, "on the institution report")
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("link", name="His Torian")).to_be_visible()
    assert_accessible(page, "on a department report for a portal admin")
    assert page.console_errors == []
