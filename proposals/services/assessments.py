"""Assessment: conflicts of interest, scores against the criteria, released feedback."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from proposals import messages, scoring
from proposals import permissions as perms
from proposals.enums import (
    AuditAudience,
    Recommendation,
    Status,
)
from proposals.exceptions import ActionNotAllowed, InvalidTransition
from proposals.models import (
    Assessment,
    Criterion,
    Proposal,
    Score,
)
from proposals.notifications import send
from proposals.services.base import audit, enforce, lock_proposal

# --- assessment ----------------------------------------------------------------------------


def _assessment_for(proposal: Proposal, assessor: User) -> Assessment:
    assessment = (
        Assessment.objects.select_for_update().filter(proposal=proposal, assessor=assessor).first()
    )
    if assessment is None:
        raise ActionNotAllowed("You have not been asked to assess this proposal")
    return assessment


@transaction.atomic
def assessment_declare_conflict(
    *, proposal: Proposal, assessor: User, conflict: bool, details: str = ""
) -> Assessment:
    """The first step of assessing: a declared conflict stops the assessor."""
    locked = lock_proposal(proposal)
    assessment = _assessment_for(locked, assessor)
    if assessment.submitted_at is not None or assessment.conflict_declared is not None:
        raise InvalidTransition("You have already made your declaration")
    if locked.status != Status.IN_REVIEW:
        raise InvalidTransition("This proposal is no longer in review")
    if conflict and not details.strip():
        raise ValidationError({"conflict_details": ["Describe the conflict of interest"]})
    assessment.conflict_declared = conflict
    assessment.conflict_details = details.strip()
    assessment.save(update_fields=["conflict_declared", "conflict_details"])
    audit(
        actor=assessor,
        action="declare_conflict" if conflict else "declare_no_conflict",
        obj=assessment,
        proposal=locked,
        changes={"conflict_declared": (None, conflict)},
        audience=AuditAudience.REVIEWERS,
    )
    return assessment


@transaction.atomic
def assessment_submit(
    *,
    proposal: Proposal,
    assessor: User,
    scores: Mapping[int, tuple[int, str]],
    recommendation: str,
    comment: str = "",
) -> Assessment:
    """Score every active criterion 1–5 with a comment and recommend.

    The weighted score comes from `scoring.weighted_score`, the one place that
    combines scores.
    """
    locked = lock_proposal(proposal)
    assessment = _assessment_for(locked, assessor)
    if assessment.conflict_declared is None:
        raise InvalidTransition("Declare whether you have a conflict of interest first")
    if not perms.can_assess(assessor, locked, assessment):
        raise InvalidTransition("You cannot assess this proposal now")
    criteria = list(Criterion.objects.filter(department_id=locked.department_id, active=True))
    errors: dict[str, list[str]] = {}
    for criterion in criteria:
        score, _ = scores.get(criterion.pk, (None, ""))
        if not isinstance(score, int) or not 1 <= score <= 5:
            errors[f"score_{criterion.pk}"] = [f"Score “{criterion.name}” from 1 to 5"]
    if recommendation not in Recommendation.values:
        errors["recommendation"] = ["Select whether you recommend funding"]
    if errors:
        raise ValidationError(errors)
    Score.objects.bulk_create(
        Score(
            assessment=assessment,
            criterion=c,
            score=scores[c.pk][0],
            comment=scores[c.pk][1].strip(),
        )
        for c in criteria
    )
    assessment.weighted_score = scoring.weighted_score(
        (scores[c.pk][0], c.weight) for c in criteria
    )
    assessment.recommendation = recommendation
    assessment.comment = comment.strip()
    assessment.submitted_at = timezone.now()
    assessment.save(update_fields=["weighted_score", "recommendation", "comment", "submitted_at"])
    locked.updated_at = assessment.submitted_at
    locked.save(update_fields=["updated_at"])
    audit(
        actor=assessor,
        action="assess",
        obj=assessment,
        proposal=locked,
        changes={
            "weighted_score": (None, assessment.weighted_score),
            "recommendation": (None, recommendation),
        },
        audience=AuditAudience.REVIEWERS,
    )
    return assessment


@transaction.atomic
def feedback_release(*, proposal: Proposal, actor: User) -> Proposal:
    locked = lock_proposal(proposal)
    enforce(actor, "release_feedback", locked)
    if locked.feedback_released:
        return locked
    locked.feedback_released = True
    locked.updated_at = timezone.now()
    locked.save(update_fields=["feedback_released", "updated_at"])
    audit(
        actor=actor,
        action="release_feedback",
        obj=locked,
        proposal=locked,
        changes={"feedback_released": (False, True)},
        audience=AuditAudience.AUTHORS,
    )
    send(messages.feedback_released(locked))
    return locked
