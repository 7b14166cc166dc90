"""Webhook signatures as the Standard Webhooks specification says (SPEC §6):
`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`, checked
two ways: recomputed here from the specification's words, and verified by the
`standardwebhooks` library (not our code), which also refuses a replay."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time

import pytest
import standardwebhooks.webhooks as library
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from proposals import services, webhooks
from proposals.enums import WebhookEvent
from proposals.models import WebhookDelivery, WebhookEndpoint
from tests.workers.helpers import local_server, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(alice, lena, settings):
    """A real delivery of a `proposal.submitted` event to a local receiver, with an
    endpoint registered as a lead does (so with a new `whsec_` secret)."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    with local_server(204) as (url, recorded):
        endpoint, secret = services.webhook_register(
            actor=lena, url="https://hooks.example.gov.uk/x", events=["proposal.submitted"]
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"{url}/hooks")
        submitted(alice)
        delivery = WebhookDelivery.objects.get(event=WebhookEvent.PROPOSAL_SUBMITTED)
        assert webhooks.deliver(str(delivery.pk)) is True
    [request] = recorded.requests
    return secret, delivery, request


def _headers(request) -> dict[str, str]:
    return {name.lower(): value for name, value in request["headers"].items()}


def test_a_new_secret_is_a_whsec_key_of_256_bits(delivered) -> None:
    secret, _, _ = delivered

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_the_signature_recomputed_from_the_specification_matches(delivered) -> None:
    secret, delivery, request = delivered
    headers = _headers(request)

    assert headers["webhook-id"] == str(delivery.pk)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    key = base64.b64decode(secret[len("whsec_") :])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request["body"]
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    # The old header, kept for one release: a bare HMAC of the body.
    legacy = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert headers["x-signature-sha256"] == f"sha256={legacy}"


def test_the_standard_webhooks_library_accepts_the_delivery(delivered) -> None:
    secret, delivery, request = delivered

    event = Webhook(secret).verify(request["body"], _headers(request))

    assert (event["event"], event["id"]) == ("proposal.submitted", str(delivery.pk))


def test_the_library_refuses_a_tampered_body_or_another_secret(delivered) -> None:
    secret, _, request = delivered

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request["body"].replace(b"submitted", b"decided"), _headers(request))
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request["body"], _headers(request))


def test_the_library_refuses_a_replay_older_than_its_tolerance(delivered, monkeypatch) -> None:
    secret, _, request = delivered

    class SixMinutesLater(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return dt.datetime.now(tz) + dt.timedelta(minutes=6)

    monkeypatch.setattr(library, "datetime", SixMinutesLater)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(request["body"], _headers(request))


def test_each_of_several_secrets_signs_so_a_rotation_keeps_receivers_working() -> None:
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    old = "whsec_" + base64.b64encode(b"o" * 32).decode()
    headers = webhooks.signed_headers([new, old], "msg_1", b'{"event":"webhook.test"}')

    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        Webhook(secret).verify(b'{"event":"webhook.test"}', headers)


def test_an_endpoint_with_an_older_secret_still_verifies_with_the_library() -> None:
    """Secrets from before `whsec_` (64 hex characters) are read as the library reads them."""
    secret = "ab" * 32
    headers = webhooks.signed_headers([secret], "msg_2", b"{}")

    assert Webhook(secret).verify(b"{}", headers) == {}
