"""portal.access decides who may see what: every role, every action, in Python and in SQL."""

from __future__ import annotations

import pytest
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from portal.access import (
    admin_departments_of,
    allowed,
    departments_visible_to,
    get_host_or_404,
    hosts_visible_to,
    require,
    roles_of,
)
from portal.models import Person

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(email: str, department: str = "", roles=(), admin_departments=(), **extra):
    user = User.objects.create_user(username=email, email=email)
    Person.objects.create(
        user=user,
        department=department,
        roles=list(roles),
        admin_departments=list(admin_departments),
        **extra,
    )
    return User.objects.select_related("person").get(pk=user.pk)


@pytest.fixture
def people():
    return {
        "physicist": person("phys@example.edu", "Physics"),
        "physicist2": person("phys2@example.edu", "physics"),
        "historian": person("hist@example.edu", "History"),
        "nodept": person("nodept@example.edu", ""),
        "helpdesk": person("help@example.edu", "IT", roles=["helpdesk"]),
        "physics_admin": person(
            "padmin@example.edu", "Physics", roles=["dept_admin"], admin_departments=["Physics"]
        ),
        "two_dept_admin": person(
            "twoadmin@example.edu",
            "Chemistry",
            roles=["dept_admin"],
            admin_departments=["History", "Chemistry"],
        ),
        "portal_admin": person("padm@example.edu", "IT", roles=["portal_admin"]),
    }


def request_as(user):
    request = RequestFactory().get("/hosts/1/")
    request.user = user
    return request


def test_every_person_is_a_host(people):
    assert roles_of(people["physicist"]) == {"host"}
    assert roles_of(people["helpdesk"]) == {"host", "helpdesk"}
    assert roles_of(people["physics_admin"]) == {"host", "dept_admin"}


def test_anonymous_and_inactive_users_have_no_roles(people):
    assert roles_of(AnonymousUser()) == frozenset()
    people["helpdesk"].is_active = False
    assert roles_of(people["helpdesk"]) == frozenset()
    assert not allowed(people["helpdesk"], "helpdesk.search")


def test_user_without_a_person_has_no_roles_but_a_superuser_is_a_portal_admin():
    plain = User.objects.create_user(username="plain")
    root = User.objects.create_superuser(username="root", password="x" * 20)
    assert roles_of(plain) == frozenset()
    assert roles_of(root) == {"portal_admin"}
    assert allowed(root, "portal.admin")
    assert not allowed(plain, "host.dashboard")


def test_override_roles_win_over_mapped_roles(people):
    helpdesk = people["helpdesk"]
    helpdesk.person.override_roles = []
    assert roles_of(helpdesk) == {"host"}
    physicist = people["physicist"]
    physicist.person.override_roles = ["dept_admin", "not-a-role"]
    physicist.person.override_admin_departments = ["History"]
    assert roles_of(physicist) == {"host", "dept_admin"}
    assert admin_departments_of(physicist) == {"History"}


def test_admin_departments_only_count_with_the_dept_admin_role(people):
    physicist = people["physicist"]
    physicist.person.admin_departments = ["Physics"]
    assert admin_departments_of(physicist) == frozenset()
    assert admin_departments_of(people["two_dept_admin"]) == {"History", "Chemistry"}


def test_a_host_sees_and_acts_only_for_themselves(people):
    me, other = people["physicist"], people["physicist2"]
    assert allowed(me, "host.dashboard")
    assert allowed(me, "host.view", me)
    assert allowed(me, "host.act", me)
    assert not allowed(me, "host.view", other)
    assert not allowed(me, "host.act", other)
    assert list(hosts_visible_to(me)) == [me]
    assert list(hosts_visible_to(me, "host.act")) == [me]
    for action in ("helpdesk.search", "report.institution", "portal.admin"):
        assert not allowed(me, action)
    assert not allowed(me, "report.department", "Physics")
    assert departments_visible_to(me) == []


def test_helpdesk_views_and_acts_for_any_host_but_reads_no_reports(people):
    helpdesk = people["helpdesk"]
    for host in people.values():
        assert allowed(helpdesk, "host.view", host)
        assert allowed(helpdesk, "host.act", host)
    assert allowed(helpdesk, "helpdesk.search")
    assert hosts_visible_to(helpdesk).count() == len(people)
    assert hosts_visible_to(helpdesk, "host.act").count() == len(people)
    assert not allowed(helpdesk, "report.department", "IT")
    assert not allowed(helpdesk, "report.institution")
    assert not allowed(helpdesk, "portal.admin")
    assert departments_visible_to(helpdesk) == []


def test_dept_admin_views_hosts_of_their_departments_case_insensitively(people):
    admin = people["physics_admin"]
    assert allowed(admin, "host.view", people["physicist"])
    assert allowed(admin, "host.view", people["physicist2"])  # "physics"
    assert not allowed(admin, "host.view", people["historian"])
    assert not allowed(admin, "host.view", people["nodept"])
    assert set(hosts_visible_to(admin)) == {people["physicist"], people["physicist2"], admin}


def test_dept_admin_may_not_act_for_the_hosts_of_their_department(people):
    admin = people["physics_admin"]
    assert not allowed(admin, "host.act", people["physicist"])
    assert allowed(admin, "host.act", admin)
    assert list(hosts_visible_to(admin, "host.act")) == [admin]
    assert not allowed(admin, "helpdesk.search")


def test_dept_admin_reads_reports_of_their_departments_only(people):
    admin = people["two_dept_admin"]
    assert allowed(admin, "report.department", "History")
    assert allowed(admin, "report.department", " chemistry ")
    assert not allowed(admin, "report.department", "Physics")
    assert not allowed(admin, "report.department", "")
    assert not allowed(admin, "report.institution")
    assert departments_visible_to(admin) == ["Chemistry", "History"]
    assert set(hosts_visible_to(admin)) == {people["historian"], admin}


def test_dept_admin_without_departments_sees_only_themselves(people):
    lonely = person("lonely@example.edu", "Physics", roles=["dept_admin"])
    assert list(hosts_visible_to(lonely)) == [lonely]
    assert departments_visible_to(lonely) == []
    assert not allowed(lonely, "host.view", people["physicist"])


def test_portal_admin_sees_everything(people):
    admin = people["portal_admin"]
    for host in people.values():
        assert allowed(admin, "host.view", host)
        assert allowed(admin, "host.act", host)
    for action in ("helpdesk.search", "report.institution", "portal.admin", "host.dashboard"):
        assert allowed(admin, action)
    assert allowed(admin, "report.department", "Anything")
    assert departments_visible_to(admin) == ["Chemistry", "History", "IT", "Physics"]


def test_departments_visible_to_a_portal_admin_list_case_variants_once(people):
    # "Physics" and "physics" are one department.
    expected = ["Chemistry", "History", "IT", "Physics"]
    assert departments_visible_to(people["portal_admin"]) == expected


def test_host_actions_need_an_active_host_as_subject(people):
    helpdesk = people["helpdesk"]
    no_person = User.objects.create_user(username="ghost")
    assert not allowed(helpdesk, "host.view", no_person)
    assert not allowed(helpdesk, "host.view", None)
    assert not allowed(helpdesk, "host.view", "Physics")
    inactive = people["historian"]
    inactive.is_active = False
    inactive.save()
    assert not allowed(helpdesk, "host.view", inactive)
    assert inactive not in hosts_visible_to(helpdesk)


def test_anonymous_users_may_do_nothing(people):
    anonymous = AnonymousUser()
    for action in ("host.dashboard", "helpdesk.search", "report.institution", "portal.admin"):
        assert not allowed(anonymous, action)
    assert not allowed(anonymous, "host.view", people["physicist"])
    assert hosts_visible_to(anonymous).count() == 0
    assert departments_visible_to(anonymous) == []


def test_an_unknown_action_is_a_programming_error(people):
    with pytest.raises(ValueError, match="unknown action"):
        allowed(people["portal_admin"], "host.delete")
    with pytest.raises(ValueError, match=r"host\.view or host\.act"):
        hosts_visible_to(people["portal_admin"], "report.institution")
    with pytest.raises(ValueError, match="unknown action"):
        require(request_as(people["portal_admin"]), "host.delete")


def test_get_host_or_404_returns_a_visible_host(people):
    admin = people["physics_admin"]
    host = get_host_or_404(request_as(admin), people["physicist"].pk)
    assert host == people["physicist"]
    assert host.person.department == "Physics"


@pytest.mark.parametrize("host_id", ["missing", "not-a-number", None])
def test_get_host_or_404_hides_whether_a_host_exists(people, host_id):
    admin = people["physics_admin"]
    if host_id == "missing":
        host_id = User.objects.order_by("-pk").first().pk + 100
    with pytest.raises(Http404):
        get_host_or_404(request_as(admin), host_id)
    # A host in another department answers exactly the same way as one that does not exist.
    with pytest.raises(Http404):
        get_host_or_404(request_as(admin), people["historian"].pk)


def test_get_host_or_404_for_acting_uses_the_act_rules(people):
    admin = people["physics_admin"]
    with pytest.raises(Http404):
        get_host_or_404(request_as(admin), people["physicist"].pk, action="host.act")
    helpdesk = people["helpdesk"]
    assert get_host_or_404(request_as(helpdesk), people["physicist"].pk, "host.act")


def test_anonymous_users_are_sent_to_sign_in(people):
    request = request_as(AnonymousUser())
    with pytest.raises(ImmediateHttpResponse) as raised:
        require(request, "host.dashboard")
    assert raised.value.response.status_code == 302
    assert raised.value.response["Location"] == "/accounts/login/?next=/hosts/1/"
    with pytest.raises(ImmediateHttpResponse):
        get_host_or_404(request, people["physicist"].pk)


def test_require_answers_403_to_a_signed_in_user_who_may_not(people):
    with pytest.raises(PermissionDenied):
        require(request_as(people["physicist"]), "report.institution")
    with pytest.raises(PermissionDenied):
        require(request_as(people["physics_admin"]), "report.department", "History")
    require(request_as(people["physics_admin"]), "report.department", "Physics")
    require(request_as(people["physicist"]), "host.view", people["physicist"])
