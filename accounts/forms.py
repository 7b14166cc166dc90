"""Sign-in and password reset forms, worded as the GOV.UK Design System asks."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms


class SignInForm(auth_forms.AuthenticationForm):
    """Email and password. The field stays named `username`: authenticate() passes
    it on under that name, which the lockout counts failures by (accounts.lockout)."""

    username = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@department.gov.uk",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        error_messages={"required": "Enter your password"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        # One message for a wrong email, a wrong password and a deactivated
        # account alike, so the form does not reveal which accounts exist.
        "invalid_login": "Enter a correct email address and password",
        "inactive": "Enter a correct email address and password",
    }

    def clean_username(self) -> str:
        # Accounts are stored in lower case (UserManager.create_user).
        return self.cleaned_data["username"].strip().lower()


class PasswordResetRequestForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@department.gov.uk",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class NewPasswordForm(auth_forms.SetPasswordForm):
    """Django's SetPasswordForm with GOV.UK wording."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields[
            "new_password1"
        ].help_text = (
            "Use at least 8 characters. Do not use a common password or one like your name."
        )
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].label = "Confirm new password"
        self.fields["new_password2"].help_text = ""
        self.fields["new_password2"].error_messages["required"] = "Confirm your new password"
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": "The passwords do not match",
        }
