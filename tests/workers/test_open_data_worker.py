"""The open dataset rebuilt as beat has it done: the task sent by name, routed to the
reports queue, run by a real Celery worker process (real Redis, real PostgreSQL), the
file it writes served at /data/lessons.csv."""

from __future__ import annotations

import uuid

import pytest
import redis

from innovation.celery import app
from proposals import opendata
from tests.conftest import REDIS_URL
from tests.proposals import review_world as rw
from tests.workers.realworker import Worker, app_broker, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_a_worker_builds_the_open_dataset_beat_asks_for(
    require_postgres, require_redis, settings, tmp_path, client, alice, rita, lena
):
    settings.MEDIA_ROOT = tmp_path / "media"
    outcome = rw.with_outcome(rw.planned(rw.approved(alice, rita, lena), lena), lena)
    prefix = f"opendata-{uuid.uuid4().hex[:10]}:"
    (tmp_path / "emails").mkdir()
    (tmp_path / "logs").mkdir()
    worker = Worker(
        broker_url=REDIS_URL,
        prefix=prefix,
        email_dir=tmp_path / "emails",
        log_dir=tmp_path / "logs",
    )
    task = settings.CELERY_BEAT_SCHEDULE["build-open-data"]["task"]
    try:
        with app_broker(REDIS_URL, prefix):
            worker.start()
            # As beat sends it: by name, with the routes of the settings.
            app.send_task(task)
            wait_for(lambda: opendata.current() is not None, timeout=60, what="the dataset")
    finally:
        worker.stop()
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(match=f"{prefix}*"):
            connection.delete(key)
    manifest = opendata.current()
    assert manifest is not None and manifest["rows"] == 1
    response = client.get("/data/lessons.csv")
    text = b"".join(response.streaming_content).decode()
    assert outcome.experiment.proposal.reference in text
