"""What the page views share: turning service errors into pages (the page conventions)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import User
from proposals import workflow
from proposals.exceptions import Refusal, RefusalKind, Refused
from proposals.models import Experiment, Proposal


def user_of(request: HttpRequest) -> User:
    """The signed-in user of a `login_required` view, typed as our User."""
    user = request.user
    if not isinstance(user, User):  # only reachable from a view without login_required
        raise PermissionDenied("Sign in to use this page")
    return user


def conflict(request: HttpRequest, message: str, back_url: str) -> HttpResponse:
    """The page for a state conflict: it cannot be done now; nothing was overwritten (409)."""
    context: dict[str, Any] = {"message": message, "back_url": back_url}
    return render(request, "proposals/conflict.html", context, status=409)


def refusal_page(
    request: HttpRequest,
    refused: Refusal | BaseException,
    back_url: str,
) -> HttpResponse:
    """The pages' one mapping of a refusal (from `workflow.check` or a service):

    - forbidden: the 403 page, with the rule's reason;
    - conflict: a GOV.UK page saying it cannot be done now, HTTP 409;
    - invalid: a 400 page listing what to correct (views with a form put a
      ValidationError on it instead, with `add_service_errors`).
    """
    if isinstance(refused, BaseException):
        kind = workflow.kind_of(refused)
        if kind is None:
            raise refused
        if isinstance(refused, Refused):
            refusal = refused.refusal
        elif isinstance(refused, ValidationError):
            messages = (
                refused.message_dict
                if hasattr(refused, "error_dict")
                else {"__all__": refused.messages}
            )
            refusal = Refusal(kind, " ".join(refused.messages), messages)
        else:
            refusal = Refusal(kind, str(refused))
    else:
        refusal = refused
    if refusal.kind == RefusalKind.FORBIDDEN:
        raise PermissionDenied(refusal.message)
    if refusal.kind == RefusalKind.CONFLICT:
        return conflict(request, refusal.message, back_url)
    context = {"errors": [t for texts in refusal.errors.values() for t in texts]}
    context["errors"] = context["errors"] or [refusal.message]
    return render(request, "400.html", context, status=400)


def guard(
    request: HttpRequest, action: str, obj: Proposal | Experiment, back_url: str | None = None
) -> HttpResponse | None:
    """`workflow.refusal` for a page: None when the user may act now, else the answer."""
    refusal = workflow.refusal(user_of(request), action, obj)
    if refusal is None:
        return None
    if back_url is None:
        back_url = (
            obj.get_absolute_url()
            if isinstance(obj, Proposal)
            else reverse("experiments:detail", args=[obj.pk])
        )
    return refusal_page(request, refusal, back_url)
