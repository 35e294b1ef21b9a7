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


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Short values (a test default, "1") would redact ordinary words.
        secrets = [v for n in SECRET_VARIABLES if len(v := os.environ.get(n, "")) >= 8]
        if not secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in secrets:
            redacted = redacted.replace(secret, "[redacted]")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
