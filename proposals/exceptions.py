"""The errors services raise, a leaf that pages and the API each map once.

Besides these, services raise Django's `ValidationError` (a field → messages
dict) for bad input.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class ActionNotAllowed(PermissionDenied):
    """The user can see the object but may never do this to it (403)."""


class InvalidTransition(Exception):
    """The object is not in a state that allows the action now (409): someone
    else may have acted first."""


class StaleVersion(Exception):
    """The caller edited an older version than the one stored (412)."""
