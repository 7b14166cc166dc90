"""Invitations: how someone without single sign-on gets an account.

A lead invites an address at their department's email domain (the same rule
single sign-on uses: `Department.objects.for_email`); the worker emails a
single-use link (`notifications.deliver_invitation`, which makes the token and
stores only its hash); the person opens it, gives their name and a password,
and their account is made in that department with the invited role.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Department, Invitation, InvitationState, User
from proposals import dispatch
from proposals import permissions as perms
from proposals.exceptions import ActionNotAllowed, InvalidTransition, InvitationUnusable
from proposals.services.base import audit

EMAIL_FORMAT = "Enter an email address in the format name@example.gov.uk"


def _department_for(actor: User, email: str) -> Department:
    """Which department the invitation is to, or the error saying why there is none.

    A lead invites to their own department only, so the address must be at its
    domain; an operator invites to whichever department the address belongs to.
    """
    belongs_to = Department.objects.for_email(email)
    if perms.is_lead_of(actor, actor.department_id) and actor.is_active:
        own = actor.department
        if not own.email_domain:
            raise ValidationError(
                {
                    "email": [
                        f"{own.name} has no email domain, so no one can be invited to it yet. "
                        "Ask the service team to add it"
                    ]
                }
            )
        if belongs_to is None or belongs_to.pk != own.pk:
            raise ValidationError({"email": [f"Enter an email address ending @{own.email_domain}"]})
        return own
    if perms.is_operator(actor):
        if belongs_to is None:
            domain = email.rsplit("@", 1)[-1]
            raise ValidationError(
                {"email": [f"No department uses the email domain {domain}: enter a department's"]}
            )
        return belongs_to
    raise ActionNotAllowed("Only portfolio leads can invite people")


def _pending(department: Department, email: str) -> Invitation | None:
    return (
        Invitation.objects.filter(
            department=department,
            email=email,
            accepted_at=None,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def invitation_create(*, actor: User, email: str, role: str) -> Invitation:
    """Invite `email` to make an account with `role`; the email is queued on commit.

    Refuses an address outside the lead's department's domain, one that already
    has an account in the department, and one already invited and not expired.
    """
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": ["Enter an email address"]})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [EMAIL_FORMAT]}) from None
    if role not in perms.GRANTABLE_ROLES:
        raise ValidationError({"role": ["Select what they will do: submit, review or lead"]})
    department = _department_for(actor, email)
    if not perms.can_invite(actor, department):
        raise ActionNotAllowed("Only the department's portfolio lead can invite people to it")
    # Serialises invitations to one department, so two leads inviting the same
    # address at once make one invitation, not two.
    department = Department.objects.select_for_update().get(pk=department.pk)
    existing = User.objects.filter(email__iexact=email).only("department_id").first()
    if existing is not None and existing.department_id == department.pk:
        raise ValidationError({"email": [f"{email} already has an account in {department.name}"]})
    # An account elsewhere (someone moved to another department) is not disclosed
    # to the lead: the invitation is made and sent like any other, and only the
    # address's owner, opening the link, is told they already have an account.
    pending = _pending(department, email)
    if pending is not None:
        until = timezone.localtime(pending.expires_at)
        raise ValidationError(
            {
                "email": [
                    f"{email} has already been invited, until {until:%-d %B %Y}. "
                    "Withdraw that invitation to send a new one"
                ]
            }
        )
    now = timezone.now()
    invitation = Invitation.objects.create(
        email=email,
        department=department,
        role=role,
        invited_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.INVITATION_EXPIRY_DAYS),
    )
    audit(
        actor=actor,
        action="invite",
        obj=invitation,
        department=department,
        changes={"email": (None, email), "role": (None, role)},
    )
    dispatch.send_on_commit(dispatch.SEND_INVITATION, "invitation_id", [invitation.pk])
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw a pending invitation: its link stops working at once."""
    if not perms.can_invite(actor, invitation.department):
        raise ActionNotAllowed("Only the department's portfolio lead can withdraw its invitations")
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    state = locked.state
    if state == InvitationState.REVOKED:
        return locked
    if state != InvitationState.PENDING:
        done = "been accepted" if state == InvitationState.ACCEPTED else "expired"
        raise InvalidTransition(f"This invitation cannot be withdrawn: it has {done}")
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit(
        actor=actor,
        action="revoke_invitation",
        obj=locked,
        department=locked.department,
        changes={"revoked_at": (None, locked.revoked_at)},
    )
    return locked


def invitation_refusal(invitation: Invitation | None) -> str | None:
    """Why this link cannot make an account now (`InvitationUnusable.reason`), or None."""
    if invitation is None:
        return "unknown"
    state = invitation.state
    if state != InvitationState.PENDING:
        return str(state)
    if User.objects.filter(email__iexact=invitation.email).exists():
        return "account_exists"
    return None


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    """Make the invited person's account (in the invitation's department, with its
    role), and use the invitation up. Raises InvitationUnusable for a link that
    cannot, ValidationError for a missing name or a password the validators refuse."""
    # Locked so that the same link sent twice at once makes one account.
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("department")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
        if token
        else None
    )
    reason = invitation_refusal(invitation)
    if reason is not None:
        raise InvitationUnusable(reason)
    assert invitation is not None  # invitation_refusal said so
    full_name = (full_name or "").strip()
    candidate = User(email=invitation.email, full_name=full_name, department=invitation.department)
    errors: dict[str, list[str]] = {}
    if not full_name:
        errors["full_name"] = ["Enter your full name"]
    elif len(full_name) > 150:
        errors["full_name"] = ["Full name must be 150 characters or fewer"]
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    try:
        # A savepoint: the same address may have just signed in by single sign-on.
        with transaction.atomic():
            user = User.objects.create_user(
                email=invitation.email,
                password=password,
                full_name=full_name,
                department=invitation.department,
                role=invitation.role,
            )
    except IntegrityError:
        raise InvitationUnusable("account_exists") from None
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    audit(
        actor=user,
        action="accept_invitation",
        obj=invitation,
        department=invitation.department,
        changes={"user": (None, user.pk), "role": (None, invitation.role)},
    )
    return user
