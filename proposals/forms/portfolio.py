"""The portfolio dashboard's filters."""

from __future__ import annotations

from django import forms

from accounts.models import Department
from proposals.fields import ModelChoiceField
from proposals.forms.common import GovukDateField

# --- portfolio ---


class PortfolioFilterForm(forms.Form):
    department = ModelChoiceField(
        label="Department",
        required=False,
        queryset=Department.objects.all(),
        to_field_name="slug",
        empty_label="All of government",
    )
    period_from = GovukDateField(
        label="Submitted on or after", what="earliest submission date", required=False
    )
    period_to = GovukDateField(
        label="Submitted on or before", what="latest submission date", required=False
    )
