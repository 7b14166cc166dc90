"""The portfolio's figures, computed once for everything that shows them.

The /portfolio/ page, its chart images, the portfolio report and the weekly
summary email all ask `portfolio()`, so a count, a median or a benefit total
is the same number wherever it is read. Every figure is an aggregate the
database computes, in a fixed number of queries whatever the size.

The scope is the same everywhere: a portfolio lead's portfolio is their own
department's submitted proposals; an analyst's is every submitted proposal they
may see (optionally one department's). A lead's portfolio counts all its
department's outcomes; an analyst's the published ones (`outcomes_in_scope`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from accounts.models import Department, Role
from proposals import messages, notifications
from proposals.enums import FUNNEL, EvaluationType, OutcomeResult, Status
from proposals.filters import reported
from proposals.models import EvaluationPlan, Outcome, Proposal
from proposals.registry import REPORT_DEADLINE
from proposals.selectors import proposals_visible_to, published_outcomes_visible_to

if TYPE_CHECKING:
    from accounts.models import User


@dataclass
class PortfolioFilters:
    department: Department | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None


@dataclass
class Portfolio:
    scope: str
    counts: dict[str, int] = field(default_factory=dict)
    funnel: list[dict[str, Any]] = field(default_factory=list)
    other_statuses: list[dict[str, Any]] = field(default_factory=list)
    # One row per department: total, approved, rejected, decided, median_days,
    # estimated, realised, outcomes.
    by_department: list[dict[str, Any]] = field(default_factory=list)
    by_theme: list[dict[str, Any]] = field(default_factory=list)
    median_days_to_decision: float | None = None
    decided: int = 0
    by_result: list[dict[str, Any]] = field(default_factory=list)
    # (department name, result, outcomes), by department then result.
    results_by_department: list[tuple[str, str, int]] = field(default_factory=list)
    estimated_benefit_gbp: int = 0
    realised_benefit_gbp: int = 0
    total: int = 0
    # (status, department name, theme name or None, proposals); only when asked for.
    by_stage: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    # Benefits realisation: estimated (approved proposals) against realised (outcomes).
    benefits_by_department: list[dict[str, Any]] = field(default_factory=list)
    benefits_by_theme: list[dict[str, Any]] = field(default_factory=list)
    benefits_by_evaluation_type: list[dict[str, Any]] = field(default_factory=list)
    # Evaluations whose report is past the 12-week deadline with no link, by department.
    evaluations_overdue: list[dict[str, Any]] = field(default_factory=list)
    # Proposals that adopted another department's lesson, and those of them whose own
    # experiment met its target; by department: {name, adopted, met}.
    adopted: int = 0
    adopted_met: int = 0
    adoptions_by_department: list[dict[str, Any]] = field(default_factory=list)


# Proposals that were approved (whatever happened next): the benefit they promised.
APPROVED_OR_LATER = (Status.APPROVED, Status.EXPERIMENTING, Status.COMPLETED)
DECIDED = Q(decided_at__isnull=False, submitted_at__isnull=False)
_DAY = Decimal(86_400_000_000)  # microseconds


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def outcomes_in_scope(user: User, proposals: QuerySet[Proposal]) -> QuerySet[Outcome]:
    """The outcomes a portfolio counts: of its proposals, and only published ones for an
    analyst (the lessons library's rule). A lead's portfolio is their own department,
    whose people run those experiments: all of its outcomes count, published or not.
    Either way everyone with the same scope gets the same figures (the page's cache)."""
    if user.role == Role.ANALYST:
        return published_outcomes_visible_to(user).filter(
            experiment__proposal__in=proposals.values("pk")
        )
    return Outcome.objects.filter(experiment__proposal__in=proposals.values("pk"))


def portfolio_proposals(user: User, filters: PortfolioFilters) -> QuerySet[Proposal]:
    """Submitted proposals in scope: analysts all they may see, leads their department.

    For a lead, the department filter rather than the full visibility rule: a
    department's own submitted proposals are always visible to its members (the
    rule's departmental clause), and the planner uses the (department, status,
    submitted_at) index instead of the rule's OR of EXISTS for every row.
    """
    if user.role == Role.ANALYST:
        queryset = proposals_visible_to(user).exclude(status=Status.DRAFT)
        if filters.department is not None:
            queryset = queryset.filter(department=filters.department)
    else:
        queryset = Proposal.objects.filter(department_id=user.department_id).exclude(
            status=Status.DRAFT
        )
    if filters.period_from:
        queryset = queryset.filter(submitted_at__gte=_start_of(filters.period_from))
    if filters.period_to:
        queryset = queryset.filter(
            submitted_at__lt=_start_of(filters.period_to + dt.timedelta(days=1))
        )
    return queryset


def median_days(queryset: QuerySet[Proposal], *, by: str | None = None) -> dict[Any, float]:
    """The median number of days from submission to decision of the decided proposals,
    for the whole queryset (key None) or for each value of `by`.

    The one definition, the same on SQLite and PostgreSQL: the durations
    (decided_at − submitted_at, exact to the microsecond) in order; the middle
    one, or the mean of the middle two when there is an even number of them
    (what PostgreSQL's percentile_cont(0.5) gives); in days, rounded half up to
    one decimal place, which is how every door shows it.

    One query: the database numbers each group's durations in order (a window)
    and returns only the middle one or two of each group.
    """
    took = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    partition = [F(by)] if by else None
    middle = (
        queryset.filter(DECIDED)
        .order_by()
        .annotate(took=took)
        .annotate(
            position=Window(RowNumber(), partition_by=partition, order_by=[F("took"), F("pk")]),
            of=Window(Count("pk"), partition_by=partition),
        )
        .filter(position__gte=(F("of") + 1) / 2, position__lte=(F("of") + 2) / 2)
    )
    durations: dict[Any, list[dt.timedelta]] = {}
    for key, duration in middle.values_list(by or "pk", "took"):
        durations.setdefault(key if by else None, []).append(duration)
    result = {}
    for key, values in durations.items():
        microseconds = sum(value // dt.timedelta(microseconds=1) for value in values)
        days = Decimal(microseconds) / (_DAY * len(values))
        result[key] = float(days.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return result


def portfolio(
    user: User,
    filters: PortfolioFilters | None = None,
    *,
    report_filters: Mapping[str, Any] | None = None,
    by_stage: bool = False,
) -> Portfolio:
    """Every figure of the portfolio, in fourteen aggregate queries (fifteen with
    `by_stage`): six for counts, medians, outcomes, departments and themes, seven for
    benefits realisation and overdue evaluations, one for adoptions.

    `report_filters` are a report's stored list filters (status, department,
    theme, search), narrowing the scope as they narrow a proposals export.
    COUNT(*) and COUNT(status), not COUNT(id), so PostgreSQL can answer from the
    covering portfolio indexes without touching the table.
    """
    filters = filters or PortfolioFilters()
    base = portfolio_proposals(user, filters).order_by()
    if report_filters:
        base = reported(base, report_filters).order_by()
    scope = (
        user.department.name
        if user.role != Role.ANALYST
        else (filters.department.name if filters.department else "All of government")
    )
    result = Portfolio(scope=scope)

    # 1. Counts by status and the estimated benefit, in one pass.
    aggregates: dict[str, Any] = {
        f"status_{s.value}": Count("status", filter=Q(status=s))
        for s in Status
        if s != Status.DRAFT
    }
    aggregates["estimated"] = Coalesce(
        Sum("estimated_benefit_gbp", filter=Q(status__in=APPROVED_OR_LATER)), 0
    )
    aggregates["decided"] = Count("status", filter=DECIDED)
    totals = base.aggregate(**aggregates)
    result.counts = {s.value: totals.get(f"status_{s.value}", 0) for s in Status}
    result.total = sum(result.counts.values())
    result.funnel = [
        {"key": s.value, "label": s.label, "count": result.counts[s.value]} for s in FUNNEL
    ]
    result.other_statuses = [
        {"key": s.value, "label": s.label, "count": result.counts[s.value]}
        for s in Status
        if s not in FUNNEL and s != Status.DRAFT
    ]
    result.estimated_benefit_gbp = totals["estimated"]
    result.decided = totals["decided"]

    # 2 and 3. The median, of the whole scope and of each department.
    result.median_days_to_decision = median_days(base).get(None)
    medians = median_days(base, by="department_id")

    # 4. Experiments' outcomes by department and result, with the realised benefit.
    outcomes = (
        outcomes_in_scope(user, base)
        .order_by()
        .values("experiment__proposal__department_id", "result")
        .annotate(n=Count("pk"), realised=Coalesce(Sum("realised_benefit_gbp"), 0))
    )
    realised: dict[int, int] = {}
    results: dict[tuple[int, str], int] = {}
    for row in outcomes:
        department_id = row["experiment__proposal__department_id"]
        realised[department_id] = realised.get(department_id, 0) + row["realised"]
        results[(department_id, row["result"])] = row["n"]
    result.realised_benefit_gbp = sum(realised.values())
    result.by_result = [
        {
            "key": r.value,
            "label": r.label,
            "count": sum(n for (_, key), n in results.items() if key == r.value),
        }
        for r in OutcomeResult
    ]

    # 5. By department (every outcome counted above is of one of these departments).
    rows = {
        row["department_id"]: row
        for row in base.values("department_id", "department__name").annotate(
            total=Count("*"),
            approved=Count("status", filter=Q(status__in=APPROVED_OR_LATER)),
            rejected=Count("status", filter=Q(status=Status.REJECTED)),
            decided=Count("status", filter=DECIDED),
            estimated=Coalesce(
                Sum("estimated_benefit_gbp", filter=Q(status__in=APPROVED_OR_LATER)), 0
            ),
        )
    }
    for department_id, row in rows.items():
        row["median_days"] = medians.get(department_id)
        row["realised"] = realised.get(department_id, 0)
        row["outcomes"] = sum(n for (d, _), n in results.items() if d == department_id)
    result.by_department = sorted(
        rows.values(), key=lambda row: (-row["total"], row["department__name"])
    )
    labels = {row["department_id"]: row["department__name"] for row in rows.values()}
    result.results_by_department = sorted(
        (labels[department_id], key, n) for (department_id, key), n in results.items()
    )

    # 6. By theme (a proposal with two themes counts under each).
    result.by_theme = [
        {"name": row["themes__name"], "total": row["total"]}
        for row in base.filter(themes__isnull=False)
        .values("themes__name")
        .annotate(total=Count("pk"))
        .order_by("-total", "themes__name")
    ]

    # 7. By stage, department and theme: the report's breakdown.
    if by_stage:
        result.by_stage = [
            (row["status"], row["department__name"], row["themes__name"], row["n"])
            for row in base.values("status", "department__name", "themes__name")
            .annotate(n=Count("pk", distinct=True))
            .order_by("department__name", "status", "themes__name")
        ]

    # 8. Benefits realisation and overdue evaluation reports (seven more aggregates).
    _benefits(result, base, outcomes_in_scope(user, base).order_by())

    # 9. Adoptions: the scope's proposals that adopted another department's lesson.
    _adoptions(result, base, outcomes_in_scope(user, base).order_by())
    return result


def _adoptions(result: Portfolio, base: QuerySet[Proposal], outcomes: QuerySet[Outcome]) -> None:
    """One aggregate query. A proposal in scope is adopted from another department when
    its adoption's lesson is another department's; it met its target when one of its own
    experiments' outcomes, as the portfolio counts them (`outcomes_in_scope`), is met.
    The scope is already visible to its reader, so every count is of what they may see."""
    met = Exists(outcomes.filter(experiment__proposal=OuterRef("pk"), result=OutcomeResult.MET))
    rows = (
        base.filter(adoption__isnull=False)
        .exclude(adoption__outcome__experiment__proposal__department_id=F("department_id"))
        .values(name=F("department__name"))
        .annotate(adopted=Count("pk"), met=Count("pk", filter=Q(met)))
        .order_by("-adopted", "name")
    )
    result.adoptions_by_department = list(rows)
    result.adopted = sum(row["adopted"] for row in result.adoptions_by_department)
    result.adopted_met = sum(row["met"] for row in result.adoptions_by_department)


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


def _benefits(result: Portfolio, base: QuerySet[Proposal], outcomes: QuerySet[Outcome]) -> None:
    """Estimated against realised benefit by department, theme and Magenta Book
    type, and overdue evaluation reports by department: seven aggregate queries,
    however many proposals. The outcomes are the portfolio's (`outcomes_in_scope`)."""
    approved = base.filter(status__in=APPROVED_OR_LATER)
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


# --- the weekly summary email ------------------------------------------------------------------


@transaction.atomic
def send_weekly_summaries(*, now: dt.datetime | None = None) -> int:
    """Weekly (beat): each department's leads get their department's portfolio,
    the same figures as its /portfolio/ page, and what was submitted this week.
    Returns the number of notifications written; a second run the same day writes none."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    written = 0
    for department, leads in messages.portfolio_summary_recipients().items():
        # The scope is the department, not the person: any of its leads gives it.
        figures = portfolio(leads[0])
        this_week = portfolio(leads[0], PortfolioFilters(period_from=today - dt.timedelta(days=6)))
        message = messages.portfolio_summary(
            department, leads, figures=figures, this_week=this_week, week_ending=today
        )
        done = notifications.already_sent_today(
            message.kind, message.subject, [u.pk for u in message.recipients]
        )
        written += len(notifications.send(message, skip=done))
    return written
