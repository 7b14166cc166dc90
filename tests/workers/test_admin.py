"""Operators see failures in the admin and can send them again."""

from __future__ import annotations

import pytest

from accounts.models import User
from proposals.enums import AttemptOutcome, DeliveryStatus
from proposals.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.workers.helpers import submitted


@pytest.fixture
def operator(dfe):
    return User.objects.create_superuser(
        "ops@dfe.example", "correct horse battery staple", full_name="Olu Operator", department=dfe
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/proposals/notification/?status__exact=failed",
        "/admin/proposals/webhookdelivery/?status__exact=failed",
        "/admin/proposals/report/?status__exact=failed",
    ],
)
def test_operator_lists_failures(client, operator, alice, path):
    submitted(alice)
    client.force_login(operator)

    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_operator_sees_the_error_and_retries_a_failed_notification(client, operator, alice):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.FAILED, attempts=6, last_error="SMTPServerDisconnected: gone"
    )
    client.force_login(operator)

    listing = client.get("/admin/proposals/notification/?status__exact=failed")
    detail = client.get(f"/admin/proposals/notification/{row.pk}/change/")
    client.post(
        "/admin/proposals/notification/",
        {"action": "retry", "_selected_action": [str(row.pk)]},
    )

    assert "Your proposal" in listing.content.decode()
    assert "SMTPServerDisconnected: gone" in detail.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)


@pytest.mark.django_db
def test_operator_sees_every_attempt_of_a_webhook_delivery(client, operator, lena):
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department, url="https://hooks.example/in", secret="s", events=[]
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="webhook.test", payload={})
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, outcome=AttemptOutcome.FAILED, error="Timed out"
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=2, outcome=AttemptOutcome.FAILED, error="Answered 502"
    )
    client.force_login(operator)

    html = client.get(f"/admin/proposals/webhookdelivery/{delivery.pk}/change/").content.decode()

    assert html.index("Timed out") < html.index("Answered 502")
