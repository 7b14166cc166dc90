"""Following a proposal: hearing what happens to one you did not write."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from proposals import messages, selectors, workflow
from proposals.enums import AuditAudience
from proposals.models import Experiment, Follow, Outcome, Proposal
from proposals.notifications import send
from proposals.services.base import audit, enforce


@transaction.atomic
def follow_add(*, proposal: Proposal, user: User) -> Follow:
    """Follow once per person: a second press changes nothing."""
    enforce(user, "follow", proposal)
    existing = Follow.objects.filter(proposal=proposal, user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            follow = Follow.objects.create(proposal=proposal, user=user)
    except IntegrityError:  # a double click that raced past the check above
        return Follow.objects.get(proposal=proposal, user=user)
    # Whom someone follows is theirs: the panel's timeline has it, not everyone's.
    audit(
        actor=user, action="follow", obj=follow, proposal=proposal, audience=AuditAudience.REVIEWERS
    )
    return follow


@transaction.atomic
def follow_remove(*, proposal: Proposal, user: User) -> None:
    """Stop following; nothing is told to them about it from now on."""
    deleted, _ = Follow.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        audit(
            actor=user,
            action="unfollow",
            obj=proposal,
            proposal=proposal,
            audience=AuditAudience.REVIEWERS,
        )


def follow_if_asked(*, proposal: Proposal, user: User, follow: bool) -> None:
    """The "Tell me what happens to this proposal" box of a support or comment:
    its authors, who are told already, follow nothing."""
    if follow and workflow.may(user, "follow", proposal):
        follow_add(proposal=proposal, user=user)


# --- telling followers, inside the service that made the change ----------------------------
# Called by the services that write the other notifications of the same change, in
# their transaction, after the change is saved: visibility is asked of the proposal
# as it is now.


def followers_told_of_status(*, proposal: Proposal, actor: User) -> None:
    followers = selectors.followers_who_may_see(proposal)
    if followers:
        send(messages.followed_status_changed(proposal, followers=followers, actor=actor))


def followers_told_of_experiment(*, experiment: Experiment, actor: User) -> None:
    followers = selectors.followers_who_may_see(experiment.proposal)
    if followers:
        send(messages.followed_experiment_started(experiment, followers=followers, actor=actor))


def followers_told_of_outcome(*, outcome: Outcome, actor: User) -> None:
    followers = selectors.followers_who_may_see(outcome.experiment.proposal)
    if followers:
        send(messages.followed_outcome_published(outcome, followers=followers, actor=actor))
