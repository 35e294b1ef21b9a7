"""Demo sign-in: in the embedded demo, pick a simulator user and be them; never in production."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url

from portal.access import admin_departments_of, roles_of
from portal.demo import demo_users
from tests.support import ROOT, assert_accessible, subprocess_env

EMBEDDED_DEMO = settings.PORTAL_DEMO_MODE
needs_demo = pytest.mark.skipif(
    not EMBEDDED_DEMO, reason="demo sign-in exists only in the embedded mode (DEBUG on)"
)

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_SECRET_KEY": "p" * 30 + "-production-secret-for-the-demo-check-" + "q" * 10,
    "DJANGO_DEBUG": None,
}


def _check(**env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=subprocess_env(**{**PRODUCTION_ENV, **env}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


REFUSED = "configuration error: PORTAL_DEMO_SIGNIN: demo sign-in lets anyone sign in as anyone"


def test_production_settings_refuse_to_start_with_demo_signin():
    result = _check(PORTAL_DEMO_SIGNIN="true")
    assert result.returncode == 2
    assert result.stderr.startswith(REFUSED)


@pytest.mark.parametrize(
    "outside_the_demo",
    [
        {"DJANGO_DEBUG": "true"},
        {"DATABASE_URL": None, "DJANGO_DEBUG": "true"},
        {"DATABASE_URL": None, "REDIS_URL": None, "CELERY_BROKER_URL": None, "DJANGO_DEBUG": "0"},
        {
            "DATABASE_URL": None,
            "REDIS_URL": None,
            "CELERY_BROKER_URL": None,
            "ZOOM_CLIENT_SECRET": "a-real-zoom-apps-secret",
        },
    ],
    ids=["postgres-with-debug", "redis-with-debug", "embedded-debug-off", "real-zoom-secret"],
)
def test_demo_signin_is_refused_outside_the_embedded_demo(outside_the_demo):
    """With DEBUG on but PostgreSQL, Redis or a real Zoom app, anyone would be the admin."""
    result = _check(PORTAL_DEMO_SIGNIN="true", **outside_the_demo)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(REFUSED)


EMBEDDED = {"DATABASE_URL": None, "REDIS_URL": None, "CELERY_BROKER_URL": None}
EMBEDDED_DEBUG = {**EMBEDDED, "DJANGO_DEBUG": "true", "DJANGO_SECRET_KEY": None}
for _name in ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"):
    EMBEDDED_DEBUG[_name] = None
PROBE = "import django; django.setup(); from django.conf import settings; print(settings.{})"


def _setting(name: str, **env: str | None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(name)],
        cwd=ROOT,
        env=subprocess_env(DJANGO_SETTINGS_MODULE="portal.settings", **{**EMBEDDED_DEBUG, **env}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_embedded_demo_has_demo_signin():
    assert _setting("PORTAL_DEMO_MODE", PORTAL_DEMO_SIGNIN=None, PORTAL_IDP_CONFIG=None) == "True"


def test_demo_signin_is_off_by_default_once_an_idp_is_configured():
    idp = '{"oidc": [{"slug": "x", "server_url": "https://idp.example.edu", "client_id": "c", "secret": "s"}]}'  # noqa: E501
    assert _setting("PORTAL_DEMO_MODE", PORTAL_DEMO_SIGNIN=None, PORTAL_IDP_CONFIG=idp) == "False"
    assert _setting("PORTAL_DEMO_MODE", PORTAL_DEMO_SIGNIN="true", PORTAL_IDP_CONFIG=idp) == "True"


def test_production_settings_start_without_demo_signin():
    result = _check(PORTAL_DEMO_SIGNIN=None)
    assert result.returncode == 0, result.stderr


def test_demo_roles_follow_the_seed():
    by_email = {u.email: u for u in demo_users()}
    assert by_email["helpdesk.staff@utoronto.ca"].roles == ("helpdesk",)
    assert by_email["physics.admin@utoronto.ca"].admin_departments == ("Physics",)
    assert by_email["history.admin@utoronto.ca"].admin_departments == ("History",)
    assert by_email["portal.admin@utoronto.ca"].roles == ("portal_admin",)
    assert by_email["default.host@utoronto.ca"].roles == ()
    assert by_email["default.host@utoronto.ca"].department == "Physics"
    assert by_email["default.host@utoronto.ca"].affiliation == "faculty"
    assert by_email["helpdesk.staff@utoronto.ca"].affiliation == "staff"
    assert len(by_email) > 40


@needs_demo
@pytest.mark.django_db
def test_choosing_a_user_signs_in_as_them_with_their_roles(client):
    response = client.post("/demo/sign-in/", {"email": "physics.admin@utoronto.ca"})

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    user = get_user_model().objects.get(email="physics.admin@utoronto.ca")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert not user.has_usable_password()
    assert user.person.department == "Physics"
    assert user.person.affiliations == ["staff"]
    assert user.person.zoom_login == "physics.admin@utoronto.ca"
    assert roles_of(user) == {"host", "dept_admin"}
    assert admin_departments_of(user) == {"Physics"}


@needs_demo
@pytest.mark.django_db
def test_signing_in_again_refreshes_the_person(client):
    client.post("/demo/sign-in/", {"email": "default.host@utoronto.ca"})
    user = get_user_model().objects.get(email="default.host@utoronto.ca")
    user.person.department = "Stale"
    user.person.save()

    client.post("/demo/sign-in/", {"email": "default.host@utoronto.ca"})

    user.person.refresh_from_db()
    assert user.person.department == "Physics"
    assert get_user_model().objects.filter(email="default.host@utoronto.ca").count() == 1


@needs_demo
@pytest.mark.django_db
def test_an_unlisted_user_cannot_be_chosen(client):
    response = client.post("/demo/sign-in/", {"email": "intruder@example.com"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.mark.skipif(EMBEDDED_DEMO, reason="only without demo sign-in")
@pytest.mark.django_db
def test_without_demo_mode_there_is_no_demo_signin(client):
    assert client.get("/demo/sign-in/").status_code == 404
    assert "Demo mode" not in client.get("/accounts/login/").content.decode()


@needs_demo
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_signin_in_the_browser_by_keyboard(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert_accessible(page, "on the sign-in page")

    page.get_by_role("link", name="Choose a demo user").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Demo sign-in"
    assert "Department admin (Physics)" in page.inner_text("main")
    assert_accessible(page, "on the demo sign-in page")

    button = page.get_by_role("button", name="Sign in as helpdesk.staff@utoronto.ca")
    button.focus()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign in"
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + resolve_url(settings.LOGIN_REDIRECT_URL))

    assert "Signed in as helpdesk.staff@utoronto.ca" in page.inner_text("header")
    assert page.console_errors == []

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/signed-out/**")
    assert page.get_by_role("heading", level=1).inner_text() == "You are signed out"
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()
    assert_accessible(page, "on the signed-out page")
