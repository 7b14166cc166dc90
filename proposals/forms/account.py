"""Forms of a person's own settings: notification preferences, webhooks."""

from __future__ import annotations

from typing import Any

from django import forms

from proposals import notifications
from proposals.enums import (
    ALWAYS_ON,
    Frequency,
    NotificationKind,
    WebhookEvent,
)


class PreferencesForm(forms.Form):
    """One immediately/daily/off choice per kind of message; the kinds in
    `ALWAYS_ON` offer no "off", say why, and refuse one sent all the same."""

    def __init__(self, *args: Any, initial_choices: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            always_on = kind.value in ALWAYS_ON
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=[c for c in Frequency.choices if not (always_on and c[0] == Frequency.OFF)],
                widget=forms.RadioSelect,
                initial=initial_choices.get(kind.value, Frequency.IMMEDIATE),
                help_text=f"You cannot turn these off. {ALWAYS_ON[kind.value]}"
                if always_on
                else "",
                error_messages={
                    "required": f"Select how often to get “{kind.label}”",
                    "invalid_choice": notifications.off_refused(kind.value)
                    if always_on
                    else f"Select how often to get “{kind.label}”",
                },
            )

    def choices(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in NotificationKind.values}


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="What is the address of your endpoint?",
        help_text="It must start with https://",
        max_length=500,
        assume_scheme="https",
        error_messages={
            "required": "Enter the address of your endpoint",
            "invalid": "Enter a web address, like https://example.gov.uk/hooks",
        },
        widget=forms.URLInput(attrs={"spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label="Which events should it receive?",
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one event"},
    )
