"""The report request form."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import Department
from proposals.enums import (
    ReportFormat,
    ReportKind,
    Status,
)
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
    status = forms.ChoiceField(label="Status", required=False)
    department = forms.ChoiceField(label="Department", required=False)
    theme = forms.ChoiceField(label="Theme", required=False)
    search = forms.CharField(
        label="Words to search for",
        required=False,
        max_length=200,
        help_text="Or a reference, like DFE-2026-0042",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_fields = {name: cast(forms.ChoiceField, self.fields[name]) for name in FILTERS}
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

    def filters(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name]
            for name in ("status", "department", "theme", "search")
            if self.cleaned_data.get(name)
        }
