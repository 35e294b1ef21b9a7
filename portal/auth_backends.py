"""Authentication backends that read a signed-in user with their Person (the roles) in one
query: every signed-in request asks for the roles (portal/access.py roles_of), and Django's
backends read the user and then, on first use, the Person on its own."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import backends, get_user_model


def _user_with_person(backend: backends.ModelBackend, user_id):  # -> User | None
    UserModel = get_user_model()
    try:
        user = UserModel._default_manager.select_related("person").get(pk=user_id)
    except UserModel.DoesNotExist:
        return None
    return user if backend.user_can_authenticate(user) else None


class ModelBackend(backends.ModelBackend):
    """Django's: the break-glass password sign-in and the demo sign-in."""

    def get_user(self, user_id):
        return _user_with_person(self, user_id)


class SSOBackend(AuthenticationBackend):
    """django-allauth's: single sign-on."""

    def get_user(self, user_id):
        return _user_with_person(self, user_id)
