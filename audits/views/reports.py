"""Department and institution reports, their table of hosts, and its exports (CSV, JSON, and
the action plan). Who may read which department is portal.access's answer alone."""

from __future__ import annotations

import csv
import json
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from audits.checklist.items import ITEMS
from audits.reports import readers as reports
from audits.reports import state as report_state
from portal.access import allowed, departments_visible_to, require

GRADE_CHOICES = [("", "Any grade"), *((g, f"Grade {g}") for g in reports.GRADES)]
GRADE_CHOICES.append(("none", "No score"))
SORT_CHOICES = [
    ("-score", "Score, lowest last"),
    ("score", "Score, lowest first"),
    ("name", "Name"),
    ("email", "E-mail"),
    ("-synced", "Last sync, newest first"),
    ("synced", "Last sync, oldest first"),
]
CSV_COLUMNS = (
    "email",
    "name",
    "department",
    "score",
    "grade",
    "hardened",
    "last_sync",
    "zoom_status",
    "failing_items",
)
PLAN_COLUMNS = ("email", "item_id", "item", "status", "severity", "portal_can_fix", "fix")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class HostFilterForm(forms.Form):
    grade = forms.ChoiceField(choices=GRADE_CHOICES, required=False)
    item = forms.ChoiceField(
        label="Failing item",
        choices=[("", "Any item"), *((i.id, f"{i.title} ({i.id})") for i in ITEMS)],
        required=False,
    )
    synced = forms.ChoiceField(
        label="Last sync", choices=[("", "Any time"), *reports.SYNCED_CHOICES], required=False
    )
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)


def _department(request: HttpRequest) -> str:
    name = request.GET.get("department", "").strip()
    require(request, "report.department", name)
    return name


def _filtered(request: HttpRequest, department: str | None) -> tuple[HostFilterForm, Any]:
    form = HostFilterForm(request.GET)
    form.is_valid()  # an invalid choice is shown as an error and that filter left out
    chosen = getattr(form, "cleaned_data", {})
    return form, reports.filter_hosts(reports.states(department), chosen)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The departments the user may read, side by side."""
    if allowed(request.user, "report.institution"):
        rows = reports.by_department()
    else:
        names = departments_visible_to(request.user)
        if not names:
            require(request, "report.institution")  # signs in the anonymous, 403 for the rest
        keys = [report_state.department_key(n) for n in names]
        found = {row["department_key"]: row for row in reports.by_department(keys)}
        rows = [found.get(k) or {"department_key": k, "name": n, "hosts": 0} for n, k in
                zip(names, keys, strict=True)]  # fmt: skip
    context = {"rows": rows, "may_see_institution": allowed(request.user, "report.institution")}
    return render(request, "audits/report_index.html", context)


@require_GET
def institution(request: HttpRequest) -> HttpResponse:
    require(request, "report.institution")
    context = {**reports.report(None), "departments": reports.by_department(), "scope": None}
    return render(request, "audits/report_institution.html", context)


@require_GET
def department(request: HttpRequest) -> HttpResponse:
    name = _department(request)
    form, found = _filtered(request, name)
    page = Paginator(found.select_related("host__person"), 50).get_page(request.GET.get("page"))
    failing: dict[int, list[str]] = {}
    for state_id, item_id in reports.FailingItem.objects.filter(
        state__in=[state.pk for state in page]
    ).values_list("state_id", "item_id"):
        failing.setdefault(state_id, []).append(item_id)
    rows = [
        {
            "state": state,
            "failing": sorted(failing.get(state.pk, [])),
            "can_open": allowed(request.user, "host.view", state.host),
        }
        for state in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **reports.report(name),
        "department": name,
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
    }
    return render(request, "audits/report_department.html", context)


def _filename(department: str, what: str, extension: str) -> str:
    return (
        f"{slugify(department) or 'department'}-{what}-{timezone.localdate():%Y-%m-%d}.{extension}"
    )


def _cell(value: Any) -> Any:
    # Names and departments come from the IdP: a spreadsheet would run "=..." as a formula.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.DictWriter(response, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        items = row.get("failing_items")
        row = {**row, "failing_items": " ".join(items)} if items is not None else row
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return response


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    name = _department(request)
    _, found = _filtered(request, name)
    return _csv(reports.host_rows(found), CSV_COLUMNS, _filename(name, "hosts", "csv"))


@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    name = _department(request)
    form, found = _filtered(request, name)
    data = {
        "department": name,
        "generated_at": timezone.now(),
        "filters": {k: v for k, v in getattr(form, "cleaned_data", {}).items() if v},
        "summary": reports.summary(reports.tallies(name)),
        "hosts": reports.host_rows(found),
    }
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=1), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(name, "hosts", "json")}"'
    return response


@require_GET
def export_action_plan(request: HttpRequest) -> HttpResponse:
    name = _department(request)
    _, found = _filtered(request, name)
    return _csv(reports.action_plan(found), PLAN_COLUMNS, _filename(name, "action-plan", "csv"))
