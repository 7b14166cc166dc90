"""The lessons library's filters."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Department
from proposals.enums import OutcomeResult
from proposals.forms.common import blank, choice_field
from proposals.models import Theme

# --- lessons and portfolio ---------------------------------------------------------------------


class LessonFilterForm(forms.Form):
    q = forms.CharField(label="Search lessons", required=False, max_length=200)
    result = forms.ChoiceField(
        label="Result", required=False, choices=blank(OutcomeResult.choices, "Any result")
    )
    theme = forms.ChoiceField(label="Theme", required=False)
    department = forms.ChoiceField(label="Department", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "theme").choices = blank(
            Theme.objects.values_list("slug", "name"), "Any theme"
        )
        choice_field(self, "department").choices = blank(
            Department.objects.values_list("slug", "name"), "Any department"
        )
