"""/api/v1/… (SPEC §6), the OpenAPI schema and its documentation page.

Included from innovation/urls.py at `api/`. The last pattern answers every
other /api/ address with a JSON 404, so no API client ever gets an HTML page.
"""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from proposals.api import views
from proposals.api.docs import ApiDocsView, data_dictionary
from proposals.api.exceptions import api_not_found

router = SimpleRouter()
router.register("proposals", views.ProposalViewSet, basename="proposal")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("themes", views.ThemeViewSet, basename="theme")
router.register("challenges", views.ChallengeViewSet, basename="challenge")
router.register("experiments", views.ExperimentViewSet, basename="experiment")
router.register("evaluations", views.EvaluationViewSet, basename="evaluation")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("reports", views.ReportViewSet, basename="report")
router.register("webhooks", views.WebhookViewSet, basename="webhook")

app_name = "api"

urlpatterns = [
    path("v1/changes/", views.ChangeFeedView.as_view(), name="changes"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("data-dictionary/", data_dictionary, name="data-dictionary"),
    # Any character, newlines too: every leftover /api/ address gets the JSON 404.
    re_path(r"^[\s\S]*$", api_not_found, name="not-found"),
]
