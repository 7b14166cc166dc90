"""Opening a challenge (a call for ideas)."""

from __future__ import annotations

from typing import Any

from django import forms

from proposals.fields import ModelMultipleChoiceField
from proposals.forms.common import GovukDateField
from proposals.models import Theme


class ChallengeForm(forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=200,
        error_messages={
            "required": "Enter a title",
            "max_length": "Title must be 200 characters or fewer",
        },
    )
    question = forms.CharField(
        label="What question does the challenge ask?",
        help_text="Say what you want ideas for, who has the problem and what a good answer does.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Enter the question the challenge asks",
            "max_length": "Question must be 5,000 characters or fewer",
        },
    )
    themes = ModelMultipleChoiceField(
        label="Themes",
        help_text="Select all that apply.",
        queryset=Theme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    opens_on = GovukDateField(label="When does it open?", what="date it opens")
    closes_on = GovukDateField(label="When does it close?", what="date it closes")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        opens, closes = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error("closes_on", "The date it closes must be the same as or after it opens")
        return cleaned
