"""End a signed-in session that has been idle too long.

SESSION_SAVE_EVERY_REQUEST already slides the cookie's expiry, but the cookie
lives SESSION_COOKIE_AGE (hours). This middleware keeps the time of the last
request in the session and signs the user out when more than
SESSION_IDLE_TIMEOUT seconds have passed, so the rule holds on the server,
with or without the JavaScript warning.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

SESSION_KEY = "last_activity"


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(SESSION_KEY)
            if isinstance(last, int) and now - last > settings.SESSION_IDLE_TIMEOUT:
                return self._sign_out(request)
            request.session[SESSION_KEY] = now
        return self.get_response(request)

    def _sign_out(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        minutes = settings.SESSION_IDLE_TIMEOUT // 60
        messages.info(
            request,
            f"You were signed out because you did nothing for {minutes} minutes. "
            "Sign in again to continue.",
        )
        login_url = reverse("accounts:login")
        # Come back to the page after signing in; only for pages (GET), never a form post.
        if request.method == "GET" and request.path != login_url:
            login_url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(login_url)
