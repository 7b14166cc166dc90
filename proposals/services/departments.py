"""A department's settings and its people (roles, moves between departments)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import REVIEW_ROLES, Department, Role, User
from proposals import permissions as perms
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Criterion,
)
from proposals.services.base import audit

# --- departments, people, challenges, tokens -----------------------------------------------

DEPARTMENT_SETTINGS = (
    "triage_target_days",
    "min_assessments",
    "moderation_threshold",
    "evaluation_plan_required",
)


@transaction.atomic
def department_configure(
    *,
    department: Department,
    actor: User,
    data: Mapping[str, Any],
    criteria: Sequence[Mapping[str, Any]] | None = None,
) -> Department:
    """Settings and criteria weights: configured, not customised, and audited."""
    if not perms.can_configure(actor, department):
        raise ActionNotAllowed("Only the department's portfolio lead can change its settings")
    locked = Department.objects.select_for_update().get(pk=department.pk)
    changes: dict[str, tuple[Any, Any]] = {}
    for name in DEPARTMENT_SETTINGS:
        if name in data and getattr(locked, name) != data[name]:
            changes[name] = (getattr(locked, name), data[name])
            setattr(locked, name, data[name])
    locked.full_clean()
    if locked.min_assessments < 1:
        raise ValidationError({"min_assessments": ["At least one assessment is needed"]})
    locked.save()
    for item in criteria or []:
        criterion = Criterion.objects.filter(department=locked, pk=item.get("id") or 0).first()
        if criterion is None:
            criterion = Criterion(department=locked)
        before = (criterion.name, criterion.weight, criterion.active)
        criterion.name = str(item.get("name") or criterion.name).strip()
        criterion.description = str(item.get("description") or criterion.description)
        criterion.weight = Decimal(str(item.get("weight", criterion.weight)))
        criterion.active = bool(item.get("active", True))
        try:
            criterion.full_clean(exclude=["department"])
        except ValidationError as exc:
            raise ValidationError(
                {f"criterion-{criterion.name}-{k}": v for k, v in exc.message_dict.items()}
            ) from None
        if criterion.weight <= 0:
            raise ValidationError(
                {f"criterion-{criterion.name}-weight": ["Weight must be above 0"]}
            )
        criterion.save()
        after = (criterion.name, criterion.weight, criterion.active)
        if before != after:
            changes[f"criterion:{criterion.pk}"] = (list(before), list(after))
    if not Criterion.objects.filter(department=locked, active=True).exists():
        raise ValidationError({"criteria": ["Keep at least one active criterion"]})
    if changes:
        audit(
            actor=actor,
            action="configure_department",
            obj=locked,
            department=locked,
            changes=changes,
        )
    return locked


@transaction.atomic
def user_set_role(*, user: User, actor: User, role: str) -> User:
    """Panel membership: a lead makes a colleague a reviewer (or back)."""
    if role not in perms.GRANTABLE_ROLES:
        raise ValidationError({"role": ["Select submitter, reviewer or portfolio lead"]})
    if not (actor.is_superuser or perms.is_lead_of(actor, user.department_id)):
        raise ActionNotAllowed("Only the department's lead can change its panel")
    before = user.role
    if before != role:
        user.role = role
        user.save(update_fields=["role"])
        audit(
            actor=actor,
            action="set_role",
            obj=user,
            department=user.department,
            changes={"role": (before, role)},
        )
    return user


@transaction.atomic
def user_move_department(*, user: User, actor: User, department: Department) -> User:
    """Move someone to another department (a lead of their current one, or an operator).

    They arrive as a submitter: review rights do not travel between departments.
    """
    if not (actor.is_superuser or perms.is_lead_of(actor, user.department_id)):
        raise ActionNotAllowed("Only a lead of the person's department can move them")
    before = user.department
    if before.pk == department.pk:
        return user
    user.department = department
    changes: dict[str, tuple[Any, Any]] = {"department": (before.slug, department.slug)}
    if user.role in REVIEW_ROLES:
        changes["role"] = (user.role, Role.SUBMITTER)
        user.role = Role.SUBMITTER
    user.save(update_fields=["department", "role"])
    audit(actor=actor, action="move_department", obj=user, department=before, changes=changes)
    return user
