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
