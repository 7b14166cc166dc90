"""Response headers that Django and django-csp do not set themselves, and the
request size limit applied before a body is read."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# The service needs none of these browser features; saying so stops an
# injected script or a framed page from asking for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose Content-Length is over REQUEST_BODY_MAX_BYTES, unread.

    Django limits what it holds in memory (DATA_UPLOAD_MAX_MEMORY_SIZE), but a
    file upload streams to disk whatever its size and is judged only once all
    of it has arrived. This looks at the header first: the body is never read.
    Django reads no further than Content-Length
    (and nothing without one), so the header is the whole story.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads nothing of a body whose length it cannot parse
        limit = settings.REQUEST_BODY_MAX_BYTES
        if length <= limit:
            return self.get_response(request)
        logger.info(
            "Refused %s %s: Content-Length %d over %d", request.method, request.path, length, limit
        )
        megabytes = f"{limit / (1024 * 1024):g}"
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "detail": f"The request is too large: it must be smaller than {megabytes} MB",
                    "code": "request_too_large",
                },
                status=413,
            )
        else:
            response = render(
                request,
                "413.html",
                {
                    "limit_mb": megabytes,
                    "attachment_mb": f"{settings.ATTACHMENT_MAX_BYTES / (1024 * 1024):g}",
                },
                status=413,
            )
        # No "Connection: close": WSGI forbids hop-by-hop headers from the app. The
        # servers close the connection themselves (gunicorn's sync workers after
        # every response, Django's when the body was not read).
        return response


class ServicePageNotFoundMiddleware:
    """The service's own 404 page with DEBUG on too (`make run`, the demo).

    With DEBUG, Django answers a 404 with its technical page (every URL pattern
    listed), which no newcomer should mistake for the service. A 404 raised by
    a view is answered here before Django sees it; an address that matches no
    pattern (`resolver_match` is None) is replaced on the way out. A view that
    renders its own 404 page, and every API answer, are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and request.resolver_match is None:
            return render(request, "404.html", status=404)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return render(request, "404.html", status=404)
        return None
