"""People the tests sign in as: a portal user with the Person the SSO sign-in would create."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from portal.models import Person


def make_person(
    email: str,
    *,
    department: str = "Physics",
    roles: list[str] | None = None,
    admin_departments: list[str] | None = None,
    first_name: str = "",
    last_name: str = "",
):
    user = get_user_model().objects.create_user(
        username=email, email=email, first_name=first_name, last_name=last_name
    )
    Person.objects.create(
        user=user,
        department=department,
        affiliations=["faculty"],
        roles=roles or ["host"],
        admin_departments=admin_departments or [],
        zoom_login=email,
    )
    return user
