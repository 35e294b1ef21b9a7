"""The portal's one settings module, read from the environment.

With no environment at all it runs embedded: SQLite, kombu's filesystem broker and a file cache
under var/, a secret key generated once into var/, DEBUG on. With DATABASE_URL (and REDIS_URL,
CELERY_BROKER_URL) set it runs on PostgreSQL and Redis with DEBUG off. Every variable is in the
README's table.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import zoneinfo
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from portal import sso_config
from portal.env import (
    ConfigurationError,
    env_bool,
    env_dir,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
    not_an_origin,
    writable_dir,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_dir("PORTAL_VAR_DIR", BASE_DIR / "var")

DATABASE_URL = env_url("DATABASE_URL", "", schemes={"postgres", "postgresql", "sqlite", "pgsql"})
EMBEDDED = DATABASE_URL == ""
DEBUG = env_bool("DJANGO_DEBUG", default=EMBEDDED)


def _secret_key() -> str:
    key = env_str("DJANGO_SECRET_KEY")
    if key:
        if len(key) < 50:
            raise ConfigurationError("DJANGO_SECRET_KEY", "must be at least 50 characters long")
        return key
    if not DEBUG:
        raise ConfigurationError("DJANGO_SECRET_KEY", "must be set when DEBUG is off")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        # Created readable by its owner only, never for a moment by anyone else.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _not_a_host(value: str) -> str | None:
    if re.fullmatch(r"\*|\.?([A-Za-z0-9_-]+\.)*[A-Za-z0-9_-]+\.?|\[[0-9A-Fa-f:.]+\]", value):
        return None
    return "is not a host name (no scheme, port or path)"


ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"], item=_not_a_host
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [], item=not_an_origin)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.saml",
    "allauth.socialaccount.providers.openid_connect",
    "django_celery_beat",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "portal",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.sso.metadata_form_action",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.session_lifetime",
    "portal.middleware.no_store_when_signed_in",
    "portal.middleware.reject_nul_bytes",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if EMBEDDED:
    _SQLITE_PATH = env_str("PORTAL_SQLITE_PATH", str(VAR_DIR / "portal.sqlite3"))
    writable_dir("PORTAL_SQLITE_PATH", Path(_SQLITE_PATH).parent)
    # Web, worker, beat and the simulator share one SQLite file: IMMEDIATE transactions, a
    # busy timeout and WAL keep writers from failing with "database is locked".
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _SQLITE_PATH,
            # A file, not memory: worker processes in the tests must see the test database.
            "TEST": {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")},
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
else:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ConfigurationError("DATABASE_URL", str(exc)) from None
    if not DATABASES["default"].get("NAME"):
        raise ConfigurationError("DATABASE_URL", "names no database (…:5432/<name>)")
# `migrate` connects as this role (the tables' owner) when set; see the README's "Audit log".
MIGRATION_DATABASE_URL = env_url("MIGRATION_DATABASE_URL", "", schemes={"postgres", "postgresql"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes={"redis", "rediss", "unix"})
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
else:
    # Not local memory: the web, worker and beat processes must share the Zoom token and the
    # cool-down after a 429, and local memory is per process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(env_dir("PORTAL_CACHE_DIR", VAR_DIR / "cache")),
        }
    }

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    REDIS_URL or "filesystem://",
    schemes={"redis", "rediss", "filesystem", "amqp", "amqps"},
)
# The embedded filesystem broker and result store live here.
CELERY_DIR = Path(env_str("PORTAL_CELERY_DIR", str(VAR_DIR / "celery")))
if CELERY_BROKER_URL.startswith("filesystem:"):
    writable_dir("PORTAL_CELERY_DIR", CELERY_DIR)
CELERY_RESULT_BACKEND = env_url(
    "CELERY_RESULT_BACKEND",
    REDIS_URL or f"file://{CELERY_DIR / 'results'}",
    schemes={"redis", "rediss", "file", "rpc"},
)
if CELERY_RESULT_BACKEND.startswith("file://"):
    writable_dir("CELERY_RESULT_BACKEND", Path(CELERY_RESULT_BACKEND.removeprefix("file://")))
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 600, minimum=10, maximum=604800)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120, minimum=2, maximum=86400)
if CELERY_TASK_TIME_LIMIT * 2 > CELERY_VISIBILITY_TIMEOUT:
    # A task still running when Redis's visibility timeout passes is delivered again.
    raise ConfigurationError(
        "CELERY_TASK_TIME_LIMIT", "must be at most half of CELERY_VISIBILITY_TIMEOUT"
    )

# --- Zoom -----------------------------------------------------------------------------------
# Server-to-Server OAuth app credentials. Embedded, the portal talks to the simulator that
# rundemo starts (python -m zoomsim) with its demo credentials, so nothing needs configuring.
# Only with DEBUG on: a deployment that turns DEBUG off never gets the public demo secrets.
_DEMO_ZOOM = EMBEDDED and DEBUG
if _DEMO_ZOOM:
    from zoomsim import DEFAULT_PORT, DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    _ZOOM_OAUTH_DEFAULT = f"http://127.0.0.1:{DEFAULT_PORT}"
    _ZOOM_API_DEFAULT = f"{_ZOOM_OAUTH_DEFAULT}/v2"
    _ZOOM_CREDENTIALS = (DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
else:
    _ZOOM_API_DEFAULT, _ZOOM_OAUTH_DEFAULT = "https://api.zoom.us/v2", "https://zoom.us"
    _ZOOM_CREDENTIALS = ("", "", "")
ZOOM_API_BASE = env_url("ZOOM_API_BASE", _ZOOM_API_DEFAULT, schemes={"https", "http"})
ZOOM_OAUTH_BASE = env_url("ZOOM_OAUTH_BASE", _ZOOM_OAUTH_DEFAULT, schemes={"https", "http"})
ZOOM_ACCOUNT_ID = env_str("ZOOM_ACCOUNT_ID", _ZOOM_CREDENTIALS[0])
ZOOM_CLIENT_ID = env_str("ZOOM_CLIENT_ID", _ZOOM_CREDENTIALS[1])
ZOOM_CLIENT_SECRET = env_str("ZOOM_CLIENT_SECRET", _ZOOM_CREDENTIALS[2])
ZOOM_WEBHOOK_SECRET = env_str("ZOOM_WEBHOOK_SECRET", "zoomsim-demo-webhook" if _DEMO_ZOOM else "")
# Requests per second the portal may spend per Zoom category: a share of the account's limit
# (Pro: Light 30, Medium 20, Heavy 10), since other apps on the account spend it too.
ZOOM_BUDGET_LIGHT = env_int("ZOOM_BUDGET_LIGHT", 24, minimum=1, maximum=1000)
ZOOM_BUDGET_MEDIUM = env_int("ZOOM_BUDGET_MEDIUM", 16, minimum=1, maximum=1000)
ZOOM_BUDGET_HEAVY = env_int("ZOOM_BUDGET_HEAVY", 8, minimum=1, maximum=1000)
ZOOM_CONNECT_TIMEOUT = env_float("ZOOM_CONNECT_TIMEOUT", 5.0, minimum=0.1, maximum=60)
ZOOM_READ_TIMEOUT = env_float("ZOOM_READ_TIMEOUT", 20.0, minimum=0.1, maximum=300)
# Longest a call waits for the budget or a cool-down before failing as transient.
ZOOM_MAX_WAIT = env_float("ZOOM_MAX_WAIT", 10.0, minimum=0.0, maximum=600)
# Cool-down after a 429 that names no Retry-After.
ZOOM_COOLDOWN_SECONDS = env_float("ZOOM_COOLDOWN_SECONDS", 2.0, minimum=0.1, maximum=3600)
# Renew the cached token this long before Zoom's expiry (tokens last an hour).
ZOOM_TOKEN_RENEW_SECONDS = env_int("ZOOM_TOKEN_RENEW_SECONDS", 300, minimum=0, maximum=3000)

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int(
    "DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0, maximum=63072000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Lax, not Strict: the identity provider's POST back to us is cross-site.
SESSION_COOKIE_SAMESITE = "Lax"
# At most a week: a far-off expiry overflows the session's expiry date at every sign-in.
SESSION_COOKIE_AGE = env_int("PORTAL_SESSION_IDLE_MINUTES", 30, minimum=1, maximum=10080) * 60
# However busy, a session ends this long after sign-in (portal.middleware).
PORTAL_SESSION_MAX_HOURS = env_int("PORTAL_SESSION_MAX_HOURS", 12, minimum=1, maximum=720)
# Not on every request: portal.middleware renews the idle expiry at most once a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws checkboxes and select arrows with data: SVG images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, *env_list("PORTAL_CSP_FORM_ACTION", [], item=not_an_origin)],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Sign-in: single sign-on only, no local accounts for hosts ------------------------------
# Identity providers are configuration, not code: see the README's "Identity providers".
# With DEBUG off every IdP trust root (metadata, issuer, sign-in URL) must be https.
_IDP = sso_config.load(
    env_str("PORTAL_IDP_CONFIG"), env_role_map=env_str("PORTAL_ROLE_MAP"), require_https=not DEBUG
)
SOCIALACCOUNT_PROVIDERS = _IDP.providers
PORTAL_ROLE_MAP = _IDP.role_map
# The sign-in button POSTs to us and is redirected to the IdP: form-action must allow it.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += [
    origin
    for origin in _IDP.form_action_origins
    if origin not in CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]
]
PORTAL_ALLOWED_AFFILIATIONS = [
    a.casefold() for a in env_list("PORTAL_ALLOWED_AFFILIATIONS", ["faculty", "staff"])
]
PORTAL_ZOOM_ID_ATTRIBUTE = env_str("PORTAL_ZOOM_ID_ATTRIBUTE", "mail")
if not re.fullmatch(r"[\w.:-]+", PORTAL_ZOOM_ID_ATTRIBUTE):
    raise ConfigurationError(
        "PORTAL_ZOOM_ID_ATTRIBUTE", f"{PORTAL_ZOOM_ID_ATTRIBUTE!r} is not an attribute name"
    )
# Demo sign-in (pick a simulator user, no IdP) lets anyone be anyone, the portal admin too:
# only in the embedded demo, that is no DATABASE_URL, no REDIS_URL, DEBUG on and the Zoom
# simulator's demo credentials. Off by default once an IdP is configured.
_EMBEDDED_DEMO = (
    _DEMO_ZOOM
    and not REDIS_URL
    and (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET) == _ZOOM_CREDENTIALS
)
PORTAL_DEMO_SIGNIN = env_bool(
    "PORTAL_DEMO_SIGNIN", default=_EMBEDDED_DEMO and not env_str("PORTAL_IDP_CONFIG")
)
if PORTAL_DEMO_SIGNIN and not _EMBEDDED_DEMO:
    raise ConfigurationError(
        "PORTAL_DEMO_SIGNIN",
        "demo sign-in lets anyone sign in as anyone; it is allowed only in the embedded demo "
        "(no DATABASE_URL, no REDIS_URL, DEBUG on, the Zoom simulator's demo credentials)",
    )
# Decided here, once: test runners turn DEBUG off later, production never turns it on.
PORTAL_DEMO_MODE = PORTAL_DEMO_SIGNIN
# Break-glass password sign-in to the Django admin: failures allowed per IP and per username.
PORTAL_ADMIN_LOGIN_FAILURES = env_int("PORTAL_ADMIN_LOGIN_FAILURES", 5, minimum=1, maximum=1000)
PORTAL_ADMIN_LOGIN_WINDOW_MINUTES = env_int(
    "PORTAL_ADMIN_LOGIN_WINDOW_MINUTES", 15, minimum=1, maximum=10080
)
# Proxies in front of the portal that append to X-Forwarded-For (0: REMOTE_ADDR is the client).
PORTAL_TRUSTED_PROXY_HOPS = env_int("PORTAL_TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=10)

# Django's and django-allauth's, reading the user with their Person in one query.
AUTHENTICATION_BACKENDS = [
    "portal.auth_backends.ModelBackend",
    "portal.auth_backends.SSOBackend",
]
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "portal.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
# Sign-out is a POST (the layout's button); a GET shows a confirmation form.
ACCOUNT_LOGOUT_ON_GET = False
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "signed_out"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LANGUAGE_CODE = "en-ca"
TIME_ZONE = env_str("PORTAL_TIME_ZONE", "America/Toronto")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    raise ConfigurationError(
        "PORTAL_TIME_ZONE", f"{TIME_ZONE!r} is not a time zone name such as America/Toronto"
    ) from None
USE_I18N = True
USE_TZ = True

PORTAL_NAME = env_str("PORTAL_NAME", "Zoom Security Check")
PORTAL_INSTITUTION = env_str("PORTAL_INSTITUTION", "University of Toronto")
PORTAL_HEALTHZ_TIMEOUT = env_float("PORTAL_HEALTHZ_TIMEOUT", 2.0, minimum=0.1, maximum=30)
PORTAL_LOG_LEVEL = env_str("PORTAL_LOG_LEVEL", "INFO").upper()
if PORTAL_LOG_LEVEL not in logging.getLevelNamesMapping() or PORTAL_LOG_LEVEL == "NOTSET":
    raise ConfigurationError(
        "PORTAL_LOG_LEVEL", f"{PORTAL_LOG_LEVEL!r} is not DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
PORTAL_HEALTHZ_WORKER_SECONDS = env_int(
    "PORTAL_HEALTHZ_WORKER_SECONDS", 180, minimum=1, maximum=86400
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "portal.logging.RedactSecrets"},
        "client_errors": {"()": "portal.logging.OneLineClientErrors"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["client_errors", "redact"]},
    },
    "root": {"handlers": ["console"], "level": PORTAL_LOG_LEVEL},
}
