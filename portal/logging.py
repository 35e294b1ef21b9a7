"""Keep secrets out of the logs, whatever a library decides to print."""

from __future__ import annotations

import logging
import os

# Environment variables whose values must never appear in a log line.
SECRET_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_WEBHOOK_SECRET",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
)


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Short values (a test default, "1") would redact ordinary words.
        secrets = [v for n in SECRET_VARIABLES if len(v := os.environ.get(n, "")) >= 8]
        if not secrets:
            return True
        message = record.getMessage()
        redacted = _redact(message, secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        # A traceback is appended after the message: an exception's text may hold a secret too.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = _redact(record.stack_info, secrets)
        return True


class OneLineClientErrors(logging.Filter):
    """Django logs a 403 (PermissionDenied) or 400 with the exception's whole traceback, which
    reads as a crash in the console. A client error is one line: the request and the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.exc_info:
            reason = str(record.exc_info[1] or "").strip()
            if reason:
                record.msg, record.args = f"{record.getMessage()} ({reason})", None
            record.exc_info, record.exc_text = None, None
        return True
