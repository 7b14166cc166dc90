"""Sign in and out, password reset, the keep-alive ping and the account page.

Django's own auth views do the work; these subclasses only choose the GOV.UK
templates and forms.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import lockout
from accounts.forms import NewPasswordForm, PasswordResetRequestForm, SignInForm
from accounts.middleware import seconds_left


def locked_out(request: HttpRequest) -> HttpResponse:
    """The one lockout page: the same words whether the account, the address, or
    an email with no account behind it was locked, so it reveals nothing."""
    return render(
        request,
        "registration/locked_out.html",
        {"lockout_minutes": settings.SIGN_IN_LOCKOUT_MINUTES},
        status=429,
    )


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        # The failure has just been counted (accounts.lockout); the one that
        # reaches a limit already answers with the lockout page.
        email = form.cleaned_data.get("username") or self.request.POST.get("username")
        if settings.SIGN_IN_LOCKOUT_ENABLED and lockout.is_locked(self.request, email):
            return locked_out(self.request)
        return super().form_invalid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["lockout_minutes"] = settings.SIGN_IN_LOCKOUT_MINUTES
        context["failure_limit"] = settings.SIGN_IN_ACCOUNT_LIMIT
        return context


class SignOutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET), so no link from elsewhere signs people out."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have signed out")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_email_context = {"service_name": settings.SERVICE_NAME, "site_url": settings.SITE_URL}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


@never_cache
@require_GET
def keep_alive(request: HttpRequest) -> JsonResponse:
    """Pinged by the timeout warning's "Stay signed in". The request itself
    resets the idle clock (SessionTimeoutMiddleware); the answer says how long
    the session now has (the idle timeout, or less when its absolute lifetime
    ends sooner), or 401 if it has already ended."""
    if not request.user.is_authenticated:
        return JsonResponse({"expires_in": 0}, status=401)
    return JsonResponse({"expires_in": seconds_left(request)})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """Your account: who you are, and links to the account's own pages."""
    return render(request, "registration/account.html")
