"""The one table of the lifecycle (SPEC §2): for each action, from which states,
to which state, who may perform it, and what it requires.

`services.proposal_transition` is the only code that changes a proposal's
status, and it reads everything from here. Pages ask `available_actions()` to
show exactly the buttons a user may press now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proposals import permissions as perms
from proposals.enums import BEFORE_DECISION, IN_TRIAGE_OR_REVIEW, AuditAudience, Status

if TYPE_CHECKING:
    from accounts.models import User
    from proposals.models import Proposal

Errors = dict[str, list[str]]
Requirement = Callable[["Proposal", Mapping[str, Any]], Errors]

# The answers a proposal needs before it can be submitted, with their error messages
# in the GOV.UK style ("Enter …").
REQUIRED_ANSWERS = {
    "title": "Enter a title",
    "summary": "Enter a summary",
    "problem": "Enter the problem you are trying to solve",
    "who_has_the_problem": "Enter who has this problem",
    "proposed_solution": "Enter what you propose",
    "expected_benefits": "Enter the benefits you expect",
    "cost_band": "Select an estimated cost",
}


def _answers_complete(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    errors = {
        name: [message]
        for name, message in REQUIRED_ANSWERS.items()
        if not str(getattr(proposal, name) or "").strip()
    }
    if proposal.challenge_id and not proposal.challenge.is_open:  # type: ignore[union-attr]
        errors["challenge"] = ["This challenge has closed; choose another or none"]
    return errors


def _needs(name: str, message: str) -> Requirement:
    def check(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
        return {} if str(data.get(name) or "").strip() else {name: [message]}

    return check


def _assessors_chosen(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    from accounts.models import User

    ids = list(data.get("assessors") or [])
    if not ids:
        return {"assessors": ["Select at least one assessor"]}
    panel = User.objects.filter(
        pk__in=ids,
        department_id=proposal.department_id,
        role__in=perms.REVIEW_ROLES,
        is_active=True,
    ).exclude(pk=proposal.submitter_id)
    if panel.count() != len(set(ids)):
        return {
            "assessors": ["Assessors must be reviewers on the department's panel, not the author"]
        }
    return {}


def _enough_assessments(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    errors = _needs("rationale", "Enter the reason for the decision")(proposal, data)
    done = proposal.assessments.filter(submitted_at__isnull=False).count()
    needed = proposal.department.min_assessments
    if done < needed:
        errors.setdefault("__all__", []).append(
            f"This proposal needs {needed} completed assessment"
            f"{'s' if needed != 1 else ''} before a decision; it has {done}"
        )
    return errors


def _survivor_valid(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    from proposals.models import Proposal as ProposalModel

    reference = str(data.get("into") or "").strip().upper()
    if not reference:
        return {"into": ["Enter the reference of the proposal to merge into"]}
    survivor = ProposalModel.objects.filter(reference=reference).first()
    if survivor is None or survivor.department_id != proposal.department_id:
        return {"into": ["Enter the reference of another proposal of your department"]}
    if survivor.pk == proposal.pk:
        return {"into": ["A proposal cannot be merged into itself"]}
    if survivor.status in {Status.DRAFT, Status.WITHDRAWN, Status.MERGED, Status.REJECTED}:
        return {"into": [f"{survivor.reference} is {survivor.get_status_display().lower()}"]}
    return {}


def _every_experiment_has_outcome(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    from proposals.enums import NextStep

    if data.get("next_step") not in NextStep.values:
        errors["next_step"] = ["Select whether to scale, iterate or stop"]
    experiments = proposal.experiments.all()
    if not experiments.exists():
        errors.setdefault("__all__", []).append("Plan and run an experiment before closing")
    elif experiments.filter(outcome__isnull=True).exists():
        errors.setdefault("__all__", []).append(
            "Record an outcome for every experiment before closing"
        )
    return errors


def _nothing(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    return {}


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the button a user presses
    sources: frozenset[Status]
    target: Status
    allowed: Callable[[User, Proposal], bool]
    requires: Requirement = _nothing
    # Who sees this step in the proposal's timeline.
    audience: AuditAudience = AuditAudience.EVERYONE
    # Actions the product starts itself (starting an experiment moves the proposal).
    internal: bool = False
    timestamps: tuple[str, ...] = field(default=())


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "submit",
            "Submit proposal",
            frozenset({Status.DRAFT}),
            Status.SUBMITTED,
            perms.is_author,
            _answers_complete,
            timestamps=("submitted_at",),
        ),
        Transition(
            "resubmit",
            "Resubmit proposal",
            frozenset({Status.MORE_INFO}),
            Status.SUBMITTED,
            perms.is_author,
            _answers_complete,
            timestamps=("submitted_at",),
        ),
        Transition(
            "withdraw",
            "Withdraw proposal",
            BEFORE_DECISION,
            Status.WITHDRAWN,
            perms.is_author,
        ),
        Transition(
            "accept",
            "Accept for review",
            frozenset({Status.SUBMITTED}),
            Status.IN_REVIEW,
            perms.is_department_reviewer,
            _assessors_chosen,
        ),
        Transition(
            "request_info",
            "Request more information",
            frozenset({Status.SUBMITTED, Status.IN_REVIEW}),
            Status.MORE_INFO,
            perms.is_department_reviewer,
            _needs("message", "Enter what information you need"),
        ),
        Transition(
            "reject_at_triage",
            "Reject",
            frozenset({Status.SUBMITTED}),
            Status.REJECTED,
            perms.is_department_reviewer,
            _needs("rationale", "Enter the reason for rejecting the proposal"),
            timestamps=("decided_at",),
        ),
        Transition(
            "approve",
            "Approve",
            frozenset({Status.IN_REVIEW}),
            Status.APPROVED,
            perms.is_department_lead,
            _enough_assessments,
            timestamps=("decided_at",),
        ),
        Transition(
            "reject",
            "Reject",
            frozenset({Status.IN_REVIEW}),
            Status.REJECTED,
            perms.is_department_lead,
            _needs("rationale", "Enter the reason for rejecting the proposal"),
            timestamps=("decided_at",),
        ),
        Transition(
            "merge",
            "Merge into another proposal",
            IN_TRIAGE_OR_REVIEW,
            Status.MERGED,
            perms.is_department_lead,
            _survivor_valid,
        ),
        Transition(
            "start_experiment",
            "Start experiment",
            frozenset({Status.APPROVED}),
            Status.EXPERIMENTING,
            perms.is_department_lead,
            internal=True,
        ),
        Transition(
            "close",
            "Close proposal",
            frozenset({Status.EXPERIMENTING}),
            Status.COMPLETED,
            perms.is_department_lead,
            _every_experiment_has_outcome,
        ),
    )
}

# Deleting is not a change of state (the row goes; its audit events stay), but it
# has rules like one: authors, drafts only. services.proposal_delete_draft uses them.
DELETE_SOURCES = frozenset({Status.DRAFT})


def available_actions(user: User, proposal: Proposal) -> list[Transition]:
    """The transitions this user may start now, in table order (for buttons and the API)."""
    return [
        t
        for t in TRANSITIONS.values()
        if not t.internal and proposal.status in t.sources and t.allowed(user, proposal)
    ]
