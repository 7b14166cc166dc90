"""Forms of a department's settings and its people."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from accounts.models import Department, Role, User
from proposals.fields import ModelChoiceField
from proposals.models import Criterion

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
    evaluation_plan_required = forms.BooleanField(
        label="Experiments need an evaluation plan before they start",
        help_text="The plan follows the Magenta Book, ready for the Evaluation Registry",
        required=False,
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

    person = ModelChoiceField(
        label="Who is moving?",
        queryset=User.objects.none(),
        error_messages={
            "required": "Select who is moving",
            "invalid_choice": "Select who is moving",
        },
    )
    department = ModelChoiceField(
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
        assert isinstance(person_field, ModelChoiceField)
        person_field.queryset = User.objects.filter(
            department_id=lead.department_id, is_active=True
        ).exclude(pk=lead.pk)
        department_field = self.fields["department"]
        assert isinstance(department_field, ModelChoiceField)
        department_field.queryset = Department.objects.exclude(pk=lead.department_id)
