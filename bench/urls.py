"""The site's addresses plus one of the bench's own, served only by bench/wsgi.py
(the load rows' gunicorn): a trivial JSON view, the reference the pages'
requests a second are compared with. The real site never routes to it."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from innovation import urls as site

TRIVIAL_PATH = "/bench/trivial.json"


def trivial(request: HttpRequest) -> JsonResponse:
    """No query, no session read: the least a Django response through the
    site's middleware can cost."""
    return JsonResponse({"ok": True})


urlpatterns = [path(TRIVIAL_PATH.lstrip("/"), trivial), *site.urlpatterns]

handler400 = site.handler400
handler403 = site.handler403
handler404 = site.handler404
handler500 = site.handler500
