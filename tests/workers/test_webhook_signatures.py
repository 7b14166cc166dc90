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
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from proposals import services, webhooks
from proposals.enums import WebhookEvent
from proposals.exceptions import ActionNotAllowed
from proposals.models import AuditEvent, WebhookDelivery, WebhookEndpoint
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


# --- rotating the secret (two valid during the change) -------------------------------------


def _deliver_test_event(lead, endpoint, url) -> dict:
    with local_server(204) as (base, recorded):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"{base}/hooks")
        delivery = services.webhook_send_test(actor=lead, endpoint=endpoint)
        assert webhooks.deliver(str(delivery.pk)) is True
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
    [request] = recorded.requests
    return request


def test_after_a_rotation_old_and_new_secrets_verify_until_the_overlap_ends(lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    url = "https://hooks.example.gov.uk/x"
    endpoint, old = services.webhook_register(actor=lena, url=url, events=["proposal.submitted"])

    new = services.webhook_rotate_secret(actor=lena, endpoint=endpoint)
    during = _deliver_test_event(lena, endpoint, url)
    # The overlap is over (a day later): only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    after = _deliver_test_event(lena, endpoint, url)

    assert new != old and new.startswith("whsec_")
    for secret in (new, old):
        Webhook(secret).verify(during["body"], _headers(during))
    Webhook(new).verify(after["body"], _headers(after))
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after["body"], _headers(after))
    # The old header signs with the current secret.
    legacy = hmac.new(new.encode(), after["body"], hashlib.sha256).hexdigest()
    assert _headers(after)["x-signature-sha256"] == f"sha256={legacy}"


def test_rotating_again_retires_the_oldest_and_retiring_ends_the_overlap(lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    url = "https://hooks.example.gov.uk/x"
    endpoint, first = services.webhook_register(actor=lena, url=url, events=["proposal.submitted"])
    second = services.webhook_rotate_secret(actor=lena, endpoint=endpoint)
    third = services.webhook_rotate_secret(actor=lena, endpoint=endpoint)
    endpoint.refresh_from_db()

    assert webhooks.signing_secrets(endpoint) == [third, second]

    services.webhook_retire_previous_secret(actor=lena, endpoint=endpoint)
    endpoint.refresh_from_db()
    request = _deliver_test_event(lena, endpoint, url)

    assert webhooks.signing_secrets(endpoint) == [third]
    assert len(_headers(request)["webhook-signature"].split(" ")) == 1
    actions = AuditEvent.objects.filter(object_id=str(endpoint.pk)).values_list("action", flat=True)
    assert list(actions.order_by("id")) == [
        "register_webhook",
        "rotate_webhook_secret",
        "rotate_webhook_secret",
        "retire_webhook_secret",
    ]
    # The audit log never holds a secret.
    logged = str(list(AuditEvent.objects.filter(object_id=str(endpoint.pk)).values("changes")))
    assert not any(secret in logged for secret in (first, second, third))


def test_only_the_departments_lead_rotates_and_only_an_active_endpoint(lena, alice, settings):
    endpoint, _ = services.webhook_register(
        actor=lena, url="https://hooks.example.gov.uk/x", events=["proposal.submitted"]
    )

    with pytest.raises(ActionNotAllowed):
        services.webhook_rotate_secret(actor=alice, endpoint=endpoint)
    services.webhook_deactivate(actor=lena, endpoint=endpoint)
    with pytest.raises(ActionNotAllowed):
        services.webhook_rotate_secret(actor=lena, endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""


def test_the_page_shows_the_new_secret_once_and_the_overlap(client, lena):
    endpoint, old = services.webhook_register(
        actor=lena, url="https://hooks.example.gov.uk/x", events=["proposal.submitted"]
    )
    client.force_login(lena)

    response = client.post(f"/account/webhooks/{endpoint.pk}/rotate/", follow=True)
    endpoint.refresh_from_db()
    again = client.get("/account/webhooks/")
    retired = client.post(f"/account/webhooks/{endpoint.pk}/retire-secret/", follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Secret changed" in page and endpoint.secret in page
    assert old not in page
    assert "signed with both the new secret and the old one" in page
    assert "The old secret also signs until" in page
    assert endpoint.secret not in again.content.decode()  # shown once
    assert "Stop using the old secret" in again.content.decode()
    assert "signed with the new secret only" in retired.content.decode()
    assert "The old secret also signs until" not in retired.content.decode()


def test_the_api_rotates_and_reports_the_overlap(lena, alice):
    endpoint, _ = services.webhook_register(
        actor=lena, url="https://hooks.example.gov.uk/x", events=["proposal.submitted"]
    )
    _, key = services.api_token_create(user=lena, name="hooks", scope="write")
    _, alices = services.api_token_create(user=alice, name="mine", scope="write")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")

    json = "application/json"
    rotated = api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", content_type=json)
    listed = api.get("/api/v1/webhooks/")
    retired = api.post(f"/api/v1/webhooks/{endpoint.pk}/retire-previous-secret/", content_type=json)
    refused = Client(HTTP_AUTHORIZATION=f"Token {alices}").post(
        f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", content_type=json
    )

    endpoint.refresh_from_db()
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["secret"] == endpoint.secret
    assert rotated.json()["previous_secret_valid_until"] is not None
    assert "secret" not in listed.json()[0]
    assert listed.json()[0]["previous_secret_valid_until"] is not None
    assert retired.json()["previous_secret_valid_until"] is None
    assert refused.status_code in (403, 404)
