"""Inviting someone to make an account, and accepting the invitation."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Role
from proposals.permissions import GRANTABLE_ROLES

WHAT_EACH_ROLE_DOES = {
    Role.SUBMITTER: "Submitter: proposes innovations and comments on others'",
    Role.REVIEWER: "Reviewer: also triages and assesses the department's proposals",
    Role.LEAD: "Portfolio lead: also decides, and manages the department and its people",
}
ROLE_CHOICES = [(role.value, WHAT_EACH_ROLE_DOES[role]) for role in GRANTABLE_ROLES]


class InvitationForm(forms.Form):
    # Its format and domain are the service's to check (invitation_create), in one place.
    email = forms.CharField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter an email address",
            "max_length": "Email address must be 254 characters or fewer",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=ROLE_CHOICES,
        initial=Role.SUBMITTER.value,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select their role",
            "invalid_choice": "Select their role",
        },
    )

    def __init__(self, *args: Any, domain: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if domain:
            self.fields["email"].help_text = f"It must end @{domain}."


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={
            "required": "Enter your full name",
            "max_length": "Full name must be 150 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Create a password",
        strip=False,
        help_text="Use at least 8 characters. Do not use a common password or one like your name.",
        error_messages={"required": "Enter a password"},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label="Confirm your password",
        strip=False,
        error_messages={"required": "Confirm your password"},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password"), cleaned.get("password_confirm")
        if first and second and first != second:
            self.add_error("password_confirm", "The passwords do not match")
        return cleaned
