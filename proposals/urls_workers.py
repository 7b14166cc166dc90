"""URLs of the workers' pages; included at the site's root by innovation/urls.py."""

from django.urls import path

from proposals.views import workers

app_name = "workers"

urlpatterns = [
    path("reports/", workers.reports_page, name="reports"),
    path("reports/<uuid:report_id>/status.json", workers.report_status, name="report-status"),
    path("reports/<uuid:report_id>/download/", workers.report_download, name="report-download"),
    path("account/notifications/", workers.notifications_page, name="notifications"),
    path("account/webhooks/", workers.webhooks_page, name="webhooks"),
    path("account/webhooks/<int:endpoint_id>/test/", workers.webhook_test, name="webhook-test"),
    path(
        "account/webhooks/<int:endpoint_id>/remove/", workers.webhook_remove, name="webhook-remove"
    ),
]
