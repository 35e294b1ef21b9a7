from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, IN_CI


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is missing at {CHROMIUM}")
        pytest.skip(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    # A CSP violation or script error shows in the console: fail the test that caused it.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture(scope="session")
def live_server() -> Iterator[object]:
    """pytest-django's live server, serving static files from STATIC_ROOT as production does.

    Its default handler finds static files in the source folders, which cannot resolve the
    hashed names of the production manifest; `make test` runs collectstatic first.
    """
    from django.test.testcases import _StaticFilesHandler
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    server.thread.static_handler = _StaticFilesHandler
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """Between transactional tests the runner empties every table with one TRUNCATE, which the
    audit log's guard (audits.0006) refuses: the test database switches it off, and
    test_audit_log switches it on again where it checks it."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audits_auditevent DISABLE TRIGGER audits_auditevent_no_truncate"
            )


# --- The Zoom simulator (issue 3) -----------------------------------------------------------
@pytest.fixture(scope="session")
def _zoomsim_process(tmp_path_factory) -> Iterator[object]:
    from zoomsim.testing import SimulatorProcess

    state = tmp_path_factory.mktemp("zoomsim") / "state.json"
    with SimulatorProcess(state) as simulator:
        yield simulator


@pytest.fixture
def zoomsim(_zoomsim_process, settings) -> Iterator[object]:
    """The Zoom simulator over real HTTP, freshly seeded, with the portal pointed at it.

    Helpers: .url, .reset(), .put_user(email, payload), .patch_settings(email, body),
    .put_account(payload), .set_faults(**faults), .requests(); .env holds the variables a
    worker subprocess needs to reach the same simulator.
    """
    from audits.zoom import client as zoom

    simulator = _zoomsim_process
    simulator.reset()
    for name, value in simulator.env.items():
        setattr(settings, name, value)
    zoom.forget_cached_state()
    yield simulator
    zoom.forget_cached_state()


# --- A real Celery worker (never eager mode) --------------------------------------------------
@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A worker thread consuming from the configured broker: Redis in CI, the filesystem
    broker on embedded defaults. Settings overridden by a test are seen by it."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    app.control.purge()
    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
        queues=["interactive", "bulk"],
    ):
        yield app


@pytest.fixture
def beat_sweep(transactional_db) -> Iterator[None]:
    """What beat does every few seconds, done here every tenth of a second: the sweep that
    sends the jobs whose wait is over (a waiting job is a row, not a broker message)."""
    import threading

    from django.db import connection

    from audits.jobs.machinery import sweep_pending

    stop = threading.Event()

    def sweep() -> None:
        try:
            while not stop.wait(0.1):
                sweep_pending()
        finally:
            connection.close()

    thread = threading.Thread(target=sweep, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a worker subprocess needs to use this test run's database."""
    from django.db import connection

    from tests.support import subprocess_env

    database = connection.settings_dict
    overrides: dict[str, str | None] = {}
    if database["ENGINE"].endswith("sqlite3"):
        overrides["PORTAL_SQLITE_PATH"] = str(database["NAME"])
    else:
        overrides["DATABASE_URL"] = (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        )
    return subprocess_env(**overrides, **(extra or {}))


# --- Markers by what a test needs, so `make test-fast` can leave the slow parts out ----------
# A test is marked by the fixtures it asks for (a new test is marked without thinking about
# it); tests that start their own worker process say so with @pytest.mark.worker.
_MARKERS_BY_FIXTURE = {
    "page": "browser",
    "browser": "browser",
    "live_server": "browser",
    "celery_worker": "worker",
    "saml_idp": "idp",
    "oidc_idp": "idp",
}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = _MARKERS_BY_FIXTURE.get(fixture)
            if marker and not item.get_closest_marker(marker):
                item.add_marker(getattr(pytest.mark, marker))
