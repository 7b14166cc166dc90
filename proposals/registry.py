"""The evaluation plan's rules (what a plan needs, `plan_values`) and the
Evaluation Registry's derived fields, decided once: an evaluation's
status and visibility, and its report deadline (12 weeks after the outcome is
signed off). SQL expressions, so that the report, the API and the portfolio
compute them in the database, and Python twins for a single loaded plan.

A leaf beside `scoring`: it knows the tables and the choices, nothing above.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Case, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.fields import CharField
from django.utils import timezone

from accounts.models import Department
from proposals.enums import (
    EconomicDesign,
    EvaluationType,
    ExperimentStatus,
    ImpactDesign,
    ProcessDesign,
    RegistryStatus,
    RegistryVisibility,
    UnpublishedReason,
)
from proposals.models import EvaluationPlan, Experiment

# The Evaluation Task Force's rule: the report is published within 12 weeks of sign-off.
REPORT_WEEKS = 12
REPORT_DEADLINE = dt.timedelta(weeks=REPORT_WEEKS)
# The lead is reminded this long before the deadline.
REMIND_BEFORE = dt.timedelta(weeks=2)

_STARTED = (ExperimentStatus.RUNNING, ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED)


def _published(prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}report_link": ""}) | Q(
        **{f"{prefix}final_report_published__isnull": False}
    )


def _ongoing(prefix: str = "") -> Q:
    return Q(**{f"{prefix}experiment__status__in": _STARTED}) | Q(
        **{f"{prefix}actual_evaluation_start__isnull": False}
    )


def status_expression(prefix: str = "") -> Combinable:
    """complete once a report is published; ongoing once the experiment (or the
    evaluation) has started; planned before. `prefix` reaches the plan from
    another table ("evaluation_plan__")."""
    return Case(
        When(_published(prefix), then=Value(RegistryStatus.COMPLETE.value)),
        When(_ongoing(prefix), then=Value(RegistryStatus.ONGOING.value)),
        default=Value(RegistryStatus.PLANNED.value),
        output_field=CharField(),
    )


def visibility_expression(prefix: str = "") -> Combinable:
    """public once the evaluation's report is published; the Civil Service before."""
    return Case(
        When(
            ~Q(**{f"{prefix}report_link": ""}),
            then=Value(RegistryVisibility.PUBLIC.value),
        ),
        default=Value(RegistryVisibility.CIVIL_SERVICE.value),
        output_field=CharField(),
    )


def status_of(plan: EvaluationPlan) -> RegistryStatus:
    """The Python twin of `status_expression`, for one loaded plan."""
    if plan.report_link or plan.final_report_published:
        return RegistryStatus.COMPLETE
    if plan.experiment.status in _STARTED or plan.actual_evaluation_start:
        return RegistryStatus.ONGOING
    return RegistryStatus.PLANNED


def visibility_of(plan: EvaluationPlan) -> RegistryVisibility:
    return RegistryVisibility.PUBLIC if plan.report_link else RegistryVisibility.CIVIL_SERVICE


def report_deadline(signed_off: dt.datetime | dt.date | None) -> dt.date | None:
    """The date the report must be published by: 12 weeks after sign-off."""
    if signed_off is None:
        return None
    if isinstance(signed_off, dt.datetime):
        day = (
            timezone.localtime(signed_off).date()
            if timezone.is_aware(signed_off)
            else signed_off.date()
        )
    else:
        day = signed_off
    return day + REPORT_DEADLINE


# --- what a plan needs ------------------------------------------------------------------

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
        "The date the intervention actually ended must be the same as or after the date it started",
    ),
)
TEXT_FIELDS = ("brief_description", "other_type", "plan_link", "report_link", "reason_unpublished")


def _choices(values: Iterable[Any] | None, allowed: type[Any]) -> list[str]:
    # Kept in the order of the choices, once each, so exports read the same every time.
    chosen = {str(v) for v in (values or [])}
    return [v for v in allowed.values if v in chosen]


def plan_values(data: Mapping[str, Any], experiment: Experiment) -> tuple[dict[str, Any], Errors]:
    """What an evaluation plan stores from `data`, and every error in it, each
    in plain English for its field. The form shows them all at once; the
    service refuses to save with any."""
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
