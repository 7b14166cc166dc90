"""The filter panel of Find proposals: a GET form, so every search has an address."""

from __future__ import annotations

from django import forms

from accounts.models import Department
from proposals.enums import Status
from proposals.models import Challenge, Theme

SORTS = (
    # Blank: best match when searching, recently updated otherwise.
    ("", "Best match"),
    ("newest", "Newest"),
    ("updated", "Recently updated"),
    ("supported", "Most supported"),
)
# Drafts are only ever the user's own, so they are a status you can filter by too.
STATUS_CHOICES = [(s.value, s.label) for s in Status]


class FindForm(forms.Form):
    q = forms.CharField(
        label="Search proposals",
        help_text="Words from a proposal, or its reference, like DFE-2026-0042.",
        required=False,
        max_length=200,
        error_messages={"max_length": "Search must be 200 characters or fewer"},
    )
    status = forms.MultipleChoiceField(
        label="Status", choices=STATUS_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    department = forms.ModelChoiceField(
        label="Department",
        queryset=Department.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="All departments",
        error_messages={"invalid_choice": "Select a department from the list"},
    )
    theme = forms.ModelMultipleChoiceField(
        label="Theme",
        queryset=Theme.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select themes from the list"},
    )
    challenge = forms.ModelChoiceField(
        label="Challenge",
        queryset=Challenge.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any or none",
        error_messages={"invalid_choice": "Select a challenge from the list"},
    )
    mine = forms.BooleanField(label="Only proposals I wrote", required=False)
    sort = forms.ChoiceField(label="Sort by", choices=SORTS, required=False)
