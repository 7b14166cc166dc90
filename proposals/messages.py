"""Who hears about what, and in which words: every message the service sends.

Services, reports and the daily reminders decide *when* something happened;
this module decides who is told and what the email says, so that the wording
of a kind of message, and the rule for who gets it, each have one home.
`notifications.send` writes the rows (the outbox) for a `Message`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Department, Invitation, Role, User
from proposals.enums import DecisionKind, NotificationKind, OutcomeResult, ReportKind, Status
from proposals.models import (
    BenefitReview,
    EvaluationPlan,
    Experiment,
    Outcome,
    Proposal,
    Report,
)


class Figures(Protocol):
    """What the weekly summary reads of the portfolio's figures
    (`proposals.portfolio.Portfolio`, which sits above this module and sends it)."""

    counts: dict[str, int]
    decided: int
    total: int
    median_days_to_decision: float | None
    estimated_benefit_gbp: int
    realised_benefit_gbp: int
    computed_at: dt.datetime | None


def figures_as_of(moment: dt.datetime) -> str:
    """How fresh a figure read from a summary is, in GOV.UK style, local time:
    "Figures as of 10:42am on 7 December 2026" ("midday", "midnight")."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    if (local.hour, local.minute) == (12, 0):
        time = "midday"
    elif (local.hour, local.minute) == (0, 0):
        time = "midnight"
    else:
        time = f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
    return f"Figures as of {time} on {local.day} {local:%B %Y}"


@dataclass(frozen=True)
class Message:
    kind: NotificationKind
    recipients: Sequence[User]
    subject: str
    body: str
    proposal: Proposal | None = None
    # The page the email links to; the proposal's page when None.
    url: str | None = None
    # The person whose action it was: never told about their own action.
    exclude: User | None = None


# --- recipients ------------------------------------------------------------------------------


def authors_of(proposal: Proposal) -> list[User]:
    return [proposal.submitter, *proposal.co_authors.all()]


def panel_of(department_id: int) -> QuerySet[User]:
    return User.objects.panel_of(department_id)


def leads_of(department_id: int) -> QuerySet[User]:
    return User.objects.filter(department_id=department_id, role=Role.LEAD, is_active=True)


# --- the proposal's lifecycle ----------------------------------------------------------------


def proposal_submitted(proposal: Proposal, *, actor: User) -> list[Message]:
    department = proposal.department
    return [
        Message(
            NotificationKind.SUBMITTED,
            authors_of(proposal),
            f"Your proposal {proposal.reference} has been submitted",
            f"Your proposal “{proposal.title}” has been submitted to {department.name}.\n\n"
            f"Your reference is {proposal.reference}. The department's reviewers will look "
            f"at it within {department.triage_target_days} working days.",
            proposal,
        ),
        Message(
            NotificationKind.NEW_SUBMISSION,
            list(panel_of(proposal.department_id)),
            f"New proposal to triage: {proposal.reference}",
            f"“{proposal.title}” has been submitted to {department.name} and is waiting for "
            "triage.",
            proposal,
            exclude=actor,
        ),
    ]


def co_authors_added(proposal: Proposal, *, actor: User, added: Sequence[User]) -> Message:
    draft = proposal.status == Status.DRAFT
    return Message(
        NotificationKind.CO_AUTHOR,
        list(added),
        f"{actor.full_name} added you as a co-author of {proposal.reference}",
        f"{actor.full_name} ({actor.department.name}) added you as a co-author of "
        f"“{proposal.title}”.\n\n"
        + (
            "It is a draft: only its authors can see it. You can change its answers and submit it."
            if draft
            else "You can read it and change its answers while it is open to changes."
        ),
        proposal,
        exclude=actor,
    )


def assessors_assigned(proposal: Proposal, *, actor: User, assessors: Sequence[User]) -> Message:
    return Message(
        NotificationKind.ASSIGNED,
        list(assessors),
        f"Please assess {proposal.reference}",
        f"{actor.full_name} has asked you to assess “{proposal.title}”.",
        proposal,
    )


def decision_made(proposal: Proposal, *, actor: User, kind: DecisionKind, text: str) -> Message:
    if kind == DecisionKind.MORE_INFO:
        return Message(
            NotificationKind.MORE_INFO,
            authors_of(proposal),
            f"More information is needed for {proposal.reference}",
            f"{actor.full_name} needs more information about “{proposal.title}”:\n\n{text}",
            proposal,
        )
    return Message(
        NotificationKind.DECISION,
        authors_of(proposal),
        f"Decision on your proposal {proposal.reference}: {kind.label.lower()}",
        f"Your proposal “{proposal.title}” has been {kind.label.lower()}.\n\n{text}",
        proposal,
    )


def proposal_merged(proposal: Proposal, *, survivor: Proposal) -> Message:
    return Message(
        NotificationKind.DECISION,
        authors_of(proposal),
        f"Your proposal {proposal.reference} has been merged into {survivor.reference}",
        f"“{proposal.title}” duplicated “{survivor.title}”, so the two have been merged. "
        f"Its supports and comments are now on {survivor.reference}.",
        proposal,
    )


def feedback_released(proposal: Proposal) -> Message:
    return Message(
        NotificationKind.FEEDBACK,
        authors_of(proposal),
        f"Assessors' feedback on {proposal.reference}",
        f"The assessors' comments on “{proposal.title}” are now on the proposal's page.",
        proposal,
    )


def comment_added(proposal: Proposal, *, author: User, body: str) -> Message:
    return Message(
        NotificationKind.COMMENT,
        authors_of(proposal),
        f"New comment on {proposal.reference}",
        f"{author.full_name} ({author.department.name}) commented on “{proposal.title}”:\n\n{body}",
        proposal,
        exclude=author,
    )


# --- what happens to a proposal someone follows -----------------------------------------------
#
# The followers are chosen by the service that made the change (the ones who may
# still see the proposal: `selectors.followers_who_may_see`, a layer above this one).
# Its authors are told in their own words above, so never here as well. The words
# say only what everyone who may see the proposal may read: no rationale, no scores.

FOLLOWED_STATUS_NEWS = {
    Status.SUBMITTED: "has been resubmitted with the information the reviewers asked for",
    Status.MORE_INFO: "is waiting for more information from its authors",
    Status.IN_REVIEW: "has been accepted for review",
    Status.APPROVED: "has been approved",
    Status.REJECTED: "has been rejected",
    Status.WITHDRAWN: "has been withdrawn by its authors",
    Status.MERGED: "has been merged into another proposal, because it duplicated it",
    Status.EXPERIMENTING: "is being tested in an experiment",
    Status.COMPLETED: "has been closed: its experiments are finished",
}
DECIDED = frozenset({Status.APPROVED, Status.REJECTED})


def _not_authors(proposal: Proposal, followers: Sequence[User]) -> list[User]:
    authors = {user.pk for user in authors_of(proposal)}
    return [user for user in followers if user.pk not in authors]


def followed_status_changed(
    proposal: Proposal, *, followers: Sequence[User], actor: User
) -> Message:
    status = Status(proposal.status)
    if status in DECIDED:
        subject = f"Decision on {proposal.reference}: {status.label.lower()}"
    else:
        subject = f"Update on {proposal.reference}: {status.label.lower()}"
    return Message(
        NotificationKind.FOLLOWED,
        _not_authors(proposal, followers),
        subject,
        f"“{proposal.title}”, which you follow, {FOLLOWED_STATUS_NEWS[status]}.",
        proposal,
        exclude=actor,
    )


def followed_experiment_started(
    experiment: Experiment, *, followers: Sequence[User], actor: User
) -> Message:
    proposal = experiment.proposal
    ends = experiment.ends_on.strftime("%-d %B %Y")
    return Message(
        NotificationKind.FOLLOWED,
        _not_authors(proposal, followers),
        f"An experiment has started on {proposal.reference}",
        f"The experiment “{experiment.title}” is testing “{proposal.title}”, which you "
        f"follow. It is planned to end on {ends}.",
        proposal,
        exclude=actor,
    )


def followed_outcome_published(
    outcome: Outcome, *, followers: Sequence[User], actor: User
) -> Message:
    experiment = outcome.experiment
    proposal = experiment.proposal
    return Message(
        NotificationKind.FOLLOWED,
        _not_authors(proposal, followers),
        f"What was learned from {proposal.reference} is published",
        f"The outcome of the experiment “{experiment.title}” on “{proposal.title}”, which "
        f"you follow, has been published. Result: "
        f"{OutcomeResult(outcome.result).label}.",
        proposal,
        exclude=actor,
    )


# --- experiments -----------------------------------------------------------------------------


def experiment_due(experiment: Experiment, *, overdue: bool) -> Message:
    """To the experiment's lead and the department's leads (daily reminder)."""
    proposal = experiment.proposal
    ends = experiment.ends_on.strftime("%-d %B %Y")
    if overdue:
        subject = f"Outcome overdue for experiment on {proposal.reference}"
        body = (
            f"The experiment “{experiment.title}” ended on {ends}. Record its outcome, "
            "with each metric's actual value, so that what was learned is shared — "
            "including if it did not work."
        )
    else:
        subject = f"Experiment on {proposal.reference} ends in 7 days"
        body = (
            f"The experiment “{experiment.title}” ends on {ends}. Plan to record its "
            "outcome, with each metric's actual value, when it ends."
        )
    recipients = [experiment.lead, *leads_of(proposal.department_id)]
    return Message(NotificationKind.EXPERIMENT_ENDING, recipients, subject, body, proposal)


def benefit_review_due(review: BenefitReview) -> Message:
    """To the benefit's owner (or, without one, the department's leads)."""
    outcome = review.outcome
    experiment = outcome.experiment
    proposal = experiment.proposal
    subject = f"Benefit review due for {proposal.reference}"
    body = (
        f"The benefit of the experiment “{experiment.title}” is due for review on "
        f"{review.due_on.strftime('%-d %B %Y')}. Record what it has realised by now — "
        "in pounds a year or hours saved — so the portfolio compares it with the estimate."
    )
    owner = outcome.benefit_owner
    recipients = [owner] if owner is not None and owner.is_active else []
    recipients = recipients or list(leads_of(proposal.department_id))
    return Message(
        NotificationKind.BENEFIT_REVIEW,
        recipients,
        subject,
        body,
        proposal,
        url=f"/experiments/{experiment.pk}/#benefits",
    )


def evaluation_report_due(plan: EvaluationPlan, deadline: dt.date, *, overdue: bool) -> Message:
    """To the experiment's lead and the department's leads: the evaluation's report
    is to be published within 12 weeks of the outcome's sign-off."""
    experiment = plan.experiment
    proposal = experiment.proposal
    when = deadline.strftime("%-d %B %Y")
    if overdue:
        subject = f"Evaluation report overdue for {proposal.reference}"
        body = (
            f"The report of the evaluation of “{experiment.title}” was due to be published "
            f"by {when}, 12 weeks after its outcome was signed off. Publish it and add its "
            "link to the evaluation plan, or record why it is unpublished."
        )
    else:
        subject = f"Evaluation report due in 2 weeks for {proposal.reference}"
        body = (
            f"The report of the evaluation of “{experiment.title}” is to be published by "
            f"{when}, 12 weeks after its outcome was signed off. Add its link to the "
            "evaluation plan when it is published."
        )
    recipients = list(
        {u.pk: u for u in [experiment.lead, *leads_of(proposal.department_id)]}.values()
    )
    return Message(
        NotificationKind.EVALUATION_REPORT,
        recipients,
        subject,
        body,
        proposal,
        url=f"/experiments/{experiment.pk}/evaluation/",
    )


# --- reports ---------------------------------------------------------------------------------


def report_finished(report: Report, *, ok: bool) -> Message:
    label = ReportKind(report.kind).label.lower()
    if ok:
        subject = f"Your report is ready: {label}"
        body = (
            f"The {label} you asked for is ready to download. It will be deleted "
            f"after {settings.REPORT_EXPIRY_DAYS} days."
        )
    else:
        subject = f"Your report could not be built: {label}"
        body = f"The {label} you asked for could not be built. Try requesting it again."
    return Message(
        NotificationKind.REPORT_READY, [report.requested_by], subject, body, url="/reports/"
    )


# --- the portfolio ---------------------------------------------------------------------------


def portfolio_summary_recipients() -> dict[Department, list[User]]:
    """Each department that has active portfolio leads, with those leads (one query)."""
    leads: dict[Department, list[User]] = {}
    for lead in (
        User.objects.filter(role=Role.LEAD, is_active=True)
        .select_related("department")
        .order_by("department__name", "pk")
    ):
        leads.setdefault(lead.department, []).append(lead)
    return leads


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def portfolio_summary(
    department: Department,
    leads: Sequence[User],
    *,
    figures: Figures,
    this_week: Figures,
    week_ending: dt.date,
) -> Message:
    """The weekly summary to a department's leads: the figures of its /portfolio/ page."""
    counts = figures.counts
    median = figures.median_days_to_decision
    decided = f"* {figures.decided} decided" + (
        f", in a median of {_days(median)} days from submission to decision"
        if median is not None
        else ""
    )
    body = "\n".join(
        [
            f"In the last 7 days at {department.name}:",
            "",
            f"* {this_week.total} proposals submitted",
            "",
            "Now:",
            "",
            f"* {counts[Status.SUBMITTED]} waiting for triage",
            f"* {counts[Status.IN_REVIEW]} in review",
            f"* {counts[Status.EXPERIMENTING]} experimenting",
            "",
            "Since the service began:",
            "",
            f"* {figures.total} proposals submitted",
            decided,
            f"* £{figures.realised_benefit_gbp:,} realised of £{figures.estimated_benefit_gbp:,} "
            "estimated benefit a year",
            "",
            # "Now" and "since the service began" are the page's figures, refreshed
            # every few minutes; the last 7 days are counted as the email is written.
            f"{figures_as_of(figures.computed_at or timezone.now())}.",
        ]
    )
    week = week_ending.strftime("%-d %B %Y")
    return Message(
        NotificationKind.PORTFOLIO_SUMMARY,
        list(leads),
        f"Weekly portfolio summary for {department.name}, week ending {week}",
        body,
        url="/portfolio/",
    )


# --- invitations (to people who have no account yet) -------------------------------------


def invitation_email(invitation: Invitation, *, link: str) -> tuple[str, str]:
    """The subject and text of an invitation: to an address, not to a user, so it
    is not a `Message` (the notifications outbox is for people with accounts)."""
    inviter = invitation.invited_by
    who = inviter.full_name if inviter is not None else "The service team"
    department = invitation.department
    local = timezone.localtime(invitation.expires_at)
    hour = local.strftime("%-I:%M%p").replace(":00", "").lower()
    expires = f"{local:%-d %B %Y} at {hour}"
    body = "\n".join(
        [
            "Hello,",
            "",
            f"{who} has invited you to use {settings.SERVICE_NAME} at {department.name}, "
            f"as a {invitation.get_role_display().lower()}.",
            "",
            "To accept, create your account here:",
            link,
            "",
            f"The link works once, until {expires}. If it has "
            "expired, ask your department's portfolio lead to invite you again.",
            "",
            "If you were not expecting this email, you can ignore it.",
            "",
            f"{settings.SERVICE_NAME}",
            "This is an automated email. Replies to it are not read.",
            "",
        ]
    )
    return f"You have been invited to {settings.SERVICE_NAME}", body
