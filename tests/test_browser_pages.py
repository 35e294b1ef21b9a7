import pytest

from audits.checklist.items import BEST_PRACTICES, items_in_group
from tests.support import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "Default settings": "The institution's default Zoom settings",
    "Best practices": "Best practices for hosts",
    "This portal's data": "This portal's own data",
}


def open_from_nav(page, live_server, link: str) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
    assert page.get_by_role("heading", level=1).inner_text() == PAGES[link]


def test_default_settings_page_lists_every_default_from_the_checklist(page, live_server):
    open_from_nav(page, live_server, "Default settings")

    for group in ("Meeting settings", "Recording settings", "Phone settings"):
        assert page.get_by_role("heading", level=2, name=group).is_visible()
    shown = [h.strip() for h in page.get_by_role("heading", level=3).all_inner_texts()]
    expected = [
        item.title for group in ("meetings", "recording", "phone") for item in items_in_group(group)
    ]
    assert shown == expected
    text = page.inner_text("main")
    assert "Last reviewed" in text
    assert "Settings › Meeting › Security › Waiting Room" in text
    assert "CIS wants automatic recording on; the institution turns it off" in text
    assert "250" in text  # the guidance's own example of a default that may not fit
    assert_accessible(page, "on the default settings page")
    assert page.console_errors == []


def test_best_practices_page_shows_each_practice_with_how_to_follow_it(page, live_server):
    open_from_nav(page, live_server, "Best practices")

    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert len(headings) == len(BEST_PRACTICES)
    assert headings[0].endswith(BEST_PRACTICES[0].title)
    text = page.inner_text("main")
    assert "Last reviewed" in text
    assert "3 April 2020" in text
    assert "first name and last initial" in text
    background = page.get_by_role("link", name="Meeting security")
    assert background.first.get_attribute("href") == "/privacy/#meeting-security"
    assert_accessible(page, "on the best practices page")
    assert page.console_errors == []


def test_portal_data_page_names_scopes_storage_viewers_and_retention(page, live_server):
    open_from_nav(page, live_server, "This portal's data")

    table = page.get_by_role("table", name="Zoom calls the portal makes and the scopes they need")
    table_text = table.inner_text()
    for scope in (
        "user:read:admin",
        "user:write:admin",
        "meeting:read:admin",
        "account:read:admin",
    ):
        assert scope in table_text
    assert "PATCH /users/{id}/settings" in table_text
    text = page.inner_text("main")
    for words in (
        "Last reviewed",
        "audit log",
        "helpdesk",
        "Department administrators",
        "13 months",
    ):
        assert words in text
    assert_accessible(page, "on the portal data page")
    assert page.console_errors == []


def test_current_page_is_marked_in_the_navigation(page, live_server):
    open_from_nav(page, live_server, "Best practices")

    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Best practices").get_attribute("aria-current") == "page"
    assert nav.get_by_role("link", name="Default settings").get_attribute("aria-current") is None


def test_keyboard_user_reaches_each_page_from_the_navigation(page, live_server):
    page.goto(live_server.url + "/")

    reached = []
    for _ in range(15):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    for link in PAGES:
        assert link in reached, f"{link} is not reachable by Tab: {reached}"

    page.goto(live_server.url + "/")
    for _ in range(reached.index("This portal's data") + 1):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/portal-data/")
    assert page.get_by_role("heading", level=1).inner_text() == PAGES["This portal's data"]


def test_pages_refuse_post(client):
    for url in ("/defaults/", "/best-practices/", "/portal-data/"):
        assert client.post(url).status_code == 405
