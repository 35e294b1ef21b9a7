"""Demo sign-in: with no identity provider in the embedded demo, pick a Zoom simulator user.

Exists only in demo mode (portal.urls adds it when DEBUG and PORTAL_DEMO_SIGNIN were both on;
portal.checks refuses PORTAL_DEMO_SIGNIN without DEBUG). Signing in creates and refreshes the
user exactly as single sign-on does, through portal.sso.refresh_person.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.models import ROLE_DEPT_ADMIN, ROLE_HELPDESK, ROLE_PORTAL_ADMIN
from portal.sso import SESSION_IDP_KEY, Profile, refresh_person

# email -> (roles, admin departments); everyone else is a host.
DEMO_ROLES: dict[str, tuple[list[str], list[str]]] = {
    "helpdesk.staff@utoronto.ca": ([ROLE_HELPDESK], []),
    "physics.admin@utoronto.ca": ([ROLE_DEPT_ADMIN], ["Physics"]),
    "history.admin@utoronto.ca": ([ROLE_DEPT_ADMIN], ["History"]),
    "portal.admin@utoronto.ca": ([ROLE_PORTAL_ADMIN], []),
}
ROLE_LABELS = {
    ROLE_HELPDESK: "Helpdesk",
    ROLE_DEPT_ADMIN: "Department admin",
    ROLE_PORTAL_ADMIN: "Portal admin",
}
STAFF_DEPARTMENTS = {"Information Technology"}


@dataclass(frozen=True)
class DemoUser:
    email: str
    first_name: str
    last_name: str
    department: str
    status: str
    roles: tuple[str, ...]
    admin_departments: tuple[str, ...]

    @property
    def role_label(self) -> str:
        labels = [ROLE_LABELS[r] for r in self.roles]
        if self.admin_departments:
            labels = [f"{label} ({', '.join(self.admin_departments)})" for label in labels]
        return ", ".join(labels) or "Host"

    @property
    def affiliation(self) -> str:
        return "staff" if self.roles or self.department in STAFF_DEPARTMENTS else "faculty"


@lru_cache(maxsize=1)
def demo_users() -> tuple[DemoUser, ...]:
    """The simulator's seeded users, people with a role first, then by e-mail."""
    from zoomsim.seed import seed_state

    found = []
    for entry in seed_state()["users"].values():
        user = entry["user"]
        roles, departments = DEMO_ROLES.get(user["email"], ([], []))
        found.append(
            DemoUser(
                email=user["email"],
                first_name=user.get("first_name", ""),
                last_name=user.get("last_name", ""),
                department=user.get("dept", "") or "",
                status=user.get("status", ""),
                roles=tuple(roles),
                admin_departments=tuple(departments),
            )
        )
    return tuple(sorted(found, key=lambda u: (not u.roles, u.email)))


def _enabled() -> None:
    # Belt and braces: the URL exists only in demo mode, and so does the view.
    if not settings.PORTAL_DEMO_MODE:
        raise Http404("Demo sign-in is off")


@require_http_methods(["GET", "POST"])
def demo_signin(request: HttpRequest) -> HttpResponse:
    _enabled()
    users = demo_users()
    if request.method == "GET":
        return render(request, "portal/signin_demo.html", {"demo_users": users})
    chosen = next((u for u in users if u.email == request.POST.get("email")), None)
    if chosen is None:
        return HttpResponseBadRequest("Choose one of the listed users.")
    user, _ = get_user_model().objects.get_or_create(
        username=chosen.email, defaults={"email": chosen.email}
    )
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    profile = Profile(
        email=chosen.email,
        first_name=chosen.first_name,
        last_name=chosen.last_name,
        department=chosen.department,
        affiliations=[chosen.affiliation],
        groups=[],
        zoom_login=chosen.email,
        identity_provider="demo",
    )
    refresh_person(user, profile, list(chosen.roles), list(chosen.admin_departments))
    login(request, user, backend="portal.auth_backends.ModelBackend")
    request.session[SESSION_IDP_KEY] = "demo"
    return redirect(settings.LOGIN_REDIRECT_URL)
