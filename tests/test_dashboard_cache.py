"""The dashboard's checklist section is rendered once a snapshot and then served from the cache
(a snapshot never changes); a new snapshot shows its own items."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audits.models import Snapshot
from tests.people import make_person
from tests.support import client_for

SECTION = "audits/_checklist_items.html"  # rendered with the other cached sections


def snapshot(host, status: str) -> Snapshot:
    items = [{"id": "meeting.waiting_room.on", "status": status, "found": False, "wanted": True}]
    return Snapshot.objects.create(host=host, zoom_status="linked", score=50, grade="D",
                                   results={"items": items, "meetings": []})  # fmt: skip


def waiting_room_badge(html: str) -> str:
    card = html[html.index('id="item-meeting.waiting_room.on"') :]
    return card[card.index('class="badge') : card.index("</span>")]


@pytest.mark.django_db
def test_the_checklist_section_is_rendered_once_per_snapshot():
    host = make_person("cached.host@utoronto.ca")
    snapshot(host, "fail")
    client = client_for(host)

    first = client.get(reverse("dashboard"))
    second = client.get(reverse("dashboard"))

    assert SECTION in [t.name for t in first.templates]
    assert SECTION not in [t.name for t in second.templates]  # from the cache
    assert "Waiting room" in second.content.decode()
    assert waiting_room_badge(second.content.decode()) == waiting_room_badge(first.content.decode())
    assert "Fail" in waiting_room_badge(second.content.decode())

    snapshot(host, "pass")  # a new reading: its own section
    third = client.get(reverse("dashboard"))
    assert SECTION in [t.name for t in third.templates]
    assert "Pass" in waiting_room_badge(third.content.decode())
    assert (
        "Waiting room on: Fail → Pass" in third.content.decode()
    )  # what changed, from the cache too
    assert "Waiting room on: Fail → Pass" in client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_host_and_the_helpdesk_do_not_share_a_cached_section():
    from tests.test_helpdesk import look_up

    host = make_person("shared.host@utoronto.ca")
    helpdesk = make_person("desk@utoronto.ca", roles=["host", "helpdesk"])
    snapshot(host, "fail")
    client_for(host).get(reverse("dashboard"))

    desk = client_for(helpdesk)
    look_up(desk, host)
    page = desk.get(reverse("helpdesk_host", args=[host.pk]))
    assert SECTION in [t.name for t in page.templates]
    assert "Fail" in waiting_room_badge(page.content.decode())


@pytest.mark.django_db
def test_the_dashboard_is_served_when_the_cache_is_down(settings):
    from tests.support import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }
    host = make_person("no.cache@utoronto.ca")
    snapshot(host, "fail")

    response = client_for(host).get(reverse("dashboard"))

    assert response.status_code == 200
    assert "Fail" in waiting_room_badge(response.content.decode())
