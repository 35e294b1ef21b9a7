"""A portal admin defines profiles and edits the institution's settings in the Django admin;
the audit log stays read-only there too."""

from __future__ import annotations

import pytest

from audits.models import AuditEvent, HardeningProfile
from portal.sso import sync_staff
from tests.people import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_admin(client):
    user = make_person("portal.admin@utoronto.ca", roles=["host", "portal_admin"])
    sync_staff(user)
    client.force_login(user)
    return user


def test_a_portal_admin_adds_a_profile_as_overrides_of_the_default(client, portal_admin):
    response = client.post(
        "/admin/audits/hardeningprofile/add/",
        {
            "slug": "exam",
            "name": "Online exam",
            "description": "Cameras on for invigilation: participants' video stays on.",
            "overrides": '{"schedule_meeting.participants_video": true}',
        },
    )

    assert response.status_code == 302
    profile = HardeningProfile.objects.get(slug="exam")
    assert profile.overrides == {"schedule_meeting.participants_video": True}


def test_a_portal_admin_changes_the_allowed_regions(client, portal_admin):
    from audits.models import InstitutionSettings

    settings = InstitutionSettings.load()
    response = client.post(
        f"/admin/audits/institutionsettings/{settings.pk}/change/",
        {
            "email_domains": '["utoronto.ca"]',
            "allowed_regions": '["CA", "US"]',
            "min_client_version": "6.1.0",
            "sensitive_patterns": "",
        },
    )

    assert response.status_code == 302
    assert InstitutionSettings.load().allowed_regions == ["CA", "US"]


def test_the_audit_log_cannot_be_changed_or_deleted_in_the_admin(client, portal_admin):
    event = AuditEvent.objects.create(actor=portal_admin, subject=portal_admin, action="lookup")

    assert client.get(f"/admin/audits/auditevent/{event.pk}/delete/").status_code == 403
    page = client.get(f"/admin/audits/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_a_host_cannot_open_the_admin(client):
    client.force_login(make_person("default.host@utoronto.ca"))

    response = client.get("/admin/audits/hardeningprofile/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
