"""Webhooks: signed deliveries, retries, the delivery log, and no requests inside the network."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from proposals import dispatch, services, webhooks
from proposals.enums import DeliveryStatus, WebhookEvent
from proposals.exceptions import ActionNotAllowed
from proposals.models import WebhookDelivery, WebhookEndpoint
from tests.workers.helpers import local_server, submitted


@pytest.fixture
def endpoint_at(lena, settings):
    """An endpoint of DfE's, registered by its lead, at a URL the test chooses."""

    def make(url: str, events=(WebhookEvent.PROPOSAL_SUBMITTED,)) -> WebhookEndpoint:
        return WebhookEndpoint.objects.create(
            department=lena.department,
            url=url,
            secret="s3cret",
            events=list(events),
            created_by=lena,
        )

    return make


@pytest.mark.django_db
def test_submitted_event_is_posted_signed_with_the_endpoints_secret(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    with local_server(204) as (url, recorded):
        endpoint_at(f"{url}/hooks")
        proposal = submitted(alice)
        delivery = WebhookDelivery.objects.get()

        assert webhooks.deliver(str(delivery.pk)) is True
        assert webhooks.deliver(str(delivery.pk)) is False  # a duplicate message: nothing

    [request] = recorded.requests
    body = request["body"]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature-SHA256"] == expected
    event = json.loads(body)
    assert set(event) == {"event", "id", "occurred_at", "data"}
    assert (event["event"], event["id"]) == ("proposal.submitted", str(delivery.pk))
    assert event["data"]["reference"] == proposal.reference
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.attempts) == (
        DeliveryStatus.SENT,
        204,
        1,
    )


@pytest.mark.django_db
def test_server_error_is_recorded_and_retried_then_fails_for_good(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    with local_server(503) as (url, recorded):
        endpoint_at(url)
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        with pytest.raises(dispatch.TransientFailure):
            webhooks.deliver(str(delivery.pk))
        delivery.refresh_from_db()
        assert (delivery.status, delivery.response_status) == (DeliveryStatus.PENDING, 503)

        assert webhooks.deliver(str(delivery.pk)) is False

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert delivery.last_error == "Answered 503"
    assert len(recorded.requests) == 2


@pytest.mark.django_db
def test_client_error_fails_without_retrying(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with local_server(410) as (url, _):
        endpoint_at(url)
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        assert webhooks.deliver(str(delivery.pk)) is False

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 410)


@pytest.mark.django_db
def test_loopback_address_is_refused_unless_allowed(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with local_server(204) as (url, recorded):
        endpoint_at(url)
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        assert webhooks.deliver(str(delivery.pk)) is False

    delivery.refresh_from_db()
    assert recorded.requests == []
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == webhooks.REFUSED


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
    ],
)
def test_private_loopback_and_link_local_destinations_are_refused(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    with pytest.raises(webhooks.AddressNotAllowed):
        webhooks.check_destination(url)


def test_public_address_is_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    assert webhooks.check_destination("https://8.8.8.8/hook") == ["8.8.8.8"]


@pytest.mark.django_db
def test_sweep_requeues_deliveries_left_behind(alice, endpoint_at, settings):
    endpoint_at("https://hooks.example/in")
    submitted(alice)
    delivery = WebhookDelivery.objects.get()
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=long_ago, status=DeliveryStatus.CLAIMED, claimed_at=long_ago
    )

    assert webhooks.sweep() == 1
    assert webhooks.sweep() == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


@pytest.mark.django_db
def test_lead_registers_an_https_endpoint_and_sees_the_secret_once(lena):
    endpoint, secret = services.webhook_register(
        actor=lena, url="https://hooks.example/in", events=["proposal.decided", "bogus"]
    )

    assert (endpoint.events, endpoint.secret, secret[:6]) == (
        ["proposal.decided"],
        secret,
        "whsec_",
    )
    assert list(webhooks.endpoints_for(lena)) == [endpoint]


@pytest.mark.django_db
def test_registering_needs_a_lead_https_and_an_event(alice, lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ActionNotAllowed):
        services.webhook_register(actor=alice, url="https://x.example", events=["proposal.decided"])
    with pytest.raises(ValidationError) as plain:
        services.webhook_register(actor=lena, url="http://x.example", events=["proposal.decided"])
    with pytest.raises(ValidationError) as none:
        services.webhook_register(actor=lena, url="https://x.example", events=[])

    assert plain.value.message_dict == {"url": ["Enter an address that starts with https://"]}
    assert none.value.message_dict == {"events": ["Select at least one event"]}


@pytest.mark.django_db
def test_test_event_is_queued_as_a_logged_delivery(lena, hugo, endpoint_at):
    endpoint = endpoint_at("https://hooks.example/in")

    delivery = services.webhook_send_test(actor=lena, endpoint=endpoint)

    assert delivery.payload["event"] == "webhook.test"
    assert list(webhooks.deliveries_for(lena)) == [delivery]
    assert list(webhooks.deliveries_for(hugo)) == []
    with pytest.raises(ActionNotAllowed):
        services.webhook_send_test(actor=hugo, endpoint=endpoint)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://100.64.0.1/hook",
        "https://[2002:7f00:1::1]/hook",
        "https://169.254.169.254/latest",
        "https://localhost/hook",
    ],
)
def test_registering_a_literal_internal_address_is_refused_at_once(lena, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    with pytest.raises(ValidationError) as refused:
        services.webhook_register(actor=lena, url=url, events=["proposal.decided"])

    assert refused.value.message_dict == {"url": ["Enter an address on the public internet"]}
    assert not WebhookEndpoint.objects.exists()
