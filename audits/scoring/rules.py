"""The scoring rule behind each checklist item's `check`, as (status, found, detail).

`found` maps each field the item reads to Zoom's value (None where Zoom left it out), so a
host sees exactly what was read. A field Zoom left out makes the item unknown, never pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from audits.checklist.items import ITEMS, SOURCES, Institution, Item
from audits.scoring.meetings import MISSING, Rollup, getter

Outcome = tuple[str, object, str]


Evaluator = Callable[["Plan", Any, Institution], Outcome]


class Plan(NamedTuple):
    """An item with everything scoring needs worked out once, at import."""

    item: Item
    id: str
    level: str
    severity: str
    weight: int  # counted in the score: a weighted, host-controlled item
    host_controlled: bool
    source: str
    paths: tuple[str, ...]
    getters: tuple[Callable[[object], Any], ...]  # one per field: reads it or answers MISSING
    lock_keys: tuple[tuple[str, ...], ...]
    evaluate: Evaluator
    expect: tuple[object, ...]  # desired value per field (None: not compared)
    half: tuple[object, ...]  # value per field that earns half credit (None: none)
    wanted: str | None  # None when it depends on the institution
    has_meeting_checks: bool


_VERSION = re.compile(r"\s*(\d+(?:\.\d+)*)")


def _read_one(plan: Plan, document: Any) -> tuple[Any, dict[str, object], str | None]:
    """`_read` for an item of one field: its value, `found`, and its path if Zoom left it out."""
    path, value = plan.paths[0], plan.getters[0](document)
    if value is MISSING:
        return value, {path: None}, path
    return value, {path: value}, None


def _read(plan: Plan, document: Any) -> tuple[list[Any], dict[str, object], str | None]:
    """Values of the item's fields, the `found` mapping, and the first missing path if any."""
    values, found, missing = [], {}, None
    for path, get in zip(plan.paths, plan.getters, strict=True):
        value = get(document)
        values.append(value)
        if value is MISSING:
            found[path] = None
            missing = missing or path
        else:
            found[path] = value
    return values, found, missing


def _not_returned(path: str) -> str:
    return f"Zoom did not return {path}"


def equal(plan: Plan, document: Any, institution: Institution) -> Outcome:
    """Every field at its desired value: pass; some (or a half-credit value): partial."""
    values, found, missing = _read(plan, document)
    if missing:
        return "unknown", found, _not_returned(missing)
    right = [type(v) is type(w) and v == w for v, w in zip(values, plan.expect, strict=True)]
    if all(right):
        return "pass", found, "As recommended"
    some_half = any(v == h for v, h in zip(values, plan.half, strict=True) if h is not None)
    if any(right) or some_half:
        return "partial", found, "Partly as recommended"
    return "fail", found, "Not as recommended"


def equal_one(plan: Plan, document: Any, institution: Institution) -> Outcome:
    """`equal` for the common single-field item, kept lean: it runs for most items."""
    path, value, wanted = plan.paths[0], plan.getters[0](document), plan.expect[0]
    if value is MISSING:
        return "unknown", {path: None}, _not_returned(path)
    if type(value) is type(wanted) and value == wanted:
        return "pass", {path: value}, "As recommended"
    if plan.half[0] is not None and value == plan.half[0]:
        return "partial", {path: value}, "Partly as recommended"
    return "fail", {path: value}, "Not as recommended"


def screen_sharing(plan: Plan, document: Any, institution: Institution) -> Outcome:
    values, found, missing = _read(plan, document)
    if missing:
        return "unknown", found, _not_returned(missing)
    sharing, who, while_sharing = values
    if sharing is False:
        return "pass", found, "Screen sharing is off altogether: nobody but you can share"
    if who == "host" and while_sharing == "host":
        return "pass", found, "Only the host can share"
    if who == "host":
        return "partial", found, "Only the host starts sharing, but anyone may take over"
    return "fail", found, "Any participant can share their screen"


def consent(plan: Plan, document: Any, institution: Institution) -> Outcome:
    """Either the deprecated switch or its replacement may be returned; judge what is there."""
    (legacy, ask, to_whom), found, _ = _read(plan, document)
    if ask is MISSING or (legacy is MISSING and to_whom is MISSING):
        path = plan.item.fields[1] if ask is MISSING else plan.item.fields[0]
        return "unknown", found, _not_returned(path)
    told_all = (legacy is MISSING or legacy is True) and (
        to_whom is MISSING or to_whom == "All participants"
    )
    told_some = legacy is True or to_whom in ("All participants", "Guest only")
    if told_all and ask is True:
        return "pass", found, "Everyone is told and asked to consent when recording starts"
    if told_some:
        return "partial", found, "Participants are told, but not all are asked to consent"
    return "fail", found, "Participants are not told when recording starts"


def regions(plan: Plan, document: Any, institution: Institution) -> Outcome:
    (custom, chosen), found, missing = _read(plan, document)
    if custom is MISSING:
        return "unknown", found, _not_returned(plan.item.fields[0])
    if custom is not True:
        return "fail", found, "Zoom may use any of its data-centre regions"
    if missing or not isinstance(chosen, list):
        return "unknown", found, _not_returned(plan.item.fields[1])
    outside = sorted(set(chosen) - set(institution.allowed_regions))
    if outside or not chosen:
        return "fail", found, "Regions outside those allowed: " + (", ".join(outside) or "none")
    return "pass", found, "Only allowed regions"


def storage(plan: Plan, document: Any, institution: Institution) -> Outcome:
    location, found, missing = _read_one(plan, document)
    if missing or not isinstance(location, Mapping):
        return "unknown", found, _not_returned(plan.item.fields[0])
    value, offered = location.get("value"), location.get("allowed_values")
    allowed = institution.allowed_regions
    if value in allowed:
        return "pass", found, f"Stored in {value}"
    if isinstance(offered, list) and any(region in offered for region in allowed):
        return "fail", found, f"Stored in {value}, though an allowed country is offered"
    if isinstance(offered, list):
        return "not_applicable", found, "Zoom offers no allowed country for your recordings"
    return "unknown", found, _not_returned(plan.item.fields[0] + ".allowed_values")


_cloud_recording = getter("recording.cloud_recording")
_CLOUD_OPTIONS = frozenset(
    item.fields[0]
    for item in ITEMS
    if item.id.startswith("recording.cloud.") and item.fields != ("recording.cloud_recording",)
)


def recording_default(plan: Plan, document: Any, institution: Institution) -> Outcome:
    """What hosts may record: matching the default passes, recording less passes too."""
    value, found, missing = _read_one(plan, document)
    if missing:
        return "unknown", found, _not_returned(missing)
    # The options of a cloud recording mean nothing while cloud recording itself is off.
    if plan.paths[0] in _CLOUD_OPTIONS and _cloud_recording(document) is False:
        return "not_applicable", found, "Cloud recording is off, so this option does not apply"
    if value is True:
        return "pass", found, "Matches the institution's default"
    return "pass", found, "You record less than the default allows, which is fine"


def choice(plan: Plan, document: Any, institution: Institution) -> Outcome:
    _, found, missing = _read_one(plan, document)
    if missing:
        return "unknown", found, _not_returned(missing)
    return "advisory", found, "Your choice: weigh convenience against a leaked link"


def managed(plan: Plan, document: Any, institution: Institution) -> Outcome:
    values, found, missing = _read(plan, document)
    if missing:
        return "unknown", found, _not_returned(missing)
    same = all(v == w for v, w in zip(values, plan.expect, strict=True))
    said = "matches" if same else "differs from"
    return "managed", found, f"Set by the institution's Zoom account; {said} its default"


def advisory(plan: Plan, document: Any, institution: Institution) -> Outcome:
    return "advisory", None, "Guidance only: Zoom's settings cannot show this"


def email_domain(plan: Plan, document: Any, institution: Institution) -> Outcome:
    email, found, missing = _read_one(plan, document)
    if missing or not isinstance(email, str) or "@" not in email:
        return "unknown", found, _not_returned("email")
    domain = email.rsplit("@", 1)[1].lower()
    if domain in institution.email_domains:
        return "pass", found, "An institutional address"
    return "fail", found, f"{domain} is not one of the institution's domains"


@lru_cache(maxsize=256)
def parse_version(text: str) -> tuple[int, ...] | None:
    """'5.17.11.34827(mac)' -> (5, 17, 11, 34827); None when it does not start with a number."""
    match = _VERSION.match(text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _at_least(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    width = max(len(version), len(minimum))
    return version + (0,) * (width - len(version)) >= minimum + (0,) * (width - len(minimum))


def client_version(plan: Plan, document: Any, institution: Institution) -> Outcome:
    text, found, missing = _read_one(plan, document)
    version = parse_version(text) if isinstance(text, str) else None
    if missing or version is None:
        return "unknown", found, "Zoom reports no client version: sign in with the Zoom client"
    minimum = parse_version(institution.min_client_version) or ()
    if _at_least(version, minimum):
        return "pass", found, "Up to date enough"
    return "fail", found, f"Older than {institution.min_client_version}: update the client"


def titles(counts: Rollup | None, not_read: bool) -> Outcome:
    """The title item, judged on the upcoming meetings alone."""
    if not_read:
        return "unknown", None, f"Not checked: {SOURCES['meetings']} did not answer"
    if counts is None or counts.total == 0:
        return "not_applicable", {"meetings": 0}, "No upcoming meetings"
    found = {"meetings": counts.total, "failing": counts.failing, "unknown": counts.unknown}
    known = counts.total - counts.unknown
    if known == 0:
        return "unknown", found, "No upcoming meeting's title could be read"
    if counts.failing == 0:
        return "pass", found, "No upcoming meeting's title reveals anything sensitive"
    status = "fail" if counts.failing == known else "partial"
    return status, found, f"{counts.failing} of {counts.total} upcoming meetings need a new title"


def with_meetings(
    status: str, found: object, detail: str, counts: Rollup | None, meetings: Sequence | None
) -> Outcome:
    """Combine a setting's outcome with its checks on upcoming meetings (see audits.scoring)."""
    if meetings is None:
        return status, found, f"{detail}. Upcoming meetings not checked: the call did not answer"
    if counts is None or counts.failing == 0:
        return status, found, detail
    note = f"{counts.failing} of {counts.total} upcoming meetings do not follow it"
    if status == "pass":
        return "partial", found, f"The setting is right, but {note}"
    return status, found, f"{detail}; {note}"


def wanted_depends_on_institution(item: Item) -> bool:
    return item.check in ("regions", "client_version")


def wanted_text(item: Item, institution: Institution) -> str:
    if item.check == "regions":
        return f"{item.wanted}: {', '.join(institution.allowed_regions)}"
    if item.check == "client_version":
        return f"{institution.min_client_version} or newer"
    return item.wanted


EVALUATORS = {
    "equal": equal,
    "screen_sharing": screen_sharing,
    "consent": consent,
    "regions": regions,
    "storage": storage,
    "recording_default": recording_default,
    "choice": choice,
    "managed": managed,
    "advisory": advisory,
    "email_domain": email_domain,
    "client_version": client_version,
    "titles": advisory,  # replaced by `titles`, which reads the meetings instead
}
