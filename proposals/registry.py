"""The Evaluation Registry's derived fields, decided once: an evaluation's
status and visibility, and its report deadline (12 weeks after the outcome is
signed off). SQL expressions, so that the report, the API and the portfolio
compute them in the database, and Python twins for a single loaded plan.

A leaf beside `scoring`: it knows the tables and the choices, nothing above.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.fields import CharField
from django.utils import timezone

from proposals.enums import ExperimentStatus, RegistryStatus, RegistryVisibility
from proposals.models import EvaluationPlan

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
        day = timezone.localtime(signed_off).date() if timezone.is_aware(signed_off) else signed_off.date()
    else:
        day = signed_off
    return day + REPORT_DEADLINE
