"""Reports: request one, watch its progress, download it.

Thin: forms shape input; `services.report_request` records it and
`proposals.reports` builds it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from proposals import permissions, reports, services
from proposals.enums import ReportStatus
from proposals.exceptions import InvalidTransition
from proposals.forms.common import add_service_errors
from proposals.forms.reports import ReportRequestForm
from proposals.models import Report

# --- reports --------------------------------------------------------------------------------


def _status(report: Report) -> dict[str, Any]:
    done = report.status == ReportStatus.DONE and bool(report.file)
    return {
        "id": str(report.pk),
        "status": report.status,
        "status_label": report.get_status_display(),
        "progress": report.progress,
        "row_count": report.row_count,
        "download_url": reverse("reports:download", args=[report.pk]) if done else None,
        "finished": report.status not in {ReportStatus.QUEUED, ReportStatus.RUNNING},
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def reports_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_request_reports(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("Only portfolio leads and analysts can request reports")
    form = ReportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_request(
                user=request.user,  # type: ignore[arg-type]
                kind=form.cleaned_data["kind"],
                format=form.cleaned_data["format"],
                filters=form.filters(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Your report has been requested. It appears below when it is ready."
            )
            return redirect("reports:list")
    mine = list(reports.reports_for(request.user)[:20])  # type: ignore[arg-type]
    building = any(r.status in {ReportStatus.QUEUED, ReportStatus.RUNNING} for r in mine)
    return render(
        request,
        "reports/list.html",
        {
            "form": form,
            "reports": [(report, _status(report)) for report in mine],
            "building": building,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["POST"])
def report_retry(request: HttpRequest, report_id: str) -> HttpResponse:
    """The "Try again" button of a failed report: build it again, then back to the list."""
    report = reports.report_for(request.user, report_id)  # type: ignore[arg-type]
    try:
        services.report_retry(report=report, actor=request.user)  # type: ignore[arg-type]
    except InvalidTransition:
        # A second click, or another tab: it is already being built again.
        messages.info(request, "This report is already being built again.")
    else:
        messages.success(
            request, "Your report is being built again. It appears below when it is ready."
        )
    return redirect("reports:list")


@login_required
@never_cache
@require_GET
def report_status(request: HttpRequest, report_id: str) -> JsonResponse:
    """The progress the page's script polls: only the requester's own report."""
    report = reports.report_for(request.user, report_id)  # type: ignore[arg-type]
    return JsonResponse(_status(report))


@login_required
@require_GET
def report_download(request: HttpRequest, report_id: str) -> FileResponse:
    report = reports.report_for(request.user, report_id)  # type: ignore[arg-type]
    if report.status != ReportStatus.DONE or not report.file:
        raise Http404("This report is not ready, or has expired")
    try:
        handle = report.file.open("rb")
    except FileNotFoundError:
        raise Http404("This report's file has gone") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=reports.download_name(report),
        content_type=reports.CONTENT_TYPES[report.format],
    )
    response["Cache-Control"] = "private, no-store"
    return response
