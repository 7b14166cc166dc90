"""Challenges: calls for ideas a lead opens and closes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from proposals import permissions as perms
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Challenge,
)
from proposals.services.base import audit


@transaction.atomic
def challenge_create(*, actor: User, data: Mapping[str, Any]) -> Challenge:
    department = data.get("department", actor.department)
    if not perms.can_manage_challenges(actor, department):
        raise ActionNotAllowed("Only a portfolio lead can open a challenge")
    challenge = Challenge(
        title=str(data.get("title") or "").strip(),
        question=str(data.get("question") or "").strip(),
        department=department,
        opens_on=cast(dt.date, data.get("opens_on")),
        closes_on=cast(dt.date, data.get("closes_on")),
        created_by=actor,
    )
    base = slugify(challenge.title)[:80] or "challenge"
    challenge.slug = base
    suffix = 2
    while Challenge.objects.filter(slug=challenge.slug).exists():
        challenge.slug = f"{base}-{suffix}"
        suffix += 1
    challenge.full_clean()
    challenge.save()
    if "themes" in data:
        challenge.themes.set(data["themes"])
    audit(actor=actor, action="open_challenge", obj=challenge, department=department)
    return challenge


@transaction.atomic
def challenge_close(*, challenge: Challenge, actor: User) -> Challenge:
    if not perms.can_manage_challenges(actor, challenge.department):
        raise ActionNotAllowed("Only the challenge's department lead can close it")
    if challenge.closed_at is None:
        challenge.closed_at = timezone.now()
        challenge.save(update_fields=["closed_at"])
        audit(actor=actor, action="close_challenge", obj=challenge, department=challenge.department)
    return challenge
