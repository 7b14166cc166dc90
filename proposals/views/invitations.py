"""Invitations: a lead's list and form (/account/invitations/), and the link's
page where the invited person makes their account (/accounts/invitation/<token>/).

Thin: `services.invitation_*` decide, `selectors` read.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import InvitationState
from proposals import permissions, selectors, services
from proposals.exceptions import InvalidTransition, InvitationUnusable
from proposals.forms.common import add_service_errors
from proposals.forms.invitations import AcceptInvitationForm, InvitationForm
from proposals.views._common import user_of

# A new account signs in with its password: named, since more than one backend is set.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# The page for a link that cannot be used, and its status, by reason.
UNUSABLE_STATUS = {
    "unknown": 404,
    InvitationState.EXPIRED.value: 410,
    InvitationState.ACCEPTED.value: 410,
    InvitationState.REVOKED.value: 410,
    "account_exists": 409,
    "signed_in": 409,
}


def _managing(request: HttpRequest) -> None:
    if not permissions.can_manage_invitations(user_of(request)):
        raise PermissionDenied("Only portfolio leads can invite people")


@login_required
@never_cache
@require_http_methods(["GET"])
def invitation_list(request: HttpRequest) -> HttpResponse:
    _managing(request)
    user = user_of(request)
    invitations = list(selectors.invitations_visible_to(user).order_by("-created_at")[:200])
    return render(
        request,
        "account/invitations.html",
        {
            "invitations": invitations,
            "is_operator": permissions.is_operator(user),
            "expiry_days": settings.INVITATION_EXPIRY_DAYS,
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_new(request: HttpRequest) -> HttpResponse:
    _managing(request)
    user = user_of(request)
    lead = permissions.is_lead_of(user, user.department_id)
    domain = user.department.email_domain if lead else ""
    form = InvitationForm(request.POST or None, domain=domain)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=user, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"An invitation has been sent to {invitation.email}")
            return redirect("account:invitations")
    return render(
        request,
        "account/invitation_new.html",
        {"form": form, "department": user.department if lead else None},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _managing(request)
    user = user_of(request)
    invitation = get_object_or_404(selectors.invitations_visible_to(user), pk=pk)
    if request.method == "POST":
        try:
            services.invitation_revoke(invitation=invitation, actor=user)
        except InvalidTransition as error:
            messages.info(request, str(error))
            return redirect("account:invitations")
        messages.success(request, f"The invitation to {invitation.email} has been withdrawn")
        return redirect("account:invitations")
    return render(request, "account/invitation_revoke.html", {"invitation": invitation})


def _unusable(request: HttpRequest, reason: str) -> HttpResponse:
    return render(
        request,
        "registration/invitation_unusable.html",
        {"reason": reason},
        status=UNUSABLE_STATUS.get(reason, 410),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: full name and a password make the account, signed in."""
    if request.user.is_authenticated:
        return _unusable(request, "signed_in")
    invitation = selectors.invitation_by_token(token)
    reason = services.invitation_refusal(invitation)
    if reason is not None or invitation is None:
        return _unusable(request, reason or "unknown")
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except InvitationUnusable as error:
            return _unusable(request, error.reason)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, f"Your account has been created. Welcome, {user.full_name}")
            return redirect("home")
    return render(
        request,
        "registration/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if form.errors else 200,
    )
