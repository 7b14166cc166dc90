"""End a signed-in session that has been idle too long, or has simply lasted too long.

Saving the session slides the cookie's expiry, so the cookie alone would let an
active session live for ever. This middleware keeps two times in the session
and signs the user out, on the server, with or without the JavaScript warning:

- the last request: more than SESSION_IDLE_TIMEOUT seconds ago ends it (idle).
  It is stamped at most once every SESSION_ACTIVITY_RESOLUTION seconds (and on every
  "Stay signed in"), so a busy person's page views do not each write the
  session, nor several requests at once (the first claims the stamp in the
  cache); the stamp is then up to that much behind, and the idle check allows
  for it, so nobody is signed out before SESSION_IDLE_TIMEOUT;
- signing in: more than SESSION_ABSOLUTE_TIMEOUT seconds ago ends it however
  active the person has been (absolute), so a stolen session cookie stops
  working too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

SESSION_KEY = "last_activity"
SIGNED_IN_KEY = "signed_in_at"


@receiver(user_logged_in)
def _stamp_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_KEY] = int(time.time())


def seconds_left(request: HttpRequest) -> int:
    """How long this session has before it ends, if nothing more is done."""
    now = int(time.time())
    idle = settings.SESSION_IDLE_TIMEOUT
    signed_in = request.session.get(SIGNED_IN_KEY)
    if not isinstance(signed_in, int):
        return idle
    return max(0, min(idle, signed_in + settings.SESSION_ABSOLUTE_TIMEOUT - now))


def _first_to_stamp(request: HttpRequest, last: int) -> bool:
    """Whether this request is the one to write the stamp that has fallen due.

    Pages a browser loads together, or two tabs, arrive together: each read the
    session before the other wrote it, so each would write it again. The first
    to claim this session's due stamp in the cache writes it; the others leave
    the session alone, as the stamp is only ever a minute behind. The claim is
    per stamp (keyed by the time it replaces), so the next one is claimed anew;
    with no cache to ask, every request may stamp, as before."""
    key = f"session-stamp:{request.session.session_key}:{last}"
    try:
        return bool(cache.add(key, 1, timeout=max(settings.SESSION_ACTIVITY_RESOLUTION, 1)))
    except Exception:  # a stamp written twice is better than none
        return True


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            signed_in = request.session.get(SIGNED_IN_KEY)
            if not isinstance(signed_in, int):
                # A session from before this rule: its lifetime counts from now.
                request.session[SIGNED_IN_KEY] = signed_in = now
            if now - signed_in > settings.SESSION_ABSOLUTE_TIMEOUT:
                hours = settings.SESSION_ABSOLUTE_TIMEOUT / 3600
                return self._sign_out(
                    request,
                    f"You were signed out because you signed in more than {hours:g} hours ago. "
                    "Sign in again to continue.",
                )
            last = request.session.get(SESSION_KEY)
            resolution = settings.SESSION_ACTIVITY_RESOLUTION
            idle_after = settings.SESSION_IDLE_TIMEOUT + resolution
            if isinstance(last, int) and now - last > idle_after:
                minutes = settings.SESSION_IDLE_TIMEOUT // 60
                return self._sign_out(
                    request,
                    f"You were signed out because you did nothing for {minutes} minutes. "
                    "Sign in again to continue.",
                )
            keep_alive = request.path == reverse("accounts:keep_alive")
            if not isinstance(last, int) or keep_alive:
                request.session[SESSION_KEY] = now
            elif now - last >= resolution and (not resolution or _first_to_stamp(request, last)):
                # A resolution of 0 stamps every request, as configured: nothing to claim.
                request.session[SESSION_KEY] = now
        return self.get_response(request)

    def _sign_out(self, request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        messages.info(request, message)
        login_url = reverse("accounts:login")
        # Come back to the page after signing in; only for pages (GET), never a form post.
        if request.method == "GET" and request.path != login_url:
            login_url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(login_url)
