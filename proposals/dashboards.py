"""Reads for the reviewers', leads' and analysts' dashboards.

Every query here starts from `selectors.proposals_visible_to` (or narrows it to
a department), and every number is one the database computes, so a dashboard
runs the same few queries whether the department has ten proposals or a
million. The review pages read counters and panel figures that triggers keep
in the writer's transaction (migration 0017: `StatusCount`, `PanelScore`),
page by position with `window` (no COUNT of the list), and count what has no
counter only up to COUNT_CAP (`capped_count`: "more than 1,000").
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
from proposals.models import (
    Adoption,
    Assessment,
    Experiment,
    Outcome,
    PanelScore,
    Proposal,
    StatusCount,
)
from proposals.selectors import (
    adoptions_visible_to,
    experiments_visible_to,
    met_target,
    published_outcomes_visible_to,
    scores_hidden_filter,
    scores_hidden_ids,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from accounts.models import User
    from proposals.filters import DoorFilterSet, LessonFilter, PanelFilter, QueueFilter


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


# --- counts that stay cheap at any size --------------------------------------------------------

# A figure that would need counting more rows than this says "more than 1,000":
# counting stops there, so the page costs the same at any size.
COUNT_CAP = 1000


@dataclass(frozen=True)
class Total:
    """How many, or "more than COUNT_CAP" when counting stopped there."""

    count: int
    more: bool = False

    def __str__(self) -> str:
        return f"more than {self.count:,}" if self.more else f"{self.count:,}"


def capped_count(queryset: QuerySet[Any]) -> Total:
    """Count at most COUNT_CAP + 1 rows (1 query, bounded work)."""
    n = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    return Total(COUNT_CAP, more=True) if n > COUNT_CAP else Total(n)


@dataclass(frozen=True)
class Window:
    """One page of a list paged by position alone: the page's rows, and whether a
    next page exists (one row more was read), without counting the list."""

    rows: list[Any]
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        """The first row's position in the whole list (1-based)."""
        return (self.number - 1) * self.size + 1


def page_number(value: str | None) -> int:
    """?page=…: a positive whole number; anything else is the first page."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return number if 1 <= number <= 100_000 else 1


def window(queryset: QuerySet[Any], page: str | None, size: int) -> Window:
    """The page's rows in one query (LIMIT size + 1 OFFSET …): the work grows with
    the page asked for, never with the list."""
    number = page_number(page)
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Window(rows=rows[:size], number=number, size=size, has_next=len(rows) > size)


def narrowing(filters: DoorFilterSet | None) -> bool:
    """Whether the door's form holds a valid value that narrows the list."""
    if filters is None or not filters.is_bound:
        return False
    filters.errors  # noqa: B018 -- validates the form, so cleaned_data exists
    return any(
        not _blank(value)
        for name, value in filters.form.cleaned_data.items()
        if name in filters.filters
    )


def _blank(value: Any) -> bool:
    # Several chosen rows arrive as a queryset; none chosen as an empty one (no query).
    if isinstance(value, QuerySet):
        return value.query.is_empty()
    return value in (None, "", [], False)


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


def _counts(department_id: int) -> dict[str, int]:
    """The department's counter rows (proposals_status_count, kept by triggers)."""
    return dict(
        StatusCount.objects.filter(department_id=department_id).values_list("status", "count")
    )


def status_counts(user: User) -> list[dict[str, Any]]:
    """The department's proposals by status, in the lifecycle's order (1 query).

    From the counter table that triggers keep in the writer's transaction
    (migration 0017), so the figures are exact and cost a dozen rows to read."""
    rows = _counts(user.department_id)
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
    """Submitted proposals awaiting triage, oldest first, each marked `overdue` in SQL.

    Only the columns the queue shows: a proposal's long answers are most of its
    row, and a page of the queue needs none of them."""
    department = user.department
    today = today or timezone.localdate()
    boundary = _start_of(overdue_before(today, department.triage_target_days))
    queryset = _filter_queue(department_proposals(user).filter(status=Status.SUBMITTED), filters)
    return (
        queryset.only("reference", "title", "submitted_at", "department_id", "status")
        .annotate(overdue=Case(When(submitted_at__lt=boundary, then=True), default=False))
        .order_by("submitted_at", "reference")
    )


def queue_summary(
    user: User,
    filters: QueueFilter | None = None,
    *,
    counts: list[dict[str, Any]] | None = None,
    today: dt.date | None = None,
) -> dict[str, Total]:
    """How many wait for triage and how many of those are overdue.

    The whole queue's size is the counter's (from `counts`, the page's
    `status_counts`, when given: no second read); a filtered one, and the
    overdue, are counted up to COUNT_CAP ("more than 1,000")."""
    today = today or timezone.localdate()
    boundary = _start_of(overdue_before(today, user.department.triage_target_days))
    queryset = _filter_queue(department_proposals(user).filter(status=Status.SUBMITTED), filters)
    if narrowing(filters):
        total = capped_count(queryset)
    elif counts is not None:
        total = Total(next(row["count"] for row in counts if row["status"] == Status.SUBMITTED))
    else:
        total = Total(_counts(user.department_id).get(Status.SUBMITTED.value, 0))
    return {"total": total, "overdue": capped_count(queryset.filter(submitted_at__lt=boundary))}


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
    """Assessments waiting for this reviewer: not submitted, no conflict, on their
    department's proposals still in review, oldest assignment first.

    The department filter, not the visibility rule, as for `department_proposals`
    (and only a department's reviewers may assess its proposals:
    `perms.is_department_reviewer`). Ordered by when the assessment was asked
    for, so the list is a walk of the person's open assessments by the
    `assessment_open_idx` index, stopping at the page, however many they have.
    """
    return (
        Assessment.objects.filter(
            assessor=user,
            submitted_at__isnull=True,
            proposal__status=Status.IN_REVIEW,
            proposal__department_id=user.department_id,
        )
        .exclude(conflict_declared=True)
        .select_related("proposal")
        .order_by("created_at", "pk")
    )


# --- the panel sheet ------------------------------------------------------------------------


def with_panel_scores(
    queryset: QuerySet[Proposal], threshold: Decimal, viewer: User
) -> QuerySet[Proposal]:
    """Annotate the panel-sheet numbers as `viewer` may read them, from the assessments.

    For one proposal (its page, the decision page); the sheet reads the same
    figures from proposals_panel_score (`panel_sheet`), which the database
    computes with the same rules (tests/proposals/test_review_scale.py checks
    they agree). mean_score = mean of the submitted assessments' weighted
    scores (each from scoring.weighted_score); spread = max − min; `flagged`
    when the spread is above the department's moderation threshold. Where the
    viewer may not read the assessments yet (`selectors.scores_hidden_filter`:
    they wrote the proposal, or have their own assessment still to submit)
    every figure is empty and `scores_hidden` says why, so scoring stays
    independent.
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


# How many of the proposals whose scores the lead may not read yet the sheet lists.
HIDDEN_SHOWN = 50


def _in_panel(user: User) -> QuerySet[Proposal]:
    """The department's proposals in review, as rows of proposals_panel_score."""
    return Proposal.objects.filter(panel_score__department_id=user.department_id)


def panel_sheet(user: User, filters: PanelFilter | None = None) -> QuerySet[Proposal]:
    """The department's proposals in review whose scores `user` may read, ranked by
    mean weighted score (unscored last, then oldest first).

    Read from proposals_panel_score, which triggers keep (migration 0017), in
    the order of its index: a page is an index walk, whatever the department's
    size. The proposals whose scores the user may not read yet are not ranked
    here (their place would tell their score): `panel_hidden` lists them.
    """
    department = user.department
    decimal: DecimalField[Any, Any] = DecimalField(max_digits=6, decimal_places=3)
    # Asked row by row as the index is walked: a page is ~25 probes, however many
    # proposals the person wrote or has still to assess.
    queryset = _in_panel(user).exclude(scores_hidden_filter(user))
    if filters is not None:
        queryset = filters.narrow(queryset)
    return (
        queryset.select_related("submitter")
        .annotate(
            scores_hidden=Value(False),
            mean_score=F("panel_score__mean_score"),
            assessments_done=F("panel_score__assessments_done"),
            fund=F("panel_score__fund"),
            do_not_fund=F("panel_score__do_not_fund"),
            conflicts=F("panel_score__conflicts"),
            spread=Coalesce(
                F("panel_score__max_score") - F("panel_score__min_score"),
                Value(Decimal(0)),
                output_field=decimal,
            ),
        )
        .annotate(
            flagged=Case(When(spread__gt=department.moderation_threshold, then=True), default=False)
        )
        .order_by(
            "-panel_score__rank_score", "panel_score__submitted_at", "panel_score__proposal_id"
        )
    )


def panel_hidden(user: User) -> list[Proposal]:
    """The department's proposals in review whose scores `user` may not read yet
    (they wrote it, or have their own assessment to submit), oldest first, at
    most HIDDEN_SHOWN: found from the user's side (`selectors.scores_hidden_ids`)."""
    return list(
        _in_panel(user)
        .filter(pk__in=scores_hidden_ids(user))
        .order_by("panel_score__submitted_at", "pk")[:HIDDEN_SHOWN]
    )


def panel_total(user: User, filters: PanelFilter | None = None) -> Total:
    """How many proposals are in review (the counter), or match the filters (capped)."""
    if narrowing(filters):
        assert filters is not None
        # Counted on the panel rows alone (their index), not joined to the proposals:
        # every filter reads a PanelScore column or the proposal's id.
        return capped_count(
            filters.narrow(PanelScore.objects.filter(department_id=user.department_id))
        )
    return Total(_counts(user.department_id).get(Status.IN_REVIEW.value, 0))


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
