"""The one table of the lifecycle (SPEC §2): for each action, from which states,
to which state, who may perform it, and what it requires.

`services.proposal_transition` is the only code that changes a proposal's
status, and it reads everything from here. Pages ask `available_actions()` to
show exactly the buttons a user may press now.

Beside the proposal's lifecycle are the actions that change no status but have
rules of the same shape (comment, support, edit, plan an experiment…:
`PROPOSAL_RULES`) and the experiment's own lifecycle (`EXPERIMENT_TRANSITIONS`).
`refusal()` / `check()` answer "may this user do this now?" for all of them, in
one order: first who (FORBIDDEN, 403), then the state (CONFLICT, 409), then
what was sent (INVALID, 400). Pages and API call the same check and each maps
the kinds once (`views._common.refusal_page`, `api.exceptions._translate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator

from accounts.models import Department, Role, User
from proposals import permissions as perms
from proposals.enums import (
    BEFORE_DECISION,
    EDITABLE,
    IN_TRIAGE_OR_REVIEW,
    AuditAudience,
    ExperimentStatus,
    NextStep,
    Status,
)
from proposals.exceptions import Refusal, RefusalKind, Refused
from proposals.models import Challenge, EvaluationPlan, Experiment, Outcome, Proposal

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

    ids = list(data.get("assessors") or [])
    if not ids:
        return {"assessors": ["Select at least one assessor"]}
    chosen = set(ids)
    writers = perms.author_ids(proposal) & chosen
    if writers:
        # Name the person and the proposal: in a bulk accept the reviewer chose several of
        # each and cannot otherwise tell which pairing is the conflict.
        author = User.objects.filter(pk__in=writers).order_by("full_name", "pk").first()
        return {
            "assessors": [
                f"{author} cannot assess {proposal.reference} because they wrote it. "
                "Choose other assessors"
            ]
        }
    on_panel = User.objects.panel_of(proposal.department_id).filter(pk__in=chosen).count()
    if on_panel != len(chosen):
        return {"assessors": ["Assessors must be reviewers on the department's panel"]}
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

    reference = str(data.get("into") or "").strip().upper()
    if not reference:
        return {"into": ["Enter the reference of the proposal to merge into"]}
    survivor = Proposal.objects.filter(reference=reference).first()
    if survivor is None or survivor.department_id != proposal.department_id:
        return {"into": ["Enter the reference of another proposal of your department"]}
    if survivor.pk == proposal.pk:
        return {"into": ["A proposal cannot be merged into itself"]}
    if survivor.status in {Status.DRAFT, Status.WITHDRAWN, Status.MERGED, Status.REJECTED}:
        return {"into": [f"{survivor.reference} is {survivor.get_status_display().lower()}"]}
    return {}


def _every_experiment_has_outcome(proposal: Proposal, data: Mapping[str, Any]) -> Errors:
    errors: Errors = {}

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
            perms.is_writing_author,
            _answers_complete,
            timestamps=("submitted_at",),
        ),
        Transition(
            "resubmit",
            "Resubmit proposal",
            frozenset({Status.MORE_INFO}),
            Status.SUBMITTED,
            perms.is_writing_author,
            _answers_complete,
            timestamps=("submitted_at",),
        ),
        Transition(
            "withdraw",
            "Withdraw proposal",
            BEFORE_DECISION,
            Status.WITHDRAWN,
            perms.is_writing_author,
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


# --- actions on a proposal that change no status ------------------------------------------


@dataclass(frozen=True)
class Rule:
    """An action with a transition's rules but no change of status."""

    action: str
    label: str
    sources: frozenset[Status]
    allowed: Callable[[User, Proposal], bool]
    requires: Requirement = _nothing


RELEASED_STATES = frozenset(
    {Status.APPROVED, Status.REJECTED, Status.EXPERIMENTING, Status.COMPLETED}
)

PROPOSAL_RULES: dict[str, Rule] = {
    r.action: r
    for r in (
        Rule("edit", "Change your answers", EDITABLE, perms.is_writing_author),
        Rule("delete", "Delete draft", DELETE_SOURCES, perms.is_writing_author),
        Rule("comment", "Add comment", perms.COMMENT_STATES, perms.may_comment),
        Rule("support", "Support this proposal", perms.SUPPORT_STATES, perms.may_support),
        Rule("follow", "Follow this proposal", perms.FOLLOW_STATES, perms.may_follow),
        Rule(
            "propose_again",
            "Propose again",
            frozenset({Status.REJECTED}),
            perms.is_writing_author,
        ),
        Rule(
            "plan_experiment",
            "Plan an experiment",
            perms.RUNNING_PROPOSAL_STATES,
            perms.is_department_lead,
        ),
        Rule(
            "release_feedback",
            "Release feedback to the submitter",
            RELEASED_STATES,
            perms.is_department_lead,
        ),
    )
}


# --- the experiment's lifecycle (SPEC §2–§3) ----------------------------------------------

ExperimentRequirement = Callable[["Experiment", Mapping[str, Any]], Errors]


def _experiment_nothing(experiment: Experiment, data: Mapping[str, Any]) -> Errors:
    return {}


def _stop_reason(experiment: Experiment, data: Mapping[str, Any]) -> Errors:
    if str(data.get("reason") or "").strip():
        return {}
    return {"reason": ["Enter why the experiment is stopping early"]}


EVALUATION_PLAN_NEEDED = (
    "Add an evaluation plan before starting the experiment: your department "
    "asks for one (Magenta Book)"
)


def _evaluation_plan_if_required(experiment: Experiment, data: Mapping[str, Any]) -> Errors:
    """A department that asks for it (`evaluation_plan_required`) starts no
    experiment without its evaluation plan."""
    if not experiment.proposal.department.evaluation_plan_required:
        return {}
    if EvaluationPlan.objects.filter(experiment_id=experiment.pk).exists():
        return {}
    return {"evaluation_plan": [EVALUATION_PLAN_NEEDED]}


def _has_no_outcome(experiment: Experiment) -> bool:

    return not Outcome.objects.filter(experiment_id=experiment.pk).exists()


def _has_unpublished_outcome(experiment: Experiment) -> bool:

    return Outcome.objects.filter(experiment_id=experiment.pk, published=False).exists()


def _lead_of_experiment_department(user: User, experiment: Experiment) -> bool:
    return perms.is_department_lead(user, experiment.proposal)


@dataclass(frozen=True)
class ExperimentTransition:
    """The same shape as `Transition`, for an experiment. `target` None: the step
    records something (an outcome, its publication) without a change of status."""

    action: str
    label: str
    sources: frozenset[ExperimentStatus]
    target: ExperimentStatus | None
    allowed: Callable[[User, Experiment], bool]
    requires: ExperimentRequirement = _experiment_nothing
    # Further state the step needs beyond the status (an outcome not yet recorded…).
    when: Callable[[Experiment], bool] = field(default=lambda experiment: True)
    # Steps the product takes itself (recording the outcome completes a running one).
    internal: bool = False
    # The proposal's states in which the step may be taken: while it runs, except
    # for steps that follow the work after it closes (the evaluation's report).
    proposal_states: frozenset[Status] = perms.RUNNING_PROPOSAL_STATES


_AFTER_START = frozenset(
    {ExperimentStatus.RUNNING, ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED}
)

EXPERIMENT_TRANSITIONS: dict[str, ExperimentTransition] = {
    t.action: t
    for t in (
        ExperimentTransition(
            "start",
            "Start experiment",
            frozenset({ExperimentStatus.PLANNED}),
            ExperimentStatus.RUNNING,
            perms.may_run_experiment,
            _evaluation_plan_if_required,
        ),
        ExperimentTransition(
            "stop",
            "Stop the experiment early",
            frozenset({ExperimentStatus.RUNNING}),
            ExperimentStatus.STOPPED,
            perms.may_run_experiment,
            _stop_reason,
        ),
        ExperimentTransition(
            "complete",
            "Complete the experiment",
            frozenset({ExperimentStatus.RUNNING}),
            ExperimentStatus.COMPLETED,
            perms.may_run_experiment,
            internal=True,
        ),
        ExperimentTransition(
            "record_outcome",
            "Record the outcome",
            _AFTER_START,
            None,
            perms.may_run_experiment,
            when=_has_no_outcome,
        ),
        ExperimentTransition(
            "publish_outcome",
            "Publish to the lessons library",
            frozenset({ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED}),
            None,
            _lead_of_experiment_department,
            when=_has_unpublished_outcome,
        ),
        ExperimentTransition(
            "review_benefit",
            "Record a benefit review",
            frozenset({ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED}),
            None,
            perms.may_run_experiment,
            when=lambda experiment: not _has_no_outcome(experiment),
            # Benefits are followed for a year after the outcome, closed or not.
            proposal_states=perms.RUNNING_PROPOSAL_STATES | {Status.COMPLETED},
        ),
        ExperimentTransition(
            "plan_evaluation",
            "Plan the evaluation",
            frozenset(ExperimentStatus),
            None,
            perms.may_run_experiment,
            # Its actual dates and report link are recorded long after the
            # proposal closes: the report is due 12 weeks after sign-off.
            proposal_states=perms.RUNNING_PROPOSAL_STATES | {Status.COMPLETED},
        ),
    )
}


def _experiment_state_allows(step: ExperimentTransition, experiment: Experiment) -> bool:
    # An experiment runs only while its proposal is approved or experimenting.
    return (
        experiment.status in step.sources
        and experiment.proposal.status in step.proposal_states
        and step.when(experiment)
    )


def available_experiment_actions(user: User, experiment: Experiment) -> list[ExperimentTransition]:
    """The experiment steps this user may take now, in table order (for the buttons)."""
    if perms.is_read_only(user):
        return []
    return [
        t
        for t in EXPERIMENT_TRANSITIONS.values()
        if not t.internal
        and t.allowed(user, experiment)
        and _experiment_state_allows(t, experiment)
    ]


# --- the one check -----------------------------------------------------------------------


def _proposal_refusal(
    user: User, action: str, proposal: Proposal, data: Mapping[str, Any] | None
) -> Refusal | None:
    rule: Transition | Rule
    rule = TRANSITIONS[action] if action in TRANSITIONS else PROPOSAL_RULES[action]
    if perms.is_read_only(user) or not rule.allowed(user, proposal):
        return Refusal(
            RefusalKind.FORBIDDEN, f"You cannot use “{rule.label}” on {proposal.reference}"
        )
    if proposal.status not in rule.sources:
        return Refusal(
            RefusalKind.CONFLICT,
            f"{proposal.reference} is {proposal.get_status_display().lower()}, so "
            f"“{rule.label}” cannot be done now",
        )
    if data is not None:
        errors = rule.requires(proposal, data)
        if errors:
            return Refusal(RefusalKind.INVALID, "Check what you entered", errors)
    return None


def _experiment_refusal(
    user: User, action: str, experiment: Experiment, data: Mapping[str, Any] | None
) -> Refusal | None:
    step = EXPERIMENT_TRANSITIONS[action]
    if perms.is_read_only(user) or not step.allowed(user, experiment):
        return Refusal(
            RefusalKind.FORBIDDEN,
            f"You cannot use “{step.label}” on the experiment “{experiment.title}”",
        )
    if not _experiment_state_allows(step, experiment):
        return Refusal(
            RefusalKind.CONFLICT,
            f"The experiment “{experiment.title}” is "
            f"{experiment.get_status_display().lower()}, so “{step.label}” cannot be done now",
        )
    if data is not None:
        errors = step.requires(experiment, data)
        if errors:
            return Refusal(RefusalKind.INVALID, "Check what you entered", errors)
    return None


def refusal(
    user: User,
    action: str,
    obj: Proposal | Experiment,
    data: Mapping[str, Any] | None = None,
) -> Refusal | None:
    """Why this user may not take this action on this (visible) object now, or None.

    `data`, when given, is checked against the action's requirements too.
    """

    if isinstance(obj, Experiment):
        return _experiment_refusal(user, action, obj, data)
    return _proposal_refusal(user, action, obj, data)


def may(user: User, action: str, obj: Proposal | Experiment) -> bool:
    """For templates' buttons: the same answer as `check`, without the data."""
    return refusal(user, action, obj) is None


def check(
    user: User,
    action: str,
    obj: Proposal | Experiment,
    data: Mapping[str, Any] | None = None,
) -> None:
    """`refusal`, raised as `Refused` for pages and API to map by its kind."""
    found = refusal(user, action, obj, data)
    if found is not None:
        raise Refused(found)


def check_propose(user: User) -> None:
    """Starting a draft (there is no proposal yet to check against)."""
    if not perms.can_propose(user):
        raise Refused(
            Refusal(RefusalKind.FORBIDDEN, "Analysts read proposals; they do not propose them")
        )


def check_adopt(user: User) -> None:
    if not perms.can_adopt(user):
        raise Refused(
            Refusal(RefusalKind.FORBIDDEN, "Analysts read outcomes; they do not adopt them")
        )


def kind_of(exc: BaseException) -> RefusalKind | None:
    """Which refusal a service's exception is, so that each channel maps it once.

    `InvalidTransition` is a `StateConflict`, so a `Refused` of kind conflict.
    """
    if isinstance(exc, Refused):
        return exc.refusal.kind
    if isinstance(exc, PermissionDenied):  # ActionNotAllowed included
        return RefusalKind.FORBIDDEN
    if isinstance(exc, ValidationError):
        return RefusalKind.INVALID
    return None


# --- what an edit may write --------------------------------------------------------------

CHALLENGE_CLOSED = "This challenge has closed to new proposals"


def challenge_errors(challenge: Challenge | None, current_challenge_id: int | None) -> Errors:
    """A closed challenge takes no new proposals: choosing it is refused, keeping
    the one already chosen is not (submitting then says it has closed)."""
    if challenge is None or challenge.is_open or challenge.pk == current_challenge_id:
        return {}
    return {"challenge": [CHALLENGE_CLOSED]}


# --- who may be a co-author (the one rule: pages and API both ask it) --------------------

CO_AUTHOR_FORMAT = "Enter an email address in the format name@department.gov.uk"
CO_AUTHOR_YOURSELF = "You cannot add yourself as a co-author"
CO_AUTHOR_PROPOSER = "The person who proposed it is already one of its authors"
CO_AUTHOR_TWICE = "You have already added this co-author"
_EMAIL = EmailValidator()


def department_in_words(department: Department) -> str:
    """ "the Department for Education", "the Home Office", but "HM Treasury"."""
    article = "" if department.name.startswith(("HM ", "UK ")) else "the "
    return f"{article}{department.name}"


def co_author_unknown(department: Department) -> str:
    """One message for every email that cannot be a co-author, whether or not it has
    an account: the answer must not tell anyone which addresses are registered."""
    return (
        f"Enter the email address of someone in {department_in_words(department)} or a "
        "collaborating department who has used this service"
    )


@dataclass(frozen=True)
class CoAuthorCheck:
    users: list[User]  # in the order sent, each once
    errors: dict[int, str]  # the position in the list sent → why it cannot co-author


def check_co_authors(
    emails: list[str],
    *,
    actor: User,
    submitter: User,
    department: Department,
    collaborating_ids: list[int],
) -> CoAuthorCheck:
    """Who these emails name, and why each refused one cannot co-author.

    A co-author is an active civil servant (not an analyst) of the owning or a
    collaborating department: someone who can see the proposal whatever its
    visibility. The submitter is an author already; the actor may keep
    themselves (a co-author editing) but the submitter cannot add themselves.
    Every other refusal reads the same (`co_author_unknown`), account or not.
    """
    wanted = [str(e or "").strip().lower() for e in emails]
    errors: dict[int, str] = {}
    seen: set[str] = set()
    for index, email in enumerate(wanted):
        try:
            _EMAIL(email)
        except ValidationError:
            errors[index] = CO_AUTHOR_FORMAT
            continue
        if email == submitter.email.lower():
            errors[index] = CO_AUTHOR_YOURSELF if actor.pk == submitter.pk else CO_AUTHOR_PROPOSER
        elif email in seen:
            errors[index] = CO_AUTHOR_TWICE
        seen.add(email)
    candidates = {e for i, e in enumerate(wanted) if i not in errors}
    by_email = {
        user.email.lower(): user
        for user in User.objects.filter(
            email__in=candidates,
            is_active=True,
            department_id__in={department.pk, *collaborating_ids},
        ).exclude(role=Role.ANALYST)
    }
    users = []
    for index, email in enumerate(wanted):
        if index in errors:
            continue
        if email in by_email:
            users.append(by_email[email])
        else:
            errors[index] = co_author_unknown(department)
    return CoAuthorCheck(users=users, errors=errors)


def co_authors_for(
    emails: list[str],
    *,
    actor: User,
    submitter: User,
    department: Department,
    collaborating_ids: list[int],
) -> list[User]:
    """The users these emails name, if every one may co-author (`check_co_authors`);
    raises INVALID with each distinct reason otherwise (the API's answer)."""
    checked = check_co_authors(
        emails,
        actor=actor,
        submitter=submitter,
        department=department,
        collaborating_ids=collaborating_ids,
    )
    if checked.errors:
        reasons = list(dict.fromkeys(checked.errors[i] for i in sorted(checked.errors)))
        raise Refused(Refusal(RefusalKind.INVALID, reasons[0], {"co_authors": reasons}))
    return checked.users
