"""Properties of the score on generated hosts, somewhere between hardened and Zoom's defaults."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.checklist.items import ITEMS, ITEMS_BY_ID, LOCK_KEYS, WEIGHTS, Institution, Level
from audits.scoring.score import Documents, Result, score
from tests import samples

INSTITUTION = Institution()
# Moderate counts: the machine is shared, and each example scores a host several times.
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MISSING = object()


def leaves(node: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        paths += leaves(value, path + ".") if isinstance(value, dict) else [path]
    return paths


def get(document: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(document, dict) or key not in document:
            return MISSING
        document = document[key]
    return document


def put(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        document = document.setdefault(key, {})
    if value is MISSING:
        document.pop(leaf, None)
    else:
        document[leaf] = copy.deepcopy(value)


HARDENED, DEFAULTS = samples.hardened_settings(), samples.zoom_default_settings()
SETTING_PATHS = sorted(set(leaves(HARDENED)) | set(leaves(DEFAULTS)))
MEETING_FIELDS = ("password", "settings.waiting_room", "settings.join_before_host")
MEETING_FIELDS += ("settings.auto_recording", "settings.mute_upon_entry", "topic")
MEETING_VALUES: dict[str, list[Any]] = {
    "password": ["x7Kp2q9z", ""],
    "settings.waiting_room": [True, False],
    "settings.join_before_host": [False, True],
    "settings.auto_recording": ["none", "cloud", "local"],
    "settings.mute_upon_entry": [True, False],
    "topic": ["Lab meeting", "Grievance meeting", "Review of 123-456-789"],
}
LOCKS = sorted({key for keys in LOCK_KEYS.values() for key in keys})


@st.composite
def settings_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Each field hardened, at Zoom's default, or left out by Zoom."""
    document: dict[str, Any] = {}
    for path in SETTING_PATHS:
        choice = draw(st.sampled_from(("hardened", "default", "default", "missing")))
        source = {"hardened": HARDENED, "default": DEFAULTS}.get(choice)
        value = get(source, path) if source is not None else MISSING
        put(document, path, value)
    return document


@st.composite
def meetings(draw: st.DrawFn) -> dict[str, Any]:
    meeting = samples.meeting()
    for path in MEETING_FIELDS:
        put(meeting, path, draw(st.sampled_from([*MEETING_VALUES[path], MISSING])))
    return meeting


@st.composite
def hosts(draw: st.DrawFn) -> Documents:
    def sometimes_none(value: Any) -> Any:
        return None if draw(st.integers(0, 9)) == 0 else value

    version = draw(st.sampled_from(["5.17.11.34827(mac)", "6.1.0(win)", ""]))
    email = draw(st.sampled_from(["ada@utoronto.ca", "ada@gmail.com"]))
    return Documents(
        user=sometimes_none(samples.user(email=email, version=version)),
        settings=sometimes_none(draw(settings_documents())),
        meeting_security=sometimes_none(samples.meeting_security(draw(st.booleans()))),
        account_settings=sometimes_none(samples.account_settings()),
        account_locks=sometimes_none(samples.account_locks(*draw(st.sets(st.sampled_from(LOCKS))))),
        meetings=sometimes_none(draw(st.lists(meetings(), max_size=3))),
    )


def expected_score(result: Result, leave_out: str | None = None) -> int | None:
    """The score by the checklist's formula, from the statuses, optionally without one item."""
    earned = total = 0
    for row in result.items:
        item = ITEMS_BY_ID[row.id]
        if row.id == leave_out or not item.host_controlled:
            continue
        if row.status in ("pass", "partial", "fail"):
            weight = WEIGHTS[item.severity]
            total += weight
            earned += {"pass": weight, "partial": weight / 2, "fail": 0}[row.status]
    return int(earned * 100 // total) if total else None


def fixed(docs: Documents, item_id: str) -> Documents:
    """The same host after fixing one item by hand, as its how-to-fix says."""
    docs = copy.deepcopy(docs)
    item = ITEMS_BY_ID[item_id]
    if item.fixable and docs.settings is not None:
        for path, value in item.fix_values(INSTITUTION).items():
            put(docs.settings, path, value)
    if item.meeting_checks or item.level is Level.MEETING:
        docs = dataclasses.replace(docs, meetings=[samples.meeting() for _ in docs.meetings or ()])
    if item.id == "practice.email.institutional":
        docs.user["email"] = "ada@utoronto.ca"
    if item.id == "concern.client.current":
        docs.user["last_client_version"] = "6.0.0.1(win)"
    return docs


@SETTINGS
@given(hosts())
def test_score_is_between_0_and_100_or_none_and_matches_the_formula(docs):
    result = score(docs, INSTITUTION)
    assert result.score is None or 0 <= result.score <= 100
    assert result.score == expected_score(result)
    assert (result.grade is None) == (result.score is None)


@SETTINGS
@given(hosts(), st.data())
def test_fixing_a_failing_host_item_never_lowers_the_score(docs, data):
    before = score(docs, INSTITUTION)
    failing = [
        row.id
        for row in before.items
        if row.status in ("fail", "partial") and ITEMS_BY_ID[row.id].host_controlled
    ]
    if not failing:
        return
    item_id = data.draw(st.sampled_from(failing))
    after = score(fixed(docs, item_id), INSTITUTION)
    if before.score is not None:
        assert after.score is not None
        assert after.score >= before.score, item_id


@SETTINGS
@given(hosts(), st.sampled_from([item.id for item in ITEMS if item.host_controlled]))
def test_an_exempt_item_never_changes_the_score(docs, item_id):
    plain = score(docs, INSTITUTION)
    exempted = score(docs, INSTITUTION, {item_id: "approved by the department"})
    assert exempted.item(item_id).status == "exempt"
    assert exempted.score == expected_score(plain, leave_out=item_id)


@SETTINGS
@given(hosts(), st.sampled_from(LOCKS))
def test_a_locked_items_value_never_changes_the_score(docs, lock_key):
    if docs.settings is None or docs.account_locks is None:
        return
    docs = copy.deepcopy(docs)
    put(docs.account_locks, lock_key, True)
    locked_paths = [path for path, keys in LOCK_KEYS.items() if lock_key in keys]
    as_hardened, as_default = copy.deepcopy(docs), copy.deepcopy(docs)
    for path in locked_paths:
        put(as_hardened.settings, path, get(HARDENED, path))
        put(as_default.settings, path, get(DEFAULTS, path))
    first, second = score(as_hardened, INSTITUTION), score(as_default, INSTITUTION)
    assert first.score == second.score
    for row in first.items:
        if any(path in ITEMS_BY_ID[row.id].fields for path in locked_paths):
            assert row.status in ("locked", "unknown", "exempt")


@SETTINGS
@given(hosts(), st.sampled_from(SETTING_PATHS))
def test_a_missing_field_is_never_a_pass_and_unknown_items_leave_the_score_alone(docs, path):
    if docs.settings is None:
        return
    docs = copy.deepcopy(docs)
    put(docs.settings, path, MISSING)
    result = score(docs, INSTITUTION)
    for row in result.items:
        item = ITEMS_BY_ID[row.id]
        needs = item.source == "settings" and path in item.fields
        alternatives = item.id == "recording.consent" and "disclaimer" in path
        if needs and not alternatives:
            assert row.status != "pass", (row.id, path)
    unknown = [row.id for row in result.items if row.status == "unknown"]
    for item_id in unknown:
        assert result.score == expected_score(result, leave_out=item_id)


@SETTINGS
@given(hosts())
def test_result_survives_a_round_trip_through_json(docs):
    import json

    data = score(docs, INSTITUTION).to_dict()
    assert json.loads(json.dumps(data)) == data
