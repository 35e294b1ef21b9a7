"""Findings on upcoming meetings (GET /meetings/{meetingId} documents), each under an item.

Pure functions of the documents and the institution, used by audits.scoring.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from audits.checklist import items as checklist
from audits.checklist.items import NON_EMPTY, Institution, Item

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
# The item the "titles" rule scores, from the findings on every upcoming meeting.
TITLES_ITEM = next(item.id for item in checklist.ITEMS if item.check == "titles")
MISSING: Any = object()  # what dig() answers for a field Zoom left out
_WORD = re.compile(r"[\w -]+")


class Finding(NamedTuple):
    item: str
    status: str
    detail: str


class MeetingResult(NamedTuple):
    id: object
    topic: str | None
    findings: tuple[Finding, ...]


class Rollup(NamedTuple):
    """How the upcoming meetings fared under one item."""

    total: int
    failing: int
    unknown: int


def dig(document: object, keys: tuple[str, ...]) -> Any:
    """The value at `keys` in nested mappings, or MISSING when any step is absent."""
    try:
        for key in keys:
            document = document[key]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return MISSING
    return document


def getter(path: str) -> Callable[[object], Any]:
    """A function reading one dotted path, built once: the scorer's innermost step."""
    keys = tuple(path.split("."))
    if len(keys) == 2:
        first, second = keys

        def get_two(document: Any) -> Any:
            try:
                return document[first][second]
            except (KeyError, TypeError, IndexError):
                return MISSING

        return get_two
    return lambda document: dig(document, keys)


def _compile(items: tuple[Item, ...]) -> tuple[tuple, tuple[str, ...]]:
    """Each meeting check with its three possible findings, and the items they count under."""
    checks = tuple(
        (
            getter(check.field),
            check.wanted,
            Finding(item.id, PASS, f"{check.label}: yes"),
            Finding(item.id, FAIL, f"{check.label}: no"),
            Finding(item.id, UNKNOWN, f"{check.label}: Zoom did not return {check.field}"),
        )
        for item in items
        for check in item.meeting_checks
    )
    return checks, (*dict.fromkeys(check[2].item for check in checks), TITLES_ITEM)


_compiled: list = [None, None]  # [the checklist's items, what _compile made of them]


def _checks() -> tuple[tuple, tuple[str, ...]]:
    """The checks of the checklist as it is now, worked out once (a test may extend it)."""
    if _compiled[0] is not checklist.ITEMS:
        _compiled[:] = [checklist.ITEMS, _compile(checklist.ITEMS)]
    return _compiled[1]


@lru_cache(maxsize=16)
def sensitive_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive regex: plain words match whole words (plural too), others as given."""
    parts = []
    for pattern in patterns:
        if _WORD.fullmatch(pattern) and not pattern.isdigit():
            parts.append(re.escape(pattern).replace(r"\ ", r"\s+") + "s?")
        else:
            parts.append(f"(?:{pattern})")
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


_TITLE_PASSES = Finding(TITLES_ITEM, PASS, "Nothing sensitive found in the title or description")


def _title_finding(meeting: Mapping, regex: re.Pattern[str] | None) -> Finding:
    topic, agenda = meeting.get("topic"), meeting.get("agenda")
    if topic is None and agenda is None:
        return Finding(TITLES_ITEM, UNKNOWN, "Zoom returned neither a topic nor a description")
    topic = topic if isinstance(topic, str) else ""
    # One search over both texts; the separator keeps a word from spanning them.
    match = regex.search(f"{topic}\n{agenda or ''}") if regex is not None else None
    if match is None:
        return _TITLE_PASSES
    where = "title" if match.start() < len(topic) else "description"
    hit = match.group(0)
    if any(c.isdigit() for c in hit):
        said = "a number that looks like a personal identifier"
    else:
        said = f"“{hit}”"
    return Finding(TITLES_ITEM, FAIL, f"The {where} mentions {said}")


def evaluate_meeting(
    meeting: Mapping, institution: Institution, regex: re.Pattern[str] | None = None
) -> MeetingResult:
    if regex is None:
        regex = sensitive_regex(institution.sensitive_patterns)
    findings = []
    for get, wanted, passed, failed, unknown in _checks()[0]:
        value = get(meeting)  # a field Zoom left out is unknown, never a pass
        if value is MISSING:
            findings.append(unknown)
        elif wanted == NON_EMPTY:
            findings.append(passed if isinstance(value, str) and value != "" else failed)
        else:
            same = type(value) is type(wanted) and value == wanted
            findings.append(passed if same else failed)
    findings.append(_title_finding(meeting, regex))
    topic = meeting.get("topic")
    return MeetingResult(
        meeting.get("id"), topic if isinstance(topic, str) else None, tuple(findings)
    )


def evaluate_meetings(
    meetings: Sequence[Mapping] | None, institution: Institution
) -> tuple[tuple[MeetingResult, ...], dict[str, Rollup]]:
    """Every upcoming meeting's findings, and per item how the meetings fared."""
    if not meetings:
        return (), {}
    regex = sensitive_regex(institution.sensitive_patterns)
    results = tuple(evaluate_meeting(meeting, institution, regex) for meeting in meetings)
    return results, rollup(results)


def rollup(results: Sequence[MeetingResult]) -> dict[str, Rollup]:
    """Per item: how many meetings it applies to, fail it (any finding failing), are unknown."""
    failing: dict[str, int] = {}
    unknown: dict[str, int] = {}
    for result in results:
        worst: dict[str, str] = {}  # item -> fail or unknown; passes need no bookkeeping
        for item_id, status, _ in result.findings:
            if status != PASS and worst.get(item_id) != FAIL:
                worst[item_id] = status
        for item_id, status in worst.items():
            counts = failing if status == FAIL else unknown
            counts[item_id] = counts.get(item_id, 0) + 1
    total = len(results)  # every meeting is checked under every meeting item
    return {
        item_id: Rollup(total, failing.get(item_id, 0), unknown.get(item_id, 0))
        for item_id in _checks()[1]
    }
