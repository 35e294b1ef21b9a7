"""PORTAL_IDP_CONFIG: the format turns into allauth apps, CSP origins and the role map; bad
values stop the start with a message; the break-glass admin login is rate limited."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from portal import sso_config
from portal.env import ConfigurationError
from portal.sso import Profile, map_roles, refuse_reason
from tests.support import ROOT, subprocess_env

SHIBBOLETH = {
    "slug": "utoronto",
    "name": "UTORid",
    "entity_id": "https://idpz.utorauth.utoronto.ca/shibboleth",
    "sso_url": "https://idpz.utorauth.utoronto.ca/idp/profile/SAML2/Redirect/SSO",
    "x509cert": "MIIC-test-only",
    "logout_url": "https://idpz.utorauth.utoronto.ca/idp/profile/Logout",
}
COMMON = "https://login.microsoftonline.com/common/v2.0"
ENTRA = {
    "slug": "entra",
    "name": "Microsoft",
    "server_url": "https://login.microsoftonline.com/00000000-1111-2222-3333-444444444444/v2.0",
    "client_id": "abc",
    "secret": "s3cret",
    "attributes": {"groups": "roles"},
}


def test_saml_and_oidc_entries_become_allauth_apps():
    config = sso_config.build({"saml": [SHIBBOLETH], "oidc": [ENTRA]})

    (saml,) = config.providers["saml"]["APPS"]
    assert saml["client_id"] == "utoronto"
    assert saml["provider_id"] == SHIBBOLETH["entity_id"]
    advanced = saml["settings"]["advanced"]
    assert advanced["want_assertion_signed"] is True
    assert advanced["reject_idp_initiated_sso"] is True
    assert saml["settings"]["attribute_mapping"]["email"] == [
        "urn:oid:0.9.2342.19200300.100.1.3",
        "mail",
    ]
    (oidc,) = config.providers["openid_connect"]["APPS"]
    assert oidc["settings"]["server_url"] == ENTRA["server_url"]
    assert oidc["settings"]["portal"]["attributes"]["groups"] == ["roles"]


def test_csp_form_action_allows_each_idps_sign_in_origin():
    config = sso_config.build({"saml": [SHIBBOLETH], "oidc": [ENTRA]})
    assert config.form_action_origins == [
        "https://idpz.utorauth.utoronto.ca",
        "https://login.microsoftonline.com",
    ]


def test_friendly_eduperson_names_map_to_their_oids_and_to_themselves():
    entry = {
        **SHIBBOLETH,
        "attributes": {"department": "departmentNumber", "groups": ["isMemberOf"]},
    }
    attributes = sso_config.build({"saml": [entry]}).providers["saml"]["APPS"][0]["settings"][
        "portal"
    ]["attributes"]
    # An IdP may release isMemberOf by its urn:oid name or, in the basic format, by its own.
    assert attributes["groups"] == ["urn:oid:1.3.6.1.4.1.5923.1.5.1.1", "isMemberOf"]
    assert attributes["department"] == ["departmentNumber"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"oidc": [{**ENTRA, "server_url": "https://login.microsoftonline.com/common/v2.0"}]},
            "tenant",
        ),
        ({"saml": [{**SHIBBOLETH, "sso_url": ""}]}, "metadata_url"),
        ({"saml": [SHIBBOLETH, SHIBBOLETH]}, "used twice"),
        ({"saml": [{**SHIBBOLETH, "slug": "Bad Slug"}]}, "slug"),
        ({"role_map": {"g": "superuser"}}, "dept_admin:<department>"),
        ({"saml": [{**SHIBBOLETH, "want_assertion_encrypted": True}]}, "encrypted"),
        ({"sam1": []}, "unknown keys"),
    ],
)
def test_a_bad_configuration_is_refused_with_a_message(data, message):
    with pytest.raises(ConfigurationError, match=message):
        sso_config.build(data)


def test_env_role_map_adds_to_and_wins_over_the_files():
    config = sso_config.build(
        {"role_map": {"a": "helpdesk", "b": "helpdesk"}},
        env_role_map=json.dumps({"b": "portal_admin"}),
    )
    assert config.role_map == {"a": "helpdesk", "b": "portal_admin"}


def test_settings_read_a_toml_file_named_by_the_environment(tmp_path):
    path = tmp_path / "idps.toml"
    path.write_text(
        '[role_map]\n"urn:mace:x:helpdesk" = "helpdesk"\n\n[[saml]]\n'
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in SHIBBOLETH.items())
    )
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SOCIALACCOUNT_PROVIDERS['saml']['APPS'][0]['client_id'], "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=subprocess_env(PORTAL_IDP_CONFIG=str(path), DJANGO_SETTINGS_MODULE="portal.settings"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "utoronto" in result.stdout
    assert "https://idpz.utorauth.utoronto.ca" in result.stdout


GROUPS = "ou=groups,dc=example,dc=edu"


def _role_map(role_map: dict, **more) -> dict:
    return sso_config.build({"role_map": role_map, **more}).role_map


def test_role_map_matches_whole_normalised_dns_and_exact_entitlements():
    role_map = _role_map({f"cn=zoom-helpdesk,{GROUPS}": "helpdesk", "urn:x:hd": "portal_admin"})
    with override_settings(PORTAL_ROLE_MAP=role_map):
        # The same DN spelled with upper-case attribute types and spaces: the same group.
        assert map_roles(["CN=zoom-helpdesk , OU=groups,DC=example, dc=edu"]) == (["helpdesk"], [])
        assert map_roles(["urn:x:hd", "other"]) == (["portal_admin"], [])
        assert map_roles(["URN:X:HD"]) == ([], [])


def test_role_map_does_not_grant_roles_to_look_alike_groups():
    role_map = _role_map({"cn=zoom-helpdesk": "helpdesk"}, role_map_base=GROUPS)
    with override_settings(PORTAL_ROLE_MAP=role_map):
        # A club anyone may create elsewhere in the directory, a bare RDN, another case.
        assert map_roles(["cn=zoom-helpdesk,ou=student-clubs,dc=example,dc=edu"]) == ([], [])
        assert map_roles(["CN=Zoom-Helpdesk"]) == ([], [])
        assert map_roles([f"cn=Zoom-Helpdesk,{GROUPS}"]) == ([], [])
        assert map_roles([f"cn=zoom-helpdesk,ou=x,{GROUPS}"]) == ([], [])
        assert map_roles([f"cn=zoom-helpdesk,{GROUPS}"]) == (["helpdesk"], [])


def test_a_short_form_matches_only_under_the_configured_base():
    role_map = _role_map(
        {"cn=zoom-admins-physics": "dept_admin:Physics"}, role_map_base=f"OU=groups, {GROUPS[10:]}"
    )
    with override_settings(PORTAL_ROLE_MAP=role_map):
        assert map_roles([f"cn=zoom-admins-physics,{GROUPS}"]) == (["dept_admin"], ["Physics"])
        assert map_roles(["cn=zoom-admins-physics,ou=student-clubs,dc=example,dc=edu"]) == (
            [],
            [],
        )
        assert map_roles(["cn=zoom-admins-physics"]) == ([], [])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role_map": {"cn=zoom-admins-physics": "helpdesk"}}, "role_map_base"),
        ({"role_map": {}, "role_map_base": "not a dn"}, "role_map_base"),
        ({"role_map": {"cn=a,,dc=x": "helpdesk"}}, "not a valid DN"),
    ],
)
def test_a_short_form_without_a_base_or_a_bad_dn_stops_the_start(data, message):
    with pytest.raises(ConfigurationError, match=message):
        sso_config.build(data)


@pytest.mark.parametrize(
    ("affiliations", "refused"),
    [
        (["faculty@utoronto.ca"], False),
        (["Staff"], False),
        (["student@utoronto.ca", "member"], True),
        ([], True),
    ],
)
def test_scoped_affiliations_count_by_their_value(affiliations, refused):
    profile = Profile(email="x@utoronto.ca", affiliations=affiliations)
    assert (refuse_reason(profile) == "affiliation") is refused


@pytest.mark.slow
@pytest.mark.django_db
def test_break_glass_admin_login_is_locked_after_five_failures(client):
    cache.clear()
    get_user_model().objects.create_superuser("root", "root@example.edu", "correct-horse-42")
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/admin/login/", {"username": "root", "password": "correct-horse-42"})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    cache.clear()
    ok = client.post("/admin/login/", {"username": "root", "password": "correct-horse-42"})
    assert ok.status_code == 302
    assert client.session["_auth_user_id"]


@pytest.mark.django_db
def test_break_glass_admin_signs_in_while_no_identity_provider_answers(client):
    from tests.support import free_port

    cache.clear()
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = sso_config.build(
        {
            "saml": [{"slug": "down", "entity_id": f"{nobody}/idp", "metadata_url": nobody}],
            "oidc": [{"slug": "down-oidc", "server_url": nobody, "client_id": "c", "secret": "s"}],
        }
    )
    get_user_model().objects.create_superuser("root", "root@example.edu", "correct-horse-42")
    with override_settings(SOCIALACCOUNT_PROVIDERS=config.providers):
        # The hosts' sign-in page still answers; the IdP is down, its buttons cannot help.
        assert client.get("/accounts/login/").status_code == 200
        ok = client.post("/admin/login/", {"username": "root", "password": "correct-horse-42"})
        assert ok.status_code == 302
        # The admin overrides a person's roles while the IdP is down.
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/portal/person/").status_code == 200
    cache.clear()


def _try(client, username: str, password: str, **meta) -> int:
    data = {"username": username, "password": password}
    return client.post("/admin/login/", data, **meta).status_code


@pytest.mark.slow
@pytest.mark.django_db
def test_failures_from_one_address_lock_neither_another_address_nor_another_username(client):
    cache.clear()
    get_user_model().objects.create_superuser("root", "root@example.edu", "correct-horse-42")
    for _ in range(5):
        assert _try(client, "root", "wrong", REMOTE_ADDR="10.0.0.1") == 200
    assert _try(client, "root", "correct-horse-42", REMOTE_ADDR="10.0.0.1") == 429
    assert _try(client, "other", "wrong", REMOTE_ADDR="10.0.0.1") == 200
    assert _try(client, "root", "correct-horse-42", REMOTE_ADDR="10.9.9.9") == 302
    cache.clear()


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(PORTAL_TRUSTED_PROXY_HOPS=1)
def test_behind_the_proxy_each_client_is_counted_by_its_forwarded_address(client):
    cache.clear()
    get_user_model().objects.create_superuser("root", "root@example.edu", "correct-horse-42")
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(5):
        # A client may write anything at the left of X-Forwarded-For; the proxy appends the
        # address it saw, the one counted.
        forwarded = f"192.0.2.{n}, 203.0.113.7"
        assert _try(client, "root", "wrong", HTTP_X_FORWARDED_FOR=forwarded, **proxy) == 200
    assert _try(client, "root", "x", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy) == 429
    good = _try(client, "root", "correct-horse-42", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert good == 302
    cache.clear()


@pytest.mark.skipif(
    "Redis" not in settings.CACHES["default"]["BACKEND"],
    reason="the embedded file cache does not increment atomically; production uses Redis",
)
@pytest.mark.django_db(transaction=True)
def test_forty_parallel_tries_check_no_more_passwords_than_the_limit():
    cache.clear()
    get_user_model().objects.create_superuser("root", "root@example.edu", "correct-horse-42")

    def attempt(_: int) -> int:
        try:
            return _try(Client(), "root", "wrong")
        finally:
            connection.close()  # each thread's own

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(attempt, range(40)))
    assert statuses.count(200) == 5
    assert statuses.count(429) == 35
    cache.clear()


@pytest.mark.django_db
def test_hosts_have_no_password_sign_in(client):
    get_user_model().objects.create_user("host", "host@example.edu", "a-password-42")
    assert client.get("/accounts/signup/").status_code == 404
    page = client.get("/accounts/login/").content.decode()
    assert 'type="password"' not in page
    client.post("/accounts/login/", {"login": "host@example.edu", "password": "a-password-42"})
    assert "_auth_user_id" not in client.session
