"""Forms for triage, assessment and decisions. They shape input; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from proposals.enums import NextStep, Recommendation
from proposals.fields import ModelMultipleChoiceField
from proposals.forms.common import choice_field
from proposals.models import Criterion

# --- triage ------------------------------------------------------------------------------------


class AssessorsField(ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name or obj.email


def _assessors(panel: Any) -> AssessorsField:
    return AssessorsField(
        queryset=panel,
        label="Who should assess it?",
        help_text="Select everyone on the panel who should score it",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one assessor"},
    )


class AcceptForm(forms.Form):
    def __init__(self, *args: Any, panel: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessors"] = _assessors(panel)


class BulkAcceptForm(forms.Form):
    references = forms.MultipleChoiceField(
        label="Proposals",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one proposal to accept"},
    )

    def __init__(self, *args: Any, panel: Any, references: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "references").choices = [(r, r) for r in references]
        self.fields["assessors"] = _assessors(panel)


class RequestInfoForm(forms.Form):
    message = forms.CharField(
        label="What information do you need?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter what information you need"},
    )


class RejectForm(forms.Form):
    rationale = forms.CharField(
        label="Why are you rejecting it?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter the reason for rejecting the proposal"},
    )


# --- assessment --------------------------------------------------------------------------------


class ConflictForm(forms.Form):
    conflict = forms.TypedChoiceField(
        label="Do you have a conflict of interest with this proposal?",
        choices=[("no", "No"), ("yes", "Yes")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if you have a conflict of interest"},
    )
    conflict_details = forms.CharField(
        label="If yes, describe the conflict",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class AssessmentForm(forms.Form):
    recommendation = forms.ChoiceField(
        label="Do you recommend funding it?",
        choices=Recommendation.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you recommend funding"},
    )
    comment = forms.CharField(
        label="Overall comment",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, criteria: list[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"How well does it meet “{criterion.name}”?",
                help_text=f"{criterion.description} 1 is poor, 5 is excellent.".strip(),
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Score “{criterion.name}” from 1 to 5"},
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"Comment on “{criterion.name}”",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def criterion_rows(self) -> list[tuple[Criterion, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"score_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]

    def scores(self) -> dict[int, tuple[int, str]]:
        return {
            c.pk: (self.cleaned_data[f"score_{c.pk}"], self.cleaned_data[f"comment_{c.pk}"])
            for c in self.criteria
        }


# --- decisions ---------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="What is your decision?",
        choices=[("approve", "Approve"), ("reject", "Reject")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select approve or reject"},
    )
    rationale = forms.CharField(
        label="Why?",
        help_text="The submitter sees this with the decision",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter the reason for the decision"},
    )


class MergeForm(forms.Form):
    into = forms.CharField(
        label="Which proposal does it duplicate?",
        help_text="Enter the reference of the proposal to keep, like DFE-2026-0042",
        max_length=32,
        error_messages={"required": "Enter the reference of the proposal to merge into"},
    )


class CloseForm(forms.Form):
    next_step = forms.ChoiceField(
        label="What should happen next?",
        choices=NextStep.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to scale, iterate or stop"},
    )
