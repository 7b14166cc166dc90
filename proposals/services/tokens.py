"""API tokens: created (the key shown once, stored hashed) and revoked."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, TokenScope, User
from proposals.exceptions import ActionNotAllowed
from proposals.services.base import audit


def hash_token(key: str) -> str:
    return ApiToken.hash_key(key)


@transaction.atomic
def api_token_create(
    *, user: User, name: str, scope: str = TokenScope.READ, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Enter a name for the token"]})
    if scope not in TokenScope.values:
        raise ValidationError({"scope": ["Select read only or read and write"]})
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise ValidationError({"days": ["A token lasts between 1 and 366 days"]})
    key = f"pai_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:12],
        key_hash=hash_token(key),
        scope=scope,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    audit(
        actor=user,
        action="create_token",
        obj=token,
        department=user.department,
        changes={"scope": (None, scope), "prefix": (None, token.prefix)},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise ActionNotAllowed("You can only revoke your own tokens")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=actor, action="revoke_token", obj=token, department=actor.department)
    return token
