"""A real worker survives its Redis restarting, again and again (issue 14, part 2),
and /healthz tells the truth about it: "worker": "error" (503) once every worker
is gone for WORKER_DEAD_AFTER_SECONDS, "ok" again when one is back.

kombu 5.7.0 (the newest release) can die on a Redis restart with
`AttributeError: 'NoneType' object has no attribute 'hostname'` ("Unrecoverable
error", about one restart in twenty); innovation/broker.py turns that into a
connection error the worker recovers from. The Redis here is the test's own, on a
free port: never the shared one."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis as redis_client
from celery import Celery

from chaos.harness import BASE_DIR, OwnRedis, process_env, wait_for, worker
from innovation.celery import app
from tests.conftest import skip_or_fail
from tests.workers.realworker import current_database_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESTARTS = 20

PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


@pytest.fixture
def own_redis(require_postgres, tmp_path):
    if shutil.which("redis-server") is None:
        skip_or_fail("needs redis-server on the PATH, to stop and start a Redis of its own")
    redis = OwnRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def heartbeat_arrives(redis: OwnRedis, env: dict[str, str], timeout: float = 60) -> bool:
    """Publish innovation.tasks.heartbeat to the worker and wait for it to write the cache."""
    key = f"restart-{uuid.uuid4().hex[:8]}"
    with app.connection_for_write(redis.url) as connection:
        app.send_task(
            "innovation.tasks.heartbeat",
            kwargs={"key": key},
            queue="notifications",
            connection=connection,
        )
    cache = redis_client.Redis.from_url(redis.cache_url)
    return wait_for(lambda: any(cache.scan_iter(match=f"*{key}*")), timeout=timeout, every=0.2)


def test_a_worker_survives_twenty_restarts_of_its_redis(own_redis, tmp_path):
    """With messages flowing and Redis down for a random moment each time: the
    conditions under which unguarded kombu 5.7.0 died (here, after 17 restarts)
    while closing the old channel (restore_unacked builds a pool from a closed
    connection)."""
    env = process_env(database_url=current_database_url(), redis=own_redis, workdir=tmp_path)
    # Several pool processes, each holding an unacknowledged message when Redis goes.
    celery = worker(env, tmp_path / "logs", concurrency=4).start()
    # A second app, never the current one: shared tasks of later tests must not bind to it.
    publisher = Celery(broker=own_redis.url, set_as_current=False)
    flowing = threading.Event()
    flowing.set()

    def publish() -> None:
        while flowing.is_set():
            try:
                publisher.send_task(
                    "innovation.tasks.heartbeat",
                    kwargs={"key": "flowing"},
                    queue="notifications",
                    retry=False,
                )
            except Exception:
                time.sleep(0.1)  # Redis is down this moment
            time.sleep(0.005)

    thread = threading.Thread(target=publish, daemon=True)
    rng = random.Random(14)  # the same downtimes every run
    try:
        assert heartbeat_arrives(own_redis, env), celery.logs()[-3000:]
        thread.start()
        survived = 0
        for _ in range(RESTARTS):
            own_redis.stop()
            time.sleep(rng.uniform(0, 1.5))
            own_redis.start()
            time.sleep(rng.uniform(0.2, 2))
            if not celery.alive():
                break
            survived += 1
        flowing.clear()
        thread.join(5)
        # Still consuming after the last restart, not merely alive.
        consuming = celery.alive() and heartbeat_arrives(own_redis, env, timeout=90)
    finally:
        flowing.clear()
        publisher.close()
        logs = celery.logs()
        celery.stop()

    assert survived == RESTARTS, logs[-4000:]
    assert consuming, logs[-4000:]
    assert "Unrecoverable error" not in logs


def probe(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_says_error_when_every_worker_is_gone_and_ok_when_one_is_back(own_redis, tmp_path):
    env = process_env(
        database_url=current_database_url(),
        redis=own_redis,
        workdir=tmp_path,
        extra={"WORKER_HEARTBEAT_SECONDS": "1", "WORKER_DEAD_AFTER_SECONDS": "4"},
    )
    celery = worker(env, tmp_path / "logs", concurrency=1).start()
    try:
        up = wait_for(lambda: probe(env)["status"] == 200, timeout=60, every=1)
        celery.kill()
        killed_at = time.monotonic()
        wait_for(lambda: probe(env)["status"] == 503, timeout=30, every=0.5)
        down = probe(env)
        noticed_after = time.monotonic() - killed_at
        celery.start()
        back = wait_for(lambda: probe(env)["status"] == 200, timeout=60, every=1)
        after = probe(env)
    finally:
        celery.stop()

    assert up
    assert down == {
        "status": 503,
        "body": {"database": "ok", "broker": "ok", "worker": "error"},
    }
    assert noticed_after < 4 + 5  # WORKER_DEAD_AFTER_SECONDS, plus a beat and the probe
    assert back
    assert after["body"] == {"database": "ok", "broker": "ok", "worker": "ok"}
