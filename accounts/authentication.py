"""`Authorization: Token <key>` for other systems (SPEC §6), or `Bearer <key>`.

`Bearer` is accepted as a synonym because that is what OpenAPI's `http`
bearer scheme and the clients generated from it send (openapi-python-client
among them); refusing it would answer a valid key with "credentials were not
provided". The key is the same either way: an opaque API token, not a JWT.

Keys are looked up by their SHA-256 (`ApiToken.hash_key`); a key that is
unknown, revoked or expired, or whose owner has been deactivated, is refused
with 401 at once: nothing is cached between requests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, User

# `last_used_at` is for people deciding which tokens to revoke, so minute
# precision is plenty; writing it on every request would turn each read into a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
KEYWORD = "Token"
# Lower-case, as compared: the scheme name is case-insensitive (RFC 9110 §11.1).
KEYWORDS = (b"token", b"bearer")
_MAX_KEY_LENGTH = 200


class TokenAuthentication(BaseAuthentication):
    """Authenticate with an API token; `request.auth` is the `ApiToken`."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: the session (or nothing) decides
        if len(parts) != 2 or len(parts[1]) > _MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Token <key>” (or “Bearer <key>”), "
                "with no spaces in the key"
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid") from None
        return self.authenticate_key(key)

    def authenticate_key(self, key: str) -> tuple[User, ApiToken]:
        token = (
            ApiToken.objects.select_related("user", "user__department")
            .filter(key_hash=ApiToken.hash_key(key))
            .first()
        )
        now = timezone.now()
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("The token has been revoked")
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed("The token has expired")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's owner has been deactivated")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) with `WWW-Authenticate` when no one is signed in.
        return f'{KEYWORD} realm="api"'


def token_scope(request: Any) -> str | None:
    """The scope of the token used, or None for a browser session."""
    auth = getattr(request, "auth", None)
    return auth.scope if isinstance(auth, ApiToken) else None
