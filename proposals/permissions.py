"""Who may do what: named predicates, used by the workflow table, the pages and the API.

Each predicate answers for an object the user can already see; whether they
can see it at all is `selectors.proposals_visible_to`'s question alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Department, Role
from proposals.enums import EDITABLE, ExperimentStatus, Status

if TYPE_CHECKING:
    from accounts.models import User
    from proposals.models import Assessment, Comment, Experiment, Proposal

REVIEW_ROLES = frozenset({Role.REVIEWER, Role.LEAD})


def is_author(user: User, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    if proposal.submitter_id == user.pk:
        return True
    # Pages prefetch co-authors; fall back to a query when they did not.
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


def can_edit(user: User, proposal: Proposal) -> bool:
    return proposal.status in EDITABLE and is_author(user, proposal)


def can_delete(user: User, proposal: Proposal) -> bool:
    return proposal.status == Status.DRAFT and is_author(user, proposal)


def can_see_assessments(user: User, proposal: Proposal) -> bool:
    """Individual scores, assessors' comments and conflict declarations (SPEC §1)."""
    return is_department_reviewer(user, proposal)


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


def can_comment(user: User, proposal: Proposal) -> bool:
    return user.is_authenticated and user.is_active and proposal.status != Status.DRAFT


def can_edit_comment(user: User, comment: Comment, *, now_minutes_since: float) -> bool:
    """Authors may correct their comment for 15 minutes."""
    return comment.author_id == user.pk and now_minutes_since <= 15


def can_support(user: User, proposal: Proposal) -> bool:
    return (
        user.is_authenticated
        and proposal.status not in {Status.DRAFT, Status.WITHDRAWN, Status.MERGED}
        and proposal.submitter_id != user.pk
    )


def can_plan_experiment(user: User, proposal: Proposal) -> bool:
    return is_department_lead(user, proposal) and proposal.status in {
        Status.APPROVED,
        Status.EXPERIMENTING,
    }


def can_run_experiment(user: User, experiment: Experiment) -> bool:
    """Start, stop and record outcomes: the department's lead or the experiment's lead."""
    proposal = experiment.proposal
    if proposal.status not in {Status.APPROVED, Status.EXPERIMENTING}:
        return False
    return is_department_lead(user, proposal) or (
        experiment.lead_id == user.pk and is_department_reviewer(user, proposal)
    )


def can_record_outcome(user: User, experiment: Experiment) -> bool:
    return can_run_experiment(user, experiment) and experiment.status in {
        ExperimentStatus.RUNNING,
        ExperimentStatus.COMPLETED,
        ExperimentStatus.STOPPED,
    }


def can_configure(user: User, department: Department) -> bool:
    return is_lead_of(user, department.pk)


def can_adopt(user: User) -> bool:
    """Any civil servant may adopt a published outcome into their own department."""
    return user.is_authenticated and user.role != Role.ANALYST


def can_propose(user: User) -> bool:
    """Every active civil servant proposes; analysts read across government only."""
    return user.is_authenticated and user.is_active and user.role != Role.ANALYST


def can_see_portfolio(user: User) -> bool:
    """Leads see their department's portfolio; analysts all of government's."""
    return user.is_authenticated and user.role in {Role.LEAD, Role.ANALYST}


def can_request_reports(user: User) -> bool:
    return user.is_authenticated and user.role in {Role.LEAD, Role.ANALYST}


def can_manage_challenges(user: User, department: Department | None) -> bool:
    if department is None:
        return user.is_authenticated and user.is_superuser
    return is_lead_of(user, department.pk)
