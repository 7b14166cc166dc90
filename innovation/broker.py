"""The Redis broker transport, with a guard against kombu 5.7.0's fatal reconnect race.

When Redis restarts, kombu closes the old connection (which clears its
transport's `client`) while a timer or poll callback of one of that
connection's channels may still run and lazily build a connection pool from
`self.connection.client.hostname`. That raises `AttributeError: 'NoneType'
object has no attribute 'hostname'`, which is not one of the transport's
connection errors, so Celery reports "Unrecoverable error" and the worker
exits (about one Redis restart in twenty). kombu 5.7.0 is the newest release
on PyPI (December 2026), so there is no fixed version to upgrade to.

The guard turns that case into a redis `ConnectionError`, which *is* a
connection error: the consumer drops the stale channel and reconnects, as it
does for every other failure of a Redis restart. `CELERY_BROKER_TRANSPORT`
names this class when the broker is Redis (settings.py);
tests/test_broker_restarts.py restarts a worker's own Redis twenty times.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        connection = getattr(self, "connection", None)
        if connection is None or connection.client is None:
            raise RedisConnectionError(
                "This channel's connection was closed (the broker restarted); reconnecting"
            )
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[no-any-return]


class Transport(kombu_redis.Transport):
    Channel = Channel
