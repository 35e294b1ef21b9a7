from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Sign-in: the system check for demo sign-in and the refresh at every SSO sign-in.
        from allauth.socialaccount.providers.saml import utils as saml_utils

        from portal import checks, sso, sso_admin, sso_config  # noqa: F401

        # IdP metadata: a short timeout, and failures cached as well as successes.
        saml_utils.fetch_metadata_url_config = sso_config.fetch_metadata
