"""A URLconf for the error-page tests: the service's URLs plus views that fail."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from innovation.urls import handler400, handler403, handler404, handler500, urlpatterns


def forbidden(request):
    raise PermissionDenied


def bad_request(request):
    raise SuspiciousOperation("tampered input")


def broken(request):
    return 1 / 0


urlpatterns = [
    *urlpatterns,
    path("forbidden/", forbidden),
    path("bad-request/", bad_request),
    path("broken/", broken),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
