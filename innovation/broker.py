"""The Redis broker transport, with a guard against kombu 5.7.0's fatal reconnect race,
and a worker consumer that reconnects within seconds of the broker's return.

When Redis restarts, Celery's consumer releases the lost connection
(`Consumer.on_connection_error_after_connected` → `Connection.release` →
`maybe_close_channel`); closing the default channel restores the messages it
held unacknowledged, which builds a new connection pool from
`self.connection.client.hostname` — and sometimes the transport has already
let go of its client. That raises `AttributeError: 'NoneType' object has no
attribute 'hostname'`, which is not one of the transport's connection errors,
so it escapes `ignore_errors`, Celery reports "Unrecoverable error" and the
worker exits (one Redis restart in twenty or so, with messages flowing).
kombu 5.7.0 is the newest release on PyPI (checked December 2026), so there
is no fixed version to upgrade to.

The guard turns that case into a redis `ConnectionError`, which *is* a
connection error: the consumer drops the stale channel and reconnects, as it
does for every other failure of a Redis restart. `CELERY_BROKER_TRANSPORT`
names this class when the broker is Redis (settings.py).
tests/test_broker_guard.py recreates the race's state (it fails without the
guard); tests/test_broker_restarts.py restarts a real worker's own Redis
twenty times with messages flowing.
"""

from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        connection = getattr(self, "connection", None)
        if connection is None or connection.client is None:
            raise RedisConnectionError(
                "This channel's connection was closed (the broker restarted); reconnecting"
            )
        # kombu is untyped here: its Channel has no stubs.
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc,no-any-return]


class Transport(kombu_redis.Transport):
    Channel = Channel


# How long a worker waits between attempts to reach a broker that went away:
# 1 s, 2 s, then every 3 s, for as long as it takes (kombu's defaults grow to
# 30 s, so a worker could notice a returned Redis half a minute late, and
# give up after 100 attempts). The attempt is one TCP connect: cheap for Redis.
RECONNECT_INTERVALS = {"interval_start": 1, "interval_step": 1, "interval_max": 3}


class Consumer(CeleryConsumer):
    """Celery's consumer, reconnecting to the broker within seconds of its return."""

    def ensure_connected(self, conn: Any) -> Any:
        reconnect = conn.ensure_connection

        def quickly(*args: Any, **kwargs: Any) -> Any:
            return reconnect(*args, **(RECONNECT_INTERVALS | kwargs))

        # Celery calls conn.ensure_connection with kombu's default intervals;
        # this connection object is the consumer's own, so replacing the bound
        # method here changes nothing else.
        conn.ensure_connection = quickly
        return super().ensure_connected(conn)
