"""Celery tasks: thin. Ids in, fetch, hand to a service; safe to run twice.

Each task claims its row with a conditional update inside the service, so a
message delivered twice (acks_late after a killed worker, the sweep, a retry)
does its work once. Transient failures retry with exponential backoff and
jitter; the row records every error, and a terminal `failed` is visible to
operators in the admin.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from django.utils import timezone

from proposals import (
    dispatch,
    notifications,
    opendata,
    portfolio,
    reports,
    services,
    webhooks,
)
from proposals.models import Notification, WebhookDelivery

# Two clocks meet in a catch-up (the worker's, which says when it connected,
# and the ones that stamped the rows): rows handed over up to this long after
# the connection are handed over again. A spare message is harmless (claims are
# conditional); a message the broker lost and nobody resends waits for the sweep.
CATCH_UP_CLOCK_SKEW_SECONDS = 2
# A catch-up run indexes at most this many batches (500 proposals each, about
# 0.5 s), so a million seeded proposals are indexed over a few hours of runs
# without one task holding the similarity worker for long.
SIMILARITY_BATCHES_PER_RUN = 40


@shared_task(bind=True, name="proposals.tasks.deliver_notification", max_retries=None)
def deliver_notification(self: Any, *, notification_id: str) -> bool:
    try:
        return notifications.deliver(notification_id)
    except dispatch.TransientFailure as failure:
        # The row is pending again; if this retry is never published (broker down),
        # the sweep finds the row.
        raise self.retry(countdown=failure.countdown, exc=failure) from failure


@shared_task(bind=True, name="proposals.tasks.send_invitation", max_retries=None)
def send_invitation(self: Any, *, invitation_id: int) -> bool:
    try:
        return notifications.deliver_invitation(invitation_id)
    except dispatch.TransientFailure as failure:
        raise self.retry(countdown=failure.countdown, exc=failure) from failure


@shared_task(name="proposals.tasks.sweep_notifications")
def sweep_notifications() -> int:
    """Beat, every minute: re-enqueue notifications, webhooks and reports left behind."""
    handed = notifications.sweep()
    handed += webhooks.sweep()
    handed += reports.sweep()
    return handed


@shared_task(name="proposals.tasks.catch_up")
def catch_up(*, connected_at: float | None = None) -> int:
    """A worker has just (re)connected to the broker: hand over every waiting outbox row now.

    The broker may have lost every message it held before `connected_at` (a
    Redis restart, a killed worker's prefetched messages) or refused them
    while it was down, however recently they were sent; waiting for the
    sweep's age limit (NOTIFICATION_SWEEP_AFTER_SECONDS) would leave them for
    minutes. So every pending row handed over before the connection came up is
    handed over again. Claims are conditional, so a row whose first message
    still arrives is sent once.
    """
    moment = timezone.now() if connected_at is None else _from_epoch(connected_at)
    before = moment + dt.timedelta(seconds=CATCH_UP_CLOCK_SKEW_SECONDS)
    handed = notifications.enqueue(
        dispatch.requeue_stale(
            Notification, older_than_seconds=0, handed_before=before, limit=20_000
        )
    )
    handed += webhooks.enqueue(
        dispatch.requeue_stale(
            WebhookDelivery, older_than_seconds=0, handed_before=before, limit=5000
        )
    )
    handed += reports.sweep(handed_before=before)
    handed += notifications.requeue_invitations(older_than_seconds=0, handed_before=before)
    return handed


def _from_epoch(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@shared_task(name="proposals.tasks.send_daily_digests")
def send_daily_digests() -> int:
    """Beat, daily: one digest task per person with rows waiting."""
    users = notifications.digest_recipients()
    for user_id in users:
        send_digest.delay(user_id=user_id)
    return len(users)


@shared_task(bind=True, name="proposals.tasks.send_digest", max_retries=None)
def send_digest(self: Any, *, user_id: int) -> int:
    try:
        return notifications.deliver_digest(user_id)
    except dispatch.TransientFailure as failure:
        raise self.retry(countdown=failure.countdown, exc=failure) from failure


@shared_task(name="proposals.tasks.send_experiment_reminders")
def send_experiment_reminders() -> int:
    """Beat, daily: experiments ending in 7 days and overdue outcomes."""
    return notifications.remind_experiments()


@shared_task(name="proposals.tasks.send_benefit_and_evaluation_reminders")
def send_benefit_and_evaluation_reminders() -> int:
    """Beat, daily: benefit reviews due, evaluation reports due in 2 weeks or overdue."""
    return notifications.remind_benefits_and_evaluations()


@shared_task(name="proposals.tasks.refresh_portfolio")
def refresh_portfolio() -> int:
    """Beat, every PORTFOLIO_REFRESH_SECONDS: recompute every scope's portfolio snapshot."""
    return portfolio.refresh()


@shared_task(name="proposals.tasks.send_portfolio_summaries")
def send_portfolio_summaries() -> int:
    """Beat, weekly: each department's leads get their portfolio summary."""
    return portfolio.send_weekly_summaries()


@shared_task(name="proposals.tasks.build_report")
def build_report(*, report_id: str) -> bool:
    return reports.build(report_id)


@shared_task(name="proposals.tasks.expire_reports")
def expire_reports() -> int:
    """Beat, hourly: remove report files past their expiry."""
    return reports.expire()


@shared_task(name="proposals.tasks.compact_change_log")
def compact_change_log() -> int:
    """Beat, nightly: drop the change feed's log rows past their retention."""
    return services.change_log_compact()


@shared_task(name="proposals.tasks.index_similarity")
def index_similarity(*, proposal_id: str) -> int:
    """A proposal (or its lesson) changed: recompute its vectors; returns how many."""
    return services.similarity_index(proposal_ids=[proposal_id])


@shared_task(name="proposals.tasks.catch_up_similarity")
def catch_up_similarity() -> int:
    """Beat, every minute: vectors a lost message or a bulk load left behind."""
    return services.similarity_catch_up(batches=SIMILARITY_BATCHES_PER_RUN)


@shared_task(name="proposals.tasks.build_open_data")
def build_open_data() -> int:
    """Beat, hourly: rebuild the open dataset of published lessons; returns its rows."""
    return int(opendata.build()["rows"])


@shared_task(bind=True, name="proposals.tasks.deliver_webhook", max_retries=None)
def deliver_webhook(self: Any, *, delivery_id: str) -> bool:
    try:
        return webhooks.deliver(delivery_id)
    except dispatch.TransientFailure as failure:
        raise self.retry(countdown=failure.countdown, exc=failure) from failure
