"""For any settings and locks: the default profile, re-scored, passes every fixable item the
account does not lock; and undo gives back the original settings exactly."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.checklist.items import ITEMS, LOCK_KEYS, Institution
from audits.jobs.plan import is_locked, plan
from audits.scoring.score import Documents, score
from tests import samples

INSTITUTION = Institution()
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HARDENED, DEFAULTS = samples.hardened_settings(), samples.zoom_default_settings()
LOCKS = sorted({key for keys in LOCK_KEYS.values() for key in keys})
FIXABLE = [item for item in ITEMS if item.in_profile]


def leaves(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{prefix}{key}"
        found.update(leaves(value, path + ".") if isinstance(value, dict) else {path: value})
    return found


def put(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        document = document.setdefault(key, {})
    document[leaf] = copy.deepcopy(value)


def applied(document: dict[str, Any], dotted: dict[str, Any]) -> dict[str, Any]:
    """What Zoom holds after a PATCH of these fields."""
    result = copy.deepcopy(document)
    for path, value in dotted.items():
        put(result, path, value)
    return result


def choices(path: str) -> list[Any]:
    seen = [leaves(HARDENED).get(path), leaves(DEFAULTS).get(path)]
    if isinstance(seen[0], bool) or isinstance(seen[1], bool):
        seen += [True, False]
    unique: list[Any] = []
    for value in seen:
        if value not in unique:
            unique.append(value)
    return unique


PATHS = sorted(set(leaves(HARDENED)) | set(leaves(DEFAULTS)))


@st.composite
def settings_documents(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULTS)
    for path in PATHS:
        put(document, path, draw(st.sampled_from(choices(path))))
    return document


def rescored(document: dict[str, Any], locks: dict[str, Any]):
    docs = Documents(
        user=samples.user(),
        settings=document,
        meeting_security=samples.meeting_security(),
        account_settings=samples.account_settings(),
        account_locks=locks,
        meetings=[],
    )
    return score(docs, INSTITUTION)


@SETTINGS
@given(settings_documents(), st.sets(st.sampled_from(LOCKS)))
def test_the_default_profile_makes_every_fixable_unlocked_item_pass(document, locked):
    locks = samples.account_locks(*locked)

    after = applied(document, plan(document, locks, {}, INSTITUTION).dotted)

    result = rescored(after, locks)
    for item in FIXABLE:
        paths = item.fix_values(INSTITUTION, document)
        if paths and not any(is_locked(path, locks) for path in item.fields):
            assert result.item(item.id).status == "pass", (item.id, result.item(item.id))


@SETTINGS
@given(settings_documents(), st.sets(st.sampled_from(LOCKS)))
def test_undo_gives_back_the_original_settings_exactly(document, locked):
    locks = samples.account_locks(*locked)
    change = plan(document, locks, {}, INSTITUTION)
    after = applied(document, change.dotted)

    restored = applied(after, {c.path: c.before for c in change.changes})

    assert restored == document


@SETTINGS
@given(settings_documents(), st.sets(st.sampled_from(LOCKS)))
def test_a_locked_field_is_never_in_the_change(document, locked):
    locks = samples.account_locks(*locked)

    change = plan(document, locks, {}, INSTITUTION)

    assert not any(is_locked(c.path, locks) for c in change.changes)
    assert all(is_locked(c.path, locks) for c in change.locked)
