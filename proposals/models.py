"""The domain's tables: fields, constraints and indexes. Behaviour lives in
services (writes), selectors (reads), workflow (the transition table) and
permissions (who may)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Department
from proposals.enums import (
    AttemptOutcome,
    AuditAudience,
    CostBand,
    DecisionKind,
    DeliveryStatus,
    Direction,
    ExperimentStatus,
    Frequency,
    NextStep,
    NotificationKind,
    OutcomeResult,
    Recommendation,
    ReportFormat,
    ReportKind,
    ReportStatus,
    Status,
    UnpublishedReason,
    Visibility,
)

USER = settings.AUTH_USER_MODEL


class Theme(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """One of a department's assessment criteria; weights are relative."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    weight = models.DecimalField(max_digits=5, decimal_places=2, default=1)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["department", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="criterion_unique_name"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class Challenge(models.Model):
    """A call for ideas. No department means a cross-government challenge."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    question = models.TextField()
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="challenges"
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="challenges")
    opens_on = models.DateField()
    closes_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["closes_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="challenge_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        today = timezone.localdate()
        return self.closed_at is None and self.opens_on <= today <= self.closes_on


class ReferenceSequence(models.Model):
    """The last reference number given per department and year (row-locked to allocate)."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "year"], name="refseq_unique")]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.year}: {self.last_number}"


class Proposal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=32, unique=True, editable=False)
    title = models.CharField(max_length=150)
    summary = models.CharField(max_length=500, blank=True)
    problem = models.TextField(blank=True)
    who_has_the_problem = models.TextField(blank=True)
    proposed_solution = models.TextField(blank=True)
    expected_benefits = models.TextField(blank=True)
    cost_band = models.CharField(max_length=20, choices=CostBand.choices, blank=True)
    estimated_benefit_gbp = models.PositiveBigIntegerField(null=True, blank=True)
    hours_saved_per_year = models.PositiveIntegerField(null=True, blank=True)

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="proposals")
    submitter = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="proposals")
    co_authors: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        USER, blank=True, related_name="co_authored_proposals"
    )
    collaborating_departments = models.ManyToManyField(
        Department, blank=True, related_name="collaborations"
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="proposals")
    challenge = models.ForeignKey(
        Challenge, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.GOVERNMENT
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # "Propose again": the rejected proposal this draft starts from.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposed_again"
    )
    feedback_released = models.BooleanField(default=False)
    next_step = models.CharField(max_length=10, choices=NextStep.choices, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Incremented by every write, for ETags and optimistic concurrency.
    version = models.PositiveIntegerField(default=1)
    # How many people support it: kept exact by database triggers on Support
    # (migration 0009, both databases), whatever writes a support, so "most
    # supported" is an index walk rather than a count of every proposal's supports.
    support_count = models.PositiveIntegerField(default=0, editable=False)
    # Kept up to date by a PostgreSQL trigger (migration 0002), so searching never
    # re-parses text. Unused on SQLite, whose FTS5 index is its own table (migration 0016).
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            # The API's incremental sync and default listing order.
            models.Index(fields=["updated_at", "id"], name="proposal_updated_idx"),
            # "Newest first" on the find page: a walk of this index, stopped at the page.
            models.Index(fields=["created_at", "id"], name="proposal_created_idx"),
            # The triage queue: a department's proposals in a status, oldest first.
            models.Index(
                fields=["department", "status", "submitted_at"], name="proposal_queue_idx"
            ),
            # Lists filtered by status (and by department), most recently updated first:
            # without these a filtered page walks the updated_at index past every
            # row of other statuses.
            models.Index(fields=["status", "updated_at", "id"], name="proposal_status_updated_idx"),
            models.Index(
                fields=["department", "status", "updated_at"], name="proposal_dept_updated_idx"
            ),
            models.Index(fields=["status", "decided_at"], name="proposal_decided_idx"),
            # Your home: your newest proposals, and those waiting for you, are a
            # walk of your own rows (the submitter's key alone would sort them all).
            models.Index(
                fields=["submitter", "-updated_at", "-id"], name="proposal_submitter_updated_idx"
            ),
            models.Index(
                fields=["submitter", "-updated_at", "-id"],
                condition=Q(status__in=[Status.DRAFT, Status.MORE_INFO]),
                name="proposal_submitter_waiting_idx",
            ),
            # "Most supported first" (Find proposals' sort).
            models.Index(
                fields=["-support_count", "-updated_at", "-id"], name="proposal_supported_idx"
            ),
            # The portfolio (proposals.portfolio.portfolio) aggregates every
            # submitted proposal in scope: covering indexes let PostgreSQL answer it
            # with index-only scans instead of reading the wide rows (at 1M
            # proposals: analyst 1.5 s → 0.6 s, lead 0.5 s → 0.2 s for the main query).
            models.Index(
                fields=["visibility", "status"],
                include=["id", "department", "submitted_at", "decided_at", "estimated_benefit_gbp"],
                name="proposal_portfolio_gov_idx",
            ),
            models.Index(
                fields=["department", "status"],
                include=["id", "submitted_at", "decided_at", "estimated_benefit_gbp"],
                name="proposal_portfolio_dept_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return f"/proposals/{self.reference}/"


class ProposalSearchText(models.Model):
    """SQLite's full-text index of proposals (an FTS5 table, migration 0016, kept by
    triggers; no table on PostgreSQL, which has `Proposal.search_vector`). A model
    only so that search can join it: nothing writes it through Django."""

    rowid = models.IntegerField(primary_key=True, db_column="rowid")
    # FTS5's hidden column named after its table: the left side of MATCH and
    # the first argument of bm25(), written as a column so a join's alias holds.
    document = models.TextField(db_column="proposals_proposal_fts")
    # UNINDEXED in FTS5: joined on, never looked up by (see migration 0016).
    proposal = models.OneToOneField(
        Proposal,
        db_column="proposal_id",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="search_text",
    )

    class Meta:
        managed = False
        db_table = "proposals_proposal_fts"

    def __str__(self) -> str:
        return f"search text {self.rowid}"


class Attachment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name


class Assignment(models.Model):
    """A reviewer asked to assess a proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="assignments")
    assigned_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer"], name="assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} → {self.proposal_id}"


class Assessment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="assessments")
    assessor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="assessments")
    # None until declared; True stops the assessor from scoring.
    conflict_declared = models.BooleanField(null=True)
    conflict_details = models.TextField(blank=True)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices, blank=True)
    comment = models.TextField(blank=True)
    # Written by services.scoring when submitted: the weights-normalised mean.
    weighted_score = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "assessor"], name="assessment_unique"),
            models.CheckConstraint(
                condition=Q(weighted_score__isnull=True)
                | Q(weighted_score__gte=1, weighted_score__lte=5),
                name="assessment_weighted_range",
            ),
        ]
        indexes = [
            models.Index(fields=["proposal", "submitted_at"]),
            # "Assigned to you" (dashboards.assigned_to): a person's open ones, oldest first.
            models.Index(
                fields=["assessor", "created_at", "id"],
                condition=Q(submitted_at__isnull=True),
                name="assessment_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment by {self.assessor_id} of {self.proposal_id}"


class Score(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "criterion"], name="score_unique"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class Decision(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=20, choices=DecisionKind.choices)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.proposal_id}"


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["proposal", "created_at"])]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.proposal_id}"


class Support(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="supports")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="support_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} supports {self.proposal_id}"


class Follow(models.Model):
    """Someone who asked to hear what happens to a proposal they did not write."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="follow_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.proposal_id}"


class Experiment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="experiments")
    title = models.CharField(max_length=150)
    # "We believe that … will result in … We will know we are right when …"
    we_believe = models.TextField()
    will_result_in = models.TextField()
    we_will_know_when = models.TextField()
    lead = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="led_experiments")
    starts_on = models.DateField()
    ends_on = models.DateField()
    budget_gbp = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=ExperimentStatus.choices, default=ExperimentStatus.PLANNED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Stopped or completed with no outcome recorded yet: set by the services that
    # stop an experiment and record its outcome, in their transaction, so the
    # experiments page's "waiting for an outcome" walks a partial index of these
    # few rows instead of anti-joining every finished experiment with its outcome.
    # The database default (false) is what a bulk load that omits it writes.
    awaiting_outcome = models.BooleanField(default=False, db_default=False, editable=False)
    # Its proposal is `selectors.government_wide()` (submitted, shared with all of
    # government): what an analyst may see, kept by triggers in the writer's
    # transaction, whatever writes the proposal or this row (migration 0024).
    government_wide = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="experiment_dates_ordered"
            )
        ]
        indexes = [
            models.Index(fields=["status", "ends_on"]),
            # The experiments page, soonest end first: each list is a walk of its
            # own partial index, stopped by the page's LIMIT.
            models.Index(
                fields=["ends_on", "id"],
                condition=Q(status__in=[ExperimentStatus.PLANNED, ExperimentStatus.RUNNING]),
                name="experiment_running_idx",
            ),
            models.Index(
                fields=["ends_on", "id"],
                condition=Q(awaiting_outcome=True),
                name="experiment_awaiting_idx",
            ),
            # An analyst's experiments page: the running list and its capped count
            # walk this alone, without probing each experiment's proposal.
            models.Index(
                fields=["ends_on", "id"],
                condition=Q(
                    status__in=[ExperimentStatus.PLANNED, ExperimentStatus.RUNNING],
                    government_wide=True,
                ),
                name="experiment_running_gov_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EvaluationPlan(models.Model):
    """How an experiment is evaluated, to the Magenta Book, in the shape the
    Evaluation Task Force's Evaluation Registry asks for (types and designs are
    lists of `enums` values; the Registry's status is derived, see
    `evaluations.registry_status`)."""

    experiment = models.OneToOneField(
        Experiment, on_delete=models.CASCADE, related_name="evaluation_plan"
    )
    evaluation_types = models.JSONField(default=list, blank=True)
    impact_designs = models.JSONField(default=list, blank=True)
    process_designs = models.JSONField(default=list, blank=True)
    economic_designs = models.JSONField(default=list, blank=True)
    other_type = models.CharField(max_length=200, blank=True)
    brief_description = models.TextField()
    lead_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="led_evaluations"
    )
    partner_departments = models.ManyToManyField(
        Department, blank=True, related_name="partner_evaluations"
    )
    cost_gbp = models.PositiveBigIntegerField(null=True, blank=True)
    plan_link = models.URLField(max_length=500, blank=True)
    # Intended dates, set when planning.
    evaluation_start = models.DateField()
    evaluation_end = models.DateField()
    intervention_start = models.DateField()
    intervention_end = models.DateField()
    final_report_due = models.DateField()
    # Actual dates, recorded as the work goes.
    actual_evaluation_start = models.DateField(null=True, blank=True)
    actual_evaluation_end = models.DateField(null=True, blank=True)
    actual_intervention_start = models.DateField(null=True, blank=True)
    actual_intervention_end = models.DateField(null=True, blank=True)
    final_report_published = models.DateField(null=True, blank=True)
    report_link = models.URLField(max_length=500, blank=True)
    reason_unpublished = models.CharField(
        max_length=20, choices=UnpublishedReason.choices, blank=True
    )
    # The 12-week publication deadline's reminders, written once each.
    report_due_reminded_at = models.DateTimeField(null=True, blank=True)
    report_overdue_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(evaluation_end__gte=models.F("evaluation_start")),
                name="evaluation_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(intervention_end__gte=models.F("intervention_start")),
                name="evaluation_intervention_ordered",
            ),
        ]
        indexes = [models.Index(fields=["updated_at", "id"], name="evaluation_updated_idx")]

    def __str__(self) -> str:
        return f"Evaluation of {self.experiment_id}"


class Metric(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=40)
    baseline = models.DecimalField(max_digits=14, decimal_places=2)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    direction = models.CharField(max_length=10, choices=Direction.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Outcome(models.Model):
    experiment = models.OneToOneField(Experiment, on_delete=models.CASCADE, related_name="outcome")
    result = models.CharField(max_length=20, choices=OutcomeResult.choices)
    lessons = models.TextField()
    recommendation = models.CharField(max_length=10, choices=NextStep.choices)
    realised_benefit_gbp = models.PositiveBigIntegerField(null=True, blank=True)
    # Benefits realisation: who follows the benefit, and when it is next reviewed.
    realised_hours_saved = models.PositiveIntegerField(null=True, blank=True)
    benefit_owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_benefits"
    )
    benefit_review_on = models.DateField(null=True, blank=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    # As `Experiment.government_wide`, of the experiment's proposal.
    government_wide = models.BooleanField(default=False, db_default=False, editable=False)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at"]
        indexes = [
            models.Index(fields=["published", "result"]),
            # The lessons library, newest first: a page is a walk of this index.
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(published=True),
                name="outcome_published_idx",
            ),
            # An analyst's lessons library: the page and its capped count (an
            # index-only scan) walk this alone, without joining the proposals.
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(published=True, government_wide=True),
                name="outcome_published_gov_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcome of {self.experiment_id}: {self.result}"


class SimilarityVector(models.Model):
    """What a proposal (outcome null) or one of its published lessons means, as a vector.

    Written by the similarity worker (`services.similarity`), read into each web
    process's vector search (`proposals.similarity`); `updated_at` lets a
    process fetch only what changed since it last looked.
    """

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="similarity_vectors"
    )
    outcome = models.OneToOneField(
        Outcome, null=True, blank=True, on_delete=models.CASCADE, related_name="similarity_vector"
    )
    vector = models.BinaryField()
    # Of the text embedded and the model: unchanged means nothing to recompute.
    digest = models.CharField(max_length=32)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=Q(outcome__isnull=True),
                name="similarity_one_vector_per_proposal",
            )
        ]

    def __str__(self) -> str:
        return f"Vector of {self.proposal_id} ({'lesson' if self.outcome_id else 'proposal'})"


class BenefitReview(models.Model):
    """A later look at an outcome's benefit (e.g. at 6 and 12 months): due on a
    date, then recorded with what was realised by then."""

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="benefit_reviews")
    due_on = models.DateField()
    reviewed_on = models.DateField(null=True, blank=True)
    realised_benefit_gbp = models.PositiveBigIntegerField(null=True, blank=True)
    realised_hours_saved = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the "benefit review due" reminder was written (once per review).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["outcome", "due_on"], name="benefit_review_unique")
        ]
        indexes = [models.Index(fields=["reviewed_on", "due_on"], name="benefit_review_due_idx")]

    def __str__(self) -> str:
        return f"Benefit review of {self.outcome_id} due {self.due_on}"


class MetricActual(models.Model):
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="actuals")
    metric = models.OneToOneField(Metric, on_delete=models.CASCADE, related_name="actual")
    value = models.DecimalField(max_digits=14, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.metric_id}: {self.value}"


class Adoption(models.Model):
    """A department reusing a published outcome: it starts a linked proposal."""

    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="adoptions")
    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="adoption")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="adoptions")
    adopted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.department_id} adopted {self.outcome_id}"


class AuditEvent(models.Model):
    """Append-only record of every change. Survives a deleted draft (SET_NULL)."""

    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # Kept in clear so that events of a deleted draft still say what they were about.
    proposal_reference = models.CharField(max_length=32, blank=True, db_index=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True)
    audience = models.CharField(
        max_length=20, choices=AuditAudience.choices, default=AuditAudience.EVERYONE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["proposal", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class Notification(models.Model):
    """The outbox: one row per message to one person, written with the change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # While claimed: the worker's last sign of life. A claim whose heartbeat is
    # older than CLAIM_EXPIRY_SECONDS belonged to a worker that died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Pending, and its message could not be handed to the broker (it was down):
    # the next sweep sends it at once rather than after the sweep's age limit.
    unpublished = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_outbox_idx"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id}"


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        USER, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.frequency}"


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    format = models.CharField(max_length=10, choices=ReportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="reports/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Builds started (claims); after REPORT_MAX_ATTEMPTS the report fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    # While running: the build's last sign of life (see Notification.heartbeat_at).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    unpublished = models.BooleanField(default=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_pct")
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.format}) for {self.requested_by_id}"


class PortfolioSnapshot(models.Model):
    """The portfolio's figures for one scope, as `proposals.portfolio.refresh` last
    computed them (beat, every PORTFOLIO_REFRESH_SECONDS): `government` (an analyst's,
    all of government), `government:<department id>` (an analyst's, one department's)
    and `department:<department id>` (its leads'). The page reads one row instead of
    aggregating every proposal in scope, and says how old it is (`computed_at`)."""

    scope = models.CharField(max_length=40, unique=True)
    figures = models.JSONField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.scope} at {self.computed_at:%Y-%m-%d %H:%M}"


class WebhookEndpoint(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    # After a rotation the old secret signs too, until `previous_secret_expires_at`,
    # so a receiver can move to the new one without dropping a delivery.
    previous_secret = models.CharField(max_length=64, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # See Notification: the claim's last sign of life, and a message never published.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    unpublished = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One try at a delivery: its own row, so a retry never overwrites an earlier one.

    Written when the try starts (so a worker killed mid-send leaves a row that
    never finished) and completed when it ends. `error` is the plain category a
    lead sees ("Could not connect", "Timed out", "Answered 503"); the network
    detail goes to the operators' log only.
    """

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=AttemptOutcome.choices, default=AttemptOutcome.SENDING, blank=True
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


class ProposalChange(models.Model):
    """The change feed's log (SPEC §6): one row per transaction that changed a
    proposal or something its detail shows.

    Written only by database triggers (migration 0006), so a change made by a
    service, a bulk update, the Django admin or a data migration is logged
    alike. `proposal_id` is no foreign key: the row must outlive a deleted
    proposal so the feed can say it was removed. On PostgreSQL `xid` is the
    writing transaction's id (`pg_current_xact_id()`), which the feed compares
    with snapshots to read in commit order; on SQLite writes are serialised and
    `id` alone is the order.
    """

    proposal_id = models.UUIDField()
    # The proposal's reference when the change was written (kept for deletions).
    reference = models.CharField(max_length=32, blank=True)
    xid = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One row per transaction and proposal: the triggers insert ON CONFLICT DO NOTHING.
            models.UniqueConstraint(
                fields=["xid", "proposal_id"], name="proposalchange_once_per_xact"
            )
        ]
        indexes = [models.Index(fields=["xid", "id"], name="proposalchange_xid_idx")]

    def __str__(self) -> str:
        return f"{self.reference or self.proposal_id} @ {self.xid or self.pk}"


class ChangeAudience(models.Model):
    """Proposals the change feed has shown to a person.

    A `proposal.removed` event goes only to people the feed once showed the
    proposal to, so no one learns from the feed of a proposal they could never
    see; who can see a proposal now is still asked of the visibility selector.
    """

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    proposal_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "proposal_id"], name="changeaudience_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.proposal_id}"


# --- the review dashboards' figures, kept by the database (migration 0017) -------------------
#
# Nothing in Python writes these tables: triggers on proposals_proposal and
# proposals_assessment keep them in the same transaction as the change, whatever
# makes it (a service, a bulk load, the admin), so a dashboard reads a handful of
# rows instead of counting or ranking a department's millions.


class StatusCount(models.Model):
    """How many of a department's proposals are in a status (drafts included)."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "proposals_status_count"
        constraints = [
            # The triggers' upsert key.
            models.UniqueConstraint(fields=["department", "status"], name="status_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.status}: {self.count}"


class PanelScore(models.Model):
    """A proposal in review's panel-sheet figures: one row while it is in review.

    `rank_score` is the mean weighted score, or 0 before anyone has scored (the
    scores run from 1 to 5), so the sheet's order is one index walk.
    """

    proposal = models.OneToOneField(
        Proposal, primary_key=True, on_delete=models.CASCADE, related_name="panel_score"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField(null=True)
    rank_score = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    mean_score = models.DecimalField(max_digits=6, decimal_places=3, null=True)
    max_score = models.DecimalField(max_digits=5, decimal_places=3, null=True)
    min_score = models.DecimalField(max_digits=5, decimal_places=3, null=True)
    assessments_done = models.PositiveIntegerField(default=0)
    fund = models.PositiveIntegerField(default=0)
    do_not_fund = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "proposals_panel_score"
        indexes = [
            # The sheet's order (and "not yet scored": rank_score = 0).
            models.Index(
                fields=["department", "-rank_score", "submitted_at", "proposal"],
                name="panel_score_rank_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.mean_score}"
