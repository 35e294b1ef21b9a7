"""Production settings are safe: check --deploy is clean and responses carry the headers."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from portal.logging import RedactSecrets
from tests.people import make_person
from tests.support import ROOT, subprocess_env

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_SECRET_KEY": "x" * 20 + "production-only-secret-for-the-deploy-check-" + "y" * 20,
    "DJANGO_ALLOWED_HOSTS": "zoom-portal.example.edu",
    "DJANGO_DEBUG": None,
    "DJANGO_SECURE_SSL_REDIRECT": None,
    "DJANGO_ALLOW_ASYNC_UNSAFE": None,
}


def _production(*args: str, var_dir: Path | None = None) -> subprocess.CompletedProcess:
    extra = {"PORTAL_VAR_DIR": str(var_dir)} if var_dir else {}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=subprocess_env(**PRODUCTION_ENV, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=subprocess_env(**{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": None}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY: must be set" in result.stderr


PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
plain = client.get("/", HTTP_HOST="zoom-portal.example.edu")
secure = client.get("/", HTTP_HOST="zoom-portal.example.edu", secure=True)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "headers": dict(secure.headers),
    "csrf_cookie": {k: secure.cookies["csrftoken"][k] for k in ("secure", "httponly", "samesite")},
}))
"""


@pytest.fixture(scope="module")
def production_var_dir(tmp_path_factory) -> Path:
    """A var/ with static files collected as production collects them (hashed manifest)."""
    var_dir = tmp_path_factory.mktemp("production-var")
    collected = _production("manage.py", "collectstatic", "--noinput", "-v0", var_dir=var_dir)
    assert collected.returncode == 0, collected.stderr
    return var_dir


def test_production_redirects_to_https_and_sends_security_headers(production_var_dir):
    result = _production("-c", PROBE, var_dir=production_var_dir)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://zoom-portal.example.edu/"
    headers = probe["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert probe["csrf_cookie"]["secure"] is True


def test_every_page_carries_a_self_only_content_security_policy(client):
    response = client.get("/")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/privacy/"])
def test_pages_have_no_inline_scripts_or_styles(client, path):
    html = client.get(path).content.decode()

    assert "<script>" not in html
    assert " style=" not in html
    assert "<style" not in html


def test_with_debug_off_the_simulators_public_demo_secrets_are_never_used():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.ZOOM_WEBHOOK_SECRET, s.ZOOM_CLIENT_SECRET, s.ZOOM_API_BASE]))",
        ],
        cwd=ROOT,
        env=subprocess_env(
            DATABASE_URL=None,
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="z" * 64,
            ZOOM_WEBHOOK_SECRET=None,
            ZOOM_CLIENT_SECRET=None,
            ZOOM_API_BASE=None,
            DJANGO_SETTINGS_MODULE="portal.settings",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    webhook, client_secret, api = json.loads(result.stdout.strip().splitlines()[-1])
    assert (webhook, client_secret, api) == ("", "", "https://api.zoom.us/v2")


@pytest.fixture
def portal_admin_client(client):
    client.force_login(make_person("boss@utoronto.ca", roles=["portal_admin"]))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/me/harden/?profile=%00",
        "/reports/department/?department=%00",
        "/reports/department/hosts.csv?department=Physics&grade=%00",
        "/helpdesk/?q=a%00b",
    ],
)
def test_a_nul_byte_in_a_query_parameter_is_a_clear_bad_request(portal_admin_client, url):
    response = portal_admin_client.get(url, secure=True)

    assert response.status_code == 400
    assert "cannot contain a NUL character" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/me/activity/",
        "/privacy/",
        "/reports/department/?department=Physics",
        "/reports/department/hosts.csv?department=Physics",
        "/reports/department/hosts.json?department=Physics",
    ],
)
def test_nothing_a_signed_in_person_reads_is_stored_by_browsers_or_proxies(
    portal_admin_client, url
):
    response = portal_admin_client.get(url, secure=True)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_public_pages_for_anonymous_visitors_are_not_marked_no_store(client):
    response = client.get("/privacy/", secure=True)

    assert "no-store" not in response.get("Cache-Control", "")


# --- Logs: the configured handler redacts secrets -------------------------------------------
CLIENT_SECRET = "zoom-client-secret-for-the-redaction-test"


@pytest.fixture
def configured_handler(monkeypatch):
    """The handler settings.LOGGING put on the root logger, writing into a buffer."""
    monkeypatch.setenv("ZOOM_CLIENT_SECRET", CLIENT_SECRET)
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_a_log_line_with_the_client_secret_comes_out_redacted(configured_handler):
    logging.getLogger("audits.zoom").warning("minting with %s failed", CLIENT_SECRET)

    written = configured_handler.getvalue()
    assert "minting with [redacted] failed" in written
    assert CLIENT_SECRET not in written


def test_a_traceback_with_the_client_secret_comes_out_redacted(configured_handler):
    try:
        raise ValueError(f"bad credentials {CLIENT_SECRET}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /me/")

    written = configured_handler.getvalue()
    assert "Internal Server Error: /me/" in written
    assert "bad credentials [redacted]" in written
    assert CLIENT_SECRET not in written
