"""Test-only environment defaults, loaded as a pytest plugin before Django reads its settings.

The live server speaks plain HTTP on loopback, so the redirect to HTTPS that production
settings turn on is switched off for the test process; tests/test_security.py checks the
production settings themselves in a separate process.
"""

import os

os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# there unless told the calls are made from synchronous test code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The embedded filesystem broker and file cache are per test run: two runs on one machine
# (or a demo left running) must not consume each other's messages or share a Zoom token.
if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("REDIS_URL"):
    _run_dir = os.path.join(
        os.path.dirname(os.path.dirname(__file__)), "var", f"test-{os.getpid()}"
    )
    os.environ.setdefault("PORTAL_CELERY_DIR", os.path.join(_run_dir, "celery"))
    os.environ.setdefault("PORTAL_CACHE_DIR", os.path.join(_run_dir, "cache"))
