"""The portfolio's figures, computed once for everything that shows them.

The /portfolio/ page, its chart images, the portfolio report and the weekly
summary email all get them from `portfolio()`, so a count, a median or a benefit
total is the same number wherever it is read. Every figure is an aggregate the
database computes, in a fixed number of queries whatever the size, grouped by
department (`_shares`) and added up for the scope (`_assemble`).

Aggregating a million proposals takes a second or more, so the page and the email
do not do it per request: `refresh` (beat, every PORTFOLIO_REFRESH_SECONDS)
computes every scope at once, government's and each department's, in the same
GROUP BY department queries, and stores each (`PortfolioSnapshot`); `current`
reads the reader's scope in one query and says how old it is (`Portfolio.as_of`).
Reports, and filters not precomputed (a period), compute it live.

The scope is the same everywhere: a portfolio lead's portfolio is their own
department's submitted proposals; an analyst's is every submitted proposal they
may see (optionally one department's). A lead's portfolio counts all its
department's outcomes; an analyst's the published ones (`outcomes_in_scope`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from accounts.models import Department, Role, User
from proposals import messages, notifications
from proposals.enums import FUNNEL, EvaluationType, OutcomeResult, Status
from proposals.filters import reported
from proposals.models import EvaluationPlan, Outcome, PortfolioSnapshot, Proposal
from proposals.registry import REPORT_DEADLINE
from proposals.selectors import proposals_visible_to, published_outcomes_visible_to


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
    # When the figures were computed: now, or at the snapshot's refresh (`current`).
    computed_at: dt.datetime | None = None

    @property
    def as_of(self) -> str:
        """How fresh the figures are ("Figures as of 10:42am on 7 December 2026"), for
        wherever they may be stale."""
        return messages.figures_as_of(self.computed_at or timezone.now())


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


def _departments_own() -> QuerySet[Proposal]:
    """Every department's own submitted proposals: a lead's portfolio is their share."""
    return Proposal.objects.exclude(status=Status.DRAFT)


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
        queryset = _departments_own().filter(department_id=user.department_id)
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


def _scope_label(user: User, filters: PortfolioFilters) -> str:
    if user.role != Role.ANALYST:
        return user.department.name
    return filters.department.name if filters.department else "All of government"


def portfolio(
    user: User,
    filters: PortfolioFilters | None = None,
    *,
    report_filters: Mapping[str, Any] | None = None,
    by_stage: bool = False,
) -> Portfolio:
    """Every figure of the portfolio, computed now from the rows: twelve aggregate queries
    (thirteen with `by_stage`), eleven of them by department (`_shares`) and the median
    of the whole scope. The page and the weekly email read `current` instead, which is the
    same computation done by `refresh` a few minutes ago; reports compute it now.

    `report_filters` are a report's stored list filters (status, department,
    theme, search), narrowing the scope as they narrow a proposals export.
    """
    computed_at = timezone.now()
    filters = filters or PortfolioFilters()
    base = portfolio_proposals(user, filters).order_by()
    if report_filters:
        base = reported(base, report_filters).order_by()
    shares = _shares(user, base)
    result = _assemble(
        _scope_label(user, filters),
        list(shares.values()),
        median_days(base).get(None),
        computed_at=computed_at,
    )
    # By stage, department and theme: the report's breakdown.
    if by_stage:
        result.by_stage = [row for _, row in _stages(base)]
    return result


def _stages(base: QuerySet[Proposal]) -> list[tuple[int, tuple[str, str, str | None, int]]]:
    """The scope's proposals by stage, department and theme, in the report's order
    (department, status, theme), each row with its department's id: one query, which
    `refresh` splits into each department's share (a row is one department's)."""
    return [
        (
            row["department_id"],
            (row["status"], row["department__name"], row["themes__name"], row["n"]),
        )
        for row in base.values("department_id", "status", "department__name", "themes__name")
        .annotate(n=Count("pk", distinct=True))
        .order_by("department__name", "status", "themes__name")
    ]


@dataclass
class _Share:
    """One department's part of a scope: each figure that adds up across departments,
    and the department's own median. A scope's figures are its departments' shares
    added together (`_assemble`), so one pass of GROUP BY department queries gives
    every department's portfolio and government's at once (`refresh`), and the live
    computation is the same code."""

    department_id: int
    name: str
    counts: dict[str, int] = field(default_factory=dict)  # proposals by status
    total: int = 0
    approved: int = 0
    rejected: int = 0
    decided: int = 0
    estimated: int = 0
    estimated_hours: int = 0
    median_days: float | None = None
    results: dict[str, int] = field(default_factory=dict)  # outcomes by result
    realised: int = 0
    realised_hours: int = 0
    themes: dict[str, int] = field(default_factory=dict)  # proposals by theme name
    # By theme name: estimated (approved proposals) and realised (outcomes), present
    # when an approved proposal or an outcome has the theme.
    theme_benefits: dict[str, dict[str, int]] = field(default_factory=dict)
    # By evaluation type code: the same four figures.
    type_benefits: dict[str, dict[str, int]] = field(default_factory=dict)
    overdue: int = 0
    adopted: int = 0
    adopted_met: int = 0


_PARTS = ("estimated", "estimated_hours", "realised", "realised_hours")


def _add(into: dict[str, dict[str, int]], key: str, values: Mapping[str, Any]) -> None:
    entry = into.setdefault(key, dict.fromkeys(_PARTS, 0))
    for part, value in values.items():
        entry[part] += value or 0


def _shares(user: User, base: QuerySet[Proposal]) -> dict[int, _Share]:
    """Each department's share of the scope `base`: eleven aggregate queries (four of
    them one per evaluation type), each grouped by department, however many proposals
    and departments. The outcomes are
    the portfolio's (`outcomes_in_scope`); COUNT(*) and COUNT(status), not COUNT(id),
    in the first, so PostgreSQL can answer it from the covering portfolio indexes."""
    approved = Q(status__in=APPROVED_OR_LATER)
    outcomes = outcomes_in_scope(user, base).order_by()
    shares: dict[int, _Share] = {}

    # 1. Counts by status, the estimated benefit (and hours) and the decided.
    per_status: dict[str, Any] = {
        f"status_{s.value}": Count("status", filter=Q(status=s))
        for s in Status
        if s != Status.DRAFT
    }
    for row in base.values("department_id", "department__name").annotate(
        **per_status,
        total=Count("*"),
        approved=Count("status", filter=approved),
        rejected=Count("status", filter=Q(status=Status.REJECTED)),
        decided=Count("status", filter=DECIDED),
        estimated=Coalesce(Sum("estimated_benefit_gbp", filter=approved), 0),
        estimated_hours=Coalesce(Sum("hours_saved_per_year", filter=approved), 0),
    ):
        shares[row["department_id"]] = _Share(
            department_id=row["department_id"],
            name=row["department__name"],
            counts={s.value: row[f"status_{s.value}"] for s in Status if s != Status.DRAFT},
            **{
                k: row[k]
                for k in (
                    "total",
                    "approved",
                    "rejected",
                    "decided",
                    "estimated",
                    "estimated_hours",
                )
            },
        )
    # Every other figure is of these proposals, so of these departments; a row of a
    # department that had none a moment ago (a proposal submitted meanwhile) is skipped.

    # 2. Each department's median days to decision.
    for department_id, median in median_days(base, by="department_id").items():
        if department_id in shares:
            shares[department_id].median_days = median

    # 3. Outcomes by department and result: realised benefit, in all and by evaluation
    # type. Types are a JSON list: `icontains` on its text with the quoted code works on
    # PostgreSQL (jsonb as text) and SQLite alike; no code is inside another.
    def typed(prefix: str, kind: str) -> Q:
        return Q(**{f"{prefix}evaluation_types__icontains": f'"{kind}"'})

    realise = {
        "realised": Coalesce(Sum("realised_benefit_gbp"), 0),
        "realised_hours": Coalesce(Sum("realised_hours_saved"), 0),
    }
    outcome_types: dict[str, Any] = {}
    for kind in EvaluationType:
        in_type = typed("experiment__evaluation_plan__", kind.value)
        outcome_types[f"{kind.value}__realised"] = Coalesce(
            Sum("realised_benefit_gbp", filter=in_type), 0
        )
        outcome_types[f"{kind.value}__realised_hours"] = Coalesce(
            Sum("realised_hours_saved", filter=in_type), 0
        )
    for row in outcomes.values(
        "result", department=F("experiment__proposal__department_id")
    ).annotate(n=Count("pk"), **realise, **outcome_types):
        share = shares.get(row["department"])
        if share is None:
            continue
        share.results[row["result"]] = share.results.get(row["result"], 0) + row["n"]
        share.realised += row["realised"]
        share.realised_hours += row["realised_hours"]
        for kind in EvaluationType:
            _add(
                share.type_benefits,
                kind.value,
                {part: row[f"{kind.value}__{part}"] for part in ("realised", "realised_hours")},
            )

    # 4. Approved proposals' estimated benefit by evaluation type: a proposal is of a type
    # when one of its experiments' plans is. One query per type, each a semi-join from
    # that type's plans (WHERE EXISTS): the same sums as a FILTER (WHERE EXISTS …) per
    # type in one query, which PostgreSQL runs as a probe per approved row and type
    # (over 40 s at a million proposals).
    for kind in EvaluationType:
        of_type = Exists(
            EvaluationPlan.objects.filter(
                typed("", kind.value), experiment__proposal=OuterRef("pk")
            )
        )
        for row in (
            base.filter(approved)
            .filter(of_type)
            .values("department_id")
            .annotate(
                estimated=Coalesce(Sum("estimated_benefit_gbp"), 0),
                estimated_hours=Coalesce(Sum("hours_saved_per_year"), 0),
            )
        ):
            share = shares.get(row["department_id"])
            if share is not None:
                _add(
                    share.type_benefits,
                    kind.value,
                    {part: row[part] for part in ("estimated", "estimated_hours")},
                )

    # 5. By theme (a proposal with two themes counts under each), with the estimated
    # benefit of the approved ones.
    for row in (
        base.filter(themes__isnull=False)
        .values("department_id", "themes__name")
        .annotate(
            total=Count("pk"),
            approved=Count("pk", filter=approved),
            estimated=Coalesce(Sum("estimated_benefit_gbp", filter=approved), 0),
            estimated_hours=Coalesce(Sum("hours_saved_per_year", filter=approved), 0),
        )
    ):
        share = shares.get(row["department_id"])
        if share is None:
            continue
        name = row["themes__name"]
        share.themes[name] = share.themes.get(name, 0) + row["total"]
        if row["approved"]:
            _add(share.theme_benefits, name, {k: row[k] for k in ("estimated", "estimated_hours")})

    # 6. Realised benefit by theme (an outcome counts under each of its proposal's themes).
    for row in (
        outcomes.filter(experiment__proposal__themes__isnull=False)
        .values(
            department=F("experiment__proposal__department_id"),
            name=F("experiment__proposal__themes__name"),
        )
        .annotate(**realise)
    ):
        share = shares.get(row["department"])
        if share is not None:
            _add(share.theme_benefits, row["name"], {k: row[k] for k in realise})

    # 7. Evaluations whose report is past the 12-week deadline with no link.
    deadline_passed = _start_of(timezone.localdate()) - REPORT_DEADLINE
    for row in (
        EvaluationPlan.objects.filter(
            experiment__proposal__in=base.values("pk"),
            report_link="",
            experiment__outcome__created_at__lt=deadline_passed,
        )
        .values(department=F("experiment__proposal__department_id"))
        .annotate(overdue=Count("pk"))
        .order_by()
    ):
        share = shares.get(row["department"])
        if share is not None:
            share.overdue = row["overdue"]

    # 8. Adoptions: proposals in scope that adopted another department's lesson; they
    # met their target when one of their own experiments' outcomes, as the portfolio
    # counts them, is met. The scope is already visible to its reader, so every count
    # is of what they may see.
    met = Exists(outcomes.filter(experiment__proposal=OuterRef("pk"), result=OutcomeResult.MET))
    for row in (
        base.filter(adoption__isnull=False)
        .exclude(adoption__outcome__experiment__proposal__department_id=F("department_id"))
        .values("department_id")
        .annotate(adopted=Count("pk"), met=Count("pk", filter=Q(met)))
    ):
        share = shares.get(row["department_id"])
        if share is not None:
            share.adopted, share.adopted_met = row["adopted"], row["met"]
    return shares


def _by_name(rows: Iterable[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """Rows keyed by "name", those of the same name added together, the largest
    `sort` first, then by name."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = merged.setdefault(row["name"], dict.fromkeys(row, 0) | {"name": row["name"]})
        for key, value in row.items():
            if key != "name":
                entry[key] += value
    return sorted(merged.values(), key=lambda r: (-r[sort], r["name"]))


def _assemble(
    scope: str, shares: list[_Share], median: float | None, *, computed_at: dt.datetime
) -> Portfolio:
    """A scope's figures from its departments' shares (none: an empty portfolio)."""
    result = Portfolio(scope=scope, computed_at=computed_at)
    result.counts = {s.value: sum(share.counts.get(s.value, 0) for share in shares) for s in Status}
    result.total = sum(result.counts.values())
    result.funnel = [
        {"key": s.value, "label": s.label, "count": result.counts[s.value]} for s in FUNNEL
    ]
    result.other_statuses = [
        {"key": s.value, "label": s.label, "count": result.counts[s.value]}
        for s in Status
        if s not in FUNNEL and s != Status.DRAFT
    ]
    result.estimated_benefit_gbp = sum(share.estimated for share in shares)
    result.decided = sum(share.decided for share in shares)
    result.median_days_to_decision = median
    result.realised_benefit_gbp = sum(share.realised for share in shares)
    result.by_result = [
        {
            "key": r.value,
            "label": r.label,
            "count": sum(share.results.get(r.value, 0) for share in shares),
        }
        for r in OutcomeResult
    ]
    result.by_department = sorted(
        (
            {
                "department_id": share.department_id,
                "department__name": share.name,
                "total": share.total,
                "approved": share.approved,
                "rejected": share.rejected,
                "decided": share.decided,
                "estimated": share.estimated,
                "median_days": share.median_days,
                "realised": share.realised,
                "outcomes": sum(share.results.values()),
            }
            for share in shares
        ),
        key=lambda row: (-row["total"], row["department__name"]),
    )
    result.results_by_department = sorted(
        (share.name, key, n) for share in shares for key, n in share.results.items()
    )
    result.by_theme = _by_name(
        ({"name": name, "total": n} for share in shares for name, n in share.themes.items()),
        "total",
    )

    # Benefits realisation: estimated (approved proposals) against realised (outcomes).
    result.benefits_by_department = _by_name(
        (
            {"name": share.name, **{part: getattr(share, part) for part in _PARTS}}
            for share in shares
            if share.approved or share.results
        ),
        "estimated",
    )
    result.benefits_by_theme = _by_name(
        (
            {"name": name, **parts}
            for share in shares
            for name, parts in share.theme_benefits.items()
        ),
        "estimated",
    )
    result.benefits_by_evaluation_type = [
        {
            "name": kind.label,
            **{
                part: sum(share.type_benefits.get(kind.value, {}).get(part, 0) for share in shares)
                for part in _PARTS
            },
        }
        for kind in EvaluationType
    ]
    result.evaluations_overdue = _by_name(
        ({"name": share.name, "overdue": share.overdue} for share in shares if share.overdue),
        "overdue",
    )
    result.adoptions_by_department = _by_name(
        (
            {"name": share.name, "adopted": share.adopted, "met": share.adopted_met}
            for share in shares
            if share.adopted
        ),
        "adopted",
    )
    result.adopted = sum(share.adopted for share in shares)
    result.adopted_met = sum(share.adopted_met for share in shares)
    return result


# --- the snapshots: the figures of every scope, refreshed by beat ---------------------------------

GOVERNMENT = "government"


def snapshot_scope(user: User, filters: PortfolioFilters) -> str | None:
    """The snapshot that holds this reader's figures for these filters, or None when
    none does. The key is the scope the reading rules give (`portfolio_proposals`),
    never the person: every analyst reads government's (or one department's share of
    what government may see), and a lead their own department's, whatever department
    they asked for. A period is not precomputed (its figures are of the period's rows);
    nor is anything for an inactive account, which may see nothing."""
    if filters.period_from or filters.period_to or not user.is_active:
        return None
    if user.role == Role.ANALYST:
        return f"{GOVERNMENT}:{filters.department.pk}" if filters.department else GOVERNMENT
    if user.department_id is None:
        return None
    return f"department:{user.department_id}"


def refresh() -> int:
    """Compute every scope's figures and store them (one `PortfolioSnapshot` each):
    government's, government's share of each department, and each department's own.
    Two passes of `_shares` (what analysts may see, and every department's own
    proposals), each a fixed number of GROUP BY department queries however many
    departments, and government's median; then one upsert. Returns the scopes stored."""
    computed_at = timezone.now()
    # Each scope's rule depends on its reader's role alone: an analyst's visibility
    # (`selectors.visibility_filter`) is every analyst's, and a lead's portfolio is their
    # department's own submitted proposals, whoever they are. So an unsaved reader of
    # each role stands for all of them, through the same rules as the live computation.
    analyst = User(role=Role.ANALYST, is_active=True)
    lead = User(role=Role.LEAD, is_active=True)
    names = dict(Department.objects.values_list("pk", "name"))
    government_base = portfolio_proposals(analyst, PortfolioFilters()).order_by()
    government = _shares(analyst, government_base)
    departments_base = _departments_own().order_by()
    departments = _shares(lead, departments_base)
    # The report's breakdown by stage, department and theme, of each pass: a
    # department's scope holds its own rows of it.
    stages = {GOVERNMENT: _stages(government_base), "department": _stages(departments_base)}
    scopes = {
        GOVERNMENT: _assemble(
            "All of government",
            list(government.values()),
            median_days(government_base).get(None),
            computed_at=computed_at,
        )
    }
    scopes[GOVERNMENT].by_stage = [row for _, row in stages[GOVERNMENT]]
    for department_id, name in names.items():
        for prefix, shares in ((GOVERNMENT, government), ("department", departments)):
            share = shares.get(department_id)
            # One department's scope: its median is the department's own.
            scope = scopes[f"{prefix}:{department_id}"] = _assemble(
                name,
                [share] if share else [],
                share.median_days if share else None,
                computed_at=computed_at,
            )
            scope.by_stage = [row for pk, row in stages[prefix] if pk == department_id]
    rows = [
        PortfolioSnapshot(scope=scope, figures=_stored(figures), computed_at=computed_at)
        for scope, figures in scopes.items()
    ]
    with transaction.atomic():
        PortfolioSnapshot.objects.exclude(scope__in=scopes).delete()
        PortfolioSnapshot.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["scope"],
            update_fields=["figures", "computed_at"],
        )
    return len(rows)


_NOT_STORED = {"scope", "computed_at"}
_FIELDS = {f.name for f in fields(Portfolio)} - _NOT_STORED
# Stored, but read only by the report (`snapshot(…, by_stage=True)`): hundreds of rows
# (statuses × departments × themes) the page has no use for.
_STAGES = "by_stage"


class _WithoutStages(Func):
    """The stored figures without the report's breakdown by stage: removed by the
    database, so the page neither receives nor decodes it."""

    template = "(%(expressions)s - 'by_stage')"
    output_field = JSONField()

    def as_sqlite(
        self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler, connection, template="json_remove(%(expressions)s, '$.by_stage')"
        )


def _stored(figures: Portfolio) -> dict[str, Any]:
    return {key: value for key, value in asdict(figures).items() if key in _FIELDS}


def snapshot(
    user: User, filters: PortfolioFilters | None = None, *, by_stage: bool = False
) -> Portfolio | None:
    """The reader's figures from their scope's snapshot (one query), or None when the
    filters are not precomputed or no refresh has stored the scope yet. With
    `by_stage` (the report) the breakdown by stage, department and theme too, and None
    when the stored snapshot predates it (the report then computes it live)."""
    filters = filters or PortfolioFilters()
    scope = snapshot_scope(user, filters)
    if scope is None:
        return None
    figures = F("figures") if by_stage else _WithoutStages("figures")
    row = PortfolioSnapshot.objects.filter(scope=scope).values_list(figures, "computed_at").first()
    if row is None or (by_stage and _STAGES not in row[0]):
        return None
    stored, computed_at = row
    data = {key: value for key, value in stored.items() if key in _FIELDS}
    data["results_by_department"] = [tuple(r) for r in data.get("results_by_department", [])]
    data[_STAGES] = [tuple(r) for r in data.get(_STAGES, [])]
    return Portfolio(scope=_scope_label(user, filters), computed_at=computed_at, **data)


def current(user: User, filters: PortfolioFilters | None = None) -> Portfolio:
    """The portfolio as the page and the weekly email show it: the scope's snapshot,
    as of its last refresh (at most PORTFOLIO_REFRESH_SECONDS old while beat runs).
    Computed live instead, in the same fixed number of queries, for a period (not
    precomputed: its figures are of the period's rows only, so bounded by the period)
    and for a scope no refresh has stored yet (a new database, a new department)."""
    return snapshot(user, filters) or portfolio(user, filters)


def for_report(user: User, report_filters: Mapping[str, Any] | None = None) -> Portfolio:
    """The portfolio summary report's figures, with the breakdown by stage, department and
    theme: the page's own (the scope's snapshot, as of its refresh) when the report's
    filters are a scope the snapshots hold (none, or for an analyst one department);
    computed now otherwise (a status, theme or search narrows every figure to rows no
    snapshot counts), in the same fixed number of aggregate queries, whose work is
    that of the rows the filters leave."""
    given = {key: value for key, value in (report_filters or {}).items() if value}
    filters = PortfolioFilters()
    if set(given) == {"department"}:
        department = Department.objects.filter(slug=given["department"]).first()
        if department is not None and user.role == Role.ANALYST:
            filters = PortfolioFilters(department=department)
            given = {}
        elif department is not None and department.pk == user.department_id:
            given = {}  # a lead's portfolio is their own department's already
    if not given:
        stored = snapshot(user, filters, by_stage=True)
        if stored is not None:
            return stored
    return portfolio(user, filters, report_filters=given, by_stage=True)


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
        figures = current(leads[0])
        this_week = portfolio(leads[0], PortfolioFilters(period_from=today - dt.timedelta(days=6)))
        message = messages.portfolio_summary(
            department, leads, figures=figures, this_week=this_week, week_ending=today
        )
        done = notifications.already_sent_today(
            message.kind, message.subject, [u.pk for u in message.recipients]
        )
        written += len(notifications.send(message, skip=done))
    return written
