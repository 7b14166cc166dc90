"""Departments, the people in them, and their API tokens.

A separate app from `proposals` because identity is a real boundary: sign-in,
single sign-on, lockouts and tokens change for reasons of their own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


def email_domain(email: str) -> str:
    """The part after the @, as departments' `email_domain` is compared: lower case."""
    return email.rsplit("@", 1)[-1].strip().lower()


class DepartmentManager(models.Manager["Department"]):
    def for_email(self, email: str) -> Department | None:
        """The department an email address belongs to: the one rule, used by single
        sign-on and by invitations alike. The domain must equal `email_domain`
        exactly (case aside): a subdomain is not the department's."""
        domain = email_domain(email)
        if not domain:
            return None
        return self.filter(email_domain__iexact=domain).first()


class Department(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    acronym = models.CharField(max_length=20, blank=True)
    # Groups a body under its parent on the portfolio; it grants no visibility.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    email_domain = models.CharField(max_length=120, unique=True)
    triage_target_days = models.PositiveSmallIntegerField(default=10)
    min_assessments = models.PositiveSmallIntegerField(default=1)
    moderation_threshold = models.DecimalField(max_digits=4, decimal_places=2, default=1.5)
    # An experiment may not start without an evaluation plan (Magenta Book) when set.
    evaluation_plan_required = models.BooleanField(default=False)

    objects = DepartmentManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def reference_prefix(self) -> str:
        """DFE, HO, MOD…; bodies without an acronym use their slug without hyphens."""
        return (self.acronym or self.slug.replace("-", "")).upper()


class Role(models.TextChoices):
    SUBMITTER = "submitter", "Submitter"
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Portfolio lead"
    ANALYST = "analyst", "Analyst"


# The roles that sit on a department's review panel (SPEC §1: reviewers, and
# leads, who may do everything a reviewer may).
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.LEAD})


class UserManager(BaseUserManager["User"]):
    def panel_of(self, department_id: int) -> models.QuerySet[User]:
        """The department's review panel: its active reviewers and leads, by name.
        The one home of "the panel": assessors are chosen from it and its
        messages go to it."""
        return self.filter(
            department_id=department_id, role__in=REVIEW_ROLES, is_active=True
        ).order_by("full_name", "pk")

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.SUBMITTER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name", "department"]

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["department", "role"])]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A key for another system. Only a SHA-256 of the key is stored.

    Keys are 256-bit random strings, so a fast hash is enough: there is nothing
    to brute-force that a slow password hash would protect.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @staticmethod
    def hash_key(key: str) -> str:
        """What is stored of a key, and what a presented key is looked up by."""
        return hashlib.sha256(key.encode()).hexdigest()


class InvitationState(models.TextChoices):
    """Where an invitation is in its life; derived, never stored (expiry is a clock)."""

    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Withdrawn"


class InvitationEmail(models.TextChoices):
    """The invitation email's delivery: the outbox's states (proposals' DeliveryStatus)."""

    PENDING = "pending", "Waiting to be sent"
    CLAIMED = "claimed", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Could not be sent"


class Invitation(models.Model):
    """A lead's invitation for someone without single sign-on to make an account.

    Only a SHA-256 of the link's token is stored, written by the worker that
    sends the email (so the token is never in the database or the broker); the
    row is its own outbox for that email, with the fields the outbox sweep reads.
    """

    email = models.EmailField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.SUBMITTER)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The email's outbox fields, as a Notification's (proposals.dispatch.requeue_stale).
    email_status = models.CharField(
        max_length=20, choices=InvitationEmail.choices, default=InvitationEmail.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    unpublished = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["department", "email"], name="invitation_email_idx"),
            models.Index(fields=["email_status", "created_at"], name="invitation_outbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.department_id}"

    @property
    def state(self) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    @staticmethod
    def hash_token(token: str) -> str:
        """What is stored of a link's token (256 random bits: a fast hash is enough)."""
        return hashlib.sha256(token.encode()).hexdigest()
