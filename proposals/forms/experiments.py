"""Forms for planning an experiment, stopping it and recording its outcome."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import Department, Role, User
from proposals.enums import Direction, NextStep, OutcomeResult
from proposals.forms.common import DATE_WIDGET, blank
from proposals.models import Experiment

# --- experiments -------------------------------------------------------------------------------

METRIC_ROWS = 3


class ExperimentForm(forms.Form):
    title = forms.CharField(label="What is the experiment called?", max_length=150)
    we_believe = forms.CharField(
        label="We believe that…",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter what you believe"},
    )
    will_result_in = forms.CharField(
        label="…will result in…",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter what it will result in"},
    )
    we_will_know_when = forms.CharField(
        label="We will know we are right when…",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter how you will know you are right"},
    )
    lead = forms.ModelChoiceField(
        label="Who leads the experiment?",
        queryset=User.objects.none(),
        error_messages={"required": "Select who leads the experiment"},
    )
    starts_on = forms.DateField(
        label="Start date",
        widget=DATE_WIDGET,
        error_messages={"required": "Enter the start date", "invalid": "Enter a real start date"},
    )
    ends_on = forms.DateField(
        label="End date",
        widget=DATE_WIDGET,
        error_messages={"required": "Enter the end date", "invalid": "Enter a real end date"},
    )
    budget_gbp = forms.IntegerField(
        label="Budget, in pounds",
        min_value=0,
        required=False,
        error_messages={"invalid": "Enter the budget as a whole number of pounds"},
    )

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["lead"]).queryset = User.objects.filter(
            department=department, is_active=True
        ).exclude(role=Role.ANALYST)
        for i in range(METRIC_ROWS):
            n = i + 1
            self.fields[f"metrics-{i}-name"] = forms.CharField(
                label=f"Metric {n} name", required=False, max_length=100
            )
            self.fields[f"metrics-{i}-unit"] = forms.CharField(
                label=f"Metric {n} unit", required=False, max_length=40
            )
            self.fields[f"metrics-{i}-baseline"] = forms.CharField(
                label=f"Metric {n} baseline", required=False, max_length=20
            )
            self.fields[f"metrics-{i}-target"] = forms.CharField(
                label=f"Metric {n} target", required=False, max_length=20
            )
            self.fields[f"metrics-{i}-direction"] = forms.ChoiceField(
                label=f"Metric {n}: better is",
                required=False,
                choices=blank(Direction.choices, "Select"),
            )

    def metric_rows(self) -> list[list[forms.BoundField]]:
        parts = ("name", "unit", "baseline", "target", "direction")
        return [[self[f"metrics-{i}-{p}"] for p in parts] for i in range(METRIC_ROWS)]

    def metrics(self) -> list[dict[str, Any]]:
        """The rows with a name; an empty row is left out."""
        rows = []
        for i in range(METRIC_ROWS):
            row = {
                p: self.cleaned_data.get(f"metrics-{i}-{p}") or ""
                for p in ("name", "unit", "baseline", "target", "direction")
            }
            if any(str(v).strip() for v in row.values()):
                rows.append(row)
        return rows

    def experiment_data(self) -> dict[str, Any]:
        names = (
            "title",
            "we_believe",
            "will_result_in",
            "we_will_know_when",
            "lead",
            "starts_on",
            "ends_on",
            "budget_gbp",
        )
        return {n: self.cleaned_data.get(n) for n in names}


class StopForm(forms.Form):
    reason = forms.CharField(
        label="Why is the experiment stopping early?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why the experiment is stopping early"},
    )


class OutcomeForm(forms.Form):
    result = forms.ChoiceField(
        label="What was the result?",
        choices=OutcomeResult.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the result"},
    )
    lessons = forms.CharField(
        label="What did you learn?",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter the lessons learned"},
    )
    recommendation = forms.ChoiceField(
        label="What do you recommend?",
        choices=NextStep.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to scale, iterate or stop"},
    )
    realised_benefit_gbp = forms.IntegerField(
        label="Realised benefit, in pounds",
        required=False,
        min_value=0,
        error_messages={"invalid": "Enter the realised benefit as a whole number of pounds"},
    )
    publish = forms.BooleanField(label="Publish it to the lessons library now", required=False)

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.experiment_metrics = list(experiment.metrics.all())
        for metric in self.experiment_metrics:
            self.fields[f"actual_{metric.pk}"] = forms.CharField(
                label=f"Actual value of “{metric.name}” ({metric.unit})",
                help_text=f"Baseline {metric.baseline}, target {metric.target}",
                max_length=20,
                error_messages={"required": f"Enter the actual value of “{metric.name}”"},
            )

    def actual_fields(self) -> list[forms.BoundField]:
        return [self[f"actual_{m.pk}"] for m in self.experiment_metrics]

    def actuals(self) -> dict[int, str]:
        return {m.pk: self.cleaned_data[f"actual_{m.pk}"] for m in self.experiment_metrics}
