"""The simulator answers, and the client asks, only what Zoom's OpenAPI documents allow.

Responses of every operation the portal uses validate against the operation's schema read
strictly (tests/zoomspec.py); every request the client sent, bodies included, validates
against the operation's parameters and request schema.
"""

from __future__ import annotations

import pytest
import requests

from audits.zoom import client as zoom
from tests.zoomspec import _operation_for, request_errors, response_errors
from zoomsim import DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from zoomsim.seed import HARDENED


@pytest.fixture
def raw(zoomsim):
    """GET or PATCH the simulator directly, answering (status, JSON body or None)."""
    zoomsim.set_faults(limits={"Light": 10_000, "Medium": 10_000})
    bearer = requests.post(
        f"{zoomsim.url}/oauth/token",
        data={"grant_type": "account_credentials", "account_id": DEMO_ACCOUNT_ID},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        timeout=10,
    ).json()["access_token"]

    def call(method: str, path: str, body=None, **params):
        answer = requests.request(
            method, f"{zoomsim.url}/v2{path}", params=params, json=body, timeout=10,
            headers={"Authorization": f"Bearer {bearer}"},
        )  # fmt: skip
        return answer.status_code, (answer.json() if answer.content else None)

    return call


def assert_valid(method: str, path: str, status: int, body) -> None:
    problems = response_errors(method, path, status, body)
    assert problems == [], f"{method} {path} -> {status}:\n" + "\n".join(problems[:10])


def test_user_list_pages_match_the_schema(raw):
    token, pages = "", 0
    while True:
        status, page = raw("GET", "/users", page_size=20, next_page_token=token)
        assert_valid("GET", "/users", status, page)
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert pages == 3


def test_every_users_user_and_settings_match_the_schema(raw):
    _, page = raw("GET", "/users", page_size=300)
    for user in page["users"]:
        path = f"/users/{user['id']}"
        assert_valid("GET", path, *raw("GET", path))
        assert_valid("GET", f"{path}/settings", *raw("GET", f"{path}/settings"))
        security = raw("GET", f"{path}/settings", option="meeting_security")
        assert_valid("GET", f"{path}/settings", *security)
        assert_valid("GET", f"{path}/meetings", *raw("GET", f"{path}/meetings", type="upcoming"))


def test_meetings_match_the_schema(raw, zoomsim):
    _, listing = raw("GET", "/users/meetings.host@utoronto.ca/meetings", type="upcoming")
    assert listing["meetings"]
    for meeting in listing["meetings"]:
        path = f"/meetings/{meeting['id']}"
        assert_valid("GET", path, *raw("GET", path))


def test_account_settings_and_locks_match_the_schema(raw):
    assert_valid("GET", "/accounts/me/settings", *raw("GET", "/accounts/me/settings"))
    assert_valid("GET", "/accounts/me/lock_settings", *raw("GET", "/accounts/me/lock_settings"))


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/me/settings",
        "/accounts/me/lock_settings",
        "/groups/{group}/settings",
        "/groups/{group}/lock_settings",
    ],
)
def test_settings_and_locks_with_and_without_the_option_match_the_schema(raw, path):
    _, groups = raw("GET", "/groups")
    assert_valid("GET", "/groups", 200, groups)
    for group in groups["groups"]:
        concrete = path.format(group=group["id"])
        assert_valid("GET", concrete, *raw("GET", concrete))
        assert_valid("GET", concrete, *raw("GET", concrete, option="meeting_security"))


def test_a_group_made_through_the_control_api_matches_the_schema(raw, zoomsim):
    zoomsim.put_group(
        "g1",
        {
            "name": "Law",
            "settings": {"schedule_meeting": {"host_video": False}},
            "locks": {
                "schedule_meeting": {"host_video": True},
                "meeting_security": {"pmi_password": True},
            },
            "members": ["default.host@utoronto.ca"],
        },
    )
    for path in ("/groups/g1/settings", "/groups/g1/lock_settings"):
        assert_valid("GET", path, *raw("GET", path))
        assert_valid("GET", path, *raw("GET", path, option="meeting_security"))
    assert_valid(
        "GET", "/users/default.host@utoronto.ca", *raw("GET", "/users/default.host@utoronto.ca")
    )


def test_error_statuses_are_documented(raw):
    for method, path, body, expected in [
        ("GET", "/users/nobody@utoronto.ca", None, 404),
        ("GET", "/users/nobody@utoronto.ca/settings", None, 404),
        ("GET", "/users/pending.host@utoronto.ca/settings", None, 400),
        ("PATCH", "/users/default.host@utoronto.ca/settings", {"feature": {"nope": 1}}, 400),
        ("GET", "/meetings/1", None, 404),
        ("GET", "/groups/nope/settings", None, 404),
        ("GET", "/groups/nope/lock_settings", None, 404),
    ]:
        status, answer = raw(method, path, body)
        assert status == expected
        assert set(answer) >= {"code", "message"}
        assert response_errors(method, path, status, None) == [], f"{method} {path} {status}"


def test_every_request_the_client_sends_is_one_zoom_accepts(zoomsim):
    host, meeting = "hardened.host@utoronto.ca", 84_113_200_201
    list(zoom.list_users(page_size=20))
    zoom.get_user(host)
    zoom.get_user_settings(host)
    zoom.get_user_settings(host, option="meeting_security")
    zoom.patch_user_settings(host, {k: v for k, v in HARDENED.items() if k != "meeting_security"})
    zoom.patch_user_settings(host, {"meeting_security": HARDENED["meeting_security"]})
    zoom.list_upcoming_meetings(host)
    zoom.get_meeting(meeting)
    zoom.patch_meeting(meeting, {"settings": {"mute_upon_entry": True, "waiting_room": True}})
    zoom.get_account_settings()
    zoom.get_account_lock_settings()
    zoom.get_account_settings(option="meeting_security")
    zoom.get_account_lock_settings(option="meeting_security")
    for group in zoom.list_groups():
        for option in (None, "meeting_security"):
            zoom.get_group_settings(group["id"], option=option)
            zoom.get_group_lock_settings(group["id"], option=option)

    sent = zoomsim.requests()
    assert len(sent) >= 24
    for request in sent:
        path = request["path"].removeprefix("/v2")
        problems = request_errors(request["method"], path, request["query"], request.get("body"))
        assert problems == [], f"{request['method']} {path}: {problems}"
        assert request["status"] in {200, 204}


def test_error_codes_are_the_ones_zoom_documents(raw):
    """The code is named in the operation's documented answer for that status."""
    for method, path, query, expected in [
        ("GET", "/users/pending.host@utoronto.ca/settings", {}, (400, 1120)),
        ("GET", "/users/nobody@utoronto.ca/settings", {}, (404, 1001)),
        ("GET", "/groups/nope/lock_settings", {}, (404, 4130)),
        ("GET", "/users", {"page_size": "many"}, (400, 300)),
    ]:
        status, answer = raw(method, path, **query)
        assert (status, answer["code"]) == expected
        documented = _operation_for(method, path)["responses"][str(status)]["description"]
        assert f"`{expected[1]}`" in documented, f"{path}: code {expected[1]} is not documented"


def test_a_misspelled_field_fails_validation_here_too():
    body = {"schedule_meeting": {"participant_video": False}}

    assert request_errors("PATCH", "/users/abc/settings", {}, body) != []
    assert request_errors("PATCH", "/users/abc/settings", {}, {"schedule_meeting": {}}) == []
