"""Pages for the workers' output: reports (request, progress, download), your
notifications and their preferences, and a department lead's webhooks.

Thin: forms shape input; `proposals.reports`, `proposals.notifications` and
`proposals.webhooks` hold the rules.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from proposals import notifications, permissions, reports, services, webhooks
from proposals.enums import ReportStatus
from proposals.forms.workers import PreferencesForm, ReportRequestForm, WebhookForm
from proposals.models import Report

# How often the page refreshes itself for people without JavaScript while a report builds.
REFRESH_SECONDS = 5


def _add_errors(form: Any, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


# --- reports --------------------------------------------------------------------------------


def _status(report: Report) -> dict[str, Any]:
    done = report.status == ReportStatus.DONE and bool(report.file)
    return {
        "id": str(report.pk),
        "status": report.status,
        "status_label": report.get_status_display(),
        "progress": report.progress,
        "row_count": report.row_count,
        "download_url": reverse("workers:report-download", args=[report.pk]) if done else None,
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
            _add_errors(form, error)
        else:
            messages.success(
                request, "Your report has been requested. It appears below when it is ready."
            )
            return redirect("workers:reports")
    mine = list(reports.reports_for(request.user)[:20])  # type: ignore[arg-type]
    building = any(r.status in {ReportStatus.QUEUED, ReportStatus.RUNNING} for r in mine)
    return render(
        request,
        "reports/index.html",
        {
            "form": form,
            "reports": [(report, _status(report)) for report in mine],
            "building": building,
            "refresh_seconds": REFRESH_SECONDS,
        },
        status=400 if form.errors else 200,
    )


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


# --- notifications ---------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def notifications_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    preferences = PreferencesForm(
        request.POST if request.POST.get("action") == "preferences" else None,
        initial_choices=notifications.preferences_for(user),  # type: ignore[arg-type]
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "mark_read":
            notifications.mark_read(user=user, notification_ids=request.POST.getlist("id"))  # type: ignore[arg-type]
            return redirect("workers:notifications")
        if action == "mark_all_read":
            count = notifications.mark_read(user=user)  # type: ignore[arg-type]
            messages.success(
                request, f"{count} notification{'s' if count != 1 else ''} marked as read"
            )
            return redirect("workers:notifications")
        if action == "preferences" and preferences.is_valid():
            notifications.preferences_set(user=user, choices=preferences.choices())  # type: ignore[arg-type]
            messages.success(request, "Your email preferences have been saved")
            return redirect("workers:notifications")
    mine = notifications.notifications_for(user)  # type: ignore[arg-type]
    page = Paginator(mine, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "account/notifications.html",
        {
            "page": page,
            "unread": notifications.unread_count(user),  # type: ignore[arg-type]
            "preferences": preferences,
            "form": preferences,
        },
        status=400 if preferences.errors else 200,
    )


# --- webhooks ------------------------------------------------------------------------------

_ONCE = "webhook_shown_once"  # a session key


def _lead_only(request: HttpRequest) -> None:
    user = request.user
    if not permissions.is_lead_of(user, user.department_id):  # type: ignore[arg-type, union-attr]
        raise PermissionDenied("Only portfolio leads can manage webhooks")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest) -> HttpResponse:
    _lead_only(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_register(
                actor=request.user,  # type: ignore[arg-type]
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            # Shown once, on the next page, then dropped from the session.
            request.session[_ONCE] = {"url": endpoint.url, "secret": secret}
            return redirect("workers:webhooks")
    new_secret = request.session.pop(_ONCE, None)
    return render(
        request,
        "account/webhooks.html",
        {
            "form": form,
            "endpoints": webhooks.endpoints_for(request.user),  # type: ignore[arg-type]
            "deliveries": webhooks.deliveries_for(request.user),  # type: ignore[arg-type]
            "new_secret": new_secret,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def webhook_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _lead_only(request)
    endpoint = webhooks.endpoint_for(request.user, endpoint_id)  # type: ignore[arg-type]
    if endpoint is None:
        raise Http404("No such webhook")
    services.webhook_send_test(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    messages.success(request, f"A test event is on its way to {endpoint.url}")
    return redirect("workers:webhooks")


@login_required
@require_POST
def webhook_remove(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _lead_only(request)
    endpoint = webhooks.endpoint_for(request.user, endpoint_id)  # type: ignore[arg-type]
    if endpoint is None:
        raise Http404("No such webhook")
    services.webhook_deactivate(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    messages.success(request, f"{endpoint.url} will get no more events")
    return redirect("workers:webhooks")
