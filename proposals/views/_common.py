"""What the page views share: turning service errors into pages (the page conventions)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User


def user_of(request: HttpRequest) -> User:
    """The signed-in user of a `login_required` view, typed as our User."""
    user = request.user
    if not isinstance(user, User):  # only reachable from a view without login_required
        raise PermissionDenied("Sign in to use this page")
    return user


def conflict(request: HttpRequest, message: str, back_url: str) -> HttpResponse:
    """The page for InvalidTransition: someone acted first; nothing was overwritten (409)."""
    context: dict[str, Any] = {"message": message, "back_url": back_url}
    return render(request, "proposals/conflict.html", context, status=409)
