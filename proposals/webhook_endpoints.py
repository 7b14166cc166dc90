"""Registering a department's webhook endpoint (SPEC §6): a lead's write.

Deliveries are written by `services.emit_webhook` and sent by the workers;
this module only creates and lists the subscriptions.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from accounts.models import User
from proposals import permissions as perms
from proposals.enums import WebhookEvent
from proposals.models import WebhookEndpoint
from proposals.services import ActionNotAllowed, audit


@transaction.atomic
def webhook_endpoint_register(*, actor: User, url: str, events: Sequence[str]) -> WebhookEndpoint:
    """An HTTPS endpoint for the lead's department, with a new signing secret."""
    if not perms.can_configure(actor, actor.department):
        raise ActionNotAllowed("Only a department's portfolio lead can register webhooks")
    errors: dict[str, list[str]] = {}
    url = url.strip()
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        errors["url"] = ["Enter an HTTPS address, like https://example.gov.uk/hooks"]
    if len(url) > 500:
        errors["url"] = ["The address must be 500 characters or fewer"]
    chosen = sorted(set(events))
    if not chosen:
        errors["events"] = ["Select at least one event"]
    elif any(event not in WebhookEvent.values for event in chosen):
        errors["events"] = [f"Choose from {', '.join(WebhookEvent.values)}"]
    if errors:
        raise ValidationError(errors)
    endpoint = WebhookEndpoint.objects.create(
        department=actor.department,
        url=url,
        secret=secrets.token_hex(32),
        events=chosen,
        created_by=actor,
    )
    audit(
        actor=actor,
        action="register_webhook",
        obj=endpoint,
        department=actor.department,
        changes={"url": (None, urlparse(url).netloc), "events": (None, chosen)},
    )
    return endpoint
