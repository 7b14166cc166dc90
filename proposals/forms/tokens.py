"""Creating an API token."""

from __future__ import annotations

from django import forms
from django.conf import settings

from accounts.models import TokenScope


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        help_text="What the token is for, so you recognise it later, like “Reporting dashboard”.",
        max_length=100,
        error_messages={
            "required": "Enter a name for the token",
            "max_length": "Name must be 100 characters or fewer",
        },
    )
    scope = forms.ChoiceField(
        label="What can the token do?",
        choices=[
            (TokenScope.READ.value, "Read only: see the proposals you can see"),
            (
                TokenScope.WRITE.value,
                "Read and write: also create drafts and act on proposals as you",
            ),
        ],
        widget=forms.RadioSelect,
        initial=TokenScope.READ.value,
        error_messages={
            "required": "Select what the token can do",
            "invalid_choice": "Select what the token can do",
        },
    )
    days = forms.IntegerField(
        label="How many days should it last?",
        help_text="Between 1 and 366 days.",
        initial=settings.API_TOKEN_DEFAULT_DAYS,
        min_value=1,
        max_value=366,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Enter how many days the token should last",
            "invalid": "Days must be a whole number, like 90",
            "min_value": "A token lasts between 1 and 366 days",
            "max_value": "A token lasts between 1 and 366 days",
        },
    )
