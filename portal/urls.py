from django.contrib import admin
from django.urls import include, path

from portal import views

handler500 = "portal.views.server_error"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("privacy/", views.privacy, name="privacy"),
    path("defaults/", views.defaults, name="defaults"),
    path("best-practices/", views.best_practices, name="best_practices"),
    path("portal-data/", views.portal_data, name="portal_data"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
