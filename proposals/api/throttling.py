"""Rate limits per token (SPEC §6): 429 with `Retry-After`.

The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]`, set from the
`API_RATE_LIMIT` environment variable (e.g. `600/minute`). The counters live in
the shared cache, so every web process counts against the same limit.
"""

from __future__ import annotations

from typing import Any

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

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
