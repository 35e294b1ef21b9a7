"""A signed-in request reads its user and their Person (the roles) in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.people import make_person

pytestmark = pytest.mark.django_db
HTTPS = {"secure": True}


def _reads_of(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"]]


def test_a_signed_in_page_reads_the_user_and_their_person_together():
    host = make_person("one.read@utoronto.ca")
    client = Client()
    client.force_login(host)
    assert client.get("/me/activity/", **HTTPS).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/me/activity/", **HTTPS)

    assert response.status_code == 200
    assert _reads_of(queries, "portal_person") == []  # not a query of its own
    users = _reads_of(queries, "auth_user")
    assert len(users) == 1
    assert "portal_person" in users[0]


def test_a_helpdesk_person_keeps_their_roles_and_someone_without_a_person_has_none():
    from django.contrib.auth import get_user_model

    desk = make_person("desk.reads@utoronto.ca", roles=["host", "helpdesk"])
    client = Client()
    client.force_login(desk)
    assert client.get("/helpdesk/", **HTTPS).status_code == 200

    nobody = get_user_model().objects.create_user(username="nobody", email="nobody@utoronto.ca")
    client = Client()
    client.force_login(nobody)
    assert client.get("/helpdesk/", **HTTPS).status_code in (302, 403)
