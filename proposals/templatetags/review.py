"""The data for the proposal page's review panel
(templates/proposals/includes/review_panel.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from proposals import dashboards, selectors, workflow
from proposals import permissions as perms
from proposals.models import Assessment, Proposal

register = template.Library()


@register.simple_tag
def review_panel(proposal: Proposal, user: Any) -> dict[str, Any]:
    """What this viewer may see of the assessments, and the review links they may follow."""
    if not getattr(user, "is_authenticated", False):
        return {}
    see_assessments = perms.can_see_assessments(user, proposal)
    see_feedback = perms.can_see_feedback(user, proposal)
    panel: dict[str, Any] = {
        "see_assessments": see_assessments,
        "see_feedback": see_feedback,
        "links": [],
    }
    # Reviewers read the assessments they may (an assessor yet to submit reads only
    # their own); authors read released comments, never the scores.
    readable = (
        selectors.assessments_visible_to(user, proposal)
        if see_assessments
        else selectors.feedback_visible_to(user, proposal)
    )
    panel["assessments"] = list(
        readable.filter(submitted_at__isnull=False)
        .select_related("assessor")
        .prefetch_related("scores__criterion")
        .order_by("submitted_at")
    )
    if see_assessments:
        mine = Assessment.objects.filter(proposal=proposal, assessor=user).first()
        # The combined score waits, as the scores do, until the viewer's own is in.
        panel["sheet"] = dashboards.panel_row(proposal, user)
        if perms.can_assess(user, proposal, mine):
            panel["links"].append(
                ("Assess this proposal", reverse("review:assess", args=[proposal.reference]))
            )
        elif mine is not None and mine.submitted_at is not None:
            panel["links"].append(
                ("Your assessment", reverse("review:assess", args=[proposal.reference]))
            )
    # The review links come from the rules table, never from copied state sets.
    if any(workflow.may(user, action, proposal) for action in ("approve", "reject")):
        panel["links"].append(("Decide", reverse("review:decide", args=[proposal.reference])))
    if workflow.may(user, "plan_experiment", proposal):
        panel["links"].append(
            ("Plan an experiment", reverse("experiments:plan", args=[proposal.reference]))
        )
    if workflow.may(user, "release_feedback", proposal) and not proposal.feedback_released:
        panel["links"].append(
            (
                "Release feedback to the submitter",
                reverse("review:feedback", args=[proposal.reference]),
            )
        )
    outcomes = selectors.outcomes_of(user, proposal)
    panel["experiments"] = [
        {"experiment": experiment, "outcome": outcomes.get(experiment.pk)}
        for experiment in selectors.experiments_visible_to(user)
        .filter(proposal=proposal)
        .order_by("starts_on", "pk")
    ]
    return panel


@register.filter
def commented_scores(assessment: Assessment) -> list[Any]:
    """The assessment's scores that carry a comment (from the prefetch: no query), so
    released feedback shows a list only when there is something in it."""
    return [score for score in assessment.scores.all() if score.comment]
