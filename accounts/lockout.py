"""Sign-in lockout: failed sign-ins counted by account and by IP address, separately.

- By account: SIGN_IN_ACCOUNT_LIMIT failures for one email address, from
  anywhere, lock that address, so one account attacked from many addresses is
  limited. Unknown addresses are counted exactly like real ones, and the page
  says the same, so a lockout never tells whether an account exists.
- By IP address: SIGN_IN_IP_LIMIT failures from one address (an IPv6 /64),
  whatever the emails, lock that address, so password spraying is limited. The
  limit is higher than the account one: many people may share an office proxy.

Each lock lasts SIGN_IN_LOCKOUT_MINUTES after the last failure counted. Attempts
refused while locked are not counted (the lock would never end) and a
successful sign-in clears its account's count, not its address's (a sprayer
with one account of their own must not be able to reset it).

Counters live in the shared cache (Redis in production). If it does not
answer, they are kept in this process instead, and that is logged: sign-in
still works, still limited, never a 500.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

logger = logging.getLogger(__name__)

CACHE_ALIAS = "sign_in"
LOCKED_ATTRIBUTE = "sign_in_locked"  # set on the request when a sign-in was refused

# Kept per process, used only while the shared cache does not answer.
_fallback = LocMemCache("sign-in-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
_last_warning = 0.0

T = TypeVar("T")


def _with_cache(operation: Callable[[BaseCache], T]) -> T:
    global _last_warning  # one timestamp per process: log once a minute, not per sign-in
    try:
        return operation(caches[CACHE_ALIAS])
    except Exception as error:  # whatever the cache backend raises when it is down
        if time.monotonic() - _last_warning > 60:
            _last_warning = time.monotonic()
            logger.warning(
                "Sign-in lockout: the shared cache did not answer (%r); "
                "counting failures in this process until it does",
                error,
            )
        return operation(_fallback)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connection's, or the one the trusted proxies saw.

    With TRUSTED_PROXY_COUNT proxies in front (each appending to
    X-Forwarded-For), the client is the entry that many from the right; entries
    further left were written by the client and are not trusted.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def _ip_key(request: HttpRequest) -> str:
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"ip:{address[:64]}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"ip:{parsed.ipv4_mapped}"
        # One host usually holds a whole /64: count it as one address.
        return f"ip:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"ip:{parsed}"


def _account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_locked(request: HttpRequest, email: str | None) -> bool:
    """Whether a sign-in from this request, to this email address, is refused now."""
    keys = {"ip": _ip_key(request)}
    if email:
        keys["account"] = _account_key(email)
    counts = _with_cache(lambda cache: cache.get_many(list(keys.values())))
    return counts.get(keys["ip"], 0) >= settings.SIGN_IN_IP_LIMIT or (
        "account" in keys and counts.get(keys["account"], 0) >= settings.SIGN_IN_ACCOUNT_LIMIT
    )


def record_failure(request: HttpRequest, email: str | None) -> None:
    keys = [_ip_key(request)] + ([_account_key(email)] if email else [])
    timeout = settings.SIGN_IN_LOCKOUT_MINUTES * 60

    def count(cache: BaseCache) -> None:
        for key in keys:
            cache.add(key, 0, timeout)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout)
            cache.touch(key, timeout)  # the lock lasts from the last failure

    _with_cache(count)


def record_success(email: str) -> None:
    _with_cache(lambda cache: cache.delete(_account_key(email)))


class LockoutBackend:
    """First of AUTHENTICATION_BACKENDS: refuses a locked sign-in before any password
    is checked, wherever authenticate() is called (the sign-in page, the admin)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        if request is None or not settings.SIGN_IN_LOCKOUT_ENABLED or username is None:
            return None
        if is_locked(request, username):
            setattr(request, LOCKED_ATTRIBUTE, True)
            raise PermissionDenied("Too many failed sign-ins")  # stops the other backends
        return None

    # No get_user: it never signs anyone in, so no session names it (and
    # Client.force_login, choosing the first backend with get_user, skips it).


@receiver(user_login_failed)
def _count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None or not settings.SIGN_IN_LOCKOUT_ENABLED:
        return
    if getattr(request, LOCKED_ATTRIBUTE, False) or "username" not in credentials:
        return  # refused while locked, or not a password sign-in (single sign-on)
    record_failure(request, credentials["username"])


@receiver(user_logged_in)
def _clear_account(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if settings.SIGN_IN_LOCKOUT_ENABLED and request is not None:
        record_success(user.email)
