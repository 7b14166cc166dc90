"""DRF permission classes. They only look up the named predicates and the
token's scope; who may act on a proposal is decided by the services."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.authentication import token_scope
from accounts.models import TokenScope


class TokenScopeAllowsMethod(BasePermission):
    """A read-only token may read; writing needs a token with write scope.

    A browser session (the browsable API) writes with its CSRF token instead.
    """

    message = "This token is read-only: create a token with write scope to make changes"

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        scope = token_scope(request)
        return scope is None or scope == TokenScope.WRITE
