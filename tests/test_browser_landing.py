import pytest

from tests.support import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_landing_page_explains_the_portal_and_passes_axe(page, live_server):
    page.goto(live_server.url + "/")

    assert page.title().startswith("Home")
    assert page.get_by_role("heading", level=1).inner_text() == "How safe are your Zoom meetings?"
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()
    footer_link = page.get_by_role("contentinfo").get_by_role("link")
    assert footer_link.inner_text() == "Privacy considerations of using Zoom"
    assert_accessible(page, "on the landing page")
    assert page.console_errors == [], "the page broke its CSP or raised a script error"


def test_skip_link_is_the_first_stop_for_a_keyboard_user(page, live_server):
    page.goto(live_server.url + "/")

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_privacy_page_reads_in_the_layout_and_passes_axe(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("contentinfo").get_by_role("link").click()

    assert page.get_by_role("heading", level=1).inner_text() == (
        "Privacy considerations of using Zoom"
    )
    for heading in ("Confidentiality", "leave Canada", "Meeting security", "up to date"):
        assert page.get_by_role("heading", name=heading).count() >= 1
    assert "Last reviewed" in page.inner_text("main")
    assert_accessible(page, "on the privacy page")
    assert page.console_errors == []


def test_not_found_page_uses_the_portal_layout_and_passes_axe(page, live_server):
    response = page.goto(live_server.url + "/no-such-page/")

    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert_accessible(page, "on the 404 page")
