"""Notifications: the outbox rows written with each change, and their delivery.

Rows are written inside the service's transaction; delivery is queued with
`transaction.on_commit`, so a rolled-back change notifies no one and a
committed one is never forgotten (the sweep re-enqueues what the broker lost).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from proposals.enums import DeliveryStatus, NotificationKind
from proposals.models import Notification

if TYPE_CHECKING:
    from accounts.models import User
    from proposals.models import Proposal

logger = logging.getLogger(__name__)


def notify(
    *,
    recipients: Iterable[User],
    kind: NotificationKind,
    subject: str,
    body: str,
    proposal: Proposal | None = None,
    exclude: User | None = None,
) -> list[Notification]:
    """Write one outbox row per recipient (deduplicated) and queue their delivery on commit."""
    seen: set[int] = set()
    rows = []
    path = proposal.get_absolute_url() if proposal is not None else ""
    for user in recipients:
        if user.pk in seen or (exclude is not None and user.pk == exclude.pk) or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                proposal=proposal,
                subject=subject,
                body=body,
                url=path,
            )
        )
    created = Notification.objects.bulk_create(rows)
    ids = [str(row.pk) for row in created]
    if ids:
        transaction.on_commit(lambda: enqueue(ids), robust=True)
    return created


def enqueue(notification_ids: Iterable[str]) -> None:
    """Hand rows to the workers. A broker that is down loses nothing: the sweep retries."""
    from proposals.tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.delay(notification_id=notification_id)
        except Exception:  # the broker's failure must not fail a committed change
            logger.warning("Could not enqueue notification %s; the sweep will", notification_id)


def deliver(notification_id: str) -> bool:
    """Claim the row with a conditional update, send it, mark it sent.

    Returns False when there was nothing to do (already sent, or another worker
    holds the claim), so a redelivered message never sends twice.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CLAIMED, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL
    message = EmailMessage(
        subject=notification.subject,
        body=f"{notification.body}\n\n{link}\n",
        to=[notification.recipient.email],
        headers={
            # The idempotency key: a duplicate after a crash mid-send is recognisable.
            "Message-ID": f"<{notification.pk}@{settings.SITE_URL.split('//')[-1]}>",
            "X-Notification-Id": str(notification.pk),
        },
    )
    message.send()
    Notification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    return True
