"""SAML sign-in end to end: headless Chromium, the portal on localhost, SimpleSAMLphp on
127.0.0.1 (started once for this module), eduPerson attributes in urn:oid form, signed and
encrypted assertions. Every refusal shows a clear page and leaves no signed-in session."""

from __future__ import annotations

import base64
import copy
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import override_settings
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from portal import sso_config
from portal.access import admin_departments_of, roles_of
from tests.idp.saml import craft
from tests.idp.saml.server import make_key_pair, simplesamlphp, simplesamlphp_root
from tests.support import IN_CI, assert_accessible, free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENCRYPTED, PLAIN = "test-idp", "test-idp-plain"
# Attributes by their plain names (basic name format); metadata from another origin than the
# IdP's sign-in URL, as a federation's metadata service serves it.
BASIC, FEDERATION = "test-idp-basic", "test-idp-federation"
ROLE_MAP = {
    "urn:mace:example.edu:zoom-helpdesk": "helpdesk",
    "cn=zoom-admins-physics": "dept_admin:Physics",
}


def eduperson(login: str, *, ou: str, affiliation: list[str], groups=(), entitlements=()):
    attributes = {
        "eduPersonPrincipalName": [f"{login}@example.edu"],
        "mail": [f"{login}@example.edu"],
        "givenName": [login.title()],
        "sn": ["Tester"],
        "ou": [ou],
        "eduPersonScopedAffiliation": [f"{a}@example.edu" for a in affiliation],
        "eduPersonAffiliation": affiliation,
    }
    if groups:
        attributes["isMemberOf"] = list(groups)
    if entitlements:
        attributes["eduPersonEntitlement"] = list(entitlements)
    return {"password": f"{login}-pass", "attributes": attributes}


USERS = {
    "alice": eduperson(
        "alice",
        ou="Physics",
        affiliation=["faculty", "member"],
        groups=["cn=zoom-admins-physics,ou=groups,dc=example,dc=edu"],
    ),
    "bob": eduperson("bob", ou="History", affiliation=["student", "member"]),
    "carol": eduperson("carol", ou="Information Technology", affiliation=["staff"]),
    # No subject-id and no eduPersonPrincipalName: only a transient NameID names her.
    "erin": {
        "password": "erin-pass",
        "attributes": {
            key: value
            for key, value in eduperson("erin", ou="Physics", affiliation=["staff"])[
                "attributes"
            ].items()
            if key != "eduPersonPrincipalName"
        },
    },
}


@pytest.fixture(scope="module")
def saml_idp(live_server, tmp_path_factory) -> Iterator[object]:
    if simplesamlphp_root() is None or not shutil.which("php"):
        message = "PHP or SimpleSAMLphp is missing: run scripts/install-system-packages"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    run_dir = tmp_path_factory.mktemp("simplesamlphp")
    with simplesamlphp(run_dir, free_port()) as idp:
        idp.set_users(copy.deepcopy(USERS))
        idp.set_sps(
            [
                _sp(live_server, ENCRYPTED, True),
                _sp(live_server, PLAIN, False),
                {**_sp(live_server, BASIC, False), "basic": True},
                _sp(live_server, FEDERATION, False),
            ]
        )
        config = sso_config.build(
            {
                "role_map": ROLE_MAP,
                "role_map_base": "ou=groups,dc=example,dc=edu",
                "saml": [
                    _app(idp, ENCRYPTED, "Test IdP", True),
                    _app(idp, PLAIN, "Plain", False),
                    _app(idp, BASIC, "Basic names", False),
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


def _sp(live_server, slug: str, encrypt: bool) -> dict:
    base = f"{live_server.url}/accounts/saml/{slug}"
    return {
        "entity_id": f"{base}/metadata/",
        "acs_url": f"{base}/acs/",
        "sls_url": f"{base}/sls/",
        "encrypt": encrypt,
    }


def _app(idp, slug: str, name: str, encrypted: bool) -> dict:
    return {
        "slug": slug,
        "name": name,
        "entity_id": idp.entity_id,
        "sso_url": idp.sso_url,
        "x509cert_file": str(idp.idp_cert),
        "logout_url": f"{idp.base_url}/saml2/idp/SingleLogoutService.php",
        # Single logout (the IdP calling our SLS endpoint) only for one of the two.
        **({"slo_url": f"{idp.base_url}/saml2/idp/SingleLogoutService.php"} if encrypted else {}),
        "want_assertion_encrypted": encrypted,
        # The test portal answers on "localhost", a single-label domain.
        "allow_single_label_domains": True,
        "sp": {"x509cert_file": str(idp.sp_cert), "private_key_file": str(idp.sp_key)},
    }


@pytest.fixture
def idp_users(saml_idp) -> Iterator[dict]:
    users = copy.deepcopy(USERS)
    yield users
    saml_idp.set_users(copy.deepcopy(USERS))


def signed_in_user_ids() -> set[int]:
    return {
        int(s.get_decoded()["_auth_user_id"])
        for s in Session.objects.all()
        if "_auth_user_id" in s.get_decoded()
    }


def start_sign_in(page, live_server, button: str, login: str, password: str | None = None):
    page.goto(live_server.url + "/accounts/login/?" + urlencode({"next": "/privacy/"}))
    page.get_by_role("button", name=f"Sign in with {button}").click()
    page.wait_for_url("http://127.0.0.1:*/**")
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", password or f"{login}-pass")


def finish_at_idp(page) -> None:
    page.locator("button[type=submit], input[type=submit]").first.click()


def test_sign_in_page_lists_the_providers_and_passes_axe(page, live_server, saml_idp):
    page.goto(live_server.url + "/accounts/login/")
    assert page.get_by_role("button", name="Sign in with Test IdP").is_visible()
    assert page.get_by_role("button", name="Sign in with Plain").is_visible()
    assert_accessible(page, "on the sign-in page with two SAML IdPs")
    # Keyboard users reach the first provider's button with Tab alone.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign in with Test IdP":
            break
    else:
        raise AssertionError("the provider button is not reachable by keyboard")
    assert page.console_errors == []


def test_saml_sign_in_maps_attributes_and_roles_and_refreshes_them_next_time(
    browser, live_server, saml_idp, idp_users
):
    context = browser.new_context()
    page = context.new_page()
    start_sign_in(page, live_server, "Test IdP", "alice")
    finish_at_idp(page)
    page.wait_for_url(live_server.url + "/privacy/")
    assert "Signed in as alice@example.edu" in page.inner_text("header")

    alice = get_user_model().objects.get(email="alice@example.edu")
    assert (alice.first_name, alice.last_name) == ("Alice", "Tester")
    assert alice.person.department == "Physics"
    assert alice.person.affiliations == [
        "faculty@example.edu",
        "member@example.edu",
        "faculty",
        "member",
    ]
    assert alice.person.groups == ["cn=zoom-admins-physics,ou=groups,dc=example,dc=edu"]
    assert alice.person.zoom_login == "alice@example.edu"
    assert alice.person.identity_provider == f"saml:{ENCRYPTED}"
    assert roles_of(alice) == {"host", "dept_admin"}
    assert admin_departments_of(alice) == {"Physics"}
    assert signed_in_user_ids() == {alice.pk}
    first_sso = alice.person.last_sso_at

    # Sign out: the portal session ends and the IdP's logout is offered.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/signed-out/**")
    assert page.get_by_role("link", name="Sign out of Test IdP").is_visible()
    assert_accessible(page, "on the signed-out page")
    assert signed_in_user_ids() == set()
    context.close()

    # The IdP now says alice moved to History and joined the helpdesk.
    idp_users["alice"]["attributes"]["ou"] = ["History"]
    idp_users["alice"]["attributes"]["isMemberOf"] = ["urn:mace:example.edu:zoom-helpdesk"]
    saml_idp.set_users(idp_users)
    context = browser.new_context()
    page = context.new_page()
    start_sign_in(page, live_server, "Test IdP", "alice")
    finish_at_idp(page)
    page.wait_for_url(live_server.url + "/privacy/")
    context.close()

    alice = get_user_model().objects.get(pk=alice.pk)
    assert get_user_model().objects.filter(email="alice@example.edu").count() == 1
    assert alice.person.department == "History"
    assert roles_of(alice) == {"host", "helpdesk"}
    assert admin_departments_of(alice) == frozenset()
    assert alice.person.last_sso_at > first_sso


def test_an_affiliation_not_allowed_is_refused_with_a_reason_and_no_session(
    page, live_server, saml_idp
):
    start_sign_in(page, live_server, "Test IdP", "bob")
    finish_at_idp(page)
    page.wait_for_url(f"{live_server.url}/accounts/saml/{ENCRYPTED}/acs/finish/")

    assert page.get_by_role("heading", level=1).inner_text().endswith("is not available to you")
    assert "member, student" in page.inner_text("main")
    assert_accessible(page, "on the refusal page")
    assert not get_user_model().objects.filter(email="bob@example.edu").exists()
    assert signed_in_user_ids() == set()


def test_an_idp_releasing_plain_attribute_names_signs_in_with_the_default_mapping(
    page, live_server, saml_idp
):
    # SimpleSAMLphp sends mail, ou, eduPersonAffiliation... in the basic name format here.
    start_sign_in(page, live_server, "Basic names", "carol")
    finish_at_idp(page)
    page.wait_for_url(live_server.url + "/privacy/")
    assert "Signed in as carol@example.edu" in page.inner_text("header")
    carol = get_user_model().objects.get(email="carol@example.edu")
    assert carol.person.department == "Information Technology"
    assert carol.person.affiliations == ["staff@example.edu", "staff"]
    assert carol.person.identity_provider == f"saml:{BASIC}"


def test_an_idp_whose_metadata_comes_from_another_origin_is_reached_from_the_button(
    page, live_server, saml_idp
):
    federation = {
        key: value
        for key, value in _app(saml_idp, FEDERATION, "Federation", False).items()
        if key not in {"sso_url", "x509cert_file", "logout_url"}
    }
    # The same IdP's metadata, from another origin ("localhost") than its sign-in URL.
    federation["metadata_url"] = saml_idp.entity_id.replace("127.0.0.1", "localhost")
    config = sso_config.build({"saml": [federation]})
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = ["'self'", *config.form_action_origins]
    with override_settings(
        SOCIALACCOUNT_PROVIDERS=config.providers, CONTENT_SECURITY_POLICY=policy
    ):
        # The button posts to the portal, which redirects to the IdP's sign-in URL (127.0.0.1):
        # the page's CSP form-action must allow that origin, not the metadata's (localhost).
        start_sign_in(page, live_server, "Federation", "carol")
        finish_at_idp(page)
        page.wait_for_url(live_server.url + "/privacy/")
    assert "Signed in as carol@example.edu" in page.inner_text("header")


def test_an_idp_sending_no_stable_id_is_refused_at_the_first_sign_in_naming_what_to_release(
    page, live_server, saml_idp
):
    start_sign_in(page, live_server, "Plain", "erin")
    finish_at_idp(page)
    page.wait_for_url(f"{live_server.url}/accounts/saml/{PLAIN}/acs/finish/")

    assert page.get_by_role("heading", level=1).inner_text().endswith("is not available to you")
    assert "subject-id or eduPersonPrincipalName" in page.inner_text("main")
    assert "did not send an e-mail address" not in page.inner_text("main")
    assert_accessible(page, "on the no-stable-id refusal page")
    assert not get_user_model().objects.filter(email="erin@example.edu").exists()
    assert signed_in_user_ids() == set()


def _intercept_acs(page, slug: str, rewrite) -> dict:
    """Let the browser's real POST to our ACS through with its SAMLResponse rewritten."""
    seen: dict = {}

    def handle(route):
        form = {k: v[0] for k, v in parse_qs(route.request.post_data).items()}
        seen["original"] = form["SAMLResponse"]
        form["SAMLResponse"] = rewrite(form["SAMLResponse"])
        route.continue_(post_data=urlencode(form))

    page.route(f"**/accounts/saml/{slug}/acs/", handle)
    return seen


def _refused(page, live_server) -> None:
    page.wait_for_url(f"{live_server.url}/accounts/saml/{PLAIN}/acs/finish/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign-in failed"
    assert "You are not signed in" in page.inner_text("main")
    assert signed_in_user_ids() == set()
    assert not get_user_model().objects.filter(email="carol@example.edu").exists()


def test_an_untouched_response_passes_the_interception(page, live_server, saml_idp):
    # The control for the tampering tests below: the interception itself breaks nothing.
    seen = _intercept_acs(page, PLAIN, lambda response: response)
    start_sign_in(page, live_server, "Plain", "carol")
    finish_at_idp(page)
    page.wait_for_url(live_server.url + "/privacy/")
    assert seen["original"]
    assert signed_in_user_ids() == {get_user_model().objects.get(email="carol@example.edu").pk}


def test_an_unsigned_assertion_is_refused(page, live_server, saml_idp):
    _intercept_acs(page, PLAIN, craft.unsigned)
    start_sign_in(page, live_server, "Plain", "carol")
    finish_at_idp(page)
    _refused(page, live_server)
    assert_accessible(page, "on the sign-in failure page")


def test_an_assertion_signed_by_another_key_is_refused(page, live_server, saml_idp, tmp_path):
    key, cert = make_key_pair(tmp_path, "intruder", "intruder.example")
    _intercept_acs(page, PLAIN, lambda response: craft.signed_by(response, key, cert))
    start_sign_in(page, live_server, "Plain", "carol")
    finish_at_idp(page)
    _refused(page, live_server)


def test_an_assertion_for_another_audience_is_refused(page, live_server, saml_idp):
    _intercept_acs(
        page,
        PLAIN,
        lambda r: craft.for_audience(
            r, "https://other-sp.example.edu/shibboleth", saml_idp.idp_key, saml_idp.idp_cert
        ),
    )
    start_sign_in(page, live_server, "Plain", "carol")
    finish_at_idp(page)
    _refused(page, live_server)


def test_an_expired_assertion_is_refused(page, live_server, saml_idp):
    _intercept_acs(page, PLAIN, lambda r: craft.expired(r, saml_idp.idp_key, saml_idp.idp_cert))
    start_sign_in(page, live_server, "Plain", "carol")
    finish_at_idp(page)
    _refused(page, live_server)


def test_a_replayed_response_is_refused(page, live_server, saml_idp):
    seen = _intercept_acs(page, ENCRYPTED, lambda response: response)
    start_sign_in(page, live_server, "Test IdP", "carol")
    finish_at_idp(page)
    page.wait_for_url(live_server.url + "/privacy/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/signed-out/**")
    assert signed_in_user_ids() == set()

    # The same browser posts the captured response again (its cookies travel with it).
    page.unroute(f"**/accounts/saml/{ENCRYPTED}/acs/")
    page.evaluate(REPOST, [f"/accounts/saml/{ENCRYPTED}/acs/", seen["original"]])
    page.wait_for_url(f"{live_server.url}/accounts/saml/{ENCRYPTED}/acs/finish/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign-in failed"
    assert "already used" in page.inner_text("main")
    assert signed_in_user_ids() == set()


# Run through DevTools (not subject to the page's CSP): post a form as an attacker would.
REPOST = """([action, response]) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = "SAMLResponse";
    field.value = response;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
}"""


def test_idp_initiated_sign_in_is_refused(page, live_server, saml_idp):
    page.goto(saml_idp.idp_initiated_url(f"{live_server.url}/accounts/saml/{ENCRYPTED}/metadata/"))
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", "carol-pass")
    finish_at_idp(page)
    page.wait_for_url(f"{live_server.url}/accounts/saml/{ENCRYPTED}/acs/finish/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign-in failed"
    assert signed_in_user_ids() == set()
    assert not get_user_model().objects.filter(email="carol@example.edu").exists()


# --- Single logout: the IdP's LogoutRequest to /accounts/saml/<slug>/sls/ ----------------------
EVIL = "https://evil.example/phish"
IDP_REDIRECT = {"secure": True, "HTTP_HOST": "testserver"}


def logout_query(idp, slug: str, *, relay_state: str, signed: bool) -> dict[str, str]:
    """A LogoutRequest as the IdP sends it (HTTP-Redirect binding), signed with the IdP's key."""
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_logout1" Version="2.0" '
        f'IssueInstant="{issued}" Destination="https://testserver/accounts/saml/{slug}/sls/">'
        f"<saml:Issuer>{idp.entity_id}</saml:Issuer>"
        "<saml:NameID>_abc</saml:NameID>"
        "</samlp:LogoutRequest>"
    )
    query = {"SAMLRequest": OneLogin_Saml2_Utils.deflate_and_base64_encode(xml)}
    query["RelayState"] = relay_state
    if signed:
        query["SigAlg"] = OneLogin_Saml2_Constants.RSA_SHA256
        to_sign = OneLogin_Saml2_Auth._build_sign_query(
            query["SAMLRequest"], relay_state, query["SigAlg"], "SAMLRequest"
        )
        signature = OneLogin_Saml2_Utils.sign_binary(to_sign, idp.idp_key.read_text())
        query["Signature"] = base64.b64encode(signature).decode()
    return query


@pytest.fixture
def signed_in(client):
    user = get_user_model().objects.create_user("dana", "dana@example.edu")
    client.force_login(user)
    return client


def test_an_unsigned_logout_request_neither_signs_out_nor_redirects(saml_idp, signed_in):
    query = logout_query(saml_idp, ENCRYPTED, relay_state="/", signed=False)
    response = signed_in.get(f"/accounts/saml/{ENCRYPTED}/sls/", query, **IDP_REDIRECT)
    assert response.status_code == 400
    assert "not signed" in response.content.decode()
    assert "_auth_user_id" in signed_in.session


def test_a_signed_logout_request_signs_out_and_answers_the_idp(saml_idp, signed_in):
    query = logout_query(saml_idp, ENCRYPTED, relay_state="/", signed=True)
    response = signed_in.get(f"/accounts/saml/{ENCRYPTED}/sls/", query, **IDP_REDIRECT)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{saml_idp.base_url}/saml2/idp/SingleLogoutService")
    assert "_auth_user_id" not in signed_in.session


def test_a_logout_request_whose_relay_state_leaves_the_portal_is_refused(saml_idp, signed_in):
    query = logout_query(saml_idp, ENCRYPTED, relay_state=EVIL, signed=True)
    response = signed_in.get(f"/accounts/saml/{ENCRYPTED}/sls/", query, **IDP_REDIRECT)
    assert response.status_code == 400
    assert "_auth_user_id" in signed_in.session


def test_logout_is_not_found_for_an_idp_without_single_logout(saml_idp, signed_in):
    query = logout_query(saml_idp, PLAIN, relay_state=EVIL, signed=False)
    response = signed_in.get(f"/accounts/saml/{PLAIN}/sls/", query, **IDP_REDIRECT)
    assert response.status_code == 404
    assert "_auth_user_id" in signed_in.session


def test_a_sign_in_refused_later_ends_the_sessions_and_roles_held_until_then(
    browser, live_server, saml_idp, idp_users
):
    signed_in = browser.new_context()
    page = signed_in.new_page()
    start_sign_in(page, live_server, "Test IdP", "alice")
    finish_at_idp(page)
    page.wait_for_url(live_server.url + "/privacy/")
    alice = get_user_model().objects.get(email="alice@example.edu")
    assert roles_of(alice) == {"host", "dept_admin"}

    # Alice leaves the faculty: her next sign-in, on another browser, is refused.
    idp_users["alice"]["attributes"]["eduPersonAffiliation"] = ["alum"]
    idp_users["alice"]["attributes"]["eduPersonScopedAffiliation"] = ["alum@example.edu"]
    saml_idp.set_users(idp_users)
    other = browser.new_context()
    refused = other.new_page()
    start_sign_in(refused, live_server, "Test IdP", "alice")
    finish_at_idp(refused)
    refused.wait_for_url(f"{live_server.url}/accounts/saml/{ENCRYPTED}/acs/finish/")
    assert refused.get_by_role("heading", level=1).inner_text().endswith("is not available to you")

    assert signed_in_user_ids() == set()
    assert roles_of(get_user_model().objects.get(pk=alice.pk)) == {"host"}
    page.goto(live_server.url + "/me/")
    assert "/accounts/login/" in page.url
    signed_in.close()
    other.close()
