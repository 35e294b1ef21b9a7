"""OpenID Connect sign-in end to end: headless Chromium, the portal on localhost, allauth's
own OpenID provider (tests/idp/oidc, a second Django project) on 127.0.0.1, started once for
this module. Claims are mapped to department, affiliation and roles and refreshed next time."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import override_settings

from portal import sso_config
from portal.access import admin_departments_of, roles_of
from tests.idp.oidc.server import oidc_provider
from tests.support import assert_accessible, free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "test-oidc"
CLIENT_ID, SECRET = "portal-under-test", "test-only-client-secret-0123456789"
USERS = {
    "dana": {
        "password": "dana-pass-123",
        "claims": {
            "email": "dana@example.edu",
            "email_verified": True,
            "given_name": "Dana",
            "family_name": "Scully",
            "department": "Physics",
            "eduperson_affiliation": ["faculty", "member"],
            "groups": ["zoom-physics-admins"],
        },
    },
    "sam": {
        "password": "sam-pass-123",
        "claims": {
            "email": "sam@example.edu",
            "department": "History",
            "eduperson_affiliation": ["student"],
        },
    },
}


@pytest.fixture(scope="module")
def oidc_idp(live_server, tmp_path_factory) -> Iterator[object]:
    redirect_uri = f"{live_server.url}/accounts/oidc/{SLUG}/login/callback/"
    with oidc_provider(
        tmp_path_factory.mktemp("oidc-provider"),
        free_port(),
        users=copy.deepcopy(USERS),
        client_id=CLIENT_ID,
        secret=SECRET,
        redirect_uri=redirect_uri,
    ) as idp:
        config = sso_config.build(
            {
                "role_map": {
                    "zoom-physics-admins": "dept_admin:Physics",
                    "zoom-helpdesk": "helpdesk",
                },
                "oidc": [
                    {
                        "slug": SLUG,
                        "name": "Test OIDC",
                        "server_url": idp.issuer,
                        "client_id": CLIENT_ID,
                        "secret": SECRET,
                        "attributes": {"department": "department", "groups": "groups"},
                    }
                ],
            }
        )
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"] += config.form_action_origins
        with override_settings(
            SOCIALACCOUNT_PROVIDERS=config.providers,
            PORTAL_ROLE_MAP=config.role_map,
            CONTENT_SECURITY_POLICY=policy,
        ):
            yield idp


def signed_in_user_ids() -> set[int]:
    return {
        int(s.get_decoded()["_auth_user_id"])
        for s in Session.objects.all()
        if "_auth_user_id" in s.get_decoded()
    }


def sign_in_at_idp(page, live_server, login: str) -> None:
    page.goto(live_server.url + "/accounts/login/?" + urlencode({"next": "/privacy/"}))
    page.get_by_role("button", name="Sign in with Test OIDC").click()
    page.wait_for_url("http://127.0.0.1:*/accounts/login/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", USERS[login]["password"])
    page.locator("form button[type=submit]").last.click()


def test_oidc_sign_in_maps_claims_and_roles_and_refreshes_them_next_time(
    browser, live_server, oidc_idp
):
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_idp(page, live_server, "dana")
    page.wait_for_url(live_server.url + "/privacy/")
    assert "Signed in as dana@example.edu" in page.inner_text("header")
    context.close()

    dana = get_user_model().objects.get(email="dana@example.edu")
    assert (dana.first_name, dana.last_name) == ("Dana", "Scully")
    assert dana.person.department == "Physics"
    assert dana.person.affiliations == ["faculty", "member"]
    assert dana.person.groups == ["zoom-physics-admins"]
    assert dana.person.identity_provider == f"openid_connect:{SLUG}"
    assert roles_of(dana) == {"host", "dept_admin"}
    assert admin_departments_of(dana) == {"Physics"}

    users = copy.deepcopy(USERS)
    users["dana"]["claims"].update(department="Medicine", groups=["zoom-helpdesk"])
    oidc_idp.set_users(users)
    try:
        context = browser.new_context()
        page = context.new_page()
        sign_in_at_idp(page, live_server, "dana")
        page.wait_for_url(live_server.url + "/privacy/")
        context.close()
    finally:
        oidc_idp.set_users(copy.deepcopy(USERS))

    dana = get_user_model().objects.get(pk=dana.pk)
    assert dana.person.department == "Medicine"
    assert roles_of(dana) == {"host", "helpdesk"}
    assert get_user_model().objects.filter(email="dana@example.edu").count() == 1


def test_an_affiliation_not_allowed_is_refused_with_no_session(page, live_server, oidc_idp):
    sign_in_at_idp(page, live_server, "sam")
    page.wait_for_url(f"{live_server.url}/accounts/oidc/{SLUG}/login/callback/**")

    assert page.get_by_role("heading", level=1).inner_text().endswith("is not available to you")
    assert "student" in page.inner_text("main")
    assert_accessible(page, "on the OIDC refusal page")
    assert not get_user_model().objects.filter(email="sam@example.edu").exists()
    assert signed_in_user_ids() == set()


def test_a_callback_with_a_wrong_state_is_refused(page, live_server, oidc_idp):
    # Redirects cannot be intercepted, so hold back the IdP's answer to the password form
    # (its IdP session cookie still lands in the browser) and follow it by hand.
    held: dict = {}

    def hold_back(route):
        response = route.fetch(max_redirects=0)
        held["location"] = response.headers["location"]
        route.fulfill(response=response, status=200, body="held back by the test")

    page.route(re.compile(r"http://127\.0\.0\.1:\d+/accounts/login/.*"), hold_back)
    sign_in_at_idp(page, live_server, "dana")
    page.wait_for_load_state()
    authorize = page.request.get(oidc_idp.issuer + held["location"], max_redirects=0)
    callback = authorize.headers["location"]
    assert f"/accounts/oidc/{SLUG}/login/callback/" in callback

    # The IdP's real code, with a state this browser never sent.
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["code"]
    query["state"] = "not-the-state-we-sent"
    page.goto(urlunsplit(parts._replace(query=urlencode(query))))

    assert page.get_by_role("heading", level=1).inner_text() == "Sign-in failed"
    assert "You are not signed in" in page.inner_text("main")
    assert not get_user_model().objects.filter(email="dana@example.edu").exists()
    assert signed_in_user_ids() == set()
