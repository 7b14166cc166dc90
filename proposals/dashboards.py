"""Reads for the reviewers', leads' and analysts' dashboards.

Every query here starts from `selectors.proposals_visible_to` (or narrows it to
a department), and every number is an aggregate the database computes
(`annotate`/`aggregate`), so a dashboard runs the same few queries whether the
department has ten proposals or a million.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import holidays
from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Department, Role
from proposals import permissions as perms
from proposals.enums import (
    FUNNEL,
    EvaluationType,
    ExperimentStatus,
    OutcomeResult,
    Recommendation,
    Status,
)
from proposals.models import Assessment, EvaluationPlan, Experiment, Outcome, Proposal
from proposals.registry import REPORT_DEADLINE
from proposals.selectors import (
    proposals_visible_to,
    published_outcomes_visible_to,
    search_proposals,
)

if TYPE_CHECKING:
    from accounts.models import User


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


@dataclass
class QueueFilters:
    theme: str = ""
    challenge: str = ""
    cost_band: str = ""
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    q: str = ""


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


def _filter_queue(queryset: QuerySet[Proposal], filters: QueueFilters) -> QuerySet[Proposal]:
    if filters.theme:
        queryset = queryset.filter(
            Exists(
                Proposal.themes.through.objects.filter(
                    proposal_id=OuterRef("pk"), theme__slug=filters.theme
                )
            )
        )
    if filters.challenge:
        queryset = queryset.filter(challenge__slug=filters.challenge)
    if filters.cost_band:
        queryset = queryset.filter(cost_band=filters.cost_band)
    if filters.submitted_from:
        queryset = queryset.filter(submitted_at__gte=_start_of(filters.submitted_from))
    if filters.submitted_to:
        queryset = queryset.filter(
            submitted_at__lt=_start_of(filters.submitted_to + dt.timedelta(days=1))
        )
    if filters.q:
        queryset = search_proposals(queryset, filters.q)
    return queryset


def triage_queue(
    user: User, filters: QueueFilters, *, today: dt.date | None = None
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


def queue_summary(user: User, filters: QueueFilters, *, today: dt.date | None = None) -> dict:
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


def panel_members(department: Department) -> QuerySet[User]:
    from accounts.models import User

    return User.objects.filter(
        department=department, role__in=perms.REVIEW_ROLES, is_active=True
    ).order_by("full_name")


# --- the panel sheet ------------------------------------------------------------------------


def with_panel_scores(queryset: QuerySet[Proposal], threshold: Decimal) -> QuerySet[Proposal]:
    """Annotate the panel-sheet numbers, all computed in SQL.

    mean_score = mean of the submitted assessments' weighted scores (each from
    scoring.weighted_score); spread = max − min; `flagged` when the spread is
    above the department's moderation threshold.
    """
    submitted = Q(assessments__submitted_at__isnull=False)
    decimal: DecimalField[Any, Any] = DecimalField(max_digits=6, decimal_places=3)
    return (
        queryset.annotate(
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
            conflicts=Count("assessments", filter=Q(assessments__conflict_declared=True)),
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
        )
        .select_related("submitter")
        .order_by(F("mean_score").desc(nulls_last=True), "submitted_at", "reference")
    )


def panel_row(proposal: Proposal) -> dict[str, Any] | None:
    """One (already visible) proposal's panel-sheet numbers."""
    return (
        with_panel_scores(
            Proposal.objects.filter(pk=proposal.pk), proposal.department.moderation_threshold
        )
        .values(  # type: ignore[misc]  # the stubs do not know annotations
            "mean_score", "spread", "flagged", "assessments_done", "fund", "do_not_fund"
        )
        .first()
    )


# --- experiments and lessons ------------------------------------------------------------------


def experiments_visible_to(user: User) -> QuerySet[Experiment]:
    return Experiment.objects.filter(proposal__in=proposals_visible_to(user))


def experiments_running_and_due(user: User) -> QuerySet[Experiment]:
    """Planned and running experiments, soonest end first, with their metrics."""
    return (
        experiments_visible_to(user)
        .filter(status__in=[ExperimentStatus.PLANNED, ExperimentStatus.RUNNING])
        .select_related("proposal", "proposal__department", "lead")
        .prefetch_related("metrics")
        .order_by("ends_on", "pk")
    )


def experiments_awaiting_outcome(user: User) -> QuerySet[Experiment]:
    """Stopped or finished experiments with no outcome yet (outcome due)."""
    return (
        experiments_visible_to(user)
        .filter(
            status__in=[ExperimentStatus.STOPPED, ExperimentStatus.COMPLETED],
            outcome__isnull=True,
        )
        .select_related("proposal", "lead")
        .prefetch_related("metrics")
        .order_by("ends_on", "pk")
    )


@dataclass
class LessonFilters:
    q: str = ""
    result: str = ""
    theme: str = ""
    department: str = ""


def lessons(user: User, filters: LessonFilters) -> QuerySet[Outcome]:
    """The lessons library: published outcomes this user may see, newest first."""
    queryset = published_outcomes_visible_to(user)
    if filters.result:
        queryset = queryset.filter(result=filters.result)
    if filters.department:
        queryset = queryset.filter(experiment__proposal__department__slug=filters.department)
    if filters.theme:
        queryset = queryset.filter(
            Exists(
                Proposal.themes.through.objects.filter(
                    proposal_id=OuterRef("experiment__proposal_id"), theme__slug=filters.theme
                )
            )
        )
    if filters.q:
        text = filters.q.strip()
        match = Q()
        for word in text.split()[:8]:
            match &= (
                Q(lessons__icontains=word)
                | Q(experiment__title__icontains=word)
                | Q(experiment__proposal__title__icontains=word)
                | Q(experiment__proposal__summary__icontains=word)
                | Q(experiment__proposal__reference__iexact=word)
            )
        queryset = queryset.filter(match)
    return queryset.select_related(
        "experiment", "experiment__proposal", "experiment__proposal__department"
    ).order_by("-published_at", "-pk")


# --- the portfolio ----------------------------------------------------------------------------


class JulianDay(Func):
    """SQLite's julianday(): a timestamp as fractional days."""

    function = "julianday"
    output_field = FloatField()


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(f) WITHIN GROUP (ORDER BY expr)`."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float = 0.5, **extra: Any) -> None:
        super().__init__(expression, fraction=fraction, **extra)


@dataclass
class PortfolioFilters:
    department: Department | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None


@dataclass
class Portfolio:
    scope: str
    funnel: list[dict[str, Any]] = field(default_factory=list)
    other_statuses: list[dict[str, Any]] = field(default_factory=list)
    by_department: list[dict[str, Any]] = field(default_factory=list)
    by_theme: list[dict[str, Any]] = field(default_factory=list)
    median_days_to_decision: float | None = None
    decided: int = 0
    by_result: list[dict[str, Any]] = field(default_factory=list)
    estimated_benefit_gbp: int = 0
    realised_benefit_gbp: int = 0
    total: int = 0
    # Benefits realisation: estimated (approved proposals) against realised (outcomes).
    benefits_by_department: list[dict[str, Any]] = field(default_factory=list)
    benefits_by_theme: list[dict[str, Any]] = field(default_factory=list)
    benefits_by_evaluation_type: list[dict[str, Any]] = field(default_factory=list)
    # Evaluations whose report is past the 12-week deadline with no link, by department.
    evaluations_overdue: list[dict[str, Any]] = field(default_factory=list)


def portfolio_proposals(user: User, filters: PortfolioFilters) -> QuerySet[Proposal]:
    """Submitted proposals in scope: analysts all they may see, leads their department."""
    if user.role == Role.ANALYST:
        queryset = proposals_visible_to(user).exclude(status=Status.DRAFT)
        if filters.department is not None:
            queryset = queryset.filter(department=filters.department)
    else:
        queryset = department_proposals(user)
    if filters.period_from:
        queryset = queryset.filter(submitted_at__gte=_start_of(filters.period_from))
    if filters.period_to:
        queryset = queryset.filter(
            submitted_at__lt=_start_of(filters.period_to + dt.timedelta(days=1))
        )
    return queryset


# Proposals that were approved (whatever happened next): the benefit they promised.
APPROVED_OR_LATER = (Status.APPROVED, Status.EXPERIMENTING, Status.COMPLETED)


DECIDED = Q(decided_at__isnull=False, submitted_at__isnull=False)


def _median_days_sqlite(queryset: QuerySet[Proposal], n: int) -> float | None:
    """SQLite has no percentile_cont: the database sorts the durations and
    returns the middle one or two (one small query; no rows walked in Python)."""
    if n == 0:
        return None
    days = ExpressionWrapper(
        JulianDay("decided_at") - JulianDay("submitted_at"), output_field=FloatField()
    )
    ordered = queryset.filter(DECIDED).order_by().annotate(days=days).order_by("days")
    middle = list(ordered.values_list("days", flat=True)[(n - 1) // 2 : n // 2 + 1])
    return sum(middle) / len(middle)


def portfolio(user: User, filters: PortfolioFilters) -> Portfolio:
    """Every number on the portfolio dashboard, in eleven aggregate queries (four for
    the funnel, departments, themes and results; seven for benefits and evaluations).

    COUNT(*) and COUNT(status), not COUNT(id), so PostgreSQL can answer from the covering
    portfolio indexes without touching the table.
    """
    base = portfolio_proposals(user, filters).order_by()
    scope = (
        user.department.name
        if user.role != Role.ANALYST
        else (filters.department.name if filters.department else "All of government")
    )
    result = Portfolio(scope=scope)

    # 1. Counts by status, the estimated benefit and the median, in one pass.
    aggregates: dict[str, Any] = {
        f"status_{s.value}": Count("status", filter=Q(status=s))
        for s in Status
        if s != Status.DRAFT
    }
    aggregates["estimated"] = Coalesce(
        Sum("estimated_benefit_gbp", filter=Q(status__in=APPROVED_OR_LATER)), 0
    )
    aggregates["decided"] = Count("status", filter=DECIDED)
    if settings.IS_POSTGRES:
        from django.db.models import DurationField
        from django.db.models.functions import Extract

        duration = ExpressionWrapper(F("decided_at") - F("submitted_at"), DurationField())
        aggregates["median_seconds"] = PercentileCont(Extract(duration, "epoch"), filter=DECIDED)
    totals = base.aggregate(**aggregates)
    counts = {s.value: totals.get(f"status_{s.value}", 0) for s in Status}
    result.total = sum(counts.values())
    result.funnel = [{"key": s.value, "label": s.label, "count": counts[s.value]} for s in FUNNEL]
    result.other_statuses = [
        {"key": s.value, "label": s.label, "count": counts[s.value]}
        for s in Status
        if s not in FUNNEL and s != Status.DRAFT
    ]
    result.estimated_benefit_gbp = totals["estimated"]
    result.decided = totals["decided"]
    if settings.IS_POSTGRES:
        seconds = totals["median_seconds"]
        result.median_days_to_decision = None if seconds is None else seconds / 86400
    else:
        result.median_days_to_decision = _median_days_sqlite(base, result.decided)

    # 2. By department.
    result.by_department = list(
        base.values("department__name")
        .annotate(
            total=Count("*"),
            approved=Count("status", filter=Q(status__in=APPROVED_OR_LATER)),
            rejected=Count("status", filter=Q(status=Status.REJECTED)),
            estimated=Coalesce(
                Sum("estimated_benefit_gbp", filter=Q(status__in=APPROVED_OR_LATER)), 0
            ),
        )
        .order_by("-total", "department__name")
    )

    # 3. By theme (a proposal with two themes counts under each).
    result.by_theme = [
        {"name": row["themes__name"], "total": row["total"]}
        for row in base.filter(themes__isnull=False)
        .values("themes__name")
        .annotate(total=Count("pk"))
        .order_by("-total", "themes__name")
    ]

    # 4. Experiments' outcomes by result, and the realised benefit.
    outcome_aggregates: dict[str, Any] = {
        r.value: Count("pk", filter=Q(result=r)) for r in OutcomeResult
    }
    outcome_aggregates["realised"] = Coalesce(Sum("realised_benefit_gbp"), 0)
    outcomes = (
        Outcome.objects.filter(experiment__proposal__in=base.values("pk"))
        .order_by()
        .aggregate(**outcome_aggregates)
    )
    result.by_result = [
        {"key": r.value, "label": r.label, "count": outcomes[r.value]} for r in OutcomeResult
    ]
    result.realised_benefit_gbp = outcomes["realised"]
    _benefits(result, base)
    return result


def _compare(
    estimated: Iterable[Mapping[str, Any]], realised: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows of {name, estimated, estimated_hours, realised, realised_hours}, by name."""
    rows: dict[str, dict[str, Any]] = {}
    blank = {"estimated": 0, "estimated_hours": 0, "realised": 0, "realised_hours": 0}
    for source in (estimated, realised):
        for row in source:
            entry = rows.setdefault(row["name"], {"name": row["name"], **blank})
            entry.update({k: v or 0 for k, v in row.items() if k != "name"})
    return sorted(rows.values(), key=lambda r: (-r["estimated"], r["name"]))


def _benefits(result: Portfolio, base: QuerySet[Proposal]) -> None:
    """Estimated against realised benefit by department, theme and Magenta Book
    type, and overdue evaluation reports by department: seven aggregate queries,
    however many proposals."""
    approved = base.filter(status__in=APPROVED_OR_LATER)
    outcomes = Outcome.objects.filter(experiment__proposal__in=base.values("pk")).order_by()
    estimate = {
        "estimated": Coalesce(Sum("estimated_benefit_gbp"), 0),
        "estimated_hours": Coalesce(Sum("hours_saved_per_year"), 0),
    }
    realise = {
        "realised": Coalesce(Sum("realised_benefit_gbp"), 0),
        "realised_hours": Coalesce(Sum("realised_hours_saved"), 0),
    }
    result.benefits_by_department = _compare(
        approved.values(name=F("department__name")).annotate(**estimate).order_by(),
        outcomes.values(name=F("experiment__proposal__department__name"))
        .annotate(**realise)
        .order_by(),
    )
    result.benefits_by_theme = _compare(
        approved.filter(themes__isnull=False)
        .values(name=F("themes__name"))
        .annotate(**estimate)
        .order_by(),
        outcomes.filter(experiment__proposal__themes__isnull=False)
        .values(name=F("experiment__proposal__themes__name"))
        .annotate(**realise)
        .order_by(),
    )

    # Types are a JSON list: `icontains` on its text with the quoted code works on
    # PostgreSQL (jsonb as text) and SQLite alike; no code is inside another.
    def typed(prefix: str, kind: str) -> Q:
        return Q(**{f"{prefix}evaluation_types__icontains": f'"{kind}"'})

    proposal_types: dict[str, Any] = {}
    outcome_types: dict[str, Any] = {}
    for kind in EvaluationType:
        has_type = Exists(
            EvaluationPlan.objects.filter(
                typed("", kind.value), experiment__proposal=OuterRef("pk")
            )
        )
        proposal_types[f"{kind.value}__estimated"] = Coalesce(
            Sum("estimated_benefit_gbp", filter=Q(has_type)), 0
        )
        proposal_types[f"{kind.value}__estimated_hours"] = Coalesce(
            Sum("hours_saved_per_year", filter=Q(has_type)), 0
        )
        in_type = typed("experiment__evaluation_plan__", kind.value)
        outcome_types[f"{kind.value}__realised"] = Coalesce(
            Sum("realised_benefit_gbp", filter=in_type), 0
        )
        outcome_types[f"{kind.value}__realised_hours"] = Coalesce(
            Sum("realised_hours_saved", filter=in_type), 0
        )
    sums = approved.order_by().aggregate(**proposal_types) | outcomes.aggregate(**outcome_types)
    result.benefits_by_evaluation_type = [
        {
            "name": kind.label,
            **{
                part: sums[f"{kind.value}__{part}"]
                for part in ("estimated", "estimated_hours", "realised", "realised_hours")
            },
        }
        for kind in EvaluationType
    ]
    deadline_passed = _start_of(timezone.localdate()) - REPORT_DEADLINE
    result.evaluations_overdue = list(
        EvaluationPlan.objects.filter(
            experiment__proposal__in=base.values("pk"),
            report_link="",
            experiment__outcome__created_at__lt=deadline_passed,
        )
        .values(name=F("experiment__proposal__department__name"))
        .annotate(overdue=Count("pk"))
        .order_by("-overdue", "name")
    )
