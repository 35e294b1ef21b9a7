"""What an identity provider says about a person, and what it means here.

`profile_from_attributes` reads the attributes (SAML) or claims (OIDC) through the provider's
configured mapping; `refuse_reason` says who may not use the portal; `refresh_person` writes
department, affiliations, groups and mapped roles at every sign-in (SSO and demo alike).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from allauth.account.internal.decorators import login_not_required
from allauth.account.signals import user_logged_in
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.saml import utils as saml_utils
from allauth.socialaccount.providers.saml import views as saml_views
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from portal import dn
from portal.models import ROLE_DEPT_ADMIN, ROLE_HOST, ROLE_PORTAL_ADMIN, Person
from portal.sso_config import OIDC_ATTRIBUTES, SAML_ATTRIBUTES, friendly_name, sign_in_origins

logger = logging.getLogger(__name__)
SESSION_IDP_KEY = "portal_sso_idp"
PORTAL_ADMINS_GROUP = "Portal admins"
# What a portal admin may do in the Django admin: roles, the institution's settings, profiles
# and exemptions; jobs and the audit log are read-only for everyone.
PORTAL_ADMIN_PERMISSIONS = [
    "view_person",
    "change_person",
    "view_institutionsettings",
    "change_institutionsettings",
    *(
        f"{verb}_{model}"
        for verb in ("add", "change", "delete", "view")
        for model in ("hardeningprofile", "exemption")
    ),
    "view_job",
    "view_auditevent",
]


@dataclass
class Profile:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    department: str = ""
    affiliations: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    zoom_login: str = ""
    identity_provider: str = ""
    # The stable-id attributes the IdP should have sent, when it sent none of them.
    missing_stable_id: list[str] = field(default_factory=list)


def _values(raw: dict[str, Any], names: list[str]) -> list[str]:
    """Every value of every named attribute, in order, without repeats."""
    found: list[str] = []
    for name in names:
        value = raw.get(name)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, str | int) and str(item).strip() and str(item) not in found:
                found.append(str(item).strip())
    return found


def _first(raw: dict[str, Any], names: list[str]) -> str:
    values = _values(raw, names)
    return values[0] if values else ""


def profile_from_attributes(
    raw: dict[str, Any], mapping: dict[str, list[str]], identity_provider: str
) -> Profile:
    email = _first(raw, mapping["email"]).lower()
    zoom_attribute = settings.PORTAL_ZOOM_ID_ATTRIBUTE
    if zoom_attribute in {"mail", "email"}:
        zoom_login = email
    else:
        from portal.sso_config import OID

        zoom_login = _first(raw, [OID.get(zoom_attribute, zoom_attribute), zoom_attribute])
    # Without a stable id allauth falls back to the NameID, transient at most IdPs: a new
    # account at every sign-in, refused from the second on since the e-mail is taken.
    missing_stable_id = [] if _first(raw, mapping["uid"]) else _friendly(mapping["uid"])
    return Profile(
        missing_stable_id=missing_stable_id,
        email=email,
        first_name=_first(raw, mapping["first_name"]),
        last_name=_first(raw, mapping["last_name"]),
        department=_first(raw, mapping["department"]),
        affiliations=_values(raw, mapping["affiliation"]),
        groups=_values(raw, mapping["groups"]),
        zoom_login=zoom_login,
        identity_provider=identity_provider,
    )


def _friendly(names: list[str]) -> list[str]:
    found: list[str] = []
    for name in names:
        if friendly_name(name) not in found:
            found.append(friendly_name(name))
    return found


def profile_from_sociallogin(sociallogin: SocialLogin) -> Profile:
    app = sociallogin.provider.app
    portal_settings = app.settings.get("portal", {})
    extra = sociallogin.account.extra_data or {}
    # account.provider is the entityID for SAML (allauth's sub_id); the app knows its kind.
    if app.provider == "saml":
        mapping, raw = portal_settings.get("attributes", SAML_ATTRIBUTES), extra
    else:
        mapping = portal_settings.get("attributes", OIDC_ATTRIBUTES)
        # Userinfo knows more than the ID token; either may carry the groups.
        raw = {**extra.get("id_token", {}), **extra.get("userinfo", {})}
    return profile_from_attributes(raw, mapping, f"{app.provider}:{app_slug(app)}")


def app_slug(app) -> str:
    # The slug from PORTAL_IDP_CONFIG: SAML keeps it in client_id, OIDC in provider_id.
    return app.client_id if app.provider == "saml" else app.provider_id


def affiliation_values(affiliations: list[str]) -> set[str]:
    # eduPersonScopedAffiliation reads "faculty@utoronto.ca": the part before @ is the value.
    return {a.split("@", 1)[0].strip().casefold() for a in affiliations}


def refuse_reason(profile: Profile) -> str | None:
    """Why this person may not use the portal, or None when they may."""
    if profile.missing_stable_id:
        return "no_stable_id"
    if not profile.email:
        return "no_email"
    allowed = set(settings.PORTAL_ALLOWED_AFFILIATIONS)
    if not affiliation_values(profile.affiliations) & allowed:
        return "affiliation"
    return None


def render_refusal(request: HttpRequest, profile: Profile, reason: str) -> HttpResponse:
    missing = ", ".join(profile.missing_stable_id)
    logger.warning(
        "Sign-in refused (%s) for %s from %s",
        f"{reason}: none of {missing} sent" if missing else reason,
        profile.email,
        profile.identity_provider,
    )
    context = {
        "reason": reason,
        "affiliations": sorted(affiliation_values(profile.affiliations)),
        "allowed_affiliations": settings.PORTAL_ALLOWED_AFFILIATIONS,
        "stable_id_names": " or ".join(profile.missing_stable_id),
    }
    return render(request, "portal/signin_refused.html", context, status=403)


SIGN_IN_PAGES = re.compile(r"^/accounts/(login|saml/[^/]+/login)/$")


def metadata_form_action(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Middleware: on the pages with a sign-in button, allow the sign-in URLs that only the
    metadata of a `metadata_url` IdP names (a federation serves the metadata from elsewhere).
    Other pages never fetch metadata. Listed after CSPMiddleware: it sees the response first."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if SIGN_IN_PAGES.match(request.path) and response.get("Content-Type", "").startswith(
            "text/html"
        ):
            origins = sign_in_origins(settings.SOCIALACCOUNT_PROVIDERS)
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update
        return response

    return middleware


def _group_key(group: str) -> str:
    # A DN as the directory compares it; anything else (an entitlement URN) exactly as sent.
    return dn.normalise(group) if "=" in group and dn.looks_like_dn(group) else group


def map_roles(groups: list[str]) -> tuple[list[str], list[str]]:
    """Roles and admin departments the role map gives these groups or entitlements.

    A key matches a group's whole DN, normalised (sso_config placed short forms under
    role_map_base), or an entitlement exactly: never a look-alike group elsewhere in the
    directory, whose first RDN anyone who may create a group can choose.
    """
    roles: set[str] = set()
    departments: set[str] = set()
    have = {_group_key(group) for group in groups}
    for key, target in settings.PORTAL_ROLE_MAP.items():
        if _group_key(key) not in have:
            continue
        role, _, department = target.partition(":")
        roles.add(role)
        if role == ROLE_DEPT_ADMIN and department.strip():
            departments.add(department.strip())
    roles.discard(ROLE_HOST)
    return sorted(roles), sorted(departments)


@transaction.atomic
def refresh_person(
    user: AbstractBaseUser, profile: Profile, roles=None, departments=None
) -> Person:
    """Store what the IdP said at this sign-in; overrides set by a portal admin stay."""
    if roles is None:
        roles, departments = map_roles(profile.groups)
    person, _ = Person.objects.select_for_update().get_or_create(user=user)
    person.department = profile.department
    person.affiliations = profile.affiliations
    person.groups = profile.groups
    person.roles = list(roles)
    person.admin_departments = list(departments or [])
    person.zoom_login = profile.zoom_login
    person.identity_provider = profile.identity_provider
    person.last_sso_at = timezone.now()
    person.save()
    user.email = profile.email
    user.first_name = profile.first_name[:150] or user.first_name
    user.last_name = profile.last_name[:150] or user.last_name
    user.save(update_fields=["email", "first_name", "last_name"])
    sync_staff(user)
    return person


def withdraw(user: AbstractBaseUser, profile: Profile) -> None:
    """Someone the IdP no longer lets in keeps nothing from before: the roles the role map gave
    them are cleared (a portal admin's override stays theirs to change) and every session of
    theirs ends, on any browser."""
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(user=user).first()
        if person is not None:
            person.affiliations, person.groups = profile.affiliations, profile.groups
            person.roles, person.admin_departments = [], []
            person.save(update_fields=["affiliations", "groups", "roles", "admin_departments"])
            sync_staff(user)
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    logger.warning("Sign-in refused for %s: mapped roles cleared, %d sessions ended", user, ended)


def sync_staff(user: AbstractBaseUser) -> None:
    """Portal admins may use the Django admin to override roles; nobody else but superusers."""
    is_portal_admin = ROLE_PORTAL_ADMIN in user.person.effective_roles()
    group, _ = Group.objects.get_or_create(name=PORTAL_ADMINS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["portal", "audits"], codename__in=PORTAL_ADMIN_PERMISSIONS
        )
    )
    if is_portal_admin:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    staff = is_portal_admin or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


@receiver(user_logged_in)
def refresh_on_sso_sign_in(sender, request: HttpRequest, user, **kwargs) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        return
    profile = profile_from_sociallogin(sociallogin)
    refresh_person(user, profile)
    request.session[SESSION_IDP_KEY] = profile.identity_provider


def finish_acs(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """allauth's SAML finish step; a response whose request we no longer hold (a replay, or a
    second use of the same response) gets the sign-in error page, not a bare 403."""
    try:
        return saml_views.finish_acs(request, organization_slug=organization_slug)
    except PermissionDenied:
        logger.error("SAML response refused: no matching sign-in request (replayed?)")
        return render(
            request, "socialaccount/authentication_error.html", {"replayed": True}, status=403
        )


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class SignedLogoutView(saml_views.SLSView):
    """The IdP's single logout (/accounts/saml/<slug>/sls/), stricter than allauth's: only for an
    IdP with a logout service, only signed messages (python3-saml verifies the signature), and
    a RelayState that stays on the portal or the IdP. Otherwise anyone could sign a person out
    and bounce them anywhere with a crafted link."""

    def get_provider(self, organization_slug: str):
        provider = super().get_provider(organization_slug)
        # A copy for this request: ACS keeps the IdP's settings as configured.
        app_settings = provider.app.settings
        advanced = dict(app_settings.get("advanced", {}))
        advanced["want_message_signed"] = True
        advanced["logout_response_signed"] = bool(advanced.get("private_key"))
        provider.app.settings = {**app_settings, "advanced": advanced}
        return provider

    def dispatch(self, request: HttpRequest, organization_slug: str) -> HttpResponse:
        app = saml_utils.get_app_or_404(request, organization_slug)
        idp = saml_utils.build_saml_config(request, app.settings, organization_slug)["idp"]
        slo_url = idp.get("singleLogoutService", {}).get("url")
        if not slo_url:
            raise Http404("this identity provider has no single logout")
        relay_state = request.GET.get("RelayState", "")
        safe_hosts = {request.get_host(), urlsplit(slo_url).netloc}
        if relay_state and not url_has_allowed_host_and_scheme(relay_state, safe_hosts):
            logger.warning("SAML logout refused: RelayState %r leaves the portal", relay_state)
            return HttpResponseBadRequest("RelayState is not an address of this portal")
        return super().dispatch(request, organization_slug)


saml_logout = SignedLogoutView.as_view()


def logout_url_for(request: HttpRequest, identity_provider: str) -> tuple[str, str]:
    """The IdP's name and its logout page, if one is configured."""
    provider, _, slug = identity_provider.partition(":")
    if not provider or not slug:
        return "", ""
    # None when the IdP was removed from the configuration since sign-in.
    for app in get_social_adapter().list_apps(request, provider=provider):
        if app_slug(app) == slug:
            return app.name, app.settings.get("portal", {}).get("logout_url", "")
    return "", ""


@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    name, url = logout_url_for(request, request.GET.get("idp", ""))
    return render(request, "account/signed_out.html", {"idp_name": name, "idp_logout_url": url})
