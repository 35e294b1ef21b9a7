"""Score a host's Zoom documents against the checklist: a pure function, no I/O, no clock.

`score(docs, institution, exemptions)` reads only its arguments. Statuses and the score
follow the checklist reference: the score is the weighted share of the host-controlled items
that pass (partial counts half) among those that pass, partly pass or fail.

How upcoming meetings combine with a setting (`meeting_checks` in the checklist): the
setting decides; when it passes but some upcoming meetings fail their checks, the item is
`partial` (new meetings are protected, existing ones are not). A failing setting stays `fail`.
The title item is judged on meetings alone: pass when none fails, fail when all that could be
read fail, partial in between, not_applicable with no upcoming meetings.

Precedence for one item: an approved exemption wins (`exempt`); then a call that did not
answer (`unknown`, naming the call); then the item's own rule (audits.scoring_rules); then the
account's locks: a user setting whose lock key is true is `locked`, and while the lock
settings are unread every lockable setting is `unknown`, since nobody can tell whether it is
the host's to change; then the upcoming meetings. Fields Zoom left out are `unknown`.
Locks follow Zoom's precedence, account > group > user: an item the account locks says so;
otherwise one a group of the host locks names the group ("Set and locked by your group X").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from audits.checklist import items as checklist
from audits.checklist.items import (
    DEFAULT_INSTITUTION,
    SOURCES,
    Institution,
    Item,
)
from audits.scoring import rules
from audits.scoring.meetings import (
    TITLES_ITEM,
    Finding,
    MeetingResult,
    Rollup,
    evaluate_meetings,
    getter,
)

__all__ = [
    "DEFAULT_INSTITUTION",
    "STATUSES",
    "Documents",
    "Finding",
    "Institution",
    "ItemResult",
    "MeetingResult",
    "Result",
    "grade_for",
    "score",
]

STATUSES = (
    "pass",
    "partial",
    "fail",
    "locked",
    "managed",
    "not_applicable",
    "unknown",
    "exempt",
    "advisory",
)
HALF_POINTS = {"pass": 2, "partial": 1, "fail": 0}  # the scored statuses, in half points
GRADES = ((90, "A"), (75, "B"), (60, "C"), (40, "D"))


@dataclass(frozen=True)
class Documents:
    """Zoom's answers as returned; None means the call failed or was not made.

    `account_locks` is GET /accounts/me/lock_settings with, in the same mapping, the
    "meeting_security" object of its option=meeting_security variant (where Zoom keeps the
    waiting room's and passcodes' locks). `groups` are the host's Zoom groups, each
    {"name": ..., "locks": the group's lock settings read the same way, or None if unread}.
    """

    user: Mapping[str, Any] | None = None
    settings: Mapping[str, Any] | None = None
    meeting_security: Mapping[str, Any] | None = None
    account_settings: Mapping[str, Any] | None = None
    account_locks: Mapping[str, Any] | None = None
    meetings: Sequence[Mapping[str, Any]] | None = None
    groups: Sequence[Mapping[str, Any]] = ()


class ItemResult(NamedTuple):
    """One item's outcome; `weight` is what it counts in the score (0 unless host-controlled)."""

    id: str
    status: str
    level: str
    severity: str
    weight: int
    found: object
    wanted: str
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {**self._asdict(), "level": str(self.level), "severity": str(self.severity)}


@dataclass(frozen=True)
class Result:
    """Every item in checklist order, every upcoming meeting's findings, the score and grade."""

    items: tuple[ItemResult, ...]
    meetings: tuple[MeetingResult, ...]
    score: int | None
    grade: str | None

    def item(self, item_id: str) -> ItemResult:
        return next(result for result in self.items if result.id == item_id)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON: {score, grade, items: [{id, status, level, severity, weight, found,
        wanted, detail}], meetings: [{id, topic, findings: [{item, status, detail}]}]}."""
        return {
            "score": self.score,
            "grade": self.grade,
            "items": [result.to_dict() for result in self.items],
            "meetings": [
                {
                    "id": meeting.id,
                    "topic": meeting.topic,
                    "findings": [finding._asdict() for finding in meeting.findings],
                }
                for meeting in self.meetings
            ],
        }


def _plan(item: Item) -> rules.Plan:
    expect, half = dict(item.expect), dict(item.partial)
    return rules.Plan(
        item=item,
        id=item.id,
        level=str(item.level),
        severity=str(item.severity),
        weight=item.weight if item.host_controlled else 0,
        host_controlled=item.host_controlled,
        source=item.source,
        paths=item.fields,
        getters=tuple(getter(path) for path in item.fields),
        lock_keys=tuple(tuple(key.split(".")) for key in item.lock_keys),
        evaluate=rules.equal_one
        if item.check == "equal" and len(item.fields) == 1
        else rules.EVALUATORS[item.check],
        expect=tuple(expect.get(path) for path in item.fields),
        half=tuple(half.get(path) for path in item.fields),
        wanted=None if rules.wanted_depends_on_institution(item) else item.wanted,
        has_meeting_checks=bool(item.meeting_checks),
    )


_new_item_result = tuple.__new__  # a NamedTuple without its keyword-argument wrapper: hot path


def grade_for(value: int | None) -> str | None:
    if value is None:
        return None
    for floor, grade in GRADES:
        if value >= floor:
            return grade
    return "F"


def _did_not_answer(source: str) -> str:
    return f"Not checked: {SOURCES[source]} did not answer"


ACCOUNT_LOCK = "Set and locked by the institution's Zoom account"


def _lock_keys_on(compiled: _Compiled, locks: Mapping[str, Any]) -> list[tuple[str, ...]]:
    on = []
    for name, keys in compiled.lock_sections:  # every lock key is "section.name"
        section = locks.get(name)
        if isinstance(section, dict):  # JSON-decoded documents: a dict check is cheap
            on += [key for key in keys if section.get(key[1]) is True]
    return on


def _locked_items(
    compiled: _Compiled,
    locks: Mapping[str, Any] | None,
    groups: Sequence[Mapping[str, Any]] = (),
) -> dict[str, str] | None:
    """Item id -> who locks it (account before group), read once per document; None: the
    account's locks not read. A group whose locks are unread makes its items unknown ("")."""
    if locks is None:
        return None
    locked: dict[str, str] = {}
    for key in _lock_keys_on(compiled, locks):
        for item_id in compiled.items_by_lock[key]:
            locked[item_id] = ACCOUNT_LOCK
    for group in groups:
        group_locks = group.get("locks")
        keys = (
            compiled.all_lock_keys if group_locks is None else _lock_keys_on(compiled, group_locks)
        )
        why = (
            "" if group_locks is None else f"Set by your group {group.get('name')}, which locks it"
        )
        for key in keys:
            for item_id in compiled.items_by_lock[key]:
                locked.setdefault(item_id, why)
    return locked


def _lock_outcome(found: object, locked_by: str | None) -> rules.Outcome:
    if locked_by is None:
        return "unknown", found, _did_not_answer("account_locks")
    if not locked_by:
        return "unknown", found, _did_not_answer("group_locks")
    return "locked", found, locked_by


def _fixed_result(plan: rules.Plan) -> ItemResult | None:
    """Guidance-only items read no document: their result is the same for every host."""
    if plan.source:
        return None
    status, found, detail = plan.evaluate(plan, None, DEFAULT_INSTITUTION)
    return ItemResult(
        plan.id, status, plan.level, plan.severity, 0, found, plan.item.wanted, detail
    )


class _Compiled(NamedTuple):
    """The checklist worked out once for the scorer."""

    all_lock_keys: tuple[tuple[str, ...], ...]
    lock_sections: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    items_by_lock: dict[tuple[str, ...], tuple[str, ...]]
    rows: tuple[tuple, ...]  # what the item loop unpacks per item: attribute reads add up
    fixed: tuple[tuple[int, ItemResult | None], ...]  # guidance-only items, by their place


def _compile(items: tuple[Item, ...]) -> _Compiled:
    plans = tuple(_plan(item) for item in items)
    if any(plan.source not in Documents.__dataclass_fields__ for plan in plans if plan.source):
        raise ImportError("a checklist item reads a document that Documents does not hold")
    all_lock_keys = tuple(dict.fromkeys(keys for plan in plans for keys in plan.lock_keys))
    return _Compiled(
        all_lock_keys=all_lock_keys,
        lock_sections=tuple(
            (section, tuple(keys for keys in all_lock_keys if keys[0] == section))
            for section in dict.fromkeys(keys[0] for keys in all_lock_keys)
        ),
        items_by_lock={
            keys: tuple(plan.id for plan in plans if keys in plan.lock_keys)
            for keys in all_lock_keys
        },
        rows=tuple(
            (
                plan,
                plan.evaluate,
                plan.source,
                plan.id,
                plan.level,
                plan.severity,
                plan.weight,
                plan.host_controlled,
                plan.wanted,
                bool(plan.lock_keys),
                plan.has_meeting_checks,
            )
            for plan in plans
            if plan.source
        ),
        fixed=tuple(
            (index, _fixed_result(plan)) for index, plan in enumerate(plans) if not plan.source
        ),
    )


_compiled: list = [None, None]  # [the checklist's items, what _compile made of them]


def _checklist() -> _Compiled:
    """The checklist as it is now, worked out once (a test may extend it)."""
    if _compiled[0] is not checklist.ITEMS:
        _compiled[:] = [checklist.ITEMS, _compile(checklist.ITEMS)]
    return _compiled[1]


_checklist()  # a checklist item reading a document Documents lacks fails at import


def _evaluate_items(
    docs: Documents,
    institution: Institution,
    exemptions: Mapping[str, str] | None,
    meetings: Mapping[str, Rollup],
) -> tuple[list[ItemResult], int, int]:
    """Every item's result, and the points earned and possible (in half points)."""
    compiled = _checklist()
    locked = _locked_items(compiled, docs.account_locks, docs.groups)
    documents = vars(docs)  # source name -> document, without a getattr per item
    items: list[ItemResult] = []
    earned = total = 0
    # Bound once: this loop runs 26 times per host, and bench/score.py millions of times.
    append, new, half_points = items.append, _new_item_result, HALF_POINTS
    for (
        plan,
        evaluate,
        source,
        item_id,
        level,
        severity,
        weight,
        host,
        wanted,
        locks,
        mtg,
    ) in compiled.rows:
        # Precedence: a call that did not answer, the item's rule, the locks, the meetings.
        document = documents[source]
        if source == "meetings":
            outcome = rules.titles(meetings.get(TITLES_ITEM), document is None)
        elif document is None:
            outcome = "unknown", None, _did_not_answer(source)
        else:
            outcome = evaluate(plan, document, institution)
            if locks and outcome[0] != "unknown" and (locked is None or item_id in locked):
                outcome = _lock_outcome(outcome[1], None if locked is None else locked[item_id])
            elif mtg:
                outcome = rules.with_meetings(*outcome, meetings.get(item_id), docs.meetings)
        status, found, detail = outcome
        if exemptions and host and item_id in exemptions:
            status, detail = "exempt", f"Approved exception: {exemptions[item_id]}"
        if weight and status in half_points:
            total += weight
            earned += weight * half_points[status]
        if wanted is None:
            wanted = rules.wanted_text(plan.item, institution)
        append(new(ItemResult, (item_id, status, level, severity, weight, found, wanted, detail)))
    for index, fixed in compiled.fixed:  # guidance-only items, in their places
        items.insert(index, fixed)
    return items, earned, total


def score(
    docs: Documents,
    institution: Institution = DEFAULT_INSTITUTION,
    exemptions: Mapping[str, str] | None = None,
) -> Result:
    """Evaluate every checklist item and upcoming meeting; score the host-controlled items."""
    meeting_results, meetings = evaluate_meetings(docs.meetings, institution)
    items, earned, total = _evaluate_items(docs, institution, exemptions, meetings)
    # Integer arithmetic: rounding down is exact, with no float surprises at the band edges.
    value = earned * 100 // (2 * total) if total else None
    return Result(tuple(items), meeting_results, value, grade_for(value))
