"""Webhooks (SPEC §6): delivering what a department's endpoints subscribed to.

Delivery rows are written by `services.emit_webhook` with the change, and
endpoints are registered through `services.webhook_register`. This module
queues the deliveries, delivers them (signed POST, claimed like notifications,
retried with backoff, every attempt's status recorded), and refuses to send
to private, loopback or link-local addresses unless an operator allows it,
so a lead cannot use the service to reach inside the network (SSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from proposals import dispatch
from proposals import permissions as perms
from proposals.dispatch import TransientFailure
from proposals.enums import DeliveryStatus
from proposals.models import WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

TEST_EVENT = "webhook.test"
TIMEOUT_SECONDS = 10
USER_AGENT = "Propose-an-innovation-webhooks/1"


class AddressNotAllowed(Exception):
    """The endpoint's host resolves to an address the service must not call."""


# --- queueing ------------------------------------------------------------------------------


def enqueue(delivery_ids: Iterable[str]) -> int:
    """Queue each delivery on the webhooks queue; a lost message is picked up by the sweep."""
    return dispatch.send_each(dispatch.DELIVER_WEBHOOK, "delivery_id", delivery_ids)


# --- signing and address checks ------------------------------------------------------------


SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def sign(secret: str, body: bytes) -> str:
    """The X-Signature-SHA256 header value: sha256=<hex HMAC-SHA256 of the body>.

    The old scheme, kept for one release (SPEC §6) for receivers that check it;
    it signs the body alone, so a captured delivery could be replayed.
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret, read as Standard Webhooks reads it: the base64
    after `whsec_` (padding optional), so a receiver using any Standard Webhooks
    library with the secret as shown verifies our signature."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")


def standard_signature(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature` (Standard Webhooks): `v1,<base64 HMAC-SHA256 of
    "<id>.<timestamp>.<body>">`, one per secret, space-separated, so a receiver
    holding either the new or the old secret during a rotation verifies it."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(signing_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def signed_headers(secrets: Sequence[str], msg_id: str, body: bytes) -> dict[str, str]:
    """The signature headers of one attempt: the Standard Webhooks three, and the
    old `X-Signature-SHA256` (with the current secret) for one more release.

    `webhook-id` is the delivery's id, the same on every retry, so a receiver can
    drop a duplicate; `webhook-timestamp` is this attempt's time, so a receiver
    can refuse a replay older than its tolerance (5 minutes in the libraries).
    """
    timestamp = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secrets, msg_id, timestamp, body),
        "X-Signature-SHA256": sign(secrets[0], body),
    }


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
        **signed_headers([endpoint.secret], str(delivery.pk), body),
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
    return enqueue(dispatch.requeue_stale(WebhookDelivery, older_than_seconds=seconds, limit=2000))


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
