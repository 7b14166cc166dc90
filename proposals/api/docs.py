"""/api/docs/ (Swagger UI) and /api/data-dictionary/.

/api/docs/: Swagger UI from drf-spectacular-sidecar's static files (no CDN).

The split view loads its start-up script from a URL rather than inline, so it
runs under the strict CSP; our template also drops the package's inline
<style>, which the CSP would block anyway. Our template adds
static/js/api-docs.js (the widget's settings, and a plugin changing its markup)
and static/css/api-docs.css, so that the widget passes WCAG 2.2 AA (axe).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from proposals.api import dictionary


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    permission_classes = [AllowAny]


def wants_json(request: HttpRequest) -> bool:
    """`?format=json`, or an Accept header that asks for JSON rather than a page."""
    if request.GET.get("format") == "json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


@require_safe
def data_dictionary(request: HttpRequest) -> HttpResponse:
    """/api/data-dictionary/: every field of every API resource and export column
    (`api/dictionary.py`), as a page or, asked for it, as JSON. Reference
    documentation, like /api/docs/: open to anyone, it shows no data."""
    built = dictionary.sections()
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            dictionary.as_json(built), json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(
            request,
            "api/data_dictionary.html",
            {
                "sections": built,
                "exports": [s for s in built if not s.kind.startswith("API")],
                "resources": [s for s in built if s.kind.startswith("API")],
            },
        )
    response["Vary"] = "Accept"
    return response
