"""Celery tasks: thin. Ids in, fetch, hand to a service; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from proposals import notifications


@shared_task(name="proposals.tasks.deliver_notification")
def deliver_notification(*, notification_id: str) -> bool:
    return notifications.deliver(notification_id)


@shared_task(name="proposals.tasks.deliver_webhook")
def deliver_webhook(*, delivery_id: str) -> bool:
    """Signed POST of one event; the workers' issue (#6) fills in delivery."""
    from proposals.models import WebhookDelivery

    return WebhookDelivery.objects.filter(pk=delivery_id).exists()
