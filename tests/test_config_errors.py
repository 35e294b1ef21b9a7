"""A bad setting stops every entry point with one line naming it, exit status 2, no traceback.

Each case runs `manage.py check` in a subprocess with one bad value (README's settings table and
every IdP entry key); scripts/config_errors_table.py runs the same cases to print the table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from portal import sso_config
from tests.support import ROOT

# A subprocess per case: a minute and more, so `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SECRET = "k" * 64
SAML = {
    "slug": "uni",
    "name": "UTORid",
    "entity_id": "https://idp.example.edu/idp",
    "sso_url": "https://idp.example.edu/sso",
    "x509cert": "MIIC-test-only",
}
OIDC = {
    "slug": "entra",
    "server_url": "https://login.example.edu/tenant/v2.0",
    "client_id": "abc",
    "secret": "s3cret",
}
DEBUG_OFF = {"DJANGO_DEBUG": "false"}
SAML_CERT_FILE = {
    **{k: v for k, v in SAML.items() if k != "x509cert"},
    "x509cert_file": "{dir}/binary",
}


@dataclass
class Case:
    """One bad value: the environment it adds and what the one line must name."""

    name: str
    env: dict[str, str]
    variable: str
    mentions: str
    extra: dict[str, str] = field(default_factory=dict)


def _idp(key_or_name: str, config: dict, mentions: str, extra: dict | None = None) -> Case:
    return Case(
        f"idp {key_or_name}",
        {"PORTAL_IDP_CONFIG": json.dumps(config)},
        "PORTAL_IDP_CONFIG",
        mentions,
        extra or {},
    )


def _saml(key: str, value: object, mentions: str | None = None, **extra: str) -> Case:
    entry = {k: v for k, v in SAML.items() if k != key or value is not None}
    if value is not None:
        entry[key] = value
    return _idp(f"saml.{key}={value!r}", {"saml": [entry]}, mentions or key, extra)


def _oidc(key: str, value: object, mentions: str | None = None, **extra: str) -> Case:
    entry = {k: v for k, v in OIDC.items() if k != key or value is not None}
    if value is not None:
        entry[key] = value
    return _idp(f"oidc.{key}={value!r}", {"oidc": [entry]}, mentions or key, extra)


def _env(variable: str, value: str, mentions: str = "", **extra: str) -> Case:
    return Case(f"{variable}={value!r}", {variable: value}, variable, mentions, extra)


# {dir} is a folder holding `binary` (random bytes) and `a-file` (a regular file).
CASES = [
    _env("DATABASE_URL", "postgres://portal:pw@127.0.0.1:99999/portal", "Port out of range"),
    _env("DATABASE_URL", "[bad"),
    _env("DATABASE_URL", "mysql://db/portal", "mysql"),
    _env("DATABASE_URL", "postgres://127.0.0.1:5432/", "names no database"),
    _env("REDIS_URL", "redis://:6379/0", "names no host"),
    _env("REDIS_URL", "redis://127.0.0.1:6379/zero", "database number"),
    _env("CELERY_BROKER_URL", "kafka://127.0.0.1", "kafka"),
    _env("CELERY_RESULT_BACKEND", "nonsense://x", "nonsense"),
    _env("CELERY_VISIBILITY_TIMEOUT", "soon", "whole number"),
    _env("CELERY_TASK_TIME_LIMIT", "400", "half"),
    _env("DJANGO_DEBUG", "maybe", "boolean"),
    _env("DJANGO_SECRET_KEY", "short", "50 characters"),
    _env("DJANGO_ALLOWED_HOSTS", ", ", "lists nothing"),
    _env("DJANGO_ALLOWED_HOSTS", "https://portal.example.edu/", "host name"),
    _env("DJANGO_CSRF_TRUSTED_ORIGINS", "portal.example.edu", "origin"),
    _env("DJANGO_SECURE_SSL_REDIRECT", "sometimes", "boolean"),
    _env("DJANGO_HSTS_SECONDS", "-1", "between"),
    _env("DJANGO_HSTS_PRELOAD", "2", "boolean"),
    _env("PORTAL_CSP_FORM_ACTION", "https://idp.example.edu; script-src *", "origin"),
    _env("PORTAL_IDP_CONFIG", "/nonexistent/idps.toml", "not a file"),
    _env("PORTAL_IDP_CONFIG", "{dir}/binary", "UTF-8"),
    _env("PORTAL_IDP_CONFIG", "{dir}/a-file.toml", "TOML"),
    _env("PORTAL_IDP_CONFIG", '{"saml": 1}', "list of objects"),
    _env("PORTAL_IDP_CONFIG", '{"sam1": []}', "unknown keys"),
    _env("PORTAL_IDP_CONFIG", '{"role_map": {"g": 5}}', "role_map"),
    _env("PORTAL_ROLE_MAP", '{"cn=zoom-helpdesk": "superuser"}', "superuser"),
    _env("PORTAL_ROLE_MAP", "[1]", "object"),
    _env("PORTAL_ALLOWED_AFFILIATIONS", ", ", "lists nothing"),
    _env("PORTAL_ZOOM_ID_ATTRIBUTE", "mail address", "attribute name"),
    _env("PORTAL_DEMO_SIGNIN", "perhaps", "boolean"),
    _env("PORTAL_ADMIN_LOGIN_FAILURES", "0", "between"),
    _env("PORTAL_ADMIN_LOGIN_WINDOW_MINUTES", "forever", "whole number"),
    _env("PORTAL_SESSION_IDLE_MINUTES", "99999999999", "between"),
    _env("PORTAL_SESSION_MAX_HOURS", "0", "between"),
    _env("PORTAL_TRUSTED_PROXY_HOPS", "-1", "between"),
    _env("MIGRATION_DATABASE_URL", "mysql://db/portal", "must use one of"),
    _env("PORTAL_IDP_CONFIG", '{"role_map_base": 5}', "not a DN"),
    _env("PORTAL_IDP_CONFIG", '{"role_map": {"cn=zoom-helpdesk": "helpdesk"}}', "role_map"),
    _env("PORTAL_TIME_ZONE", "Mars/Olympus", "time zone"),
    _env("PORTAL_HEALTHZ_TIMEOUT", "inf", "between"),
    _env("PORTAL_HEALTHZ_WORKER_SECONDS", "0", "between"),
    _env("PORTAL_LOG_LEVEL", "LOUD", "LOUD"),
    _env("PORTAL_VAR_DIR", "{dir}/a-file/var", "cannot create"),
    _env("PORTAL_SQLITE_PATH", "{dir}/a-file/portal.sqlite3", "cannot create"),
    _env("PORTAL_CELERY_DIR", "{dir}/a-file/celery", "cannot create"),
    _env("PORTAL_CACHE_DIR", "{dir}/a-file/cache", "cannot create"),
    _env("ZOOM_API_BASE", "http:///v2", "names no host"),
    _env("ZOOM_OAUTH_BASE", "ftp://zoom.us", "ftp"),
    _env("ZOOM_BUDGET_LIGHT", "0", "between"),
    _env("ZOOM_BUDGET_MEDIUM", "many", "whole number"),
    _env("ZOOM_BUDGET_HEAVY", "1000000000", "between"),
    _env("ZOOM_CONNECT_TIMEOUT", "nan", "between"),
    _env("ZOOM_READ_TIMEOUT", "inf", "between"),
    _env("ZOOM_MAX_WAIT", "-1", "between"),
    _env("ZOOM_COOLDOWN_SECONDS", "soon", "number"),
    _env("ZOOM_TOKEN_RENEW_SECONDS", "4000", "between"),
    _saml("slug", "Bad Slug"),
    _saml("slug", 5, "slug"),
    _saml("name", ["UTORid"]),
    _saml("entity_id", None),
    _saml("entity_id", 5),
    _saml("metadata_url", "http://idp.example.edu/md", "https", **DEBUG_OFF),
    _saml("metadata_url", "idp.example.edu/md", "http(s) URL"),
    _saml("metadata_file", "{dir}/binary", "UTF-8"),
    _saml("metadata_file", "{dir}/a-file", "metadata_file"),
    _saml("sso_url", "http://idp.example.edu/sso", "https", **DEBUG_OFF),
    _saml("sso_url", 5),
    _saml("slo_url", "javascript:alert(1)"),
    _saml("x509cert", 5),
    _idp("saml.x509cert_file=binary", {"saml": [SAML_CERT_FILE]}, "x509cert_file"),
    _saml("logout_url", 5),
    _saml("want_assertion_encrypted", "false"),
    _saml("allow_single_label_domains", "yes"),
    _saml("sp", "https://portal.example.edu/saml"),
    _saml("sp", {"entity": "x"}, "unknown keys"),
    _saml("sp", {"x509cert_file": "/nonexistent.crt", "private_key": "k"}, "x509cert_file"),
    _saml("attributes", {"mail": "mail"}),
    _saml("attributes", {"email": 5}, "attributes.email"),
    _saml("form_action_origins", "https://idp.example.edu"),
    _saml("form_action_origins", ["javascript:"], "origin"),
    _saml("metdata_url", "https://idp.example.edu/md", "unknown keys"),
    _oidc("server_url", "http://login.example.edu/tenant/v2.0", "https", **DEBUG_OFF),
    _oidc("server_url", "https://login.microsoftonline.com/common/v2.0", "tenant"),
    _oidc("server_url", None),
    _oidc("client_id", 5),
    _oidc("secret", None),
    _oidc("secret_env", "PORTAL_NO_SUCH_SECRET", "PORTAL_NO_SUCH_SECRET"),
    _oidc("fetch_userinfo", "no"),
    _oidc("scope", "openid email"),
    _oidc("logout_url", 5),
    _oidc("name", 5),
    _oidc("slug", "Entra ID", "slug"),
    _oidc("attributes", {"groups": ["roles", 7]}, "attributes.groups"),
    _oidc("form_action_origins", ["https://login.example.edu/path"], "origin"),
    _saml("sp", {"entity_id": 5}, "entity_id"),
    _saml("sp", {"x509cert": "MIIC", "private_key_file": "{dir}/binary"}, "private_key_file"),
]


# Free text: any value is a valid one (an empty Zoom credential is reported by /healthz).
FREE_TEXT = {
    "PORTAL_NAME",
    "PORTAL_INSTITUTION",
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_WEBHOOK_SECRET",
}


def readme_variables() -> set[str]:
    """The variables of the README's settings table (`NAME` in a row's first cell)."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Settings") :].split("\n## ")[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def clean_env(**overrides: str) -> dict[str, str]:
    """The embedded defaults plus a secret key: none of the README's variables inherited."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PORTAL_", "ZOOM_", "DJANGO_", "CELERY_"))
        and name not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", DJANGO_SECRET_KEY=SECRET)
    env.update(overrides)
    return env


def case_env(case: Case, folder: Path) -> dict[str, str]:
    values = {**case.env, **case.extra}
    return clean_env(**{k: v.replace("{dir}", str(folder)) for k, v in values.items()})


def prepare(folder: Path) -> Path:
    (folder / "binary").write_bytes(bytes(range(256)) * 4)
    (folder / "a-file").write_text("not a folder, not XML\n")
    (folder / "a-file.toml").write_text("[[saml]\n")
    return folder


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def manage_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", "check"], env)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return prepare(tmp_path_factory.mktemp("config-errors"))


def assert_one_line_naming(result: subprocess.CompletedProcess, case: Case) -> None:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {case.variable}: "), lines[0]
    assert case.mentions in lines[0], lines[0]


def test_every_variable_in_the_readme_is_tried_with_a_bad_value():
    tried = {case.variable for case in CASES}
    assert readme_variables() - FREE_TEXT - tried == set()


def test_every_idp_entry_key_is_tried_with_a_bad_value():
    for kind, keys in (("saml", sso_config.SAML_KEYS), ("oidc", sso_config.OIDC_KEYS)):
        untried = {k for k in keys if not any(c.name.startswith(f"idp {kind}.{k}=") for c in CASES)}
        assert untried == set(), kind


def test_the_defaults_pass_the_check():
    result = manage_check(clean_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_value_stops_manage_py_with_one_line(case, folder):
    result = manage_check(case_env(case, folder))

    assert result.returncode == 2, result.stderr
    assert_one_line_naming(result, case)


TIME_ZONE = _env("PORTAL_TIME_ZONE", "Mars/Olympus", "time zone")
LOGOUT_URL = _saml("logout_url", 5)


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_a_bad_value_stops_celery_with_one_line(program, folder):
    command = [sys.executable, "-m", "celery", "-A", "portal", program, "--loglevel=info"]
    result = run(command, case_env(TIME_ZONE, folder))

    assert result.returncode == 2, result.stderr
    assert_one_line_naming(result, TIME_ZONE)


def test_a_bad_value_stops_the_wsgi_application_with_one_line(folder):
    result = run([sys.executable, "-c", "import portal.wsgi"], case_env(LOGOUT_URL, folder))

    assert result.returncode == 2, result.stderr
    assert_one_line_naming(result, LOGOUT_URL)


def test_gunicorn_stops_instead_of_restarting_its_worker(folder):
    """3 is gunicorn's "worker failed to boot": the master stops rather than looping."""
    command = [sys.executable, "-m", "gunicorn", "--bind=127.0.0.1:0", "portal.wsgi"]
    result = run(command, case_env(TIME_ZONE, folder))

    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert errors == [
        "configuration error: PORTAL_TIME_ZONE: 'Mars/Olympus' is not a time zone name "
        "such as America/Toronto"
    ]
    preloaded = run([*command, "--preload"], case_env(TIME_ZONE, folder))
    assert preloaded.returncode == 3
    assert preloaded.stderr.strip() == errors[0]
