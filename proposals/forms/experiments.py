"""Forms for planning an experiment, stopping it and recording its outcome."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms

from accounts.models import Department, Role, User
from proposals.enums import (
    Direction,
    EconomicDesign,
    EvaluationType,
    ImpactDesign,
    NextStep,
    OutcomeResult,
    ProcessDesign,
    UnpublishedReason,
)
from proposals.fields import ModelChoiceField, ModelMultipleChoiceField
from proposals.forms.common import DATE_PARTS, GovukDateField, blank
from proposals.models import EvaluationPlan, Experiment
from proposals.registry import REPORT_DEADLINE, plan_values

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
    lead = ModelChoiceField(
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
        cast(ModelChoiceField, self.fields["lead"]).queryset = User.objects.filter(
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
            error_messages={
                "max_length": f"The name of metric {n} must be 100 characters or fewer"
            },
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
        label="Realised benefit so far, in pounds a year",
        required=False,
        min_value=0,
        max_value=BIGINT_MAX,
        error_messages={
            "invalid": "Enter the realised benefit as a whole number of pounds",
            "min_value": "The realised benefit must be £0 or more",
            "max_value": "Enter a smaller realised benefit",
        },
    )
    realised_hours_saved = forms.IntegerField(
        label="Hours saved so far, a year",
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        error_messages={
            "invalid": "Enter the hours saved as a whole number",
            "min_value": "The hours saved must be 0 or more",
            "max_value": "Enter fewer hours saved",
        },
    )
    benefit_owner = ModelChoiceField(
        label="Who owns the benefit?",
        help_text="They are reminded when each benefit review is due, at 6 and 12 months.",
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Select who owns the benefit from the list"},
    )
    benefit_review_on = GovukDateField(
        label="When is the first benefit review?",
        what="date of the first benefit review",
        help_text="Leave it empty for 6 months from today. For example, 27 3 2027",
        required=False,
    )
    publish = forms.BooleanField(label="Publish it to the lessons library now", required=False)

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(ModelChoiceField, self.fields["benefit_owner"]).queryset = User.objects.filter(
            department_id=experiment.proposal.department_id, is_active=True
        ).exclude(role=Role.ANALYST)
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


# --- the evaluation plan (Magenta Book) ---------------------------------------------------------

INTENDED_DATE_FIELDS = (
    ("evaluation_start", "When does the evaluation start?", "date the evaluation starts"),
    ("evaluation_end", "When does the evaluation end?", "date the evaluation ends"),
    ("intervention_start", "When does the intervention start?", "date the intervention starts"),
    ("intervention_end", "When does the intervention end?", "date the intervention ends"),
    ("final_report_due", "When is the final report due?", "date the final report is due"),
)
ACTUAL_DATE_FIELDS = (
    ("actual_evaluation_start", "When did the evaluation start?", "actual start date"),
    ("actual_evaluation_end", "When did the evaluation end?", "actual end date"),
    (
        "actual_intervention_start",
        "When did the intervention start?",
        "intervention's actual start date",
    ),
    (
        "actual_intervention_end",
        "When did the intervention end?",
        "intervention's actual end date",
    ),
    (
        "final_report_published",
        "When was the final report published?",
        "date the report was published",
    ),
)


def _departments() -> ModelMultipleChoiceField:
    return ModelMultipleChoiceField(
        label="Which departments are partners in the evaluation?",
        help_text="The proposal's collaborating departments to begin with. Select all that apply.",
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select partner departments from the list"},
    )


class EvaluationPlanForm(forms.Form):
    """The evaluation plan: Magenta Book types and designs, who leads, cost and
    dates; then, as the work goes, the actual dates and the published report."""

    evaluation_types = forms.MultipleChoiceField(
        label="What types of evaluation will you do?",
        help_text="Select all that apply.",
        choices=EvaluationType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one type of evaluation",
            "invalid_choice": "Select types of evaluation from the list",
        },
    )
    impact_designs = forms.MultipleChoiceField(
        label="If it is an impact evaluation, which designs?",
        help_text=(
            "Experimental (randomised controlled trials), quasi-experimental or "
            "theory-based, as the Magenta Book describes them."
        ),
        choices=ImpactDesign.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select impact designs from the list"},
    )
    process_designs = forms.MultipleChoiceField(
        label="If it is a process evaluation, which methods?",
        choices=ProcessDesign.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select process methods from the list"},
    )
    economic_designs = forms.MultipleChoiceField(
        label="If it is an economic or value for money evaluation, which methods?",
        choices=EconomicDesign.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select economic methods from the list"},
    )
    other_type = forms.CharField(
        label="If it is another type of evaluation, what is it?",
        required=False,
        max_length=200,
        error_messages={"max_length": "The other type must be 200 characters or fewer"},
    )
    brief_description = forms.CharField(
        label="Describe the evaluation briefly",
        help_text="What it will find out and how. This is what the Evaluation Registry shows.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Enter a brief description of the evaluation",
            "max_length": "The description must be 5,000 characters or fewer",
        },
    )
    lead_department = ModelChoiceField(
        label="Which department leads the evaluation?",
        queryset=Department.objects.order_by("name"),
        error_messages={
            "required": "Select the lead department",
            "invalid_choice": "Select the lead department from the list",
        },
    )
    partner_departments = _departments()
    cost_gbp = forms.IntegerField(
        label="What does the evaluation cost, in pounds?",
        required=False,
        min_value=0,
        max_value=BIGINT_MAX,
        error_messages={
            "invalid": "Enter the evaluation's cost as a whole number of pounds",
            "min_value": "The evaluation's cost must be £0 or more",
            "max_value": "Enter a smaller cost",
        },
    )
    plan_link = forms.CharField(
        label="Link to the evaluation plan",
        help_text="For example, https://www.gov.uk/government/publications/…",
        required=False,
        max_length=500,
        error_messages={"max_length": "Enter a link of 500 characters or fewer"},
    )
    report_link = forms.CharField(
        label="Link to the published evaluation report",
        required=False,
        max_length=500,
        error_messages={"max_length": "Enter a link of 500 characters or fewer"},
    )
    reason_unpublished = forms.ChoiceField(
        label="If the report is not published, why not?",
        choices=UnpublishedReason.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select why the report is not published from the list"},
    )

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.experiment = experiment
        for name, label, what in INTENDED_DATE_FIELDS:
            self.fields[name] = GovukDateField(label=label, what=what)
        for name, label, what in ACTUAL_DATE_FIELDS:
            self.fields[name] = GovukDateField(label=label, what=what, required=False)
        # The page's order, so that the error summary lists errors as the page shows them.
        self.order_fields(
            [
                *list(self.fields)[:10],
                *(n for n, _, _ in INTENDED_DATE_FIELDS),
                *(n for n, _, _ in ACTUAL_DATE_FIELDS),
                "report_link",
                "reason_unpublished",
            ]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The plan's own rules (designs for each type, dates in order, a link for a
        # published report), all at once beside the fields' own checks.
        _, errors = plan_values(
            {**cleaned, "partner_departments": list(cleaned.get("partner_departments") or [])},
            self.experiment,
        )
        for name, messages in errors.items():
            if name in self.fields and not self.has_error(name):
                for message in messages:
                    self.add_error(name, message)
        return cleaned

    def intended_dates(self) -> list[forms.BoundField]:
        return [self[name] for name, _, _ in INTENDED_DATE_FIELDS]

    def actual_dates(self) -> list[forms.BoundField]:
        return [self[name] for name, _, _ in ACTUAL_DATE_FIELDS]

    def plan_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["partner_departments"] = list(data.get("partner_departments") or [])
        return data


def evaluation_initial(experiment: Experiment, plan: EvaluationPlan | None) -> dict[str, Any]:
    """What the plan's form starts with: the plan as it is, or, for a new plan,
    the proposal's departments and the experiment's dates (the report due 12
    weeks after the experiment ends, as the Evaluation Task Force asks)."""
    if plan is not None:
        initial: dict[str, Any] = {
            name: getattr(plan, name)
            for name in (
                "evaluation_types",
                "impact_designs",
                "process_designs",
                "economic_designs",
                "other_type",
                "brief_description",
                "cost_gbp",
                "plan_link",
                "report_link",
                "reason_unpublished",
                *(n for n, _, _ in INTENDED_DATE_FIELDS),
                *(n for n, _, _ in ACTUAL_DATE_FIELDS),
            )
        }
        initial["lead_department"] = plan.lead_department_id
        initial["partner_departments"] = [d.pk for d in plan.partner_departments.all()]
        return initial
    proposal = experiment.proposal
    return {
        "lead_department": proposal.department_id,
        "partner_departments": [d.pk for d in proposal.collaborating_departments.all()],
        "evaluation_start": experiment.starts_on,
        "evaluation_end": experiment.ends_on,
        "intervention_start": experiment.starts_on,
        "intervention_end": experiment.ends_on,
        "final_report_due": experiment.ends_on + REPORT_DEADLINE,
    }


class BenefitReviewForm(forms.Form):
    realised_benefit_gbp = forms.IntegerField(
        label="Benefit realised by now, in pounds a year",
        required=False,
        min_value=0,
        max_value=BIGINT_MAX,
        error_messages={
            "invalid": "Enter the realised benefit as a whole number of pounds",
            "min_value": "The realised benefit must be £0 or more",
            "max_value": "Enter a smaller realised benefit",
        },
    )
    realised_hours_saved = forms.IntegerField(
        label="Hours saved by now, a year",
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        error_messages={
            "invalid": "Enter the hours saved as a whole number",
            "min_value": "The hours saved must be 0 or more",
            "max_value": "Enter fewer hours saved",
        },
    )
    note = forms.CharField(
        label="What has changed since the last review?",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "The note must be 5,000 characters or fewer"},
    )
