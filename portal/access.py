"""The one place that decides what a user may see and do. Views never check roles by hand.

Roles: every person allowed in is a "host" (their own dashboard); "helpdesk" sees and acts for
any host; "dept_admin" sees the hosts and reports of their departments; "portal_admin" sees
everything. A break-glass superuser counts as a portal admin.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from portal.models import (
    ROLE_DEPT_ADMIN,
    ROLE_HELPDESK,
    ROLE_HOST,
    ROLE_PORTAL_ADMIN,
    Person,
)

ACTIONS = frozenset(
    {
        "host.dashboard",
        "host.view",
        "host.act",
        "helpdesk.search",
        "report.department",
        "report.institution",
        "portal.admin",
    }
)
HOST_ACTIONS = frozenset({"host.view", "host.act"})

User = get_user_model()
AnyUser = AbstractBaseUser | AnonymousUser


def _person(user: AnyUser) -> Person | None:
    try:
        return user.person  # type: ignore[union-attr]
    except (ObjectDoesNotExist, AttributeError):
        return None


def roles_of(user: AnyUser) -> frozenset[str]:
    """The user's effective roles; empty for anonymous and inactive users."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    person = _person(user)
    roles = person.effective_roles() if person else frozenset()
    if user.is_superuser:
        roles = roles | {ROLE_PORTAL_ADMIN}
    return roles


def admin_departments_of(user: AnyUser) -> frozenset[str]:
    """Departments the user administers; empty unless they hold the dept_admin role."""
    if ROLE_DEPT_ADMIN not in roles_of(user):
        return frozenset()
    person = _person(user)
    return person.effective_admin_departments() if person else frozenset()


def _folded(departments: frozenset[str]) -> frozenset[str]:
    return frozenset(d.casefold() for d in departments)


def _is_host(subject: Any) -> bool:
    return (
        isinstance(subject, User)
        and subject.is_active
        and subject.pk is not None
        and _person(subject) is not None
    )


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")


def allowed(user: AnyUser, action: str, subject: Any = None) -> bool:
    """May `user` do `action` (to `subject`: a host User, or a department name)?"""
    _check_action(action)
    roles = roles_of(user)
    if not roles:
        return False
    if action == "host.dashboard":
        return ROLE_HOST in roles
    if action in HOST_ACTIONS:
        if not _is_host(subject):
            return False
        if subject.pk == user.pk and ROLE_HOST in roles:
            return True
        if roles & {ROLE_PORTAL_ADMIN, ROLE_HELPDESK}:
            return True
        if action == "host.view" and ROLE_DEPT_ADMIN in roles:
            department = subject.person.department.casefold()
            return bool(department) and department in _folded(admin_departments_of(user))
        return False
    if action == "helpdesk.search":
        return bool(roles & {ROLE_PORTAL_ADMIN, ROLE_HELPDESK})
    if action == "report.department":
        if not isinstance(subject, str) or not subject.strip():
            return False
        if ROLE_PORTAL_ADMIN in roles:
            return True
        return subject.strip().casefold() in _folded(admin_departments_of(user))
    # report.institution, portal.admin
    return ROLE_PORTAL_ADMIN in roles


def hosts_visible_to(user: AnyUser, action: str = "host.view") -> QuerySet:
    """The hosts `user` may `action` ("host.view" or "host.act"), filtered in the database."""
    if action not in HOST_ACTIONS:
        raise ValueError(f"hosts_visible_to takes host.view or host.act, not {action!r}")
    hosts = User.objects.filter(is_active=True, person__isnull=False)
    roles = roles_of(user)
    if roles & {ROLE_PORTAL_ADMIN, ROLE_HELPDESK}:
        return hosts
    visible = Q(pk=user.pk) if ROLE_HOST in roles else Q(pk__in=[])
    if action == "host.view" and ROLE_DEPT_ADMIN in roles:
        departments = admin_departments_of(user)
        if departments:
            visible |= reduce(or_, (Q(person__department__iexact=d) for d in departments))
    return hosts.filter(visible)


def departments_visible_to(user: AnyUser) -> list[str]:
    """Departments whose reports the user may read, sorted."""
    roles = roles_of(user)
    if ROLE_PORTAL_ADMIN in roles:
        names = Person.objects.exclude(department="").values_list("department", flat=True)
        # One entry per department however its spelling varies ("Physics", "physics").
        spellings: dict[str, str] = {}
        for name in sorted(set(names)):
            spellings.setdefault(name.casefold(), name)
        return sorted(spellings.values(), key=str.casefold)
    return sorted(admin_departments_of(user), key=str.casefold)


def _sign_in_first(request: HttpRequest) -> ImmediateHttpResponse:
    # allauth's AccountMiddleware turns this exception into its response.
    return ImmediateHttpResponse(redirect_to_login(request.get_full_path()))


def require(request: HttpRequest, action: str, subject: Any = None) -> None:
    """Send anonymous users to sign in; answer 403 to a signed-in user who may not."""
    _check_action(action)
    if not request.user.is_authenticated:
        raise _sign_in_first(request)
    if not allowed(request.user, action, subject):
        raise PermissionDenied(action)


def get_host_or_404(request: HttpRequest, host_id: Any, action: str = "host.view") -> Any:
    """The host the viewer may `action`; 404 when absent or not theirs (existence stays hidden)."""
    if not request.user.is_authenticated:
        raise _sign_in_first(request)
    try:
        return hosts_visible_to(request.user, action).select_related("person").get(pk=host_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("No such host") from None
