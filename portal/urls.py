from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from portal import demo, sso, sso_admin, views

handler500 = "portal.views.server_error"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("privacy/", views.privacy, name="privacy"),
    path("defaults/", views.defaults, name="defaults"),
    path("best-practices/", views.best_practices, name="best_practices"),
    path("portal-data/", views.portal_data, name="portal_data"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("audits.urls")),
    # Sign-in: allauth's SAML finish step with a clear page for replays, single logout only
    # signed and only where the IdP has it, the signed-out page,
    # and the admin's password login rate limited (break-glass superuser only).
    re_path(r"^accounts/saml/(?P<organization_slug>[^/]+)/acs/finish/$", sso.finish_acs),
    re_path(r"^accounts/saml/(?P<organization_slug>[^/]+)/sls/$", sso.saml_logout),
    path("accounts/signed-out/", sso.signed_out, name="signed_out"),
    path("accounts/", include("allauth.urls")),
    path("admin/login/", sso_admin.admin_login),
    path("admin/", admin.site.urls),
]
if settings.PORTAL_DEMO_MODE:
    urlpatterns.append(path("demo/sign-in/", demo.demo_signin, name="demo_signin"))
