"""A person's notifications and their preferences, and a department lead's webhooks.

Thin: forms shape input; `proposals.notifications` and `services` hold the rules.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from proposals import notifications, permissions, services, webhooks
from proposals.forms.account import PreferencesForm, WebhookForm
from proposals.forms.common import add_service_errors

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
            return redirect("account:notifications")
        if action == "mark_all_read":
            count = notifications.mark_read(user=user)  # type: ignore[arg-type]
            messages.success(
                request, f"{count} notification{'s' if count != 1 else ''} marked as read"
            )
            return redirect("account:notifications")
        if action == "preferences" and preferences.is_valid():
            try:
                notifications.preferences_set(user=user, choices=preferences.choices())  # type: ignore[arg-type]
            except ValidationError as error:
                add_service_errors(preferences, error)
            else:
                messages.success(request, "Your email preferences have been saved")
                return redirect("account:notifications")
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
            add_service_errors(form, error)
        else:
            # Shown once, on the next page, then dropped from the session.
            request.session[_ONCE] = {"url": endpoint.url, "secret": secret, "rotated": False}
            return redirect("account:webhooks")
    new_secret = request.session.pop(_ONCE, None)
    if new_secret and new_secret.get("until"):
        new_secret["until"] = dt.datetime.fromisoformat(new_secret["until"])
    return render(
        request,
        "account/webhooks.html",
        {
            "form": form,
            "endpoints": webhooks.endpoints_for(request.user),  # type: ignore[arg-type]
            "deliveries": webhooks.deliveries_for(request.user),  # type: ignore[arg-type]
            "new_secret": new_secret,
            "now": timezone.now(),
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
    return redirect("account:webhooks")


@login_required
@require_POST
def webhook_remove(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _lead_only(request)
    endpoint = webhooks.endpoint_for(request.user, endpoint_id)  # type: ignore[arg-type]
    if endpoint is None:
        raise Http404("No such webhook")
    services.webhook_deactivate(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    messages.success(request, f"{endpoint.url} will get no more events")
    return redirect("account:webhooks")


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _lead_only(request)
    endpoint = webhooks.endpoint_for(request.user, endpoint_id)  # type: ignore[arg-type]
    if endpoint is None:
        raise Http404("No such webhook")
    secret = services.webhook_rotate_secret(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    endpoint.refresh_from_db()
    request.session[_ONCE] = {
        "url": endpoint.url,
        "secret": secret,
        "rotated": True,
        "until": endpoint.previous_secret_expires_at.isoformat()
        if endpoint.previous_secret_expires_at
        else None,
    }
    return redirect("account:webhooks")


@login_required
@require_POST
def webhook_retire_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _lead_only(request)
    endpoint = webhooks.endpoint_for(request.user, endpoint_id)  # type: ignore[arg-type]
    if endpoint is None:
        raise Http404("No such webhook")
    services.webhook_retire_previous_secret(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    messages.success(request, f"Events to {endpoint.url} are now signed with the new secret only")
    return redirect("account:webhooks")
