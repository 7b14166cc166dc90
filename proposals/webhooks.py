"""Webhooks (SPEC §6): endpoints a department's lead registers, and their deliveries.

Delivery rows are written by `services.emit_webhook` with the change; this
module queues them, delivers them (signed POST, claimed like notifications,
retried with backoff, every attempt's status recorded), and refuses to send
to private, loopback or link-local addresses unless an operator allows it,
so a lead cannot use the service to reach inside the network (SSRF).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from proposals import permissions as perms
from proposals.enums import DeliveryStatus, WebhookEvent
from proposals.models import WebhookDelivery, WebhookEndpoint
from proposals.notifications import retry_countdown

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

TEST_EVENT = "webhook.test"
TIMEOUT_SECONDS = 10
USER_AGENT = "Propose-an-innovation-webhooks/1"


class TransientFailure(Exception):
    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts

    @property
    def countdown(self) -> float:
        return retry_countdown(self.attempts)


class AddressNotAllowed(Exception):
    """The endpoint's host resolves to an address the service must not call."""


# --- queueing ------------------------------------------------------------------------------


def enqueue(delivery_ids: Iterable[str]) -> int:
    """Queue each delivery on the webhooks queue; a lost message is picked up by the sweep."""
    from proposals.tasks import deliver_webhook

    handed = 0
    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id=delivery_id)
            handed += 1
        except Exception:  # the broker's failure must not fail a committed change
            logger.warning("Could not enqueue webhook delivery %s; the sweep will", delivery_id)
    return handed


# --- signing and address checks ------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The X-Signature-SHA256 header value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_destination(url: str) -> list[str]:
    """Resolve the host and check every address it has; returns the addresses.

    Raises AddressNotAllowed for a private, loopback, link-local (cloud metadata)
    or otherwise non-public address, unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise AddressNotAllowed(f"Not a web address: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"Could not resolve {parts.hostname}: {error}") from error
    addresses = sorted({str(info[4][0]) for info in infos})
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address.split("%")[0])):
                raise AddressNotAllowed(
                    f"{parts.hostname} resolves to {address}, a private or local address"
                )
    return addresses


# --- delivering ------------------------------------------------------------------------------


def _is_transient_status(code: int) -> bool:
    return code >= 500 or code in {408, 409, 425, 429}


def deliver(delivery_id: str) -> bool:
    """POST the event, signed; claim first so that a duplicate message sends nothing.

    Returns True when the endpoint answered 2xx, False when there was nothing to
    do or the delivery failed for good (recorded on the row). Raises
    TransientFailure, the row released to pending, to be retried with backoff.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CLAIMED, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        _finish(delivery, DeliveryStatus.FAILED, error="The endpoint has been switched off")
        return False
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature-SHA256": sign(endpoint.secret, body),
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Delivery": str(delivery.pk),
    }
    try:
        check_destination(endpoint.url)
        # No redirects: a redirect could point at an address we just refused.
        response = requests.post(
            endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
    except AddressNotAllowed as error:
        _finish(delivery, DeliveryStatus.FAILED, error=str(error))
        return False
    except (requests.RequestException, OSError) as error:
        _retry_or_fail(delivery, f"{type(error).__name__}: {error}", status_code=None)
        return False
    if 200 <= response.status_code < 300:
        _finish(delivery, DeliveryStatus.SENT, status_code=response.status_code)
        return True
    message = f"The endpoint answered {response.status_code}"
    if _is_transient_status(response.status_code):
        _retry_or_fail(delivery, message, status_code=response.status_code)
    else:
        _finish(delivery, DeliveryStatus.FAILED, status_code=response.status_code, error=message)
    return False


def _finish(
    delivery: WebhookDelivery, status: str, *, status_code: int | None = None, error: str = ""
) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.CLAIMED).update(
        status=status,
        response_status=status_code,
        last_error=error[:2000],
        delivered_at=timezone.now() if status == DeliveryStatus.SENT else None,
    )


def _retry_or_fail(delivery: WebhookDelivery, error: str, *, status_code: int | None) -> None:
    if delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _finish(delivery, DeliveryStatus.FAILED, status_code=status_code, error=error)
        logger.error("Webhook delivery %s failed for good: %s", delivery.pk, error)
        return
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.PENDING, response_status=status_code, last_error=error[:2000]
    )
    raise TransientFailure(error, attempts=delivery.attempts)


def sweep(*, older_than_seconds: int | None = None) -> int:
    """Re-enqueue deliveries left pending, or claimed and never finished, too long."""
    seconds = older_than_seconds or settings.NOTIFICATION_SWEEP_AFTER_SECONDS
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    WebhookDelivery.objects.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff).update(
        status=DeliveryStatus.PENDING
    )
    stale = Q(status=DeliveryStatus.PENDING, created_at__lt=cutoff) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff)
    )
    ids = list(
        WebhookDelivery.objects.filter(stale)
        .order_by("created_at")
        .values_list("pk", flat=True)[:2000]
    )
    WebhookDelivery.objects.filter(stale, pk__in=ids).update(claimed_at=timezone.now())
    return enqueue(str(pk) for pk in ids)


# --- endpoints: what the /account/webhooks/ page does ------------------------------------------


def endpoints_for(user: User) -> QuerySet[WebhookEndpoint]:
    """The user's department's endpoints, for its leads; nothing for anyone else."""
    if not perms.is_lead_of(user, user.department_id):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(department_id=user.department_id).order_by("-created_at")


def endpoint_for(user: User, endpoint_id: Any) -> WebhookEndpoint | None:
    try:
        return endpoints_for(user).filter(pk=int(endpoint_id)).first()
    except (TypeError, ValueError):
        return None


def deliveries_for(user: User, *, limit: int = 50) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint__in=endpoints_for(user))
        .select_related("endpoint")
        .order_by("-created_at")[:limit]
    )


def validate_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    allow_plain = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES  # local testing only
    if parts.scheme != "https" and not (allow_plain and parts.scheme == "http"):
        raise ValidationError({"url": ["Enter an address that starts with https://"]})
    if not parts.hostname or len(url) > 500 or parts.username or parts.password:
        raise ValidationError({"url": ["Enter a web address, like https://example.gov.uk/hooks"]})
    return url


@transaction.atomic
def endpoint_register(
    *, actor: User, url: str, events: Sequence[str]
) -> tuple[WebhookEndpoint, str]:
    """A lead registers an HTTPS endpoint for their department; the secret is returned once."""
    from proposals.services import ActionNotAllowed, audit

    if not perms.is_lead_of(actor, actor.department_id):
        raise ActionNotAllowed("Only a portfolio lead can register webhooks")
    url = validate_url(url)
    chosen = [event for event in WebhookEvent.values if event in set(events)]
    if not chosen:
        raise ValidationError({"events": ["Select at least one event"]})
    secret = secrets.token_hex(32)
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
def endpoint_deactivate(*, actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    from proposals.services import ActionNotAllowed, audit

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


@transaction.atomic
def endpoint_send_test(*, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a signed `webhook.test` event to the endpoint, logged like any delivery."""
    from proposals.services import ActionNotAllowed

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
    transaction.on_commit(lambda: enqueue([delivery_id]), robust=True)
    return delivery
