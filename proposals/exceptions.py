"""The errors services and rules raise: a leaf (it imports nothing of ours), so
that the rules, the services, the pages and the API raise and catch the same
things, and pages and API each map them once.

A refusal has a kind (`RefusalKind`): forbidden (403), conflict (409, a GOV.UK
error page) or invalid (400, field errors). Besides these, services raise
Django's `ValidationError` (a field → messages dict) for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import PermissionDenied


class RefusalKind(StrEnum):
    """The three ways of saying no, each with one meaning on every channel."""

    # This user may never do this to this (visible) object: 403.
    FORBIDDEN = "forbidden"
    # The action exists and this user may take it, but not in the object's
    # current state (often: someone acted first): 409, a GOV.UK error page.
    CONFLICT = "conflict"
    # What was sent is wrong: 400 with field errors.
    INVALID = "invalid"


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    message: str
    errors: dict[str, list[str]] = field(default_factory=dict)


class Refused(Exception):
    """Raised by `workflow.check`; pages and API each map its kind in one place."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class StateConflict(Refused):
    """A conflict raised directly (not from a rule): the object's state moved on."""

    def __init__(self, message: str) -> None:
        super().__init__(Refusal(RefusalKind.CONFLICT, message))


class ActionNotAllowed(PermissionDenied):
    """The user can see the object but may never do this to it (403)."""


class InvalidTransition(StateConflict):
    """The object is not in a state that allows the action now (409): someone
    else may have acted first."""


class StaleVersion(Exception):
    """The caller edited an older version than the one stored (412)."""


class InvitationUnusable(Exception):
    """An invitation link that cannot make an account: unknown, used, withdrawn,
    expired, or for an address that already has one. `reason` names which, for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
