"""Every read of proposals starts here. `proposals_visible_to` is the one place
that decides who may see what (SPEC §1): pages, the API, search, reports and
exports all build on it, and anything outside it answers 404."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import REVIEW_ROLES, Invitation, Role, User
from proposals import permissions as perms
from proposals.enums import AuditAudience, DecisionKind, OutcomeResult, Status, Visibility
from proposals.models import (
    Adoption,
    Assessment,
    AuditEvent,
    Decision,
    EvaluationPlan,
    Experiment,
    Outcome,
    Proposal,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def visibility_filter(user: User | AnonymousUser) -> Q | None:
    """The visibility rule as a Q on Proposal; None means nothing is visible.

    Written as EXISTS subqueries rather than joins so the result never holds
    duplicate rows and the planner can still walk the (updated_at, id) index
    for a page of a large table.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    through_authors = Proposal.co_authors.through
    through_collab = Proposal.collaborating_departments.through
    submitted = ~Q(status=Status.DRAFT)
    government = Q(visibility=Visibility.GOVERNMENT)
    if user.role == Role.ANALYST:
        # Analysts read across government, but never drafts or department-only work.
        return submitted & government
    authored = Q(submitter_id=user.pk) | Exists(
        through_authors.objects.filter(proposal_id=OuterRef("pk"), user_id=user.pk)
    )
    departmental = Q(department_id=user.department_id) | Exists(
        through_collab.objects.filter(proposal_id=OuterRef("pk"), department_id=user.department_id)
    )
    return authored | (submitted & (government | departmental))


def proposals_visible_to(user: User | AnonymousUser) -> QuerySet[Proposal]:
    rule = visibility_filter(user)
    if rule is None:
        return Proposal.objects.none()
    return Proposal.objects.filter(rule)


# Followers checked per query: each is one boolean column of the visibility rule.
_FOLLOWERS_PER_QUERY = 100


def followers_who_may_see(proposal: Proposal) -> list[User]:
    """The proposal's followers who may see it now, by `visibility_filter`, in the
    order they followed: someone who followed it and can no longer see it (moved
    department, made department-only, deactivated) is told nothing. Two queries
    for up to 100 followers, one more for each hundred after."""
    followers = list(
        User.objects.filter(follows__proposal=proposal, is_active=True).order_by(
            "follows__created_at", "pk"
        )
    )
    may_see: set[int] = set()
    for start in range(0, len(followers), _FOLLOWERS_PER_QUERY):
        checks: dict[str, ExpressionWrapper[Q]] = {}
        for user in followers[start : start + _FOLLOWERS_PER_QUERY]:
            rule = visibility_filter(user)
            if rule is not None:
                checks[f"may_{user.pk}"] = ExpressionWrapper(rule, output_field=BooleanField())
        if not checks:
            continue
        row = Proposal.objects.filter(pk=proposal.pk).annotate(**checks).values(*checks).first()
        may_see |= {int(name[4:]) for name, allowed in (row or {}).items() if allowed}
    return [user for user in followers if user.pk in may_see]


def proposal_for(user: User | AnonymousUser, reference: str) -> Proposal:
    """One proposal by reference, or 404 if it does not exist or the user may not see it."""
    proposal = (
        proposals_visible_to(user)
        .select_related("department", "submitter", "challenge", "merged_into", "previous")
        .prefetch_related("co_authors", "themes", "collaborating_departments")
        .filter(reference=reference.upper())
        .first()
    )
    if proposal is None:
        raise Http404("No proposal with that reference")
    return proposal


def timeline_for(user: User, proposal: Proposal) -> QuerySet[AuditEvent]:
    """The proposal's audit events this viewer may see (SPEC §1)."""
    audiences = [AuditAudience.EVERYONE]
    # The reviewers' events (assignments, conflicts, scores) follow the assessment
    # rule, so a reviewer who wrote the proposal reads it as its other authors do.
    if perms.can_see_assessments(user, proposal):
        audiences += [AuditAudience.AUTHORS, AuditAudience.REVIEWERS]
    elif perms.is_author(user, proposal):
        audiences.append(AuditAudience.AUTHORS)
    return (
        AuditEvent.objects.filter(proposal=proposal, audience__in=audiences)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def search_proposals(queryset: QuerySet[Proposal], text: str) -> QuerySet[Proposal]:
    """Full-text search, ranked, within an already visibility-filtered queryset.

    On PostgreSQL this uses the trigger-maintained `search_vector` and its GIN
    index; on SQLite (the embedded default) a case-insensitive match on the
    main answers stands in.
    """
    text = text.strip()
    if not text:
        return queryset
    if settings.IS_POSTGRES:
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            queryset.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-updated_at")
        )
    match = Q()
    for word in text.split()[:8]:
        match &= (
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(problem__icontains=word)
            | Q(proposed_solution__icontains=word)
            | Q(reference__iexact=word)
        )
    return queryset.filter(match)


# --- the objects around a proposal ------------------------------------------------------------
#
# Each rule below is a Q on its own model, built on `visibility_filter`, so a page,
# an API list, a report and an export ask the same question in SQL. The rules,
# in SPEC §1's words:
#   experiments       everyone who may see the proposal;
#   outcomes          published: everyone who may see the proposal; unpublished:
#                     the owning department's reviewers and leads (who record and
#                     publish them), never other departments or analysts;
#   decisions         approve and reject: with the proposal; a request for more
#                     information: its authors and the owning department's panel;
#   assessments       the owning department's reviewers and leads, except on a
#                     proposal they wrote, and — while their own assessment of it
#                     is not submitted — nobody's but their own (independent scoring).


def _written_by(user: User) -> Q:
    """On a model with a `proposal`: its proposal was written by `user`."""
    return Q(proposal__submitter_id=user.pk) | Q(
        Exists(
            Proposal.co_authors.through.objects.filter(
                proposal_id=OuterRef("proposal_id"), user_id=user.pk
            )
        )
    )


def _panel_member(user: User | AnonymousUser) -> User | None:
    """The user if they sit on a review panel (an active reviewer or lead)."""
    if isinstance(user, User) and user.is_active and user.role in REVIEW_ROLES:
        return user
    return None


def experiments_visible_to(user: User | AnonymousUser) -> QuerySet[Experiment]:
    return Experiment.objects.filter(proposal__in=proposals_visible_to(user))


def evaluations_visible_to(user: User | AnonymousUser) -> QuerySet[EvaluationPlan]:
    """Evaluation plans go with their experiment (and so with its proposal)."""
    return EvaluationPlan.objects.filter(experiment__in=experiments_visible_to(user))


def outcome_filter(user: User | AnonymousUser) -> Q | None:
    """The outcome rule as a Q on Outcome; None means nothing is visible."""
    rule = visibility_filter(user)
    if rule is None:
        return None
    shown = Q(published=True)
    panel = _panel_member(user)
    if panel is not None:
        shown |= Q(experiment__proposal__department_id=panel.department_id)
    return shown & Q(experiment__proposal__in=Proposal.objects.filter(rule))


def outcomes_visible_to(user: User | AnonymousUser) -> QuerySet[Outcome]:
    rule = outcome_filter(user)
    if rule is None:
        return Outcome.objects.none()
    return Outcome.objects.filter(rule)


def published_outcomes_visible_to(user: User | AnonymousUser) -> QuerySet[Outcome]:
    """The lessons library: published outcomes of proposals this user may see."""
    return outcomes_visible_to(user).filter(published=True)


def outcome_of(user: User | AnonymousUser, experiment: Experiment) -> Outcome | None:
    """The experiment's outcome if the viewer may read it."""
    return outcomes_visible_to(user).filter(experiment=experiment).first()


def outcomes_of(user: User | AnonymousUser, proposal: Proposal) -> dict[int, Outcome]:
    """The outcomes of this proposal's experiments the viewer may read, by experiment id."""
    return {
        outcome.experiment_id: outcome
        for outcome in outcomes_visible_to(user).filter(experiment__proposal=proposal)
    }


def adoption_filter(user: User | AnonymousUser) -> Q | None:
    """The adoption rule as a Q on Adoption; None means none are visible.

    An adoption is seen with its adopting proposal, never with the lesson it
    adopted. The adopting proposal starts as a draft, which is its authors'
    alone (SPEC §1), and may stay department-only: counting it for anyone else,
    even as a number of departments, would disclose that it exists. So every
    count of adoptions (the lesson, the original, the portfolio) is of the
    adoptions its viewer may see.
    """
    rule = visibility_filter(user)
    if rule is None:
        return None
    return Q(proposal__in=Proposal.objects.filter(rule))


def adoptions_visible_to(user: User | AnonymousUser) -> QuerySet[Adoption]:
    rule = adoption_filter(user)
    if rule is None:
        return Adoption.objects.none()
    return Adoption.objects.filter(rule)


def met_target(user: User | AnonymousUser, proposal: str = "proposal_id") -> Exists:
    """For a subquery: the proposal named by `proposal` (an OuterRef path) has an
    experiment whose outcome this viewer may read and whose result is met."""
    return Exists(
        outcomes_visible_to(user).filter(
            experiment__proposal_id=OuterRef(proposal), result=OutcomeResult.MET
        )
    )


# Decisions that are the proposal's answer, seen with the proposal (SPEC §1).
FINAL_DECISIONS = (DecisionKind.APPROVE, DecisionKind.REJECT)


def decision_filter(user: User | AnonymousUser) -> Q:
    """The decision rule as a Q on Decision (for proposals already visible)."""
    final = Q(kind__in=FINAL_DECISIONS)
    if not isinstance(user, User):
        return final
    shown = final | _written_by(user)
    panel = _panel_member(user)
    if panel is not None:
        shown |= Q(proposal__department_id=panel.department_id)
    return shown


def decisions_visible_to(user: User | AnonymousUser, proposal: Proposal) -> QuerySet[Decision]:
    """This proposal's decisions the viewer may read, newest first."""
    return Decision.objects.filter(decision_filter(user), proposal=proposal).order_by(
        "-created_at", "-id"
    )


def latest_decision(user: User | AnonymousUser) -> QuerySet[Decision]:
    """For a subquery on Proposal: its newest decision this viewer may read."""
    return Decision.objects.filter(decision_filter(user), proposal=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )


def scores_hidden_filter(user: User) -> Q:
    """A Q on Proposal: the proposals whose assessments (and the panel's mean,
    spread and recommendations) this panel member may not read yet: those they
    wrote, and those whose assessment they have still to submit."""
    return (
        Q(submitter_id=user.pk)
        | Exists(
            Proposal.co_authors.through.objects.filter(proposal_id=OuterRef("pk"), user_id=user.pk)
        )
        | Exists(
            Assessment.objects.filter(
                proposal_id=OuterRef("pk"), assessor_id=user.pk, submitted_at__isnull=True
            )
        )
    )


def assessment_filter(user: User | AnonymousUser) -> Q | None:
    """The assessment rule as a Q on Assessment; None means none are visible."""
    panel = _panel_member(user)
    if panel is None:
        return None
    pending_mine = Q(
        Exists(
            Assessment.objects.filter(
                proposal_id=OuterRef("proposal_id"),
                assessor_id=panel.pk,
                submitted_at__isnull=True,
            )
        )
    )
    return (
        Q(proposal__department_id=panel.department_id)
        & ~_written_by(panel)
        & (Q(assessor_id=panel.pk) | ~pending_mine)
    )


def assessments_visible_to(
    user: User | AnonymousUser, proposal: Proposal | None = None
) -> QuerySet[Assessment]:
    """The assessments (scores, comments, conflict declarations) this viewer may read.

    Authors get assessors' comments once released, through `feedback_visible_to`.
    """
    rule = assessment_filter(user)
    if rule is None:
        return Assessment.objects.none()
    assessments = Assessment.objects.filter(rule)
    if proposal is not None:
        assessments = assessments.filter(proposal=proposal)
    return assessments


# Words too common in proposals to say two of them are alike (on top of the
# search configuration's English stop words).
_COMMON_WORDS = frozenset(
    [
        "about",
        "also",
        "could",
        "from",
        "have",
        "into",
        "more",
        "need",
        "needs",
        "other",
        "over",
        "should",
        "some",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "using",
        "what",
        "when",
        "which",
        "will",
        "with",
        "would",
    ]
)


def distinct_words(*texts: str, limit: int = 24) -> list[str]:
    words: list[str] = []
    for text in texts:
        for word in re.findall(r"[A-Za-z][A-Za-z0-9]{2,}", text or ""):
            lowered = word.lower()
            if lowered not in _COMMON_WORDS and lowered not in words:
                words.append(lowered)
    return words[:limit]


def feedback_visible_to(user: User, proposal: Proposal) -> QuerySet[Assessment]:
    """Submitted assessments whose comments a lead has released to the authors."""
    if not (proposal.feedback_released and perms.can_see_feedback(user, proposal)):
        return Assessment.objects.none()
    return Assessment.objects.filter(proposal=proposal, submitted_at__isnull=False)


# --- invitations ---------------------------------------------------------------------------


def invitations_visible_to(user: User) -> QuerySet[Invitation]:
    """The invitations a lead sees: their department's; an operator sees every department's."""
    rows = Invitation.objects.select_related("department", "invited_by", "user")
    if perms.is_operator(user):
        return rows
    if perms.can_manage_invitations(user):
        return rows.filter(department_id=user.department_id)
    return rows.none()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's token opens, whatever its state (the page says which)."""
    if not token:
        return None
    return (
        Invitation.objects.select_related("department")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
