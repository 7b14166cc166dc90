"""The portfolio dashboard's filters."""

from __future__ import annotations

from django import forms

from accounts.models import Department
from proposals.forms.common import DATE_WIDGET

# --- portfolio ---


class PortfolioFilterForm(forms.Form):
    department = forms.ModelChoiceField(
        label="Department",
        required=False,
        queryset=Department.objects.all(),
        to_field_name="slug",
        empty_label="All of government",
    )
    period_from = forms.DateField(
        label="Submitted on or after",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )
    period_to = forms.DateField(
        label="Submitted on or before",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )
