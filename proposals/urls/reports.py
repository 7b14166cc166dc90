"""Reports: request one, watch it being built, download it."""

from django.urls import path

from proposals.views import reports

app_name = "reports"

urlpatterns = [
    path("reports/", reports.reports_page, name="list"),
    path("reports/<uuid:report_id>/status.json", reports.report_status, name="status"),
    path("reports/<uuid:report_id>/download/", reports.report_download, name="download"),
    path("reports/<uuid:report_id>/retry/", reports.report_retry, name="retry"),
]
