"""Workers' heartbeats, per queue: written by every worker while it is connected, read by /healthz.

A Celery consumer step (`WorkerHeartbeat`, added to the app in celery.py)
runs each time a worker's consumer connects to the broker, first start and
every reconnect alike. It

- stamps, in the shared cache, the time for each queue the worker consumes,
  then again every WORKER_HEARTBEAT_SECONDS on the worker's own event loop,
  so the stamps stop when the worker dies, hangs or loses the broker;
- asks for a catch-up (`proposals.tasks.catch_up`): after a reconnect the
  broker may have lost its messages (a Redis restart), or refused them while
  it was down, so every outbox row handed over before this connection came
  up is handed over again at once rather than after
  NOTIFICATION_SWEEP_AFTER_SECONDS. Claims are conditional,
  so a message sent twice does its work once.

`worker_status()` is what /healthz reports: "error" when any queue has had no
stamp for WORKER_DEAD_AFTER_SECONDS. A queue never stamped is measured from
when health was first asked (also kept in the cache), so a service just
deployed gets that long for its workers to start.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY = "worker:alive:{queue}"
WATCHED_SINCE_KEY = "worker:watched-since"
CATCH_UP_TASK = "proposals.tasks.catch_up"


def key(queue: str) -> str:
    return KEY.format(queue=queue)


def stamp(queues: list[str]) -> None:
    """Record that a live worker consumes these queues (now). Never raises: a cache
    outage must not stop a worker, it only makes health report it."""
    now = time.time()
    try:
        cache.set_many({key(queue): now for queue in queues}, timeout=_ttl())
    except Exception:
        logger.warning("Could not write the worker heartbeat for %s", ",".join(queues))


def _ttl() -> int:
    return max(settings.WORKER_DEAD_AFTER_SECONDS * 2, 60)


def expected_queues() -> list[str]:
    return [queue for queue in settings.CELERY_WORKER_QUEUES.split(",") if queue]


def worker_status(now: float | None = None) -> str:
    """ "ok" when every queue had a live worker within WORKER_DEAD_AFTER_SECONDS, else "error"."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok"  # tasks run in the calling process: there is no worker to miss
    now = now or time.time()
    try:
        cache.add(WATCHED_SINCE_KEY, now, timeout=None)
        stamps = cache.get_many([WATCHED_SINCE_KEY, *map(key, expected_queues())])
    except Exception:
        return "error"
    if getattr(cache, "degraded", False):
        return "error"  # the shared cache is away (innovation/cache.py): heartbeats unknown
    since = stamps.get(WATCHED_SINCE_KEY, now)
    for queue in expected_queues():
        last = stamps.get(key(queue), since)
        if now - float(last) > settings.WORKER_DEAD_AFTER_SECONDS:
            return "error"
    return "ok"


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Per connection of the consumer: a heartbeat per queue, and one catch-up."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None

    def start(self, parent: Any) -> None:
        queues = sorted(queue.name for queue in parent.task_consumer.queues)
        stamp(queues)
        self.timer_entry = parent.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_SECONDS, stamp, (queues,)
        )
        try:
            parent.app.send_task(CATCH_UP_TASK, kwargs={"connected_at": time.time()}, retry=False)
        except Exception:
            # The connection went again: the next reconnect asks once more.
            logger.warning("Could not ask for a catch-up of the outbox")

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def shutdown(self, parent: Any) -> None:
        self.stop(parent)
