"""Evaluation plans of experiments, to the Magenta Book, in the Evaluation
Registry's shape: planned before the experiment starts (required when the
department says so), then the actual dates and the published report (or why it
is unpublished) recorded as the work goes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Department, User
from proposals.enums import (
    EconomicDesign,
    EvaluationType,
    ImpactDesign,
    ProcessDesign,
    UnpublishedReason,
)
from proposals.models import EvaluationPlan, Experiment
from proposals.services.base import audit, enforce

Errors = dict[str, list[str]]

# Each type's designs, with the field holding them and the message when none is chosen.
DESIGNS: dict[str, tuple[str, type[Any], str]] = {
    EvaluationType.IMPACT: (
        "impact_designs",
        ImpactDesign,
        "Select at least one design for the impact evaluation",
    ),
    EvaluationType.PROCESS: (
        "process_designs",
        ProcessDesign,
        "Select at least one method for the process evaluation",
    ),
    EvaluationType.ECONOMIC: (
        "economic_designs",
        EconomicDesign,
        "Select at least one method for the economic evaluation",
    ),
}

# Intended dates, each with its error when missing (GOV.UK: "Enter …").
INTENDED_DATES = {
    "evaluation_start": "Enter the date the evaluation starts",
    "evaluation_end": "Enter the date the evaluation ends",
    "intervention_start": "Enter the date the intervention starts",
    "intervention_end": "Enter the date the intervention ends",
    "final_report_due": "Enter the date the final report is due",
}
ACTUAL_DATES = (
    "actual_evaluation_start",
    "actual_evaluation_end",
    "actual_intervention_start",
    "actual_intervention_end",
    "final_report_published",
)
# (start, end, message when the end is before the start)
ORDERED_DATES = (
    (
        "evaluation_start",
        "evaluation_end",
        "The date the evaluation ends must be the same as or after the date it starts",
    ),
    (
        "intervention_start",
        "intervention_end",
        "The date the intervention ends must be the same as or after the date it starts",
    ),
    (
        "evaluation_start",
        "final_report_due",
        "The date the final report is due must be the same as or after the evaluation starts",
    ),
    (
        "actual_evaluation_start",
        "actual_evaluation_end",
        "The date the evaluation actually ended must be the same as or after the date it started",
    ),
    (
        "actual_intervention_start",
        "actual_intervention_end",
        "The date the intervention actually ended must be the same as or after the date it "
        "started",
    ),
)
TEXT_FIELDS = ("brief_description", "other_type", "plan_link", "report_link", "reason_unpublished")


def _choices(values: Iterable[Any] | None, allowed: type[Any]) -> list[str]:
    # Kept in the order of the choices, once each, so exports read the same every time.
    chosen = {str(v) for v in (values or [])}
    return [v for v in allowed.values if v in chosen]


def _check(data: Mapping[str, Any], experiment: Experiment) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    raw_types = {str(v) for v in (data.get("evaluation_types") or [])}
    types = _choices(raw_types, EvaluationType)
    if not types or len(types) != len(raw_types):
        errors["evaluation_types"] = ["Select at least one type of evaluation from the list"]
    values: dict[str, Any] = {"evaluation_types": types}
    for kind, (name, allowed, message) in DESIGNS.items():
        raw = {str(v) for v in (data.get(name) or [])}
        chosen = _choices(raw, allowed)
        if len(chosen) != len(raw):
            errors[name] = ["Select designs from the list"]
        # Designs of a type not chosen are not kept: the export would contradict itself.
        values[name] = chosen if kind in types else []
        if kind in types and not chosen and name not in errors:
            errors[name] = [message]
    for name in TEXT_FIELDS:
        values[name] = str(data.get(name) or "").strip()
    if EvaluationType.OTHER in types and not values["other_type"]:
        errors["other_type"] = ["Enter what the other type of evaluation is"]
    if EvaluationType.OTHER not in types:
        values["other_type"] = ""
    if not values["brief_description"]:
        errors["brief_description"] = ["Enter a brief description of the evaluation"]
    lead = data.get("lead_department") or experiment.proposal.department
    if not isinstance(lead, Department):
        errors["lead_department"] = ["Select the lead department"]
    values["lead_department"] = lead
    partners = data.get("partner_departments")
    if partners is None:
        partners = list(experiment.proposal.collaborating_departments.all())
    values["partner_departments"] = [d for d in partners if d != lead]
    cost = data.get("cost_gbp")
    if cost is not None and (not isinstance(cost, int) or cost < 0):
        errors["cost_gbp"] = ["Enter the evaluation's cost as a whole number of pounds"]
    values["cost_gbp"] = cost
    for name, message in INTENDED_DATES.items():
        values[name] = data.get(name)
        if not isinstance(values[name], dt.date):
            errors.setdefault(name, [message])
    for name in ACTUAL_DATES:
        values[name] = data.get(name) or None
    for start, end, message in ORDERED_DATES:
        if values[start] and values[end] and values[end] < values[start]:
            errors.setdefault(end, [message])
    reason = values["reason_unpublished"]
    if reason and reason not in UnpublishedReason.values:
        errors["reason_unpublished"] = ["Select why the report is not published from the list"]
    if values["report_link"]:
        values["reason_unpublished"] = ""  # published: there is no reason to give
    elif values["final_report_published"]:
        errors["report_link"] = ["Enter the link to the published report"]
    for name in ("plan_link", "report_link"):
        link = values[name]
        if link and not link.startswith("https://"):
            errors.setdefault(name, ["Enter a link that starts with https://"])
        elif len(link) > 500:
            errors.setdefault(name, ["Enter a link of 500 characters or fewer"])
    return values, errors


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
    values, errors = _check(data, locked)
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
