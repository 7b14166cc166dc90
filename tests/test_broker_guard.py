"""The guard of innovation/broker.py, at the exact moment of kombu 5.7.0's race.

When Redis restarts, the consumer closes its broker connection (which clears the
transport's `client`) and then closes the channels it had opened; closing a
channel that holds unacknowledged messages restores them, building a connection
pool from `connection.client.hostname`. Unguarded, that is an AttributeError,
which Celery treats as "Unrecoverable" (the worker exits); guarded, it is a
connection error, which the consumer ignores while closing and recovers from.
tests/test_broker_restarts.py restarts a real worker's Redis twenty times."""

from __future__ import annotations

import uuid

import pytest
import redis
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix(require_redis):
    prefix = f"guard-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def test_releasing_a_connection_whose_transport_let_go_is_a_connection_error(prefix):
    connection = Connection(
        REDIS_URL,
        transport="innovation.broker:Transport",
        transport_options={"global_keyprefix": prefix},
    )
    channel = connection.default_channel
    queue = Queue("guard", Exchange("guard"), "guard", channel=channel)
    queue.declare()
    connection.Producer(channel).publish(
        {"n": 1}, exchange=queue.exchange, routing_key="guard", declare=[queue]
    )
    message = queue.get(no_ack=False)  # held, unacknowledged, as a worker holds its task
    assert message is not None

    # The state the race leaves (see the traceback in innovation/broker.py): the
    # transport has let go of its client while the default channel still holds
    # the message. Then Celery's consumer does what it does on a lost connection
    # (Consumer.on_connection_error_after_connected):
    connection._do_close_transport()
    ignore_errors(connection, connection.release)

    # Reaching here is the point: unguarded, an AttributeError escapes
    # ignore_errors and the worker stops with "Unrecoverable error".
    transport = getattr(channel, "connection", None)
    assert transport is None or transport.client is None
