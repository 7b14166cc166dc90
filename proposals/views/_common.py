"""What the page views share: turning service errors into pages (the page conventions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError as form errors, so they appear in the error summary;
    errors about a field the form does not have are errors about the whole form."""
    messages = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, texts in messages.items():
        field = name if name in form.fields else None
        for text in texts:
            form.add_error(field, text)


def conflict(request: HttpRequest, message: str, back_url: str) -> HttpResponse:
    """The page for InvalidTransition: someone acted first; nothing was overwritten (409)."""
    context: dict[str, Any] = {"message": message, "back_url": back_url}
    return render(request, "proposals/conflict.html", context, status=409)
