"""Degrade, don't fail (issue 14, part 3): with the Redis cache down the API and the
pages keep answering; the per-token rate limit falls back to a memory cache per
process (still limiting, and saying so in the log) instead of a 500.

"Down" is a real Redis client pointed at a port where nothing listens."""

from __future__ import annotations

import logging
import shutil
import socket
import time

import pytest
import redis
from django.core.cache import cache

from innovation import cache as fallback_cache
from tests.conftest import skip_or_fail
from tests.workers.realworker import OwnRedis


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_cache_down(settings):
    url = f"redis://127.0.0.1:{closed_port()}/1"
    settings.CACHES = {
        "default": {"BACKEND": "innovation.cache.FallbackRedisCache", "LOCATION": url}
    }
    yield url


@pytest.fixture
def plain_redis_cache_down(settings):
    url = f"redis://127.0.0.1:{closed_port()}/1"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }


@pytest.mark.django_db
def test_without_the_fallback_a_redis_outage_fails_every_api_request(
    client_for, alice, plain_redis_cache_down
):
    # What the issue found: the rate limiter's counters live in the cache.
    client = client_for(alice)

    response = client.get("/api/v1/themes/")

    assert response.status_code == 500


@pytest.mark.django_db
def test_the_api_answers_200_while_the_redis_cache_is_down(
    client_for, alice, redis_cache_down, caplog
):
    client = client_for(alice)

    with caplog.at_level(logging.WARNING, logger="innovation.cache"):
        responses = [client.get("/api/v1/themes/") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert cache.degraded  # type: ignore[attr-defined]
    warnings = [r.getMessage() for r in caplog.records if r.name == "innovation.cache"]
    assert len(warnings) == 1, warnings  # said once, not per request
    assert "The Redis cache is unavailable" in warnings[0]


@pytest.mark.django_db
def test_the_rate_limit_still_applies_while_the_redis_cache_is_down(
    client_for, alice, redis_cache_down, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
    client = client_for(alice)

    codes = [client.get("/api/v1/themes/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_pages_keep_serving_while_the_redis_cache_is_down(client, lena, redis_cache_down, settings):
    settings.PORTFOLIO_CACHE_SECONDS = 60  # the portfolio page caches its figures
    client.force_login(lena)

    assert client.get("/proposals/").status_code == 200
    assert client.get("/portfolio/").status_code == 200


def test_the_same_cache_uses_redis_again_when_it_returns(settings, monkeypatch, tmp_path):
    if shutil.which("redis-server") is None:
        skip_or_fail("needs redis-server on the PATH, to stop and start a Redis of its own")
    monkeypatch.setattr(fallback_cache, "RETRY_AFTER_SECONDS", 0.3)
    own = OwnRedis(tmp_path)
    own.start()
    try:
        settings.CACHES = {
            "default": {"BACKEND": "innovation.cache.FallbackRedisCache", "LOCATION": own.url}
        }
        cache.set("before", "in redis")
        own.stop()
        cache.set("during", "in memory")
        during = (cache.get("during"), cache.degraded)  # type: ignore[attr-defined]
        own.start()
        time.sleep(0.4)  # past RETRY_AFTER_SECONDS: the next call tries Redis again
        cache.set("after", "in redis again")
        after = redis.Redis.from_url(own.url).keys("*after*")
    finally:
        own.stop()

    assert during == ("in memory", True)
    assert not cache.degraded  # type: ignore[attr-defined]
    assert len(after) == 1
