"""Forms for planning an experiment, stopping it and recording its outcome."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms

from accounts.models import Department, Role, User
from proposals.enums import Direction, NextStep, OutcomeResult
from proposals.forms.common import DATE_PARTS, GovukDateField, blank
from proposals.models import Experiment

BIGINT_MAX = 2**63 - 1


def _is_number(text: str) -> bool:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return False
    # A metric holds 14 digits with 2 after the point (Metric.baseline).
    return value.is_finite() and abs(value) < Decimal("1e12")

# --- experiments -------------------------------------------------------------------------------

METRIC_PARTS = ("name", "unit", "baseline", "target", "direction")
_METRIC_KEY = re.compile(r"^metrics-(\d{1,4})-(name|unit|baseline|target|direction)$")


def metric_rows_posted(data: Mapping[str, Any] | None) -> list[int]:
    """The metric rows a posted form holds, by their index, in order. Rows are
    numbered by the page; a removed row leaves a gap, which is fine."""
    if not data:
        return [0]
    found = sorted({int(m.group(1)) for key in data if (m := _METRIC_KEY.match(key))})
    return found or [0]


class ExperimentForm(forms.Form):
    """The experiment: its hypothesis, lead, dates (GOV.UK date inputs), budget and
    any number of metrics ("add another": a button posts the form back with one
    more row, so it works without JavaScript)."""

    title = forms.CharField(
        label="What is the experiment called?",
        max_length=150,
        error_messages={
            "required": "Enter what the experiment is called",
            "max_length": "The experiment's name must be 150 characters or fewer",
        },
    )
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
        error_messages={
            "required": "Select who leads the experiment",
            "invalid_choice": "Select who leads the experiment from the list",
        },
    )
    starts_on = GovukDateField(label="When does the experiment start?", what="start date")
    ends_on = GovukDateField(label="When does the experiment end?", what="end date")
    budget_gbp = forms.IntegerField(
        label="Budget, in pounds",
        min_value=0,
        max_value=BIGINT_MAX,
        required=False,
        error_messages={
            "invalid": "Enter the budget as a whole number of pounds",
            "min_value": "The budget must be £0 or more",
            "max_value": "Enter a smaller budget",
        },
    )

    def __init__(
        self, *args: Any, department: Department, rows: list[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["lead"]).queryset = User.objects.filter(
            department=department, is_active=True
        ).exclude(role=Role.ANALYST)
        self.rows = rows or metric_rows_posted(self.data if self.is_bound else None)
        for position, i in enumerate(self.rows, start=1):
            self._add_metric_fields(i, position)

    @classmethod
    def redisplay(
        cls, data: Mapping[str, Any], *, department: Department, add: bool, remove: int | None
    ) -> ExperimentForm:
        """The form again as it was typed, with a metric row added or removed, and
        no errors yet: adding a row is not submitting."""
        rows = metric_rows_posted(data)
        if add:
            rows.append(max(rows) + 1)
        if remove is not None and remove in rows and len(rows) > 1:
            rows.remove(remove)
        initial: dict[str, Any] = {key: data.get(key) for key in data}
        for name in ("starts_on", "ends_on"):
            initial[name] = [str(data.get(f"{name}-{p}") or "") for p in DATE_PARTS]
        return cls(department=department, rows=rows, initial=initial)

    def _add_metric_fields(self, i: int, n: int) -> None:
        self.fields[f"metrics-{i}-name"] = forms.CharField(
            label="Name",
            required=False,
            max_length=100,
            error_messages={"max_length": f"The name of metric {n} must be 100 characters or fewer"},
        )
        self.fields[f"metrics-{i}-unit"] = forms.CharField(
            label="Unit",
            help_text="For example, hours, £ or % of cases",
            required=False,
            max_length=40,
            error_messages={"max_length": f"The unit of metric {n} must be 40 characters or fewer"},
        )
        self.fields[f"metrics-{i}-baseline"] = forms.CharField(
            label="Baseline", required=False, max_length=20
        )
        self.fields[f"metrics-{i}-target"] = forms.CharField(
            label="Target", required=False, max_length=20
        )
        self.fields[f"metrics-{i}-direction"] = forms.ChoiceField(
            label="Better is",
            required=False,
            choices=blank(Direction.choices, "Select"),
            error_messages={"invalid_choice": f"Select whether metric {n} should go up or down"},
        )

    def metric_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": i,
                "number": position,
                "fields": [self[f"metrics-{i}-{p}"] for p in METRIC_PARTS],
            }
            for position, i in enumerate(self.rows, start=1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "End date must be the same as or after the start date")
        filled = 0
        for position, i in enumerate(self.rows, start=1):
            row = {p: str(cleaned.get(f"metrics-{i}-{p}") or "").strip() for p in METRIC_PARTS}
            if not any(row.values()):
                continue
            filled += 1
            for name, message in (
                ("name", f"Enter the name of metric {position}"),
                ("unit", f"Enter the unit of metric {position}"),
                ("direction", f"Select whether metric {position} should go up or down"),
            ):
                if not row[name] and not self.has_error(f"metrics-{i}-{name}"):
                    self.add_error(f"metrics-{i}-{name}", message)
            for name, what in (("baseline", "baseline"), ("target", "target")):
                if not row[name]:
                    self.add_error(f"metrics-{i}-{name}", f"Enter the {what} of metric {position}")
                elif not _is_number(row[name]):
                    self.add_error(
                        f"metrics-{i}-{name}",
                        f"Enter the {what} of metric {position} as a number, like 12 or 3.5",
                    )
        if not filled:
            self.add_error(f"metrics-{self.rows[0]}-name", "Add at least one metric")
        return cleaned

    def metrics(self) -> list[dict[str, Any]]:
        """The rows with something in them; an empty row is left out."""
        rows = []
        for i in self.rows:
            row = {p: self.cleaned_data.get(f"metrics-{i}-{p}") or "" for p in METRIC_PARTS}
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
