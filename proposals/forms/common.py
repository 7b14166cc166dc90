"""What the domain's forms share: service errors on a form, choice helpers, the date
input (GOV.UK's day, month and year) and the filters' date widget."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django import forms
from django.core.exceptions import ValidationError

# The GOV.UK date input is shared with the list filters (proposals.filters), below forms.
from proposals.fields import DATE_PARTS, GovukDateField, GovukDateWidget

__all__ = [
    "DATE_PARTS",
    "GovukDateField",
    "GovukDateWidget",
    "add_service_errors",
    "blank",
    "choice_field",
]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: known fields get their own
    message, the rest go to the top of the error summary."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def blank(choices: Iterable[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


# --- the GOV.UK date input (day, month and year) ------------------------------------------
