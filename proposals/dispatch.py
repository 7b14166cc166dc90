"""Handing work to the workers: a leaf, so that no domain module imports `tasks.py`.

Services write their outbox rows (notifications, webhook deliveries, reports)
in the change's transaction and call `send_on_commit`; the workers call back
into the domain through `tasks.py`. Tasks are addressed by their registered
names, which are also what `CELERY_TASK_ROUTES` routes to queues.

This module also holds what the three outboxes share: the one retry policy
(`retry_countdown`, `TransientFailure`) and the one sweep of rows the broker
or a dead worker lost (`requeue_stale`).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from proposals.enums import DeliveryStatus

logger = logging.getLogger(__name__)

DELIVER_NOTIFICATION = "proposals.tasks.deliver_notification"
SEND_DIGEST = "proposals.tasks.send_digest"
BUILD_REPORT = "proposals.tasks.build_report"
DELIVER_WEBHOOK = "proposals.tasks.deliver_webhook"

# Retry delays: 10 s, 20 s, 40 s… capped, with jitter so that a burst of failures
# (SMTP down for everyone) does not come back as a synchronised burst of retries.
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 240


def retry_countdown(attempts: int) -> float:
    """Exponential backoff with jitter: half the step fixed, half random."""
    step = float(min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not security


class TransientFailure(Exception):
    """Work failed in a way that may succeed later (server down, timeout).

    The row has been released back to pending; the task retries after `countdown`.
    """

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts

    @property
    def countdown(self) -> float:
        return retry_countdown(self.attempts)


def send(task_name: str, **kwargs: Any) -> bool:
    """Queue one task by name; False (logged) when the broker refused it.

    A broker outage must never fail a change that has already committed: the
    row it concerns is still in its outbox, and the sweep hands it over later.
    Going through a signature (not `send_task`) keeps `CELERY_TASK_ALWAYS_EAGER`
    working for debugging.
    """
    try:
        current_app.signature(task_name, kwargs=kwargs).apply_async()
    except Exception:
        logger.warning("Could not enqueue %s %s; the sweep will", task_name, kwargs)
        return False
    return True


def send_each(task_name: str, argument: str, values: Iterable[Any]) -> int:
    """Queue one task per value (as keyword `argument`); returns how many were handed over."""
    return sum(send(task_name, **{argument: value}) for value in values)


def send_on_commit(task_name: str, argument: str, values: Iterable[Any]) -> None:
    """Queue one task per value once the current transaction commits (never if it rolls back).

    Values must serialise to JSON: pass ids as `str` (UUIDs) or `int`.
    """
    pending = list(values)
    if pending:
        transaction.on_commit(lambda: send_each(task_name, argument, pending), robust=True)


def requeue_stale(model: type[models.Model], *, older_than_seconds: int, limit: int) -> list[str]:
    """The ids (as text) of outbox rows (`status`, `claimed_at`, `created_at`) that were lost.

    - claimed and never finished for too long: the worker died mid-way. The
      claim is released with a conditional update first, so that only one
      sweep hands the row over again;
    - pending for too long: the message was lost (broker down at commit, a
      retry that was never published).

    `claimed_at` on a pending row is when it was last handed over (a retry, or
    this sweep): stamping it here means a backlog that is merely slow gets one
    extra message per sweep window, not one a minute.
    """
    manager = model._default_manager
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    manager.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff).update(
        status=DeliveryStatus.PENDING
    )
    stale = Q(status=DeliveryStatus.PENDING, created_at__lt=cutoff) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff)
    )
    ids = list(manager.filter(stale).order_by("created_at").values_list("pk", flat=True)[:limit])
    manager.filter(stale, pk__in=ids).update(claimed_at=timezone.now())
    return [str(pk) for pk in ids]
