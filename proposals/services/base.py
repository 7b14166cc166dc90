"""The audit row every service writes, and the locks and recipients they share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

from accounts.models import Department, User
from proposals import workflow
from proposals.enums import (
    AuditAudience,
)
from proposals.exceptions import ActionNotAllowed, InvalidTransition, RefusalKind
from proposals.models import (
    AuditEvent,
    Experiment,
    Proposal,
)

# --- audit -------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set):
        # Only sets lack an order; lists keep theirs (and may mix types, like a
        # criterion's [name, weight, active], which sorting would crash on).
        return sorted(_jsonable(item) for item in value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def audit(
    *,
    actor: User | None,
    action: str,
    obj: Model,
    proposal: Proposal | None = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    audience: AuditAudience = AuditAudience.EVERYONE,
    department: Department | None = None,
) -> AuditEvent:
    """Append one audit event: actor, action, object, changed fields before/after."""
    return AuditEvent.objects.create(
        proposal=proposal,
        proposal_reference=proposal.reference if proposal is not None else "",
        department=department or (proposal.department if proposal is not None else None),
        actor=actor,
        action=action,
        object_type=obj._meta.model_name or "",
        object_id=str(obj.pk),
        changes={
            name: [_jsonable(before), _jsonable(after)]
            for name, (before, after) in (changes or {}).items()
        },
        audience=audience,
    )


def lock_proposal(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("department", "challenge")
        .get(pk=proposal.pk)
    )


def enforce(
    actor: User,
    action: str,
    obj: Proposal | Experiment,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Ask the workflow table whether `actor` may take `action` on `obj` now, and
    refuse with the service error of the same kind: forbidden → ActionNotAllowed
    (403), conflict → InvalidTransition (409), invalid → ValidationError (400).

    Services call it after locking the row, so the answer holds for the write.
    """
    found = workflow.refusal(actor, action, obj, data)
    if found is None:
        return
    if found.kind == RefusalKind.FORBIDDEN:
        raise ActionNotAllowed(found.message)
    if found.kind == RefusalKind.CONFLICT:
        raise InvalidTransition(found.message)
    raise ValidationError(found.errors or {"__all__": [found.message]})
