"""Pages with no domain data: the start page, the service's notices and the
error pages. Error views never show a stack trace: they render a plain GOV.UK
page, and the 500 page falls back to fixed text if even that fails."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from proposals.views.home import home as signed_in_home

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """The GOV.UK start page when signed out; the user's home when signed in."""
    if not request.user.is_authenticated:
        return render(request, "start.html")
    # Your home is domain data: proposals.views.home builds it.
    return signed_in_home(request)


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html")


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html")


def cookies(request: HttpRequest) -> HttpResponse:
    context = {
        "idle_minutes": settings.SESSION_IDLE_TIMEOUT // 60,
        "session_hours": settings.SESSION_COOKIE_AGE // 3600,
    }
    return render(request, "pages/cookies.html", context)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The rule's own words ("You can edit your own comment for 15 minutes…") say why.
    reason = str(exception or "")
    return render(request, "403.html", {"reason": reason}, status=403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, rendered with the request so the layout has its CSP nonce.

    Whatever broke may break rendering too (the database, say, when the layout
    asks who is signed in), so a second failure falls back to the page without
    a request, and then to fixed text.
    """
    try:
        return render(request, "500.html", status=500)
    except Exception:
        logger.exception("Rendering 500.html with the request failed")
    try:
        return HttpResponse(loader.render_to_string("500.html"), status=500)
    except Exception:
        logger.exception("Rendering 500.html failed")
    return HttpResponse(
        "Sorry, there is a problem with the service. Try again later.",
        content_type="text/plain; charset=utf-8",
        status=500,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form came back without a valid token, most often
    because the page was open a long time or cookies are blocked."""
    logger.warning("CSRF failure on %s: %s", request.path, reason)
    return render(request, "403_csrf.html", status=403)
