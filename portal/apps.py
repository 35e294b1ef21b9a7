from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Sign-in: the system check for demo sign-in and the refresh at every SSO sign-in.
        from portal import checks, sso, sso_admin  # noqa: F401
