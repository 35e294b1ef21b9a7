"""Errors are shown in the portal's own layout, with words a person can act on."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults

from portal.views import server_error


@pytest.fixture
def request_():
    return RequestFactory().get("/somewhere/")


def test_server_error_page_uses_the_layout_and_says_nothing_was_lost(request_):
    response = server_error(request_)

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert "Nothing you asked for was lost" in html
    assert "Privacy considerations of using Zoom" in html  # the footer of the layout


def test_forbidden_page_points_to_the_helpdesk(request_):
    response = defaults.permission_denied(request_, PermissionDenied())

    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.content.decode()
    assert "contact the helpdesk" in response.content.decode()


def test_bad_request_page_says_nothing_changed(request_):
    response = defaults.bad_request(request_, ValueError())

    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()


@pytest.mark.django_db
def test_unknown_address_answers_404_in_the_layout(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


@pytest.mark.django_db
def test_a_403_is_logged_as_one_line_without_a_traceback(client):
    import io
    import logging

    from tests.people import make_person

    client.force_login(make_person("plain.host@utoronto.ca"))
    (console,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        response = client.get("/reports/institution/")
    finally:
        console.setStream(previous)

    assert response.status_code == 403
    logged = stream.getvalue()
    assert "Forbidden (Permission denied): /reports/institution/" in logged
    assert "Traceback" not in logged
    assert len(logged.strip().splitlines()) == 1
