"""Reports (request, progress, download) and webhooks (register, deliveries)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.enums import AttemptOutcome, DeliveryStatus, ReportStatus
from proposals.models import AuditEvent, Report, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@pytest.mark.django_db
def test_report_request_is_queued_on_commit_with_its_filters(
    client_for, lena, django_capture_on_commit_callbacks
) -> None:
    client = client_for(lena)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/api/v1/reports/",
            {"kind": "proposals", "format": "ods", "filters": {"status": "submitted"}},
            format="json",
        )

    assert response.status_code == 201
    body = response.json()
    report = Report.objects.get(pk=body["id"])
    assert (report.requested_by, report.kind, report.format) == (lena, "proposals", "ods")
    assert report.filters == {"status": "submitted"}
    assert body["status"] == "queued"
    assert body["progress"] == 0
    assert body["download_url"] is None
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(action="request_report", actor=lena).count() == 1


@pytest.mark.django_db
def test_finished_report_has_a_download_link_that_serves_the_file(client_for, lena) -> None:
    report = Report.objects.create(
        requested_by=lena, kind="proposals", format="csv", status=ReportStatus.DONE, progress=100
    )
    report.file.save("proposals.csv", ContentFile(b"reference,title\r\nDFE-2026-0001,Idea\r\n"))
    client = client_for(lena)

    status = client.get(f"/api/v1/reports/{report.pk}/").json()
    download = client.get(f"/api/v1/reports/{report.pk}/download/")

    assert status["progress"] == 100
    assert status["download_url"] == f"http://testserver/api/v1/reports/{report.pk}/download/"
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"reference,title\r\nDFE-2026-0001,Idea\r\n"


@pytest.mark.django_db
def test_report_filters_must_be_known(client_for, ana) -> None:
    response = client_for(ana).post(
        "/api/v1/reports/",
        {"kind": "outcomes", "format": "json", "filters": {"department": "Not A Slug"}},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["filters.department"]
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_lead_registers_a_webhook_and_sees_the_secret_once(client_for, lena) -> None:
    client = client_for(lena)

    created = client.post(
        "/api/v1/webhooks/",
        {
            "url": "https://hooks.example.gov.uk/in",
            "events": ["proposal.decided", "proposal.decided"],
        },
        format="json",
    )
    listed = client.get("/api/v1/webhooks/").json()

    assert created.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert created.json()["secret"] == endpoint.secret
    assert endpoint.secret.startswith("whsec_")  # Standard Webhooks: whsec_ and base64
    assert endpoint.events == ["proposal.decided"]
    assert endpoint.department == lena.department
    assert listed == [
        {
            "id": endpoint.pk,
            "url": "https://hooks.example.gov.uk/in",
            "events": ["proposal.decided"],
            "active": True,
            "created_at": created.json()["created_at"],
            "previous_secret_valid_until": None,
        }
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["http://hooks.example.gov.uk/in", "ftp://hooks.example.gov.uk", "not a url"]
)
def test_webhook_must_be_https(client_for, lena, url) -> None:
    response = client_for(lena).post(
        "/api/v1/webhooks/", {"url": url, "events": ["proposal.submitted"]}, format="json"
    )

    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.django_db
def test_deliveries_list_newest_first(client_for, lena) -> None:
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department, url="https://h.example.gov.uk", secret="s", events=[]
    )
    for status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
        WebhookDelivery.objects.create(
            endpoint=endpoint, event="proposal.submitted", payload={"n": status}, status=status
        )

    rows = client_for(lena).get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()

    assert [r["status"] for r in rows] == ["failed", "sent"]
    assert rows[0]["payload"] == {"n": "failed"}


@pytest.mark.django_db
def test_deliveries_carry_every_attempt_in_two_queries(client_for, lena) -> None:
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department, url="https://h.example.gov.uk", secret="s", events=[]
    )

    def delivery_with(*errors: str) -> None:
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event="proposal.submitted", payload={}, attempts=len(errors)
        )
        for number, error in enumerate(errors, start=1):
            WebhookAttempt.objects.create(
                delivery=delivery, number=number, outcome=AttemptOutcome.FAILED, error=error
            )

    delivery_with("Could not connect", "Answered 503")
    client = client_for(lena)
    url = f"/api/v1/webhooks/{endpoint.pk}/deliveries/"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        rows = client.get(url).json()
    for _ in range(5):
        delivery_with("Timed out")
    with CaptureQueriesContext(connection) as six:
        more = client.get(url).json()

    assert len(six) == len(one)
    assert [(a["number"], a["outcome"], a["error"]) for a in rows[0]["attempt_log"]] == [
        (1, "failed", "Could not connect"),
        (2, "failed", "Answered 503"),
    ]
    assert set(rows[0]["attempt_log"][0]) == {
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "response_status",
        "error",
    }
    assert len(more) == 6
