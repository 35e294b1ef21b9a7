"""Read settings from the environment, failing loudly on a value that makes no sense.

Every variable read here is listed in the README's settings table. A bad value raises
ConfigurationError naming the variable; the entry points (manage.py, portal/wsgi.py,
portal/celery.py) turn it into one line on stderr and exit status 2, without a traceback.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Schemes whose URLs mean nothing without a host (postgres:///db is a Unix socket, so not it).
_HOST_REQUIRED = {"http", "https", "redis", "rediss"}
# An origin as CSP and CSRF_TRUSTED_ORIGINS take it: scheme, host (or *.host), optional port.
ORIGIN = re.compile(
    r"^https?://(\*\.)?([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$"
)


class ConfigurationError(ImproperlyConfigured):
    """A setting in the environment or the IdP configuration is present but unusable."""

    def __init__(self, variable: str, problem: str | None = None) -> None:
        if problem is None:
            # The older one-argument form, "NAME what is wrong": the first word names it.
            variable, _, problem = variable.partition(" ")
            variable = variable.rstrip(":")
        self.variable = variable
        # One line, whatever a parser's message held.
        self.problem = " ".join(problem.split())
        super().__init__(f"{variable}: {self.problem}")


@contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """Stop the process with one line naming the variable, not a traceback."""
    try:
        yield
    except ConfigurationError as error:
        sys.stderr.write(f"configuration error: {error}\n")
        sys.stderr.flush()
        # Inside gunicorn, 3 is its "worker failed to boot": the master stops instead of
        # starting the worker again forever, as it does for any other status.
        raise SystemExit(3 if "gunicorn.arbiter" in sys.modules else 2) from None


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigurationError(name, f"{value!r} is not a boolean; use true or false")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 10**9) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(name, f"{value!r} is not a whole number") from None
    if not minimum <= number <= maximum:
        raise ConfigurationError(name, f"{number} is not between {minimum} and {maximum}")
    return number


def env_float(
    name: str, default: float, *, minimum: float = 0.0, maximum: float = 10.0**9
) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(name, f"{value!r} is not a number") from None
    # nan compares false with everything, so it would pass a plain range test.
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise ConfigurationError(name, f"{value} is not between {minimum} and {maximum}")
    return number


def env_list(
    name: str, default: list[str], *, item: Callable[[str], str | None] | None = None
) -> list[str]:
    """Comma-separated values; `item` returns what is wrong with one value, or None."""
    value = _raw(name)
    if value is None:
        return list(default)
    items = [part.strip() for part in value.split(",") if part.strip()]
    if not items:
        raise ConfigurationError(name, f"{value!r} lists nothing; unset it for the default")
    for part in items:
        problem = item(part) if item else None
        if problem:
            raise ConfigurationError(name, f"{part!r} {problem}")
    return items


def not_an_origin(value: str) -> str | None:
    if ORIGIN.match(value):
        return None
    return "is not an origin such as https://idp.example.edu (scheme and host, no path)"


def _without_password(url: str) -> str:
    # Error lines end up in logs: never the password a database or Redis URL carries.
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def parse_url(name: str, value: str, *, schemes: set[str]) -> SplitResult:
    shown = _without_password(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError as exc:
        raise ConfigurationError(name, f"{shown!r} is not a valid URL: {exc}") from None
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ConfigurationError(
            name, f"{shown!r} must use one of: {allowed} (got {parts.scheme or 'no scheme'})"
        )
    if parts.scheme in _HOST_REQUIRED and not parts.hostname:
        raise ConfigurationError(name, f"{shown!r} names no host")
    if parts.scheme in {"redis", "rediss"} and not re.fullmatch(r"/?\d*", parts.path):
        raise ConfigurationError(name, f"{shown!r}: the path must be a database number")
    return parts


def env_url(name: str, default: str, *, schemes: set[str]) -> str:
    value = env_str(name, default)
    if value:
        parse_url(name, value, schemes=schemes)
    return value


def writable_dir(name: str, path: Path) -> Path:
    """Create the folder if needed; refuse one this process cannot write."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(name, f"cannot create {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigurationError(name, f"{path} is not writable by this process")
    return path


def env_dir(name: str, default: Path) -> Path:
    return writable_dir(name, Path(env_str(name, str(default))))
