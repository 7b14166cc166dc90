"""Webhooks (SPEC §6): delivering what a department's endpoints subscribed to.

Delivery rows are written by `services.emit_webhook` with the change, and
endpoints are registered through `services.webhook_register`. This module
queues the deliveries and delivers them: a signed POST, claimed like
notifications, retried with backoff, every try recorded as its own
`WebhookAttempt` row.

Safe by construction against reaching inside the network (SSRF): the host is
resolved once, every address it resolves to is checked, and the connection
goes to a checked address, never to the name again, so a DNS answer that
changes between the check and the connection (rebinding) cannot redirect it.
TLS still verifies the certificate against the host name (sent as SNI).
Redirects are not followed. What a lead sees of a failure is a plain category
("Could not connect", "Timed out", "Answered 503"); the network detail goes
to the operators' log only, so the delivery log cannot map internal ports.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Prefetch, QuerySet
from django.utils import timezone
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from proposals import dispatch
from proposals import permissions as perms
from proposals.dispatch import TransientFailure
from proposals.enums import AttemptOutcome, DeliveryStatus
from proposals.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

TEST_EVENT = "webhook.test"
USER_AGENT = "Propose-an-innovation-webhooks/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# What a lead is shown: plain categories, never an address, port or errno.
REFUSED = "Refused: the address is not on the public internet"
NOT_A_WEB_ADDRESS = "Refused: not a web address"
NOT_FOUND = "Could not find the address"
COULD_NOT_CONNECT = "Could not connect"
TIMED_OUT = "Timed out"
NOT_SECURE = "Could not make a secure connection"
BROKEN = "The connection was broken"
SWITCHED_OFF = "The endpoint has been switched off"

# The well-known NAT64 prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Special-purpose ranges that `is_global` of older Python versions (3.11 before
# the 2024 registry updates) still calls global: IETF protocol assignments,
# local-use NAT64, SRv6 SIDs and the newer documentation prefix.
_ALSO_REFUSED = tuple(
    ipaddress.ip_network(n) for n in ("192.0.0.0/24", "64:ff9b:1::/48", "5f00::/16", "3fff::/20")
)


class AddressNotAllowed(Exception):
    """The endpoint's host resolves to an address the service must not call."""


class DeliveryError(Exception):
    """A try that got no answer. `category` is what a lead sees; the message is for the log."""

    def __init__(self, category: str, detail: str) -> None:
        super().__init__(detail)
        self.category = category


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


def new_secret() -> str:
    """Standard Webhooks' form: `whsec_` and the base64 of a 256-bit key."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> list[str]:
    """The secrets that sign a delivery to `endpoint` now: the current one first,
    then the one it replaced while its overlap lasts (a rotation)."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > (now or timezone.now()):
        keys.append(endpoint.previous_secret)
    return keys


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


def address_allowed(address: Address) -> bool:
    """Whether the service may connect to this address: one host on the public internet.

    `is_global` refuses every special-purpose range IANA lists (private,
    loopback, link-local and cloud metadata, shared 100.64.0.0/10, benchmarking,
    documentation…); multicast and reserved are refused besides. IPv6 forms that
    carry an IPv4 address (IPv4-mapped, NAT64, 6to4 2002::/16, Teredo
    2001::/32) are judged by the IPv4 address they lead to as well.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_allowed(address.ipv4_mapped)
        if address in _NAT64:
            return address_allowed(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        embedded = [address.sixtofour, *(address.teredo or ())]
        if any(inner is not None and not address_allowed(inner) for inner in embedded):
            return False
    if any(address in network for network in _ALSO_REFUSED):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


@dataclass(frozen=True)
class Destination:
    """An endpoint's URL resolved once: where to connect, and the name TLS must verify."""

    scheme: str
    host: str
    port: int
    target: str  # the path and query, as sent in the request line
    addresses: tuple[str, ...]  # every one checked, in the resolver's order

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def resolve(url: str) -> Destination:
    """Resolve the endpoint's host once and check every address it resolves to.

    Raises AddressNotAllowed when any of them is not a public address (unless
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES): a name that answers one public and one
    private address is refused outright. Raises DeliveryError when the name
    does not resolve.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise AddressNotAllowed(f"Not a web address: {url}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise AddressNotAllowed(f"Not a web address: {url}") from error
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise DeliveryError(NOT_FOUND, f"Could not resolve {parts.hostname}: {error}") from error
    # dict.fromkeys: unique, in the resolver's order (it sorts by preference).
    addresses = tuple(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise DeliveryError(NOT_FOUND, f"{parts.hostname} resolves to no address")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not address_allowed(ipaddress.ip_address(address)):
                raise AddressNotAllowed(
                    f"{parts.hostname} resolves to {address}, not a public address"
                )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(parts.scheme, parts.hostname, port, target, addresses)


def check_destination(url: str) -> list[str]:
    """The checked addresses of the endpoint's host (see `resolve`)."""
    return list(resolve(url).addresses)


# --- sending -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    # Verifies the chain and the host name (check_hostname), against the name
    # given as server_hostname, whatever address the socket is connected to.
    return ssl.create_default_context(cafile=ca_bundle)


def _pool(destination: Destination, address: str) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS
    )
    if destination.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            destination.port,
            timeout=timeout,
            maxsize=1,
            retries=False,
            ssl_context=_tls_context(settings.WEBHOOK_CA_BUNDLE or certifi.where()),
            server_hostname=destination.host,
        )
    return urllib3.HTTPConnectionPool(
        address, destination.port, timeout=timeout, maxsize=1, retries=False
    )


def _category(error: Exception) -> str:
    if isinstance(error, SSLError | ssl.SSLError):
        return NOT_SECURE
    if isinstance(error, NewConnectionError):  # a subclass of ConnectTimeoutError
        return COULD_NOT_CONNECT
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return TIMED_OUT
    if isinstance(error, ProtocolError):
        return BROKEN
    return COULD_NOT_CONNECT


def post(destination: Destination, body: bytes, headers: dict[str, str]) -> int:
    """POST to the checked addresses in turn (the next only if one cannot be reached).

    Returns the response's status; the body is not read. Never follows a
    redirect. Raises DeliveryError when no address answered.
    """
    failure: Exception | None = None
    for address in destination.addresses:
        pool = _pool(destination, address)
        try:
            response = pool.urlopen(
                "POST",
                destination.target,
                body=body,
                headers={**headers, "Host": destination.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            response.close()
            return response.status
        except (NewConnectionError, ConnectTimeoutError) as error:
            failure = error  # this address cannot be reached: try the next checked one
        except (HTTPError, OSError) as error:
            raise DeliveryError(_category(error), f"{address}: {error!r}") from error
        finally:
            pool.close()
    raise DeliveryError(
        _category(failure) if failure else COULD_NOT_CONNECT,
        f"{destination.addresses}: {failure!r}",
    )


# --- delivering ------------------------------------------------------------------------------


def _is_transient_status(code: int) -> bool:
    return code >= 500 or code in {408, 409, 425, 429}


def deliver(delivery_id: str) -> bool:
    """POST the event, signed; claim first so that a duplicate message sends nothing.

    Every try is recorded as a WebhookAttempt. Returns True when the endpoint
    answered 2xx, False when there was nothing to do or the delivery failed for
    good (recorded on the row). Raises TransientFailure, the row released to
    pending, to be retried with backoff.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CLAIMED, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    # Numbered after the last recorded try, not from `attempts`: an operator's
    # retry starts `attempts` again, the log keeps every try.
    last = delivery.attempt_log.aggregate(n=Max("number"))["n"] or 0
    attempt = WebhookAttempt.objects.create(delivery=delivery, number=last + 1, started_at=now)
    endpoint = delivery.endpoint
    if not endpoint.active:
        _finish(delivery, attempt, DeliveryStatus.FAILED, error=SWITCHED_OFF)
        return False
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(signing_secrets(endpoint), str(delivery.pk), body),
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Delivery": str(delivery.pk),
    }
    try:
        status_code = post(resolve(endpoint.url), body, headers)
    except AddressNotAllowed as error:
        logger.warning("Webhook delivery %s refused: %s", delivery.pk, error)
        reason = NOT_A_WEB_ADDRESS if str(error).startswith("Not a web") else REFUSED
        _finish(delivery, attempt, DeliveryStatus.FAILED, error=reason)
        return False
    except DeliveryError as error:
        logger.warning(
            "Webhook delivery %s, attempt %s: %s (%s)",
            delivery.pk,
            attempt.number,
            error.category,
            error,
        )
        _retry_or_fail(delivery, attempt, error.category, status_code=None)
        return False
    if 200 <= status_code < 300:
        _finish(delivery, attempt, DeliveryStatus.SENT, status_code=status_code)
        return True
    message = f"Answered {status_code}"
    if 300 <= status_code < 400:
        message += " (a redirect, which is not followed)"
    if _is_transient_status(status_code):
        _retry_or_fail(delivery, attempt, message, status_code=status_code)
    else:
        _finish(delivery, attempt, DeliveryStatus.FAILED, status_code=status_code, error=message)
    return False


def _record(attempt: WebhookAttempt, outcome: str, status_code: int | None, error: str) -> None:
    WebhookAttempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome, response_status=status_code, error=error[:200], finished_at=timezone.now()
    )


@transaction.atomic
def _finish(
    delivery: WebhookDelivery,
    attempt: WebhookAttempt,
    status: str,
    *,
    status_code: int | None = None,
    error: str = "",
) -> None:
    sent = status == DeliveryStatus.SENT
    _record(attempt, AttemptOutcome.SENT if sent else AttemptOutcome.FAILED, status_code, error)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.CLAIMED).update(
        status=status,
        response_status=status_code,
        last_error=error[:2000],
        delivered_at=timezone.now() if sent else None,
    )


def _retry_or_fail(
    delivery: WebhookDelivery, attempt: WebhookAttempt, error: str, *, status_code: int | None
) -> None:
    if delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _finish(delivery, attempt, DeliveryStatus.FAILED, status_code=status_code, error=error)
        logger.error("Webhook delivery %s failed for good: %s", delivery.pk, error)
        return
    with transaction.atomic():
        _record(attempt, AttemptOutcome.FAILED, status_code, error)
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
    """The latest deliveries to the user's department's endpoints, each with every try."""
    return (
        WebhookDelivery.objects.filter(endpoint__in=endpoints_for(user))
        .select_related("endpoint")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
        )
        .order_by("-created_at")[:limit]
    )
