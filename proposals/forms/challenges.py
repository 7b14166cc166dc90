"""Opening a challenge (a call for ideas)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from proposals.models import Theme


class DateParts(forms.CharField):
    """A GOV.UK date typed as DD/MM/YYYY or YYYY-MM-DD, with GOV.UK error messages."""

    def __init__(self, *, label: str, **kwargs: Any) -> None:
        self.what = label
        super().__init__(
            label=label,
            help_text="For example, 27/3/2027",
            max_length=10,
            error_messages={"required": f"Enter the date the challenge {label.split()[-1]}"},
            **kwargs,
        )

    def clean(self, value: Any) -> dt.date:  # type: ignore[override]
        text = super().clean(value).strip()
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d %m %Y"):
            try:
                return dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise forms.ValidationError(f"{self.what} must be a real date, like 27/3/2027")


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
    themes = forms.ModelMultipleChoiceField(
        label="Themes",
        help_text="Select all that apply.",
        queryset=Theme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    opens_on = DateParts(label="Date it opens")
    closes_on = DateParts(label="Date it closes")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        opens, closes = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error(
                "closes_on", "The closing date must be the same as or after the opening date"
            )
        return cleaned
