"""Evaluation plans of experiments, to the Magenta Book, in the Evaluation
Registry's shape: planned before the experiment starts (required when the
department says so), then the actual dates and the published report (or why it
is unpublished) recorded as the work goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from proposals.models import EvaluationPlan, Experiment
from proposals.registry import plan_values
from proposals.services.base import audit, enforce


@transaction.atomic
def evaluation_plan_save(
    *, experiment: Experiment, actor: User, data: Mapping[str, Any]
) -> EvaluationPlan:
    """Create or update the experiment's evaluation plan. Lead and partner
    departments default to the proposal's department and its collaborating
    departments. Every rule gives a plain-English message for its field."""
    locked = (
        Experiment.objects.select_for_update(of=("self",))
        .select_related("proposal", "proposal__department")
        .get(pk=experiment.pk)
    )
    enforce(actor, "plan_evaluation", locked)
    values, errors = plan_values(data, locked)
    if errors:
        raise ValidationError(errors)
    plan = EvaluationPlan.objects.filter(experiment=locked).first()
    created = plan is None
    if plan is None:
        plan = EvaluationPlan(experiment=locked)
    partners = values.pop("partner_departments")
    before = {name: getattr(plan, name) for name in values} if not created else {}
    now = timezone.now()
    for name, value in values.items():
        setattr(plan, name, value)
    plan.updated_at = now
    plan.save()
    plan.partner_departments.set(partners)
    changes = {
        name: (before.get(name), value)
        for name, value in values.items()
        if created or before.get(name) != value
    }
    audit(
        actor=actor,
        action="plan_evaluation" if created else "update_evaluation",
        obj=plan,
        proposal=locked.proposal,
        changes=changes,
    )
    return plan
