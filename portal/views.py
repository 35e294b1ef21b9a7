from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audits.checklist.items import BEST_PRACTICES, CONCERNS, GROUPS, items_in_group
from portal.health import run_checks
from portal.tasks import HEARTBEAT_KEY


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/landing.html")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/privacy.html")


@require_GET
def defaults(request: HttpRequest) -> HttpResponse:
    """The institution's default settings, item by item, straight from the checklist."""
    shown = ("meetings", "recording", "phone")
    groups = [(group, items_in_group(group.id)) for group in GROUPS if group.id in shown]
    return render(request, "portal/defaults.html", {"groups": groups})


@require_GET
def best_practices(request: HttpRequest) -> HttpResponse:
    items = [(item, CONCERNS[item.concern]) for item in BEST_PRACTICES]
    return render(request, "portal/best_practices.html", {"items": items})


@require_GET
def portal_data(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/portal_data.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    failing = sorted(name for name, state in checks.items() if state != "ok")
    body: dict[str, object] = {
        "status": "ok" if not failing else "unavailable",
        "checks": checks,
        "failing": failing,
        # When a worker last ran beat's heartbeat ("worker" fails when it is too old).
        "worker_heartbeat": cache.get(HEARTBEAT_KEY) if "cache" not in failing else None,
    }
    return JsonResponse(body, status=503 if failing else 200)


def server_error(request: HttpRequest) -> HttpResponse:
    """Render 500.html without context processors: they may be what failed."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(
        template.render({"portal_name": settings.PORTAL_NAME, "request": None})
    )
