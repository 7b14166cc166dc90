"""Webhooks: endpoints a lead registers, and the delivery rows written with a change."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from proposals import dispatch
from proposals import permissions as perms
from proposals.enums import (
    WebhookEvent,
)
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Outcome,
    Proposal,
    WebhookDelivery,
    WebhookEndpoint,
)
from proposals.services.base import audit
from proposals.webhooks import TEST_EVENT, address_allowed, new_secret

# --- webhooks (rows written with the change; delivered by the workers) ---------------------


def emit_webhook(
    *, event: WebhookEvent, proposal: Proposal, outcome: Outcome | None = None
) -> list[WebhookDelivery]:
    """One delivery row per subscribed endpoint of the owning department.

    Department-only proposals are still sent: endpoints belong to that department.
    """
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(department_id=proposal.department_id, active=True)
        if event.value in e.events
    ]
    if not endpoints:
        return []
    data: dict[str, Any] = {
        "reference": proposal.reference,
        "title": proposal.title,
        "status": proposal.status,
        "department": proposal.department.slug,
        "url": f"{settings.SITE_URL}{proposal.get_absolute_url()}",
    }
    if outcome is not None:
        data["outcome"] = {
            "result": outcome.result,
            "recommendation": outcome.recommendation,
            "experiment": outcome.experiment.title,
        }
    now = timezone.now()
    rows = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(endpoint=endpoint, event=event.value, payload={})
        delivery.payload = {
            "event": event.value,
            "id": str(delivery.pk),
            "occurred_at": now.isoformat(),
            "data": data,
        }
        rows.append(delivery)
    created = WebhookDelivery.objects.bulk_create(rows)
    dispatch.send_on_commit(dispatch.DELIVER_WEBHOOK, "delivery_id", [str(r.pk) for r in created])
    return created


def validate_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    allow_plain = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES  # local testing only
    if parts.scheme != "https" and not (allow_plain and parts.scheme == "http"):
        raise ValidationError({"url": ["Enter an address that starts with https://"]})
    if not parts.hostname or len(url) > 500 or parts.username or parts.password:
        raise ValidationError({"url": ["Enter a web address, like https://example.gov.uk/hooks"]})
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValidationError(
            {"url": ["Enter a web address, like https://example.gov.uk/hooks"]}
        ) from error
    # A literal address can be judged now, so the lead hears at once; names are
    # checked at every delivery, on the address they then resolve to.
    if not allow_plain and not _may_be_public(parts.hostname):
        raise ValidationError({"url": ["Enter an address on the public internet"]})
    return url


def _may_be_public(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return address_allowed(ipaddress.ip_address(host))
    except ValueError:
        return True  # a name


@transaction.atomic
def webhook_register(
    *, actor: User, url: str, events: Sequence[str]
) -> tuple[WebhookEndpoint, str]:
    """A lead registers an HTTPS endpoint for their department; the secret is returned once."""
    if not perms.is_lead_of(actor, actor.department_id):
        raise ActionNotAllowed("Only a portfolio lead can register webhooks")
    url = validate_url(url)
    chosen = [event for event in WebhookEvent.values if event in set(events)]
    if not chosen:
        raise ValidationError({"events": ["Select at least one event"]})
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        department_id=actor.department_id,
        url=url,
        secret=secret,
        events=chosen,
        created_by=actor,
    )
    audit(
        actor=actor,
        action="register_webhook",
        obj=endpoint,
        department=actor.department,
        changes={"url": (None, url), "events": (None, chosen)},
    )
    return endpoint, secret


@transaction.atomic
def webhook_deactivate(*, actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    if not perms.is_lead_of(actor, endpoint.department_id):
        raise ActionNotAllowed("Only the department's lead can remove its webhooks")
    if endpoint.active:
        endpoint.active = False
        endpoint.save(update_fields=["active"])
        audit(
            actor=actor,
            action="remove_webhook",
            obj=endpoint,
            department=actor.department,
            changes={"active": (True, False)},
        )
    return endpoint


def _lead_of_active(actor: User, endpoint: WebhookEndpoint, refusal: str) -> None:
    if not perms.is_lead_of(actor, endpoint.department_id) or not endpoint.active:
        raise ActionNotAllowed(refusal)


@transaction.atomic
def webhook_rotate_secret(*, actor: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, returned once; the one it replaces keeps signing for
    WEBHOOK_SECRET_OVERLAP_HOURS, so the receiver can change over without losing
    a delivery. Only two are ever valid: rotating again during an overlap retires
    the older one at once."""
    _lead_of_active(actor, endpoint, "Only the department's lead can change its webhook secrets")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + dt.timedelta(
        hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS
    )
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    audit(
        actor=actor,
        action="rotate_webhook_secret",
        obj=endpoint,
        department=actor.department,
        # Never the secrets themselves: the audit log is read by more people.
        changes={"previous_secret_expires_at": (None, endpoint.previous_secret_expires_at)},
    )
    return secret


@transaction.atomic
def webhook_retire_previous_secret(*, actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """End a rotation's overlap now: the receiver has the new secret."""
    _lead_of_active(actor, endpoint, "Only the department's lead can change its webhook secrets")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.previous_secret:
        was = endpoint.previous_secret_expires_at
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
        endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at"])
        audit(
            actor=actor,
            action="retire_webhook_secret",
            obj=endpoint,
            department=actor.department,
            changes={"previous_secret_expires_at": (was, None)},
        )
    return endpoint


@transaction.atomic
def webhook_send_test(*, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a signed `webhook.test` event to the endpoint, logged like any delivery."""
    if not perms.is_lead_of(actor, endpoint.department_id) or not endpoint.active:
        raise ActionNotAllowed("Only the department's lead can test its webhooks")
    delivery = WebhookDelivery(endpoint=endpoint, event=TEST_EVENT, payload={})
    delivery.payload = {
        "event": TEST_EVENT,
        "id": str(delivery.pk),
        "occurred_at": timezone.now().isoformat(),
        "data": {"message": "A test event from Propose an innovation", "sent_by": actor.email},
    }
    delivery.save()
    delivery_id = str(delivery.pk)
    dispatch.send_on_commit(dispatch.DELIVER_WEBHOOK, "delivery_id", [delivery_id])
    return delivery
