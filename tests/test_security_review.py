"""Findings of a security review, each pinned by a test: the configured log handler redacts
secrets from messages and tracebacks alike."""

from __future__ import annotations

import io
import logging

import pytest

from portal.logging import RedactSecrets

CLIENT_SECRET = "zoom-client-secret-for-the-redaction-test"


# --- Logs: the configured handler redacts secrets -------------------------------------------
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
