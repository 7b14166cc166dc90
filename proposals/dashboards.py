"""Reads for the reviewers', leads' and analysts' dashboards.

Every query here starts from `selectors.proposals_visible_to` (or narrows it to
a department), and every number is an aggregate the database computes
(`annotate`/`aggregate`), so a dashboard runs the same few queries whether the
department has ten proposals or a million.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import holidays
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from proposals.enums import (
    ExperimentStatus,
    Recommendation,
    Status,
)
from proposals.models import Adoption, Assessment, Experiment, Outcome, Proposal
from proposals.selectors import (
    adoptions_visible_to,
    experiments_visible_to,
    met_target,
    proposals_visible_to,
    published_outcomes_visible_to,
    scores_hidden_filter,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from accounts.models import User
    from proposals.filters import LessonFilter, QueueFilter


# --- working days (England and Wales) ---------------------------------------------------------


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.UK(subdiv="ENG", years=year).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start).

    A proposal submitted on a Friday is 1 working day old on the Monday.
    Arithmetic on whole weeks, then the bank holidays that fall on weekdays in
    between are taken off, so a proposal years old costs no more than a new one.
    """
    if end <= start:
        return 0
    full_weeks, extra = divmod((end - start).days, 7)
    weekday = start.weekday()
    days = full_weeks * 5 + sum(1 for i in range(1, extra + 1) if (weekday + i) % 7 < 5)
    for year in range(start.year, end.year + 1):
        days -= sum(1 for h in _bank_holidays(year) if start < h <= end and h.weekday() < 5)
    return days


def overdue_before(today: dt.date, target_days: int) -> dt.date:
    """The date from which a submission is still within target.

    A proposal submitted before this date is more than `target_days` working
    days old today. Computed once in Python so the queue can be filtered and
    counted in SQL.
    """
    found = 0
    day = today
    while True:
        if is_working_day(day):
            found += 1
            if found == target_days + 1:
                return day
        day -= dt.timedelta(days=1)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- the triage dashboard ---------------------------------------------------------------------


def department_proposals(user: User) -> QuerySet[Proposal]:
    """The user's department's submitted proposals.

    The department filter, not the full visibility rule: a department's own
    submitted proposals are always visible to its members (the rule's
    departmental clause), and drafts never appear on a dashboard. Written this
    way the planner uses the (department, status, submitted_at) index instead
    of evaluating the rule's OR of EXISTS for every row.
    """
    return Proposal.objects.filter(department_id=user.department_id).exclude(status=Status.DRAFT)


def status_counts(user: User) -> list[dict[str, Any]]:
    """Counts of the department's proposals by status, in the lifecycle's order (1 query)."""
    rows = dict(
        department_proposals(user)
        .exclude(status=Status.DRAFT)
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"))
        .values_list("status", "n")
    )
    return [
        {"status": status, "label": status.label, "count": rows.get(status.value, 0)}
        for status in Status
        if status != Status.DRAFT
    ]


def _filter_queue(queryset: QuerySet[Proposal], filters: QueueFilter | None) -> QuerySet[Proposal]:
    return filters.narrow(queryset) if filters is not None else queryset


def triage_queue(
    user: User, filters: QueueFilter | None = None, *, today: dt.date | None = None
) -> QuerySet[Proposal]:
    """Submitted proposals awaiting triage, oldest first, each marked `overdue` in SQL."""
    department = user.department
    today = today or timezone.localdate()
    boundary = _start_of(overdue_before(today, department.triage_target_days))
    queryset = _filter_queue(department_proposals(user).filter(status=Status.SUBMITTED), filters)
    return (
        queryset.select_related("submitter", "challenge")
        .annotate(overdue=Case(When(submitted_at__lt=boundary, then=True), default=False))
        .order_by("submitted_at", "reference")
    )


def queue_summary(
    user: User, filters: QueueFilter | None = None, *, today: dt.date | None = None
) -> dict:
    """How many wait for triage and how many of those are overdue (1 query)."""
    today = today or timezone.localdate()
    boundary = _start_of(overdue_before(today, user.department.triage_target_days))
    queryset = _filter_queue(department_proposals(user).filter(status=Status.SUBMITTED), filters)
    return queryset.order_by().aggregate(
        total=Count("*"), overdue=Count("status", filter=Q(submitted_at__lt=boundary))
    )


def with_age(rows: list[Proposal], today: dt.date | None = None) -> list[Proposal]:
    """Add `age_days` (working days since submission) to a page of the queue.

    Runs over the page being shown only (at most a page's rows), not the queue.
    """
    today = today or timezone.localdate()
    for row in rows:
        submitted = timezone.localdate(row.submitted_at) if row.submitted_at else today
        row.age_days = working_days_between(submitted, today)  # type: ignore[attr-defined]
    return rows


def assigned_to(user: User) -> QuerySet[Assessment]:
    """Assessments waiting for this reviewer: not submitted, no conflict, still in review."""
    return (
        Assessment.objects.filter(
            assessor=user,
            submitted_at__isnull=True,
            proposal__status=Status.IN_REVIEW,
            proposal__in=proposals_visible_to(user),
        )
        .exclude(conflict_declared=True)
        .select_related("proposal")
        .order_by("proposal__submitted_at")
    )


# --- the panel sheet ------------------------------------------------------------------------


def with_panel_scores(
    queryset: QuerySet[Proposal], threshold: Decimal, viewer: User
) -> QuerySet[Proposal]:
    """Annotate the panel-sheet numbers as `viewer` may read them, all in SQL.

    mean_score = mean of the submitted assessments' weighted scores (each from
    scoring.weighted_score); spread = max − min; `flagged` when the spread is
    above the department's moderation threshold. Where the viewer may not read
    the assessments yet (`selectors.scores_hidden_filter`: they wrote the
    proposal, or have their own assessment still to submit) every figure is
    empty and `scores_hidden` says why, so scoring stays independent.
    """
    hidden = scores_hidden_filter(viewer)
    submitted = Q(assessments__submitted_at__isnull=False, scores_hidden=False)
    decimal: DecimalField[Any, Any] = DecimalField(max_digits=6, decimal_places=3)
    return (
        queryset.annotate(scores_hidden=ExpressionWrapper(hidden, output_field=BooleanField()))
        .annotate(
            mean_score=Avg("assessments__weighted_score", filter=submitted, output_field=decimal),
            max_score=Max("assessments__weighted_score", filter=submitted),
            min_score=Min("assessments__weighted_score", filter=submitted),
            assessments_done=Count("assessments", filter=submitted),
            fund=Count(
                "assessments",
                filter=submitted & Q(assessments__recommendation=Recommendation.FUND),
            ),
            do_not_fund=Count(
                "assessments",
                filter=submitted & Q(assessments__recommendation=Recommendation.DO_NOT_FUND),
            ),
            conflicts=Count(
                "assessments", filter=Q(assessments__conflict_declared=True, scores_hidden=False)
            ),
        )
        .annotate(
            spread=Coalesce(
                F("max_score") - F("min_score"), Value(Decimal(0)), output_field=decimal
            ),
        )
        .annotate(flagged=Case(When(spread__gt=threshold, then=True), default=False))
    )


def panel_sheet(user: User) -> QuerySet[Proposal]:
    """The department's proposals in review, ranked by mean weighted score."""
    return (
        with_panel_scores(
            department_proposals(user).filter(status=Status.IN_REVIEW),
            user.department.moderation_threshold,
            user,
        )
        .select_related("submitter")
        .order_by(F("mean_score").desc(nulls_last=True), "submitted_at", "reference")
    )


def panel_row(proposal: Proposal, viewer: User) -> dict[str, Any] | None:
    """One (already visible) proposal's panel-sheet numbers, as `viewer` may read them."""
    return (
        with_panel_scores(
            Proposal.objects.filter(pk=proposal.pk),
            proposal.department.moderation_threshold,
            viewer,
        )
        .values(  # type: ignore[misc]  # the stubs do not know annotations
            "mean_score",
            "spread",
            "flagged",
            "assessments_done",
            "fund",
            "do_not_fund",
            "scores_hidden",
        )
        .first()
    )


# --- experiments and lessons ------------------------------------------------------------------


def experiments_running_and_due(user: User) -> QuerySet[Experiment]:
    """Planned and running experiments, soonest end first, with their metrics: a
    walk of the partial index `experiment_running_idx` (the same filter and order)."""
    return (
        experiments_visible_to(user)
        .filter(status__in=[ExperimentStatus.PLANNED, ExperimentStatus.RUNNING])
        .select_related("proposal", "proposal__department", "lead")
        .prefetch_related("metrics")
        .order_by("ends_on", "pk")
    )


def experiments_awaiting_outcome(user: User) -> QuerySet[Experiment]:
    """Stopped or finished experiments with no outcome yet (outcome due): the
    flag the services keep (`Experiment.awaiting_outcome`) and its partial index,
    so the few waiting are found without looking at every finished experiment."""
    return (
        experiments_visible_to(user)
        .filter(awaiting_outcome=True)
        .select_related("proposal", "lead")
        .prefetch_related("metrics")
        .order_by("ends_on", "pk")
    )


def lessons(user: User, filters: LessonFilter | None = None) -> QuerySet[Outcome]:
    """The lessons library: published outcomes this user may see, newest first
    (a walk of the partial index `outcome_published_idx`)."""
    queryset = published_outcomes_visible_to(user)
    if filters is not None:
        queryset = filters.narrow(queryset)
    return queryset.select_related(
        "experiment", "experiment__proposal", "experiment__proposal__department"
    ).order_by("-published_at", "-pk")


# --- adoptions: a lesson reused elsewhere, shown both ways ----------------------------------
#
# Counted from `selectors.adoptions_visible_to`: an adoption the viewer may not see
# (someone's draft, another department's department-only proposal) is not counted.
# A department "met its target" when one of its adopting proposals has an
# experiment outcome the viewer may read whose result is met.


@dataclass(frozen=True)
class Adopted:
    """How a lesson, or the proposal it came from, was adopted, as one viewer may see it."""

    departments: int = 0
    met: int = 0
    # The adopting proposals' adoptions, oldest first, each with `met` (bool);
    # only where a page lists them.
    adoptions: Sequence[Adoption] = field(default_factory=list)


def _adopted(adoptions: QuerySet[Adoption], user: User) -> Adopted:
    """One query: the adoptions with their proposal, department and whether it met its target."""
    rows = list(
        adoptions.select_related("proposal__department")
        .annotate(met=met_target(user))
        .order_by("created_at", "pk")
    )
    return Adopted(
        departments=len({a.proposal.department_id for a in rows}),
        met=len({a.proposal.department_id for a in rows if a.met}),
        adoptions=rows,
    )


def adoptions_of_lesson(user: User, outcome: Outcome) -> Adopted:
    return _adopted(adoptions_visible_to(user).filter(outcome=outcome), user)


def adoptions_of_proposal(user: User, proposal: Proposal) -> Adopted:
    """The adoptions of any of this proposal's lessons."""
    return _adopted(adoptions_visible_to(user).filter(outcome__experiment__proposal=proposal), user)


def adoption_counts(user: User, outcomes: Iterable[Outcome]) -> dict[int, Adopted]:
    """For a page of lessons: each one's departments and how many met their target,
    in one aggregate query however many lessons and adoptions."""
    rows = (
        adoptions_visible_to(user)
        .filter(outcome_id__in=[o.pk for o in outcomes])
        .order_by()
        .values("outcome_id")
        .annotate(
            departments=Count("proposal__department_id", distinct=True),
            met=Count("proposal__department_id", distinct=True, filter=Q(met_target(user))),
        )
    )
    return {
        row["outcome_id"]: Adopted(departments=row["departments"], met=row["met"]) for row in rows
    }


@dataclass(frozen=True)
class Origin:
    """Where an adopted proposal came from: the original and its lesson when the
    viewer may see them, else neither (its existence is not disclosed)."""

    proposal: Proposal | None
    outcome_id: int | None


def adopted_from(user: User, proposal: Proposal) -> Origin | None:
    """The lesson this proposal adopted, in one query; None if it adopted none."""
    adoption = (
        Adoption.objects.filter(proposal=proposal)
        .select_related("outcome__experiment__proposal")
        .annotate(
            seen=Exists(published_outcomes_visible_to(user).filter(pk=OuterRef("outcome_id")))
        )
        .first()
    )
    if adoption is None:
        return None
    if not adoption.seen:
        return Origin(proposal=None, outcome_id=None)
    return Origin(proposal=adoption.outcome.experiment.proposal, outcome_id=adoption.outcome_id)
