"""States and choices, with the named groups of states that rules refer to."""

from django.db import models


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    MORE_INFO = "more_info", "More information needed"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    MERGED = "merged", "Merged"
    EXPERIMENTING = "experimenting", "Experimenting"
    COMPLETED = "completed", "Completed"


# Authors may still withdraw: everything before a decision.
BEFORE_DECISION = frozenset({Status.DRAFT, Status.SUBMITTED, Status.MORE_INFO, Status.IN_REVIEW})
# Waiting for the department's reviewers or leads.
IN_TRIAGE_OR_REVIEW = frozenset({Status.SUBMITTED, Status.MORE_INFO, Status.IN_REVIEW})
# Authors may edit their answers: before triage, or when asked for more.
EDITABLE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.MORE_INFO})
FINAL = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.MERGED, Status.COMPLETED})
# Portfolio funnel order.
FUNNEL = (
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.APPROVED,
    Status.EXPERIMENTING,
    Status.COMPLETED,
)

# GOV.UK tag colour per status (govuk-tag--<colour>).
STATUS_TAG_COLOURS = {
    Status.DRAFT: "grey",
    Status.SUBMITTED: "blue",
    Status.MORE_INFO: "yellow",
    Status.IN_REVIEW: "light-blue",
    Status.APPROVED: "green",
    Status.REJECTED: "red",
    Status.WITHDRAWN: "grey",
    Status.MERGED: "purple",
    Status.EXPERIMENTING: "turquoise",
    Status.COMPLETED: "green",
}


class Visibility(models.TextChoices):
    GOVERNMENT = "government", "Across government"
    DEPARTMENT = "department", "My department and collaborating departments only"


class CostBand(models.TextChoices):
    UNDER_10K = "under_10k", "Under £10,000"
    FROM_10K = "10k_50k", "£10,000 to £50,000"
    FROM_50K = "50k_250k", "£50,000 to £250,000"
    FROM_250K = "250k_1m", "£250,000 to £1 million"
    OVER_1M = "over_1m", "Over £1 million"


class Recommendation(models.TextChoices):
    FUND = "fund", "Fund"
    DO_NOT_FUND = "do_not_fund", "Do not fund"


class DecisionKind(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    MORE_INFO = "more_info", "More information requested"


class ExperimentStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped early"


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase"
    DECREASE = "decrease", "Decrease"


class OutcomeResult(models.TextChoices):
    MET = "met", "Met"
    PARTLY_MET = "partly_met", "Partly met"
    NOT_MET = "not_met", "Not met"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class NextStep(models.TextChoices):
    SCALE = "scale", "Scale"
    ITERATE = "iterate", "Iterate"
    STOP = "stop", "Stop"


class AuditAudience(models.TextChoices):
    """Who may see an audit event in the proposal's timeline (SPEC §1)."""

    EVERYONE = "everyone", "Everyone who can see the proposal"
    AUTHORS = "authors", "Authors and the department's reviewers"
    REVIEWERS = "reviewers", "The owning department's reviewers and leads"


class NotificationKind(models.TextChoices):
    SUBMITTED = "submitted", "Your proposal was submitted"
    NEW_SUBMISSION = "new_submission", "A proposal was submitted to your department"
    MORE_INFO = "more_info", "More information was requested"
    ASSIGNED = "assigned", "You were assigned to assess a proposal"
    DECISION = "decision", "A decision was made"
    COMMENT = "comment", "Someone commented on your proposal"
    EXPERIMENT_ENDING = "experiment_ending", "An experiment ends soon or its outcome is overdue"
    PORTFOLIO_SUMMARY = "portfolio_summary", "Weekly portfolio summary"
    FEEDBACK = "feedback", "Assessors' feedback was released"
    REPORT_READY = "report_ready", "Your report is ready"
    BENEFIT_REVIEW = "benefit_review", "A benefit review is due"
    EVALUATION_REPORT = "evaluation_report", "An evaluation report is due or overdue"
    CO_AUTHOR = "co_author", "You were added as a co-author of a proposal"
    FOLLOWED = "followed_proposal_changed", "Something happened to a proposal you follow"


# --- evaluation plans, to the Magenta Book (HM Treasury's guidance on evaluation) ---------


class EvaluationType(models.TextChoices):
    IMPACT = "impact", "Impact"
    PROCESS = "process", "Process"
    ECONOMIC = "economic", "Economic or value for money"
    OTHER = "other", "Other"


class ImpactDesign(models.TextChoices):
    RCT = "rct", "Randomised controlled trial"
    CLUSTER_RCT = "cluster_rct", "Cluster randomised controlled trial"
    STEPPED_WEDGE = "stepped_wedge", "Stepped wedge trial"
    WAIT_LIST = "wait_list", "Wait list trial"
    DIFF_IN_DIFF = "difference_in_differences", "Difference in differences"
    ITS = "interrupted_time_series", "Interrupted time series"
    RDD = "regression_discontinuity", "Regression discontinuity"
    PSM = "propensity_score_matching", "Propensity score matching"
    SYNTHETIC_CONTROL = "synthetic_control", "Synthetic control"
    IV = "instrumental_variables", "Instrumental variables"
    CONTRIBUTION = "contribution_analysis", "Contribution analysis"
    PROCESS_TRACING = "process_tracing", "Process tracing"
    REALIST = "realist", "Realist evaluation"
    QCA = "qca", "Qualitative comparative analysis"
    OUTCOME_HARVESTING = "outcome_harvesting", "Outcome harvesting"
    GENERIC = "generic", "Generic (before and after, or other)"


# The Magenta Book's families of impact design, for the form's groups.
IMPACT_DESIGN_GROUPS: tuple[tuple[str, tuple[ImpactDesign, ...]], ...] = (
    (
        "Experimental",
        (
            ImpactDesign.RCT,
            ImpactDesign.CLUSTER_RCT,
            ImpactDesign.STEPPED_WEDGE,
            ImpactDesign.WAIT_LIST,
        ),
    ),
    (
        "Quasi-experimental",
        (
            ImpactDesign.DIFF_IN_DIFF,
            ImpactDesign.ITS,
            ImpactDesign.RDD,
            ImpactDesign.PSM,
            ImpactDesign.SYNTHETIC_CONTROL,
            ImpactDesign.IV,
        ),
    ),
    (
        "Theory-based",
        (
            ImpactDesign.CONTRIBUTION,
            ImpactDesign.PROCESS_TRACING,
            ImpactDesign.REALIST,
            ImpactDesign.QCA,
            ImpactDesign.OUTCOME_HARVESTING,
        ),
    ),
    ("Other", (ImpactDesign.GENERIC,)),
)


class ProcessDesign(models.TextChoices):
    INTERVIEWS = "interviews", "Interviews"
    FOCUS_GROUPS = "focus_groups", "Focus groups"
    CASE_STUDIES = "case_studies", "Case studies"
    SURVEYS = "surveys", "Surveys"
    OBSERVATION = "observation", "Observation"


class EconomicDesign(models.TextChoices):
    COST_MINIMISATION = "cost_minimisation", "Cost minimisation"
    COST_EFFECTIVENESS = "cost_effectiveness", "Cost-effectiveness analysis"
    COST_BENEFIT = "cost_benefit", "Cost-benefit analysis"
    COST_UTILITY = "cost_utility", "Cost-utility analysis"


class UnpublishedReason(models.TextChoices):
    SIGN_OFF = "sign_off", "Waiting for sign-off"
    PROCUREMENT = "procurement", "Procurement"
    RESOURCE = "resource", "Resource"
    QUALITY = "quality", "Quality"
    POLICY_CHANGED = "policy_changed", "The policy changed"
    OTHER = "other", "Other"


class RegistryStatus(models.TextChoices):
    """An evaluation's status as the Evaluation Registry names it."""

    PLANNED = "planned", "Planned"
    ONGOING = "ongoing", "Ongoing"
    COMPLETE = "complete", "Complete"


class RegistryVisibility(models.TextChoices):
    CIVIL_SERVICE = "civil_service", "Civil Service only"
    PUBLIC = "public", "Public"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DIGEST = "digest", "Waiting for the daily digest"


class AttemptOutcome(models.TextChoices):
    """How one try at delivering a webhook ended; blank while it is under way."""

    SENDING = "", "Did not finish"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DAILY = "daily", "Daily digest"
    OFF = "off", "Off"


# Kinds that cannot be turned off: someone is waiting for this person to act
# (to assess, or to answer a request for more information). The reason is shown
# beside them on /account/notifications/ and given when "off" is refused.
ALWAYS_ON: dict[str, str] = {
    NotificationKind.MORE_INFO: "Someone is waiting for you to add the information they asked for.",
    NotificationKind.ASSIGNED: "Someone is waiting for you to assess the proposal.",
}


class ReportKind(models.TextChoices):
    PROPOSALS = "proposals", "Proposals export"
    PORTFOLIO = "portfolio", "Portfolio summary"
    OUTCOMES = "outcomes", "Experiment outcomes"
    EVALUATION_REGISTRY = "evaluation_registry", "Evaluation Registry hand-off"


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    ODS = "ods", "OpenDocument spreadsheet (ODS)"
    JSON = "json", "JSON"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Building"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class WebhookEvent(models.TextChoices):
    PROPOSAL_SUBMITTED = "proposal.submitted", "Proposal submitted"
    PROPOSAL_DECIDED = "proposal.decided", "Proposal decided"
    OUTCOME_PUBLISHED = "outcome.published", "Outcome published"
