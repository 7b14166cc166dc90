"""A small version of each scenario of `make chaos` (chaos/scenarios.py), as real
processes: a Celery worker and beat against a Redis server of the test's own (on
a free port: it is stopped, restarted and its worker SIGKILLed) and the test's
PostgreSQL database. Timings are shortened (claims expire after 3 s, the sweep
runs every second); the full run keeps the production defaults."""

from __future__ import annotations

import shutil

import pytest

from chaos import scenarios
from chaos.harness import OwnRedis, beat, process_env, worker
from innovation.celery import app
from proposals import dispatch
from proposals.models import Proposal
from tests.conftest import skip_or_fail
from tests.factories import ProposalFactory
from tests.workers.realworker import app_broker, current_database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def day(require_postgres, settings, tmp_path):
    if shutil.which("redis-server") is None:
        skip_or_fail("needs redis-server on the PATH, to stop and start a Redis of its own")
    redis = OwnRedis(tmp_path)
    redis.start()
    env = process_env(database_url=current_database_url(), redis=redis, workdir=tmp_path, fast=True)
    # This process (where the services run) uses the same Redis, as web does.
    settings.CACHES = {
        "default": {"BACKEND": "innovation.cache.FallbackRedisCache", "LOCATION": redis.cache_url}
    }
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.MEDIA_ROOT = tmp_path / "media"
    processes = [worker(env, tmp_path / "logs"), beat(env, tmp_path / "logs")]
    dispatch.forget_broker_failures()
    with app_broker(redis.url, ""):
        app.conf.broker_transport = "innovation.broker:Transport"
        for process in processes:
            process.start()
        try:
            yield scenarios.Day(
                redis=redis, worker=processes[0], beat=processes[1], email_dir=tmp_path / "emails"
            )
        finally:
            app.conf.broker_transport = None
            for process in processes:
                process.stop()
            redis.stop()
            dispatch.forget_broker_failures()


def logs_of(day: scenarios.Day) -> str:
    return day.worker.logs()[-4000:]


def test_notifications_survive_worker_kills_and_a_redis_restart(day, alice):
    result = scenarios.notifications_under_kills(
        day, department_id=alice.department_id, count=150, kills=2, timeout=120
    )

    assert (result.lost, result.stuck) == (0, 0), (result, logs_of(day))
    assert result.duplicates <= 2
    assert result.drain_seconds is not None and result.drain_seconds < 60


def test_submissions_with_redis_down_lose_nothing_and_drain_at_once(day, alice, rita):
    result = scenarios.submissions_with_redis_down(
        day, author=alice, count=20, outage=5, timeout=60
    )

    assert (result.lost, result.stuck, result.duplicates) == (0, 0, 0), (result, logs_of(day))
    assert result.created >= 10  # ten committed, each telling at least its author
    assert "API while Redis was down: " in result.notes[-1]
    # Well under NOTIFICATION_SWEEP_AFTER_SECONDS (300): the catch-up on reconnect.
    assert result.drain_seconds is not None and result.drain_seconds < 60


def test_a_report_build_killed_midway_is_built_again_once(day, alice, ana):
    Proposal.objects.bulk_create(ProposalFactory.build(submitter=alice) for _ in range(400))

    result = scenarios.report_killed_midway(day, requester=ana, timeout=60)

    assert result.ok, (result, logs_of(day))
    assert "built in 2 attempt(s), 400 rows" in result.notes[0]


def test_webhooks_wait_for_a_receiver_that_was_down(day, lena):
    result = scenarios.webhooks_receiver_down(day, lead=lena, count=10, down_for=3, timeout=60)

    assert (result.lost, result.stuck, result.duplicates) == (0, 0, 0), (result, logs_of(day))
    assert result.drain_seconds is not None and result.drain_seconds < 45
