"""Tasks that belong to the service as a whole rather than to the domain."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "celery:heartbeat"
# Long enough to survive a few missed beats, short enough that a stale value
# means the workers have stopped.
HEARTBEAT_TIMEOUT = 60 * 10


@shared_task(name="innovation.tasks.heartbeat")
def heartbeat(*, key: str = HEARTBEAT_KEY) -> str:
    """Write the current time into the shared cache, proving a worker is consuming.

    Beat sends it every minute; tests send it to prove a message crosses from one
    process to a separate worker. Safe to run any number of times.
    """
    now = timezone.now().isoformat()
    cache.set(key, now, timeout=HEARTBEAT_TIMEOUT)
    return now
