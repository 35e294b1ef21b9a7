"""The simulator itself: state across restarts, the control API, webhooks, locks, limits."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import jsonschema
import pytest
import requests

from tests.support import wait_for
from zoomsim import DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from zoomsim.openapi import load_webhook_schemas, strict
from zoomsim.seed import seed_state
from zoomsim.testing import SimulatorProcess

HOST = "default.host@utoronto.ca"
TURN_ON_AUTO_RECORDING = {"recording": {"auto_recording": "cloud"}}


def token(sim) -> str:
    answer = requests.post(
        f"{sim.url}/oauth/token",
        data={"grant_type": "account_credentials", "account_id": DEMO_ACCOUNT_ID},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def api(sim, method: str, path: str, body=None, bearer: str | None = None) -> requests.Response:
    return requests.request(
        method,
        f"{sim.url}/v2{path}",
        json=body,
        headers={"Authorization": f"Bearer {bearer or token(sim)}"},
        timeout=10,
    )


def test_seed_has_the_users_other_features_rely_on():
    state = seed_state(date(2026, 1, 5))
    users = {r["user"]["email"]: r["user"] for r in state["users"].values()}

    assert len(users) >= 50
    assert users["hardened.host@utoronto.ca"]["dept"] == "Computer Science"
    assert users["pending.host@utoronto.ca"]["status"] == "pending"
    assert users["personal.host@gmail.com"]["dept"] == "Physics"
    assert users["old.client@utoronto.ca"]["last_client_version"].startswith("5.")
    assert {u["dept"] for u in users.values()} >= {"Physics", "History", "Medicine"}
    assert state == seed_state(date(2026, 1, 5)), "the seed is not deterministic"


def test_restart_keeps_state(tmp_path):
    state = tmp_path / "state.json"
    with SimulatorProcess(state) as sim:
        sim.patch_settings(HOST, {"in_meeting": {"waiting_room": False}})
    with SimulatorProcess(state) as sim:
        settings = api(sim, "GET", f"/users/{HOST}/settings").json()

    assert settings["in_meeting"]["waiting_room"] is False


def test_control_api_puts_users_and_resets(zoomsim):
    zoomsim.put_user("new.host@utoronto.ca", {"dept": "Law", "first_name": "Nia"})

    user = api(zoomsim, "GET", "/users/new.host@utoronto.ca").json()
    assert (user["dept"], user["first_name"]) == ("Law", "Nia")
    assert any(r["path"] == "/v2/users/new.host@utoronto.ca" for r in zoomsim.requests())

    zoomsim.reset()
    assert api(zoomsim, "GET", "/users/new.host@utoronto.ca").status_code == 404


def test_control_api_is_refused_without_allow_control(tmp_path):
    sim = SimulatorProcess(tmp_path / "s.json")
    sim.args.remove("--allow-control")
    with sim:
        answer = requests.post(f"{sim.url}/_sim/reset", timeout=10)

    assert answer.status_code == 403


def test_errors_have_zoom_codes(zoomsim):
    assert api(zoomsim, "GET", "/users/nobody@utoronto.ca").json()["code"] == 1001
    pending = api(zoomsim, "GET", "/users/pending.host@utoronto.ca/settings")
    assert (pending.status_code, pending.json()["code"]) == (400, 1120)  # as Zoom documents
    expired = api(zoomsim, "GET", f"/users/{HOST}", bearer="zsim.made-up")
    assert (expired.status_code, expired.json()["code"]) == (401, 124)


def test_tokens_expire(zoomsim):
    zoomsim.set_faults(token_ttl=0)

    answer = api(zoomsim, "GET", f"/users/{HOST}")

    assert (answer.status_code, answer.json()["code"]) == (401, 124)


def test_daily_limit_answers_429_with_zoom_headers(zoomsim):
    zoomsim.set_faults(daily_limits={"Light": 1})
    bearer = token(zoomsim)
    assert api(zoomsim, "GET", f"/users/{HOST}", bearer=bearer).status_code == 200

    refused = api(zoomsim, "GET", f"/users/{HOST}", bearer=bearer)

    assert refused.status_code == 429
    assert refused.json()["code"] == 429
    assert refused.headers["X-RateLimit-Category"] == "Light"
    assert refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert refused.headers["Retry-After"].endswith("T00:00:00Z")


def test_per_second_limit_answers_429(zoomsim):
    zoomsim.set_faults(limits={"Medium": 1})
    bearer = token(zoomsim)

    answers = [api(zoomsim, "GET", f"/users/{HOST}/settings", bearer=bearer) for _ in range(3)]

    refused = [a for a in answers if a.status_code == 429]
    assert refused, "three requests in a row passed a limit of one a second"
    assert refused[0].headers["X-RateLimit-Type"] == "QPS"


def test_simultaneous_updates_of_one_users_settings_are_refused(zoomsim):
    zoomsim.set_faults(latency=2.0)  # each update holds the user for two seconds
    bearer = token(zoomsim)
    statuses: list[int] = []

    def update() -> None:
        body = {"in_meeting": {"chat": False}}
        statuses.append(api(zoomsim, "PATCH", f"/users/{HOST}/settings", body, bearer).status_code)

    threads = [threading.Thread(target=update) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [204, 429]


def test_locked_field_is_kept_silently_by_default(zoomsim):
    answer = api(zoomsim, "PATCH", f"/users/{HOST}/settings", TURN_ON_AUTO_RECORDING)

    assert answer.status_code == 204
    settings = api(zoomsim, "GET", f"/users/{HOST}/settings").json()
    assert settings["recording"]["auto_recording"] == "none"


def test_locked_field_is_refused_when_the_account_rejects(zoomsim):
    zoomsim.put_account({"lock_behaviour": "reject"})

    answer = api(zoomsim, "PATCH", f"/users/{HOST}/settings", TURN_ON_AUTO_RECORDING)

    assert (answer.status_code, answer.json()["code"]) == (400, 200)
    assert "recording.auto_recording" in answer.json()["message"]


def test_account_can_be_changed_and_unlocked(zoomsim):
    zoomsim.put_account({"lock_settings": {"recording": {"auto_recording": False}}})

    api(zoomsim, "PATCH", f"/users/{HOST}/settings", TURN_ON_AUTO_RECORDING)

    settings = api(zoomsim, "GET", f"/users/{HOST}/settings").json()
    assert settings["recording"]["auto_recording"] == "cloud"


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[object, bytes]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers, raw))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_receiver():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/zoom/webhook", _Receiver.received
    server.shutdown()
    server.server_close()


def test_settings_changed_in_zoom_send_a_signed_webhook(tmp_path, webhook_receiver):
    url, received = webhook_receiver
    secret = "whsec-test-1234"
    with SimulatorProcess(
        tmp_path / "s.json", "--webhook-url", url, "--webhook-secret", secret
    ) as sim:
        sim.patch_settings(HOST, {"in_meeting": {"waiting_room": True}})
        wait_for(lambda: received, timeout=10, what="the webhook")

    headers, raw = received[0]
    timestamp = headers["x-zm-request-timestamp"]
    expected = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256)
    assert headers["x-zm-signature"] == "v0=" + expected.hexdigest()
    event = json.loads(raw)
    assert event["event"] == "user.settings_updated"
    assert event["payload"]["object"]["settings"] == {"in_meeting": {"waiting_room": True}}
    assert event["payload"]["old_object"]["settings"] == {"in_meeting": {"waiting_room": False}}
    jsonschema.validate(event, strict(load_webhook_schemas()["user.settings_updated"]))


def test_account_changes_send_zooms_account_webhooks(tmp_path, webhook_receiver):
    url, received = webhook_receiver
    with SimulatorProcess(
        tmp_path / "s.json", "--webhook-url", url, "--webhook-secret", "s", "--allow-control"
    ) as sim:
        sim.put_account({"lock_settings": {"meeting_security": {"waiting_room": True}}})
        wait_for(lambda: received, timeout=10, what="the webhook")

    event = json.loads(received[0][1])
    assert event["event"] == "account.lock_settings_updated"
    assert event["payload"]["object"]["settings"]["meeting_security"] == {"waiting_room": True}
    jsonschema.validate(event, strict(load_webhook_schemas()["account.lock_settings_updated"]))


# --- issue 12: options, groups, lock keys, paging --------------------------------------------
def get(sim, path: str, bearer: str, **params) -> requests.Response:
    return requests.get(
        f"{sim.url}/v2{path}",
        params=params,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/me/settings",
        "/accounts/me/lock_settings",
        f"/users/{HOST}/settings",
        "/groups/{medicine}/settings",
        "/groups/{medicine}/lock_settings",
    ],
)
def test_meeting_security_comes_only_with_the_option_and_alone(zoomsim, path):
    bearer = token(zoomsim)
    medicine = next(g for g in get(zoomsim, "/groups", bearer).json()["groups"])["id"]
    path = path.format(medicine=medicine)

    without = get(zoomsim, path, bearer).json()
    only = get(zoomsim, path, bearer, option="meeting_security").json()

    assert "meeting_security" not in without
    assert without
    assert list(only) == ["meeting_security"]
    assert only["meeting_security"], "the meeting_security section is seeded, not empty"


def test_seeded_groups_lock_the_waiting_room_on_and_off(zoomsim):
    bearer = token(zoomsim)
    groups = {g["name"]: g for g in get(zoomsim, "/groups", bearer).json()["groups"]}
    assert set(groups) == {"Medicine", "Large lecture"}
    assert groups["Medicine"]["total_members"] == 1
    lead = get(zoomsim, "/users/medicine.lead@utoronto.ca", bearer).json()
    lecture = get(zoomsim, "/users/lecture.host@utoronto.ca", bearer).json()
    assert lead["group_ids"] == [groups["Medicine"]["id"]]
    assert lecture["group_ids"] == [groups["Large lecture"]["id"]]
    locks = get(zoomsim, f"/groups/{groups['Medicine']['id']}/lock_settings", bearer,
                option="meeting_security").json()  # fmt: skip
    assert locks["meeting_security"]["waiting_room"] is True

    # The posture says off (mixed) and on (hardened); the groups' locks say otherwise.
    lead_settings = get(zoomsim, "/users/medicine.lead@utoronto.ca/settings", bearer).json()
    lecture_settings = get(zoomsim, "/users/lecture.host@utoronto.ca/settings", bearer).json()
    assert lead_settings["in_meeting"]["waiting_room"] is True
    assert lecture_settings["in_meeting"]["waiting_room"] is False


def test_a_group_lock_keeps_its_value_against_a_patch_and_the_account_lock_wins(zoomsim):
    zoomsim.put_group(
        "g-passcodes",
        {
            "name": "Passcodes",
            "settings": {"schedule_meeting": {"require_password_for_instant_meetings": True}},
            "locks": {"schedule_meeting": {"require_password_for_instant_meetings": True}},
            "members": [HOST],
        },
    )
    off = {"schedule_meeting": {"require_password_for_instant_meetings": False}}

    assert api(zoomsim, "PATCH", f"/users/{HOST}/settings", off).status_code == 204
    settings = api(zoomsim, "GET", f"/users/{HOST}/settings").json()
    assert settings["schedule_meeting"]["require_password_for_instant_meetings"] is True
    assert api(zoomsim, "GET", f"/users/{HOST}").json()["group_ids"] == ["g-passcodes"]

    # The account's own lock on the waiting room, through meeting_security only.
    zoomsim.put_account(
        {
            "lock_settings": {"meeting_security": {"waiting_room": True}},
            "lock_behaviour": "reject",
        }
    )
    refused = api(
        zoomsim, "PATCH", f"/users/{HOST}/settings", {"in_meeting": {"waiting_room": False}}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, 200)
    assert "in_meeting.waiting_room (locked by the account admin)" in refused.json()["message"]
    refused = api(zoomsim, "PATCH", f"/users/{HOST}/settings", off)
    assert "(locked by the group Passcodes)" in refused.json()["message"]


@pytest.mark.parametrize(
    ("where", "locks", "named"),
    [
        ("account", {"in_meeting": {"waiting_room": True}}, "in_meeting.waiting_room"),
        (
            "account",
            {"meeting_security": {"waiting_rooms": True}},
            "meeting_security.waiting_rooms",
        ),
        ("group", {"in_meeting": {"nope": True}}, "in_meeting.nope"),
        ("group", {"chat": {"share_files": True}}, "chat"),
    ],
)
def test_an_unknown_lock_key_is_refused_naming_it(zoomsim, where, locks, named):
    if where == "account":
        path, body = "/_sim/account", {"lock_settings": locks}
    else:
        path, body = "/_sim/groups/g1", {"name": "G", "locks": locks, "members": [HOST]}

    answer = requests.put(f"{zoomsim.url}{path}", json=body, timeout=10)

    assert answer.status_code == 400
    assert named in answer.json()["message"]
    user = api(zoomsim, "GET", f"/users/{HOST}").json()
    assert user["group_ids"] == []  # nothing was kept


def test_user_paging_follows_zoom(zoomsim):
    bearer = token(zoomsim)
    everyone = get(zoomsim, "/users", bearer, page_size=2000).json()
    assert len(everyone["users"]) == everyone["total_records"] == 55
    assert everyone["next_page_token"] == ""

    second = get(zoomsim, "/users", bearer, page_size=20, page_number=2).json()
    assert [u["id"] for u in second["users"]] == [u["id"] for u in everyone["users"][20:40]]
    assert second["page_number"] == 2

    wrong = get(zoomsim, "/users", bearer, page_size="many")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == 300
    assert "page_size" in str(wrong.json())


def test_an_unknown_group_is_zooms_404(zoomsim):
    answer = api(zoomsim, "GET", "/groups/nope/lock_settings")
    assert (answer.status_code, answer.json()["code"]) == (404, 4130)
