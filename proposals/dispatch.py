"""Handing work to the workers: a leaf, so that no domain module imports `tasks.py`.

Services write their outbox rows (notifications, webhook deliveries, reports)
in the change's transaction and call `send_on_commit`; the workers call back
into the domain through `tasks.py`. Tasks are addressed by their registered
names, which are also what `CELERY_TASK_ROUTES` routes to queues.

This module also holds what the three outboxes share:

- the one retry policy (`retry_countdown`, `TransientFailure`);
- the one claim rule: a worker that claims a row stamps `heartbeat_at` and
  keeps stamping it while it works (`keep_alive`), so a claim whose heartbeat
  stopped for `CLAIM_EXPIRY_SECONDS` is known to be dead, whatever the task
  time limit;
- the one sweep of rows the broker or a dead worker lost (`requeue_stale`):
  expired claims, rows whose message could not be published (`unpublished`,
  set here when the broker refuses), and rows pending for too long;
- degrading when the broker is down: a publish that fails marks its rows
  `unpublished` and, for a few seconds, no other publish is tried, so a
  request never waits on a dead broker more than once.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import Invitation
from proposals.enums import DeliveryStatus
from proposals.models import Notification, Report, WebhookDelivery

logger = logging.getLogger(__name__)

DELIVER_NOTIFICATION = "proposals.tasks.deliver_notification"
SEND_DIGEST = "proposals.tasks.send_digest"
BUILD_REPORT = "proposals.tasks.build_report"
DELIVER_WEBHOOK = "proposals.tasks.deliver_webhook"
CATCH_UP = "proposals.tasks.catch_up"
SEND_INVITATION = "proposals.tasks.send_invitation"
INDEX_SIMILARITY = "proposals.tasks.index_similarity"

# The outbox row each task works on (and the argument naming it), so that a
# publish that fails can mark the row.
OUTBOX_OF_TASK: dict[str, tuple[type[models.Model], str]] = {
    DELIVER_NOTIFICATION: (Notification, "notification_id"),
    DELIVER_WEBHOOK: (WebhookDelivery, "delivery_id"),
    BUILD_REPORT: (Report, "report_id"),
    SEND_INVITATION: (Invitation, "invitation_id"),
}

# After a publish fails, publishes are skipped (rows marked `unpublished`) for
# this long: a burst of requests during an outage costs one broker timeout, not one each.
BROKER_RETRY_AFTER_SECONDS = 5.0
# One quick retry (a pooled connection that Redis dropped on restart fails once,
# then reconnects), not Celery's default of three.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
_broker_down_until = 0.0

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


def broker_marked_down() -> bool:
    """True while publishes are skipped after a failure (see BROKER_RETRY_AFTER_SECONDS)."""
    return time.monotonic() < _broker_down_until


def _publish(task_name: str, kwargs: dict[str, Any]) -> bool:
    global _broker_down_until
    if broker_marked_down():
        return False
    try:
        current_app.signature(task_name, kwargs=kwargs).apply_async(
            retry_policy=PUBLISH_RETRY_POLICY
        )
    except (OperationalError, OSError):
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
        logger.warning(
            "Could not enqueue %s %s: the broker is unavailable; its outbox row waits "
            "and is sent when the broker is back",
            task_name,
            kwargs,
        )
        return False
    except Exception:
        # Not the broker (an eager task that raised, a bad argument): the row
        # waits for the sweep like any other whose message was not sent.
        logger.exception("Could not enqueue %s %s", task_name, kwargs)
        return False
    return True


def forget_broker_failures() -> None:
    """Publish again at once (the broker is known to be back; tests repointing the app)."""
    global _broker_down_until
    _broker_down_until = 0.0


def send(task_name: str, **kwargs: Any) -> bool:
    """Queue one task by name; False (logged) when the broker refused it.

    A broker outage must never fail a change that has already committed: the
    row it concerns is still in its outbox, marked `unpublished`, and the sweep
    (or a worker reconnecting) hands it over as soon as the broker is back.
    Going through a signature (not `send_task`) keeps `CELERY_TASK_ALWAYS_EAGER`
    working for debugging.
    """
    if _publish(task_name, kwargs):
        return True
    if task_name in OUTBOX_OF_TASK:
        _mark_unpublished(task_name, [kwargs.get(OUTBOX_OF_TASK[task_name][1])])
    return False


def send_each(task_name: str, argument: str, values: Iterable[Any]) -> int:
    """Queue one task per value (as keyword `argument`); returns how many were handed over.

    Stops at the first refusal: the rest are marked `unpublished` at once rather
    than each waiting for a broker that is down.
    """
    pending = list(values)
    handed = 0
    for index, value in enumerate(pending):
        if not _publish(task_name, {argument: value}):
            _mark_unpublished(task_name, pending[index:])
            break
        handed += 1
    return handed


def _mark_unpublished(task_name: str, values: list[Any]) -> None:
    if task_name not in OUTBOX_OF_TASK or not values:
        return
    model = OUTBOX_OF_TASK[task_name][0]
    try:
        model._default_manager.filter(pk__in=values).update(unpublished=True)
    except Exception:
        # The database is down too: the sweep's age rule still finds the rows.
        logger.exception("Could not mark %s row(s) of %s unpublished", len(values), task_name)


def index_similarity_on_commit(proposal_id: Any) -> None:
    """Recompute a proposal's similarity vectors once this change commits.

    Not an outbox: a lost message only delays it until beat's catch-up
    (`similarity_catch_up`), which finds every vector older than its proposal.
    """
    send_on_commit(INDEX_SIMILARITY, "proposal_id", [str(proposal_id)])


def send_on_commit(task_name: str, argument: str, values: Iterable[Any]) -> None:
    """Queue one task per value once the current transaction commits (never if it rolls back).

    Values must serialise to JSON: pass ids as `str` (UUIDs) or `int`.
    """
    pending = list(values)
    if pending:
        transaction.on_commit(lambda: send_each(task_name, argument, pending), robust=True)


# --- claims and their heartbeats ---------------------------------------------------------


def claim_expiry_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Claims whose last heartbeat is older than this belonged to a worker that died."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.CLAIM_EXPIRY_SECONDS)


def beat(model: type[models.Model], pk: Any, **still: Any) -> bool:
    """Stamp the claim's heartbeat; False when the row is no longer claimed as `still` says."""
    return bool(model._default_manager.filter(pk=pk, **still).update(heartbeat_at=timezone.now()))


@contextmanager
def keep_alive(model: type[models.Model], pk: Any, **still: Any) -> Iterator[None]:
    """Keep the row's heartbeat fresh (every CLAIM_HEARTBEAT_SECONDS) while the block runs.

    A thread does it, so a long send or a long query in the block cannot make
    a live claim look dead. Most blocks end before the first beat is due: the
    thread then never touches the database (its connection is opened lazily
    and closed when it ends).
    """
    done = threading.Event()

    def run() -> None:
        try:
            while not done.wait(settings.CLAIM_HEARTBEAT_SECONDS):
                try:
                    if not beat(model, pk, **still):
                        return
                except Exception:
                    logger.warning("Could not stamp the heartbeat of %s %s", model.__name__, pk)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=f"heartbeat-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def requeue_stale(
    model: type[models.Model],
    *,
    older_than_seconds: int,
    limit: int,
    handed_before: dt.datetime | None = None,
    pending: str = DeliveryStatus.PENDING,
    claimed: str = DeliveryStatus.CLAIMED,
    failed: str = DeliveryStatus.FAILED,
    handed_field: str = "claimed_at",
    error_field: str = "last_error",
    status_field: str = "status",
    max_attempts: int | None = None,
    gave_up: str = "Gave up after {attempts} attempts: the last one's worker stopped part-way",
    on_give_up: Callable[[list[Any]], None] | None = None,
) -> list[str]:
    """The ids (as text) of outbox rows to hand to the broker again, oldest first.

    - claimed, and its heartbeat (`heartbeat_at`, or `claimed_at` for a claim
      that never beat) stopped CLAIM_EXPIRY_SECONDS ago: the worker died
      mid-way. The claim is released with a conditional update, so only one
      sweep hands the row over again; a row claimed `max_attempts` times
      (NOTIFICATION_MAX_ATTEMPTS by default) fails instead, with `gave_up`;
    - pending and `unpublished`: its message never reached the broker;
    - pending for `older_than_seconds`: the message was lost (a Redis restart,
      a retry that was never published). `handed_before` replaces that age
      with a moment: after a worker reconnects, every row handed over before
      the connection came up may have been lost with the broker, however
      recently (see `tasks.catch_up`).

    `status_field` names the delivery state's column (an invitation's is
    `email_status`: its `state` is its own life). `handed_field` on a pending
    row is when it was last handed over (a retry,
    or this sweep): stamping it here means a backlog that is merely slow gets
    one extra message per sweep window, not one a minute.
    """
    manager = model._default_manager
    now = timezone.now()
    cutoff = handed_before or now - dt.timedelta(seconds=older_than_seconds)
    attempts_limit = max_attempts or settings.NOTIFICATION_MAX_ATTEMPTS
    expired = manager.annotate(_last_sign=Coalesce("heartbeat_at", handed_field)).filter(
        **{status_field: claimed}, _last_sign__lt=claim_expiry_cutoff(now)
    )
    released: list[Any] = []
    with transaction.atomic():
        rows = list(
            expired.select_for_update(skip_locked=True, of=("self",))
            .order_by()
            .values_list("pk", "attempts")[:limit]
        )
        given_up = [pk for pk, attempts in rows if attempts >= attempts_limit]
        released = [pk for pk, attempts in rows if attempts < attempts_limit]
        for pk, attempts in rows:
            if attempts >= attempts_limit:
                manager.filter(pk=pk, **{status_field: claimed}).update(
                    **{status_field: failed, error_field: gave_up.format(attempts=attempts)}
                )
        if released:
            manager.filter(pk__in=released, **{status_field: claimed}).update(
                **{status_field: pending, "heartbeat_at": None, handed_field: now}
            )
    if given_up and on_give_up is not None:
        on_give_up(given_up)
    if given_up:
        logger.error(
            "%s %s row(s) failed after %s attempts, the last one's worker having died",
            len(given_up),
            model.__name__,
            attempts_limit,
        )
    if released:
        logger.warning("Released %s expired claim(s) on %s", len(released), model.__name__)
    unpublished = list(
        manager.filter(**{status_field: pending}, unpublished=True)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    stale = Q(**{status_field: pending}, created_at__lt=cutoff) & (
        Q(**{f"{handed_field}__isnull": True}) | Q(**{f"{handed_field}__lt": cutoff})
    )
    lost = list(
        manager.filter(stale, unpublished=False)
        .order_by("created_at")
        .values_list("pk", flat=True)[: max(limit - len(released) - len(unpublished), 0)]
    )
    manager.filter(stale, pk__in=lost).update(**{handed_field: now})
    if unpublished:
        # Cleared as they are handed over: `send_each` marks them again if the
        # broker still refuses.
        manager.filter(pk__in=unpublished).update(unpublished=False, **{handed_field: now})
    seen: dict[str, None] = {}
    for pk in [*released, *unpublished, *lost]:
        seen.setdefault(str(pk), None)
    return list(seen)
