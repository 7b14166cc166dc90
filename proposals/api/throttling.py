"""Rate limits per token (SPEC §6): 429 with `Retry-After`, and on every
answer the throttle counted, `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the oldest counted request leaves the window),
so a client can slow down before it is refused.

The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]`, set from the
`API_RATE_LIMIT` environment variable (e.g. `600/minute`). The counters live in
the shared cache, so every web process counts against the same limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str | None:
        # Read at request time (DRF binds the rates at import), so a changed
        # setting takes effect without a restart of the test process.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def allow_request(self, request: Any, view: Any) -> bool:
        allowed = super().allow_request(request, view)
        if self.rate is not None and self.key is not None:
            limit, duration = self.parse_rate(self.rate)
            history = self.history
            reset = duration - (self.now - history[-1]) if history else duration
            # On the Django request, where RateLimitHeadersMiddleware finds it.
            request._request.rate_limit = (
                limit,
                max(0, (limit or 0) - len(history)),
                max(0, math.ceil(reset or 0)),
            )
        return allowed

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RateLimitHeadersMiddleware:
    """Adds the RateLimit-* headers to an API answer whose request the throttle counted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        counted = getattr(request, "rate_limit", None)
        if counted is not None:
            limit, remaining, reset = counted
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(reset)
        return response
