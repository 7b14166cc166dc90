"""Webhook deliveries: rows are written by services.emit_webhook with the change;
this module hands them to the workers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


def enqueue(delivery_ids: Iterable[str]) -> None:
    """Queue each delivery on the webhooks queue; a lost message is picked up by the sweep."""
    from proposals.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id=delivery_id)
        except Exception:  # the broker's failure must not fail a committed change
            logger.warning("Could not enqueue webhook delivery %s; the sweep will", delivery_id)
