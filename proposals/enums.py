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


class ReportKind(models.TextChoices):
    PROPOSALS = "proposals", "Proposals export"
    PORTFOLIO = "portfolio", "Portfolio summary"
    OUTCOMES = "outcomes", "Experiment outcomes"


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
