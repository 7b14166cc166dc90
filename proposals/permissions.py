"""Who may do what: named predicates, used by the workflow table, the pages and the API.

Each predicate answers for an object the user can already see; whether they
can see it at all is `selectors.proposals_visible_to`'s question alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from accounts.models import REVIEW_ROLES, Department, Role
from proposals.enums import EDITABLE, ExperimentStatus, Status

if TYPE_CHECKING:
    from accounts.models import User
    from proposals.models import Assessment, Comment, Experiment, Proposal

# Authors may correct a comment for this long after posting it (the one home of
# the window: the services, the pages and their messages read it from here).
COMMENT_EDIT_MINUTES = 15
COMMENT_EDIT_REFUSED = (
    f"You can edit your own comment for {COMMENT_EDIT_MINUTES} minutes after posting it"
)


def is_read_only(user: User) -> bool:
    """Analysts (and anyone signed out or deactivated) read; they never write (SPEC §1:
    "no comments, supports or other writes"). Every write predicate starts here."""
    return not (user.is_authenticated and user.is_active) or user.role == Role.ANALYST


def can_write(user: User) -> bool:
    return not is_read_only(user)


def author_ids(proposal: Proposal) -> set[int]:
    """The submitter and the co-authors: the people "your own proposal" means in
    every rule (support, assessment), not the submitter alone."""
    # Pages prefetch co-authors; fall back to a query when they did not.
    cache = getattr(proposal, "_prefetched_objects_cache", {})
    if "co_authors" in cache:
        co_authors = {author.pk for author in cache["co_authors"]}
    else:
        co_authors = set(proposal.co_authors.values_list("pk", flat=True))
    return {proposal.submitter_id, *co_authors}


def is_author(user: User, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    if proposal.submitter_id == user.pk:
        return True
    cache = getattr(proposal, "_prefetched_objects_cache", {})
    if "co_authors" in cache:
        return any(author.pk == user.pk for author in cache["co_authors"])
    return proposal.co_authors.filter(pk=user.pk).exists()


def is_reviewer_of(user: User, department_id: int) -> bool:
    return (
        user.is_authenticated and user.role in REVIEW_ROLES and user.department_id == department_id
    )


def is_lead_of(user: User, department_id: int) -> bool:
    return user.is_authenticated and user.role == Role.LEAD and user.department_id == department_id


def is_department_reviewer(user: User, proposal: Proposal) -> bool:
    """A reviewer or lead of the owning department (sees scores, triages)."""
    return is_reviewer_of(user, proposal.department_id)


def is_department_lead(user: User, proposal: Proposal) -> bool:
    return is_lead_of(user, proposal.department_id)


def is_analyst(user: User) -> bool:
    return user.is_authenticated and user.role == Role.ANALYST


def is_writing_author(user: User, proposal: Proposal) -> bool:
    """An author who may write (the state-free half of edit, delete, withdraw…)."""
    return can_write(user) and is_author(user, proposal)


def can_edit(user: User, proposal: Proposal) -> bool:
    return proposal.status in EDITABLE and is_writing_author(user, proposal)


def can_delete(user: User, proposal: Proposal) -> bool:
    return proposal.status == Status.DRAFT and is_writing_author(user, proposal)


def can_see_assessments(user: User, proposal: Proposal) -> bool:
    """Individual scores, assessors' comments and conflict declarations (SPEC §1):
    the owning department's panel, but never on a proposal they wrote (they hear
    the comments once released, as every author does). Which of the assessments
    they read is `selectors.assessment_filter`'s question."""
    return is_department_reviewer(user, proposal) and not is_author(user, proposal)


def can_see_feedback(user: User, proposal: Proposal) -> bool:
    """Assessors' comments reach authors only once a lead releases them."""
    return can_see_assessments(user, proposal) or (
        proposal.feedback_released and is_author(user, proposal)
    )


def can_release_feedback(user: User, proposal: Proposal) -> bool:
    return is_department_lead(user, proposal) and proposal.status in {
        Status.APPROVED,
        Status.REJECTED,
        Status.EXPERIMENTING,
        Status.COMPLETED,
    }


def can_assess(user: User, proposal: Proposal, assessment: Assessment | None) -> bool:
    """Assigned, not an author, the proposal in review, and not yet submitted."""
    return (
        proposal.status == Status.IN_REVIEW
        and is_department_reviewer(user, proposal)
        and not is_author(user, proposal)
        and assessment is not None
        and assessment.assessor_id == user.pk
        and assessment.submitted_at is None
        and assessment.conflict_declared is not True
    )


# The states in which a proposal takes comments and supports (the workflow's
# rules table reads these too, so a state refusal there is a 409).
COMMENT_STATES = frozenset(Status) - {Status.DRAFT}
SUPPORT_STATES = frozenset(Status) - {Status.DRAFT, Status.WITHDRAWN, Status.MERGED}


def may_comment(user: User, proposal: Proposal) -> bool:
    """Anyone who can see the proposal and may write (the state-free half)."""
    return can_write(user)


def can_comment(user: User, proposal: Proposal) -> bool:
    return proposal.status in COMMENT_STATES and may_comment(user, proposal)


def can_edit_comment(
    user: User, comment: Comment, *, now_minutes_since: float | None = None
) -> bool:
    """Authors may correct their comment for COMMENT_EDIT_MINUTES."""
    if now_minutes_since is None:
        now_minutes_since = (timezone.now() - comment.created_at).total_seconds() / 60
    return (
        can_write(user)
        and comment.author_id == user.pk
        and now_minutes_since <= COMMENT_EDIT_MINUTES
    )


def may_support(user: User, proposal: Proposal) -> bool:
    """Not an analyst, and not a proposal you wrote or co-wrote (the state-free half)."""
    return can_write(user) and not is_author(user, proposal)


def can_support(user: User, proposal: Proposal) -> bool:
    return proposal.status in SUPPORT_STATES and may_support(user, proposal)


FOLLOW_STATES = frozenset(Status) - {Status.DRAFT}


def may_follow(user: User, proposal: Proposal) -> bool:
    """Anyone who may write and did not write it: its authors and co-authors are
    told already (`messages.authors_of`), so following would tell them twice."""
    return can_write(user) and not is_author(user, proposal)


def can_plan_experiment(user: User, proposal: Proposal) -> bool:
    return is_department_lead(user, proposal) and proposal.status in {
        Status.APPROVED,
        Status.EXPERIMENTING,
    }


# A proposal whose experiments may be started, stopped and given outcomes.
RUNNING_PROPOSAL_STATES = frozenset({Status.APPROVED, Status.EXPERIMENTING})


def may_run_experiment(user: User, experiment: Experiment) -> bool:
    """The department's lead or the experiment's lead (the state-free half)."""
    proposal = experiment.proposal
    return is_department_lead(user, proposal) or (
        experiment.lead_id == user.pk and is_department_reviewer(user, proposal)
    )


def can_run_experiment(user: User, experiment: Experiment) -> bool:
    """Start, stop and record outcomes: the department's lead or the experiment's lead."""
    return experiment.proposal.status in RUNNING_PROPOSAL_STATES and may_run_experiment(
        user, experiment
    )


def can_record_outcome(user: User, experiment: Experiment) -> bool:
    return can_run_experiment(user, experiment) and experiment.status in {
        ExperimentStatus.RUNNING,
        ExperimentStatus.COMPLETED,
        ExperimentStatus.STOPPED,
    }


def can_configure(user: User, department: Department) -> bool:
    return is_lead_of(user, department.pk)


# The roles a lead may give a colleague, by panel membership or by invitation:
# never analyst, which is cross-government.
GRANTABLE_ROLES = (Role.SUBMITTER, Role.REVIEWER, Role.LEAD)


def is_operator(user: User) -> bool:
    """Django admin staff: they may invite people to any department."""
    return user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser)


def can_manage_invitations(user: User) -> bool:
    """Sees /account/invitations/: a portfolio lead (their department's), or an operator."""
    return is_operator(user) or (user.is_active and is_lead_of(user, user.department_id))


def can_invite(user: User, department: Department) -> bool:
    """Invites people to `department`, and withdraws its invitations."""
    return is_operator(user) or (user.is_active and is_lead_of(user, department.pk))


def can_adopt(user: User) -> bool:
    """Any civil servant may adopt a published outcome into their own department."""
    return can_write(user)


def can_propose(user: User) -> bool:
    """Every active civil servant proposes; analysts read across government only."""
    return can_write(user)


def can_see_portfolio(user: User) -> bool:
    """Leads see their department's portfolio; analysts all of government's."""
    return user.is_authenticated and user.role in {Role.LEAD, Role.ANALYST}


def can_request_reports(user: User) -> bool:
    return user.is_authenticated and user.role in {Role.LEAD, Role.ANALYST}


def can_manage_challenges(user: User, department: Department | None) -> bool:
    if department is None:
        return user.is_authenticated and user.is_superuser
    return is_lead_of(user, department.pk)
