"""The simulator is for any Zoom client, not only ours: `zoomus` (PyPI) drives it as it would
drive Zoom, through a token, paging, settings with and without the option, a PATCH and errors.
"""

from __future__ import annotations

import pytest
from zoomus import ZoomClient

from zoomsim import DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

HOST = "default.host@utoronto.ca"


@pytest.fixture
def client(zoomsim) -> ZoomClient:
    zoomsim.set_faults(limits={"Light": 10_000, "Medium": 10_000})
    return ZoomClient(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        api_account_id=DEMO_ACCOUNT_ID,
        base_uri=f"{zoomsim.url}/v2",
        oauth_uri=f"{zoomsim.url}/oauth/token",
    )


def test_zoomus_gets_a_token_and_pages_through_the_users(client, zoomsim):
    assert client.config["token"]
    assert [r["kind"] for r in zoomsim.requests(kind=None)] == ["oauth"]

    emails, token = [], ""
    while True:
        page = client.user.list(page_size=20, next_page_token=token)
        assert page.status_code == 200
        emails += [user["email"] for user in page.json()["users"]]
        token = page.json()["next_page_token"]
        if not token:
            break
    assert len(emails) == len(set(emails)) == 55
    everyone = client.user.list(page_size=2000).json()
    assert [u["email"] for u in everyone["users"]] == emails
    second = client.user.list(page_size=20, page_number=2).json()
    assert [u["email"] for u in second["users"]] == emails[20:40]


def test_zoomus_reads_settings_with_and_without_the_option(client):
    plain = client.user.get_settings(id=HOST).json()
    security = client.user.get_settings(id=HOST, option="meeting_security").json()

    assert "meeting_security" not in plain
    assert plain["in_meeting"]["waiting_room"] is False  # Zoom's default (zoomsim.seed)
    assert list(security) == ["meeting_security"]
    groups = {g["name"] for g in client.group.list().json()["groups"]}
    assert groups == {"Medicine", "Large lecture"}


def test_zoomus_patches_settings_and_reads_them_back(client):
    answer = client.user.update_settings(id=HOST, in_meeting={"who_can_share_screen": "host"})

    assert answer.status_code == 204
    settings = client.user.get_settings(id=HOST).json()
    assert settings["in_meeting"]["who_can_share_screen"] == "host"


def test_zoomus_sees_zooms_error_codes(client):
    def status_and_code(answer) -> tuple[int, int]:
        return answer.status_code, answer.json()["code"]

    assert status_and_code(client.user.get(id="nobody@utoronto.ca")) == (404, 1001)
    pending = client.user.get_settings(id="pending.host@utoronto.ca")
    assert status_and_code(pending) == (400, 1120)
    misspelled = client.user.update_settings(id=HOST, schedule_meeting={"participant_video": False})
    assert status_and_code(misspelled) == (400, 300)
    assert status_and_code(client.user.list(page_size="many")) == (400, 300)
    client.config["token"] = "zsim.made-up"
    assert status_and_code(client.user.get(id=HOST)) == (401, 124)
    client.refresh_token()
    assert client.user.get(id=HOST).status_code == 200
