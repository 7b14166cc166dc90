"""The report request form."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Department
from proposals.enums import (
    ReportFormat,
    ReportKind,
    Status,
)
from proposals.filters import SEARCH_MAX, report_filters
from proposals.models import Theme

FILTERS = ("status", "department", "theme")


def _optional(choices: list[tuple[str, str]], everything: str) -> list[tuple[str, str]]:
    return [("", everything), *choices]


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="What kind of report do you want?",
        choices=ReportKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of report"},
    )
    format = forms.ChoiceField(
        label="Which format?",
        choices=ReportFormat.choices,
        widget=forms.RadioSelect,
        help_text="ODS opens in LibreOffice, Microsoft Excel and Google Sheets.",
        error_messages={"required": "Select a format"},
    )
    # Shown here, checked by the one proposal filter (`clean`), so a bad value gets
    # the message it gets on Find proposals and from the API.
    status = forms.CharField(label="Status", required=False, widget=forms.Select)
    department = forms.CharField(label="Department", required=False, widget=forms.Select)
    theme = forms.CharField(label="Theme", required=False, widget=forms.Select)
    search = forms.CharField(
        label="Words to search for",
        required=False,
        help_text="Or a reference, like DFE-2026-0042",
        widget=forms.TextInput(attrs={"maxlength": SEARCH_MAX}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_fields = {name: cast(forms.Select, self.fields[name].widget) for name in FILTERS}
        choice_fields["status"].choices = _optional(
            [(s.value, s.label) for s in Status if s != Status.DRAFT], "Any status"
        )
        choice_fields["department"].choices = _optional(
            list(Department.objects.order_by("name").values_list("slug", "name")),
            "All departments",
        )
        choice_fields["theme"].choices = _optional(
            list(Theme.objects.order_by("name").values_list("slug", "name")), "All themes"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            self.checked_filters = report_filters(
                {name: cleaned.get(name) for name in (*FILTERS, "search")}
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(name, message)
        return cleaned

    def filters(self) -> dict[str, str]:
        return self.checked_filters
