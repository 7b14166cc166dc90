"""Forms for triage, assessment, decisions, experiments, lessons, the portfolio and
department settings (issue 4). They shape input; the services hold the rules."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Department, Role, User
from proposals.enums import CostBand, Direction, NextStep, OutcomeResult, Recommendation
from proposals.models import Challenge, Criterion, Experiment, Theme

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: known fields get their own
    message, the rest go to the top of the error summary."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def _blank(choices: Iterable[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


# --- triage ------------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    q = forms.CharField(label="Search proposals", required=False, max_length=200)
    theme = forms.ChoiceField(label="Theme", required=False)
    challenge = forms.ChoiceField(label="Challenge", required=False)
    cost_band = forms.ChoiceField(
        label="Estimated cost", required=False, choices=_blank(CostBand.choices, "Any cost")
    )
    submitted_from = forms.DateField(
        label="Submitted on or after",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )
    submitted_to = forms.DateField(
        label="Submitted on or before",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "theme").choices = _blank(
            Theme.objects.values_list("slug", "name"), "Any theme"
        )
        _choice_field(self, "challenge").choices = _blank(
            Challenge.objects.filter(department__in=[department.pk, None])
            .values_list("slug", "title")
            .order_by("title"),
            "Any challenge",
        )


class AssessorsField(forms.ModelMultipleChoiceField):
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
        _choice_field(self, "references").choices = [(r, r) for r in references]
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
                choices=_blank(Direction.choices, "Select"),
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


# --- lessons and portfolio ---------------------------------------------------------------------


class LessonFilterForm(forms.Form):
    q = forms.CharField(label="Search lessons", required=False, max_length=200)
    result = forms.ChoiceField(
        label="Result", required=False, choices=_blank(OutcomeResult.choices, "Any result")
    )
    theme = forms.ChoiceField(label="Theme", required=False)
    department = forms.ChoiceField(label="Department", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "theme").choices = _blank(
            Theme.objects.values_list("slug", "name"), "Any theme"
        )
        _choice_field(self, "department").choices = _blank(
            Department.objects.values_list("slug", "name"), "Any department"
        )


class PortfolioFilterForm(forms.Form):
    department = forms.ModelChoiceField(
        label="Department",
        required=False,
        queryset=Department.objects.all(),
        to_field_name="slug",
        empty_label="All of government",
    )
    period_from = forms.DateField(
        label="Submitted on or after",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )
    period_to = forms.DateField(
        label="Submitted on or before",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )


# --- department settings -----------------------------------------------------------------------


class DepartmentSettingsForm(forms.Form):
    triage_target_days = forms.IntegerField(
        label="Triage target, in working days",
        min_value=1,
        max_value=90,
        error_messages={"required": "Enter the triage target"},
    )
    min_assessments = forms.IntegerField(
        label="Completed assessments needed before a decision",
        min_value=1,
        max_value=10,
        error_messages={"required": "Enter the number of assessments needed"},
    )
    moderation_threshold = forms.DecimalField(
        label="Moderation threshold",
        help_text="Flag a proposal when its assessors' weighted scores differ by more than this",
        min_value=0,
        max_value=4,
        max_digits=4,
        decimal_places=2,
        error_messages={"required": "Enter the moderation threshold"},
    )

    def __init__(self, *args: Any, criteria: list[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        # The existing criteria, then one blank row to add a new one.
        for i, criterion in enumerate([*criteria, None]):
            self._add_criterion_fields(i, criterion)

    def _add_criterion_fields(self, i: int, criterion: Criterion | None) -> None:
        title = "New criterion" if criterion is None else criterion.name
        self.fields[f"criterion-{i}-id"] = forms.IntegerField(
            required=False,
            widget=forms.HiddenInput,
            initial=None if criterion is None else criterion.pk,
        )
        self.fields[f"criterion-{i}-name"] = forms.CharField(
            label=f"{title}: name",
            required=False,
            max_length=100,
            initial="" if criterion is None else criterion.name,
        )
        self.fields[f"criterion-{i}-description"] = forms.CharField(
            label=f"{title}: description",
            required=False,
            max_length=300,
            initial="" if criterion is None else criterion.description,
        )
        self.fields[f"criterion-{i}-weight"] = forms.DecimalField(
            label=f"{title}: weight",
            required=False,
            min_value=Decimal("0.01"),
            max_value=999,
            max_digits=5,
            decimal_places=2,
            initial=None if criterion is None else criterion.weight,
        )
        self.fields[f"criterion-{i}-active"] = forms.BooleanField(
            label=f"Use “{title}” when assessing",
            required=False,
            # A new criterion is used unless the lead says otherwise.
            initial=True if criterion is None else criterion.active,
        )

    def criterion_rows(self) -> list[list[forms.BoundField]]:
        parts = ("id", "name", "description", "weight", "active")
        return [[self[f"criterion-{i}-{p}"] for p in parts] for i in range(len(self.criteria) + 1)]

    def criteria_data(self) -> list[dict[str, Any]]:
        rows = []
        for i in range(len(self.criteria) + 1):
            get = self.cleaned_data.get
            name = (get(f"criterion-{i}-name") or "").strip()
            pk = get(f"criterion-{i}-id")
            if pk is None and not name:
                continue  # the blank "new" row left empty
            if pk is None and get(f"criterion-{i}-weight") is None:
                self.add_error(f"criterion-{i}-weight", "Enter the new criterion's weight")
                continue
            row: dict[str, Any] = {
                "name": name,
                "description": get(f"criterion-{i}-description") or "",
                "active": bool(get(f"criterion-{i}-active")),
            }
            if pk is not None:
                row["id"] = pk
            if get(f"criterion-{i}-weight") is not None:
                row["weight"] = get(f"criterion-{i}-weight")
            rows.append(row)
        return rows


ROLE_CHOICES = [
    (Role.SUBMITTER.value, "Submitter"),
    (Role.REVIEWER.value, "Reviewer"),
    (Role.LEAD.value, "Portfolio lead"),
]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)


class MoveForm(forms.Form):
    """A lead moves a colleague out of the department (to where they now work)."""

    person = forms.ModelChoiceField(
        label="Who is moving?",
        queryset=User.objects.none(),
        error_messages={
            "required": "Select who is moving",
            "invalid_choice": "Select who is moving",
        },
    )
    department = forms.ModelChoiceField(
        label="Which department are they moving to?",
        queryset=Department.objects.all(),
        to_field_name="slug",
        error_messages={
            "required": "Select the department they are moving to",
            "invalid_choice": "Select the department they are moving to",
        },
    )

    def __init__(self, *args: Any, lead: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person_field = self.fields["person"]
        assert isinstance(person_field, forms.ModelChoiceField)
        person_field.queryset = User.objects.filter(
            department_id=lead.department_id, is_active=True
        ).exclude(pk=lead.pk)
        department_field = self.fields["department"]
        assert isinstance(department_field, forms.ModelChoiceField)
        department_field.queryset = Department.objects.exclude(pk=lead.department_id)
