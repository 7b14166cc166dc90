"""The broker carries a task from this process to a separate worker process.

The embedded `filesystem://` broker is what `make run` uses, so these tests
start a real `celery worker` subprocess and send it a real task: no eager
mode, no in-process worker. The same test runs on Redis when it is there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from kombu import Connection

from innovation.tasks import heartbeat
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60


def start_worker(queue: str, **env: str) -> subprocess.Popen[bytes]:
    """A worker consuming only `queue`, so parallel runs never take each other's messages."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "innovation",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
        cwd=BASE_DIR,
        # The same VAR_DIR (from the environment) as this process: the same
        # broker folder and the same file cache.
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> str:
    worker.terminate()  # SIGTERM: Celery's warm shutdown
    try:
        output, _ = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    return output.decode(errors="replace")


def wait_for_cache(key: str, worker: subprocess.Popen[bytes]) -> str | None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value is not None:
            return value
        if worker.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def test_embedded_broker_carries_a_task_to_a_separate_worker(settings):
    if settings.CELERY_BROKER_URL != "filesystem://":
        skip_or_fail("tests the embedded broker: unset CELERY_BROKER_URL")
    queue = f"test-{uuid.uuid4().hex}"
    key = f"test:heartbeat:{uuid.uuid4().hex}"
    worker = start_worker(queue)
    try:
        heartbeat.apply_async(kwargs={"key": key}, queue=queue)

        value = wait_for_cache(key, worker)
    finally:
        output = stop_worker(worker)

    assert value is not None, f"the worker did not run the task:\n{output}"
    assert "innovation.tasks.heartbeat" in output
    assert worker.returncode == 0, output


def test_redis_broker_carries_a_task_to_a_separate_worker(require_redis):
    queue = f"test-{uuid.uuid4().hex}"
    key = f"test:heartbeat:{uuid.uuid4().hex}"
    worker = start_worker(queue, CELERY_BROKER_URL=require_redis)
    try:
        with Connection(require_redis) as connection:
            # `connection` is a real apply_async option that celery-types does not declare.
            heartbeat.apply_async(  # type: ignore[call-arg]
                kwargs={"key": key}, queue=queue, connection=connection
            )

        value = wait_for_cache(key, worker)
    finally:
        output = stop_worker(worker)

    assert value is not None, f"the worker did not run the task:\n{output}"
    assert worker.returncode == 0, output
