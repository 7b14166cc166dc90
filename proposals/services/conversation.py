"""The cross-department conversation: comments and supports."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from proposals import messages
from proposals import permissions as perms
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Comment,
    Proposal,
    Support,
)
from proposals.notifications import send
from proposals.services.base import audit, enforce
from proposals.services.follows import follow_if_asked

# --- comments and supports -----------------------------------------------------------------


@transaction.atomic
def comment_add(*, proposal: Proposal, author: User, body: str, follow: bool = False) -> Comment:
    """A comment; with `follow`, its author follows the proposal too (not its own authors)."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["Enter a comment"]})
    if len(body) > 5000:
        raise ValidationError({"body": ["Comment must be 5,000 characters or fewer"]})
    enforce(author, "comment", proposal)
    comment = Comment.objects.create(proposal=proposal, author=author, body=body)
    audit(actor=author, action="comment", obj=comment, proposal=proposal)
    send(messages.comment_added(proposal, author=author, body=body))
    follow_if_asked(proposal=proposal, user=author, follow=follow)
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, author: User, body: str) -> Comment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["Enter a comment"]})
    if len(body) > 5000:
        raise ValidationError({"body": ["Comment must be 5,000 characters or fewer"]})
    if not perms.can_edit_comment(author, comment):
        raise ActionNotAllowed(perms.COMMENT_EDIT_REFUSED)
    before = comment.body
    comment.body = body
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    audit(
        actor=author,
        action="edit_comment",
        obj=comment,
        proposal=comment.proposal,
        changes={"body": (before, body)},
    )
    return comment


@transaction.atomic
def support_add(*, proposal: Proposal, user: User, follow: bool = False) -> Support:
    """One support per person: a second press changes nothing (but `follow`, which
    follows the proposal too, is kept either way)."""
    enforce(user, "support", proposal)
    follow_if_asked(proposal=proposal, user=user, follow=follow)
    existing = Support.objects.filter(proposal=proposal, user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            support = Support.objects.create(proposal=proposal, user=user)
    except IntegrityError:  # a double click that raced past the check above
        return Support.objects.get(proposal=proposal, user=user)
    audit(actor=user, action="support", obj=support, proposal=proposal)
    return support


@transaction.atomic
def support_remove(*, proposal: Proposal, user: User) -> None:
    deleted, _ = Support.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        audit(actor=user, action="unsupport", obj=proposal, proposal=proposal)
