"""Review: triage, assessment, decisions and the panel sheet."""

from django.urls import path

from proposals.urls import converters  # noqa: F401 - registers the `ref` converter
from proposals.views import review

app_name = "review"

urlpatterns = [
    path("review/", review.dashboard, name="dashboard"),
    path("review/panel/", review.panel_sheet, name="panel"),
    path("proposals/<ref:reference>/triage/", review.triage, name="triage"),
    path("proposals/<ref:reference>/assess/", review.assess, name="assess"),
    path("proposals/<ref:reference>/decide/", review.decide, name="decide"),
    path("proposals/<ref:reference>/merge/", review.merge, name="merge"),
    path("proposals/<ref:reference>/close/", review.close, name="close"),
    path("proposals/<ref:reference>/feedback/", review.release_feedback, name="feedback"),
]
