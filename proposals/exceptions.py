"""Refusals: why an action cannot be done, and how to say so.

A leaf module (it imports nothing of ours), so that the rules, the services,
the pages and the API can all raise and catch the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
