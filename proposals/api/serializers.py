"""Request validation and the documented shapes of responses.

Input serializers check types, lengths and choices and turn slugs and emails
into objects; the services decide everything else. Output shapes are built in
`rows.py` from plain rows (fast); the `*Out` serializers here describe them
for the OpenAPI schema and are never used to render.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from accounts.models import Department
from proposals.enums import (
    AttemptOutcome,
    CostBand,
    DecisionKind,
    DeliveryStatus,
    Direction,
    EconomicDesign,
    EvaluationType,
    ExperimentStatus,
    ImpactDesign,
    NextStep,
    OutcomeResult,
    ProcessDesign,
    Recommendation,
    RegistryStatus,
    RegistryVisibility,
    ReportFormat,
    ReportKind,
    ReportStatus,
    Status,
    UnpublishedReason,
    Visibility,
    WebhookEvent,
)
from proposals.filters import MESSAGES
from proposals.models import Challenge, Theme

TEXT_MAX = 20_000
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1

# Fields of a proposal only the service's own rules change. Sending one is a
# 400 (not silently ignored), so a client that tries to set a status by PATCH
# learns at once that it must use the workflow action instead.
READ_ONLY_PROPOSAL_FIELDS = (
    "id",
    "reference",
    "status",
    "department",
    "submitter",
    "owner",
    "merged_into",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
    "url",
    "decision",
    "experiments",
    "outcomes",
    "assessments",
    "scores",
    "weighted_score",
    "feedback",
    "available_actions",
    "support_count",
    "version",
)


# --- strict JSON types ---------------------------------------------------------------------
# DRF's fields coerce: a CharField takes 5, an IntegerField "5", a BooleanField
# "yes". The schema promises JSON types, so a body that breaks it is refused.


class Text(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumber(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


# --- query parameters -----------------------------------------------------------------


class LenientDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a time zone offset (required: 400 without one); a `+` that
    arrived as a space (an unencoded query string) is read as the `+` it was."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and " " in value.strip() and "T" in value:
            value = value.strip().replace(" ", "+")
        if isinstance(value, str) and len(value) > 64:
            self.fail("invalid", format="ISO 8601")
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid", format="ISO 8601, e.g. 2026-11-28T09:30:00Z")
        if parsed.tzinfo is None:
            # Read as local time it would be an hour out for half the year: refuse it.
            raise serializers.ValidationError(
                "Include a time zone, e.g. 2026-11-28T09:30:00Z or 2026-11-28T09:30:00+01:00"
            )
        return super().to_internal_value(value)


class ExperimentFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=ExperimentStatus.choices, required=False)
    proposal = serializers.CharField(
        max_length=32, required=False, help_text="A proposal's reference."
    )
    updated_after = LenientDateTimeField(required=False, help_text="ISO 8601; exclusive.")


# --- proposals: input ---------------------------------------------------------------------


class _Slugs(serializers.SlugRelatedField):
    default_error_messages = {
        "does_not_exist": "There is no {slug_name} “{value}”",
        "invalid": "Enter it as text",
    }

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # DRF reads "" as null for a nullable relation; here null means none and
        # "" is a mistake.
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        # Relations skip CharField's checks (and a list's items skip
        # run_validation), so types, NUL and lone surrogates, which PostgreSQL
        # cannot take, are refused here.
        if not isinstance(data, str) or data == "":
            self.fail("invalid")
        ProhibitNullCharactersValidator()(data)
        ProhibitSurrogateCharactersValidator()(data)
        return super().to_internal_value(data)


class ProposalWrite(serializers.Serializer):
    """The answers an author writes. Omitted fields are left as they are (PATCH)."""

    title = Text(max_length=150)
    summary = Text(max_length=500, required=False, allow_blank=True)
    problem = Text(max_length=TEXT_MAX, required=False, allow_blank=True)
    who_has_the_problem = Text(max_length=TEXT_MAX, required=False, allow_blank=True)
    proposed_solution = Text(max_length=TEXT_MAX, required=False, allow_blank=True)
    expected_benefits = Text(max_length=TEXT_MAX, required=False, allow_blank=True)
    cost_band = serializers.ChoiceField(choices=CostBand.choices, required=False, allow_blank=True)
    estimated_benefit_gbp = WholeNumber(
        min_value=0, max_value=BIGINT_MAX, required=False, allow_null=True
    )
    hours_saved_per_year = WholeNumber(
        min_value=0, max_value=INT_MAX, required=False, allow_null=True
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    challenge = _Slugs(
        slug_field="slug", queryset=Challenge.objects.all(), required=False, allow_null=True
    )
    themes = _Slugs(slug_field="slug", queryset=Theme.objects.all(), many=True, required=False)
    collaborating_departments = _Slugs(
        slug_field="slug", queryset=Department.objects.all(), many=True, required=False
    )
    # Emails, resolved by the view (workflow.co_authors_for) with one error for every
    # address that cannot co-author, so the answer never tells who has an account.
    co_authors = serializers.ListField(
        child=Text(max_length=254),
        max_length=50,
        required=False,
        help_text=(
            "Email addresses of colleagues who write it with you: people in the owning "
            "department or a collaborating department."
        ),
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            sent = [name for name in READ_ONLY_PROPOSAL_FIELDS if name in data]
            if sent:
                raise serializers.ValidationError(
                    {
                        name: [
                            "This field is read-only: it is set by the service"
                            + (" (use the workflow actions)" if name == "status" else "")
                        ]
                        for name in sent
                    }
                )
        return super().to_internal_value(data)


class TriageIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "request_info", "reject"])
    assessors = serializers.ListField(
        child=Text(max_length=254),
        required=False,
        max_length=50,
        help_text="For `accept`: the panel reviewers who will assess, by email or user id.",
    )
    message = Text(
        max_length=TEXT_MAX,
        required=False,
        allow_blank=True,
        help_text="For `request_info`: what you need.",
    )
    rationale = Text(
        max_length=TEXT_MAX,
        required=False,
        allow_blank=True,
        help_text="For `reject`: the reason.",
    )


class ScoreIn(serializers.Serializer):
    criterion = WholeNumber(min_value=1, max_value=INT_MAX)
    score = WholeNumber(min_value=1, max_value=5)
    comment = Text(max_length=TEXT_MAX, required=False, allow_blank=True)


class AssessIn(serializers.Serializer):
    """Declare a conflict of interest (first), and/or submit scores."""

    conflict = Boolean(required=False, help_text="Your declaration: true stops you assessing.")
    conflict_details = Text(max_length=TEXT_MAX, required=False, allow_blank=True)
    scores = ScoreIn(many=True, required=False, max_length=100)  # type: ignore[call-arg]
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, required=False)
    comment = Text(max_length=TEXT_MAX, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "conflict" not in attrs and "scores" not in attrs:
            raise serializers.ValidationError(
                "Send `conflict` (your declaration) and/or `scores` with a `recommendation`"
            )
        if "scores" in attrs and "recommendation" not in attrs:
            raise serializers.ValidationError(
                {"recommendation": ["Select whether you recommend funding"]}
            )
        return attrs


class DecideIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[DecisionKind.APPROVE, DecisionKind.REJECT])
    rationale = Text(max_length=TEXT_MAX, allow_blank=True, required=False)


class MergeIn(serializers.Serializer):
    into = Text(max_length=32, help_text="The surviving proposal's reference.")


class CloseIn(serializers.Serializer):
    next_step = serializers.ChoiceField(choices=NextStep.choices)


FOLLOW_HELP = (
    "`true`: you follow the proposal too, as `follow/` does, and are told what happens "
    "to it. Its authors are told already, so for them it changes nothing."
)


class CommentIn(serializers.Serializer):
    body = Text(max_length=5000)
    follow = Boolean(required=False, default=False, help_text=FOLLOW_HELP)


class SupportIn(serializers.Serializer):
    follow = Boolean(required=False, default=False, help_text=FOLLOW_HELP)


class ReportFiltersIn(serializers.Serializer):
    """Types and lengths only: the values are checked by the one proposal filter
    (`proposals.filters.ReportFilter`), with the pages' messages."""

    status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        error_messages={"invalid_choice": MESSAGES["status"]},
    )
    department = Text(
        max_length=64, required=False, error_messages={"max_length": MESSAGES["department"]}
    )
    theme = Text(max_length=64, required=False, error_messages={"max_length": MESSAGES["theme"]})
    search = Text(
        max_length=200,
        required=False,
        allow_blank=True,
        error_messages={"max_length": MESSAGES["search"]},
    )


class ReportIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    filters = ReportFiltersIn(required=False)


class WebhookIn(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text="An HTTPS address.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=3
    )


# --- documented response shapes ----------------------------------------------------------------


class DepartmentRefOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    acronym = serializers.CharField()


class ProposalOut(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    problem = serializers.CharField()
    who_has_the_problem = serializers.CharField()
    proposed_solution = serializers.CharField()
    expected_benefits = serializers.CharField()
    cost_band = serializers.CharField(help_text=f"One of {', '.join(CostBand.values)}, or empty.")
    estimated_benefit_gbp = serializers.IntegerField(allow_null=True)
    hours_saved_per_year = serializers.IntegerField(allow_null=True)
    department = DepartmentRefOut()
    collaborating_departments = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())
    challenge = serializers.CharField(allow_null=True)
    merged_into = serializers.CharField(
        allow_null=True, help_text="The surviving proposal's reference, once merged."
    )
    status = serializers.ChoiceField(choices=Status.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField()


class DecisionOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    rationale = serializers.CharField()
    decided_by = serializers.CharField()
    decided_at = serializers.DateTimeField()


class MetricOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField()
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2)
    target = serializers.DecimalField(max_digits=14, decimal_places=2)
    direction = serializers.ChoiceField(choices=Direction.choices)


class ExperimentOut(serializers.Serializer):
    id = serializers.IntegerField()
    proposal = serializers.CharField(help_text="The proposal's reference.")
    title = serializers.CharField()
    we_believe = serializers.CharField()
    will_result_in = serializers.CharField()
    we_will_know_when = serializers.CharField()
    lead = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    budget_gbp = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExperimentStatus.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    metrics = MetricOut(many=True)


class EvaluationFilters(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=RegistryStatus.choices, required=False, help_text="The Registry's status."
    )
    proposal = serializers.CharField(
        max_length=32, required=False, help_text="A proposal's reference."
    )
    updated_after = LenientDateTimeField(required=False, help_text="ISO 8601; exclusive.")


class EvaluationOut(serializers.Serializer):
    """An evaluation plan, with the Evaluation Registry's fields (the report kind
    `evaluation_registry` has the same, lists there joined with ";")."""

    id = serializers.IntegerField()
    experiment = serializers.IntegerField(help_text="The experiment's id.")
    proposal = serializers.CharField(help_text="The proposal's reference.")
    reference = serializers.CharField(help_text="`<proposal reference>-E<experiment id>`.")
    title = serializers.CharField()
    lead_department = serializers.CharField()
    partner_departments = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=RegistryStatus.choices)
    evaluation_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EvaluationType.choices)
    )
    impact_designs = serializers.ListField(
        child=serializers.ChoiceField(choices=ImpactDesign.choices)
    )
    process_designs = serializers.ListField(
        child=serializers.ChoiceField(choices=ProcessDesign.choices)
    )
    economic_designs = serializers.ListField(
        child=serializers.ChoiceField(choices=EconomicDesign.choices)
    )
    brief_description = serializers.CharField()
    evaluation_cost_gbp = serializers.IntegerField(allow_null=True)
    plan_link = serializers.CharField(allow_blank=True)
    link_to_published_evaluation = serializers.CharField(allow_blank=True)
    reasons_unpublished = serializers.CharField(
        allow_blank=True, help_text=f"One of {', '.join(UnpublishedReason.values)}, or empty."
    )
    visibility = serializers.ChoiceField(choices=RegistryVisibility.choices)
    evaluation_start = serializers.DateField(help_text="Actual once recorded, else intended.")
    evaluation_end = serializers.DateField()
    intervention_start = serializers.DateField()
    intervention_end = serializers.DateField()
    final_report_due = serializers.DateField()
    final_report_published = serializers.DateField(allow_null=True)
    updated_at = serializers.DateTimeField()


class MetricActualOut(serializers.Serializer):
    metric = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField()
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2)
    target = serializers.DecimalField(max_digits=14, decimal_places=2)
    direction = serializers.ChoiceField(choices=Direction.choices)
    actual = serializers.DecimalField(max_digits=14, decimal_places=2)


class OutcomeOut(serializers.Serializer):
    id = serializers.IntegerField()
    experiment = serializers.IntegerField()
    experiment_title = serializers.CharField()
    proposal = serializers.CharField(help_text="The proposal's reference.")
    result = serializers.ChoiceField(choices=OutcomeResult.choices)
    lessons = serializers.CharField()
    recommendation = serializers.ChoiceField(choices=NextStep.choices)
    realised_benefit_gbp = serializers.IntegerField(allow_null=True)
    published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    metric_actuals = MetricActualOut(many=True)


class ScoreOut(serializers.Serializer):
    criterion = serializers.IntegerField()
    criterion_name = serializers.CharField()
    score = serializers.IntegerField()
    comment = serializers.CharField()


class AssessmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    assessor = serializers.CharField()
    conflict_declared = serializers.BooleanField(allow_null=True)
    conflict_details = serializers.CharField()
    recommendation = serializers.CharField()
    comment = serializers.CharField()
    weighted_score = serializers.DecimalField(max_digits=5, decimal_places=3, allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    scores = ScoreOut(many=True)


class ProposalDetailOut(ProposalOut):
    decision = DecisionOut(allow_null=True, help_text="The latest decision, if any.")
    experiments = ExperimentOut(many=True)
    outcomes = OutcomeOut(many=True)
    assessments = AssessmentOut(
        many=True,
        allow_null=True,
        help_text=(
            "Individual assessments and scores: only for the owning department's reviewers "
            "and leads (an assessor sees only their own until they have submitted it); "
            "null for everyone else."
        ),
    )
    feedback = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="Assessors' comments, once a lead releases them to the authors; else null.",
    )
    support_count = serializers.IntegerField()
    available_actions = serializers.ListField(
        child=serializers.CharField(),
        help_text="Workflow actions you may take now (the transition table's names).",
    )


class CommentOut(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField()
    department = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)


class SupportOut(serializers.Serializer):
    count = serializers.IntegerField()
    supported_by_you = serializers.BooleanField()


class FollowOut(serializers.Serializer):
    following = serializers.BooleanField(
        help_text="Whether you follow the proposal: told when its status changes, a "
        "decision is made, an experiment starts or an outcome is published."
    )


class DepartmentOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    acronym = serializers.CharField()
    # Declared fields are moved off the class, so this does not shadow Field.parent.
    parent = serializers.CharField(allow_null=True)  # type: ignore[assignment]


class CriterionOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="Send it as `criterion` in `assess/`.")
    name = serializers.CharField()
    description = serializers.CharField()
    weight = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="Relative weight, more than 0."
    )
    position = serializers.IntegerField(help_text="Order on the assessment form.")


class ThemeOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class ChallengeOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    question = serializers.CharField()
    department = serializers.CharField(allow_null=True, help_text="Null: cross-government.")
    themes = serializers.ListField(child=serializers.CharField())
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()
    is_open = serializers.BooleanField()


class ReportOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    filters = serializers.DictField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    progress = serializers.IntegerField(help_text="Percent built, 0 to 100.")
    row_count = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.URLField(allow_null=True, help_text="Set once the report is ready.")


class WebhookOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    previous_secret_valid_until = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "After a rotation, when the secret it replaced stops signing deliveries; "
            "null when only the current secret signs."
        ),
    )


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(
        help_text=(
            "The Standard Webhooks signing secret (`whsec_…`). Shown only in this "
            "response: keep it."
        )
    )


class AttemptOut(serializers.Serializer):
    number = serializers.IntegerField(help_text="1 for the first try, and so on.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(
        allow_null=True, help_text="Null while the try is under way, or if it never finished."
    )
    outcome = serializers.ChoiceField(
        choices=AttemptOutcome.choices, help_text="Blank while under way or never finished."
    )
    response_status = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(
        help_text='A plain category: "Could not connect", "Timed out", "Answered 503"…'
    )


class DeliveryOut(serializers.Serializer):
    id = serializers.UUIDField()
    event = serializers.ChoiceField(choices=WebhookEvent.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField()
    attempt_log = AttemptOut(many=True, help_text="Every try at this delivery, in order.")


class ChangesIn(serializers.Serializer):
    cursor = serializers.CharField(
        max_length=8000,
        required=False,
        allow_blank=True,
        help_text=(
            "Opaque: the `next_cursor` (or an event's `cursor`) of an earlier answer. "
            "Without it the feed starts from the beginning, with every proposal you may see."
        ),
    )
    page_size = serializers.IntegerField(
        min_value=1, max_value=500, required=False, help_text="Log entries to read, 1–500 (100)."
    )


class ChangeOut(serializers.Serializer):
    cursor = serializers.CharField(help_text="Resume after this event.")
    type = serializers.ChoiceField(choices=["proposal.upserted", "proposal.removed"])
    reference = serializers.CharField()
    id = serializers.UUIDField()
    occurred_at = serializers.DateTimeField(help_text="When the writing transaction ran.")
    # Declared fields are moved off the class, so this does not shadow Serializer.data.
    data = ProposalOut(  # type: ignore[assignment]
        allow_null=True, help_text="The proposal's list row now; null for `proposal.removed`."
    )


class ChangesOut(serializers.Serializer):
    next_cursor = serializers.CharField(
        help_text="Send it back as `cursor`; there is always one, even on an empty page."
    )
    has_more = serializers.BooleanField(
        help_text="More changes are waiting: ask again now rather than after your poll interval."
    )
    results = ChangeOut(many=True)


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    # A declared field, so it does not shadow Serializer.errors at run time.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field → messages; present for validation failures.",
    )


# --- similar proposals and lessons ------------------------------------------------------------


class SimilarIn(serializers.Serializer):
    """A draft that is not saved yet, to compare with what government already has."""

    title = Text(
        max_length=150,
        error_messages={
            "required": "Enter a title",
            "blank": "Enter a title",
            "max_length": "Title must be 150 characters or fewer",
        },
    )
    summary = Text(
        max_length=500,
        required=False,
        allow_blank=True,
        error_messages={"max_length": "Summary must be 500 characters or fewer"},
    )
    problem = Text(
        max_length=TEXT_MAX,
        required=False,
        allow_blank=True,
        error_messages={"max_length": f"Problem must be {TEXT_MAX:,} characters or fewer"},
    )


class SimilarOut(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    department = DepartmentRefOut()
    status = serializers.ChoiceField(choices=Status.choices)
    kind = serializers.ChoiceField(
        choices=[("proposal", "proposal"), ("lesson", "lesson")],
        help_text="`lesson`: a published outcome of the proposal's experiment (see `result`).",
    )
    result = serializers.ChoiceField(
        choices=OutcomeResult.choices,
        allow_null=True,
        help_text="A lesson's result; null for a proposal.",
    )
    score = serializers.FloatField(
        help_text="Higher is more alike: meaning (cosine) plus shared rare words; "
        "only results above the service's threshold are returned."
    )


class SimilarListOut(serializers.Serializer):
    results = SimilarOut(many=True)
