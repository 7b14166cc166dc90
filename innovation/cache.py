"""The shared cache on Redis, degrading to a per-process memory cache when Redis is down.

The cache holds what may be lost: API rate-limit counters, the portfolio
page's figures, the workers' heartbeats. When Redis does not answer, every
call goes, for a few seconds, to a memory cache of this process instead of
failing the request (the whole API answered 500 while Redis was down, as the
per-token rate limiter counts in the cache). Rate limits then still apply,
per process rather than shared, which is the safe side: a client gets at
most the limit times the number of web processes for as long as Redis is
away. Each switch is logged once, as is the return to Redis.

Health must not be fooled by the memory cache: `degraded` says it is in use,
and /healthz then reports the workers' heartbeats as unknown ("error").
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# How long calls skip Redis after it failed, so a request during an outage
# waits for Redis at most once every few seconds, not once per call.
RETRY_AFTER_SECONDS = 5.0
# A Redis that accepts connections but does not answer must fail fast too.
DEFAULT_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = dict(params)
        params["OPTIONS"] = DEFAULT_TIMEOUTS | dict(params.get("OPTIONS") or {})
        super().__init__(server, params)
        self._local = LocMemCache(f"fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._down_until

    def _either(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.degraded:
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except (RedisError, OSError) as error:
                with self._lock:
                    first = self._down_until == 0.0
                    self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
                if first:
                    logger.warning(
                        "The Redis cache is unavailable (%s); using a memory cache per "
                        "process (rate limits per process) until it is back",
                        error,
                    )
            else:
                if self._down_until:
                    with self._lock:
                        self._down_until = 0.0
                    logger.warning("The Redis cache is back; shared counters resume")
                return result
        return getattr(self._local, name)(*args, **kwargs)

    # Every public operation goes through `_either`; the rest of BaseCache is
    # built on these.
    def add(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._either("add", *args, **kwargs))

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> None:
        self._either("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._either("touch", *args, **kwargs))

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._either("delete", *args, **kwargs))

    def get_many(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(self._either("get_many", *args, **kwargs))

    def has_key(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._either("has_key", *args, **kwargs))

    def incr(self, *args: Any, **kwargs: Any) -> int:
        return int(self._either("incr", *args, **kwargs))

    def set_many(self, *args: Any, **kwargs: Any) -> list[str]:
        return list(self._either("set_many", *args, **kwargs) or [])

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        self._either("delete_many", *args, **kwargs)

    def clear(self) -> None:
        self._either("clear")

    def get_or_set(self, key: Any, default: Any, timeout: Any = None, version: Any = None) -> Any:
        # BaseCache's version calls get and add, each of which falls back on its own.
        value = self.get(key, version=version)
        if value is None:
            value = default() if callable(default) else default
            self.add(key, value, timeout=timeout, version=version)
        return value
