"""/healthz: 200 with {"database": "ok", "broker": "ok", "worker": "ok"} when healthy,
503 naming what is down. A down service is a real one pointed at a closed port, in a
separate process so this process's connections are untouched. The workers'
heartbeats are written by `innovation.heartbeats.stamp`, as every worker does
(tests/workers/test_worker_health.py proves it with real worker processes)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from innovation import heartbeats

BASE_DIR = Path(__file__).resolve().parent.parent

# Asks /healthz through Django's test client in a fresh process with its own settings.
PROBE = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


def closed_port() -> int:
    """A local port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe(**env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "innovation.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def fresh_cache():
    """A service just deployed: no heartbeat and no watch yet."""
    cache.delete_many(
        [heartbeats.WATCHED_SINCE_KEY, *map(heartbeats.key, heartbeats.expected_queues())]
    )


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_broker_and_workers_are_up(client, fresh_cache):
    heartbeats.stamp(heartbeats.expected_queues())

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "worker": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_a_queue_has_had_no_live_worker(client, fresh_cache, settings):
    settings.WORKER_DEAD_AFTER_SECONDS = 2
    heartbeats.stamp(heartbeats.expected_queues())
    before = client.get("/healthz")
    time.sleep(1.2)
    # The notifications and webhooks workers still beat; the reports one has died.
    heartbeats.stamp(["notifications", "webhooks"])
    time.sleep(1.2)

    after = client.get("/healthz")

    assert before.status_code == 200
    assert after.status_code == 503
    assert after.json() == {"database": "ok", "broker": "ok", "worker": "error"}


def test_a_queue_never_seen_counts_from_when_health_was_first_asked(fresh_cache, settings):
    settings.WORKER_DEAD_AFTER_SECONDS = 120
    first = time.time()

    assert heartbeats.worker_status(now=first) == "ok"  # just deployed: workers starting
    assert heartbeats.worker_status(now=first + 119) == "ok"
    assert heartbeats.worker_status(now=first + 121) == "error"


def test_healthz_answers_503_quickly_when_the_broker_is_down(tmp_path):
    # The probe's own SQLite database, so only the broker is down whatever
    # DATABASE_URL this run uses; its own VAR_DIR, so its own (fresh) cache.
    answer = probe(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        VAR_DIR=str(tmp_path),
    )

    assert answer["status"] == 503
    assert answer["body"] == {"database": "ok", "broker": "error", "worker": "ok"}
    # The probe itself, not the process start-up, must be quick.
    assert answer["seconds"] < 3, answer


def test_healthz_answers_503_when_the_database_is_down(tmp_path):
    url = f"postgres://postgres@127.0.0.1:{closed_port()}/innovation"

    answer = probe(DATABASE_URL=url, VAR_DIR=str(tmp_path))

    assert answer["status"] == 503
    assert answer["body"] == {"database": "error", "broker": "ok", "worker": "ok"}


def test_healthz_reports_the_workers_unknown_when_the_redis_cache_is_down(tmp_path):
    # The cache falls back to memory (innovation/cache.py); the heartbeats are
    # in Redis, so health cannot vouch for the workers.
    answer = probe(
        CACHE_URL=f"redis://127.0.0.1:{closed_port()}/1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        VAR_DIR=str(tmp_path),
    )

    assert answer["status"] == 503
    assert answer["body"] == {"database": "ok", "broker": "ok", "worker": "error"}
