"""The workers' pages: /reports/, /account/notifications/ and /account/webhooks/."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import reports
from proposals.enums import (
    AttemptOutcome,
    DeliveryStatus,
    Frequency,
    NotificationKind,
    ReportStatus,
)
from proposals.models import (
    Notification,
    NotificationPreference,
    Report,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import ProposalFactory
from tests.pages import page_title, title_of
from tests.workers.helpers import submitted


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def no_inline_code(html: str) -> bool:
    """No inline script (except the one nonce'd line base.html has) and no style attributes."""
    inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s]
    return len(inline) <= 1 and all("nonce=" in s for s in inline) and "style=" not in html


# --- /reports/ --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reports_page_shows_the_request_form_to_a_lead(client, lena):
    client.force_login(lena)

    response = client.get("/reports/")

    html = response.content.decode()
    assert response.status_code == 200
    assert title_of(response) == page_title("Reports")
    assert "What kind of report do you want?" in html
    assert 'value="ods"' in html
    assert "You have not requested any reports yet." in html
    assert no_inline_code(html)


@pytest.mark.django_db
def test_reports_page_is_forbidden_to_a_submitter(client, alice):
    client.force_login(alice)

    assert client.get("/reports/").status_code == 403


@pytest.mark.django_db
def test_requesting_a_report_queues_it_and_shows_progress(client, lena):
    client.force_login(lena)

    response = client.post(
        "/reports/", {"kind": "proposals", "format": "csv", "status": "submitted", "search": ""}
    )
    page = client.get("/reports/")

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.format, report.filters) == (
        "proposals",
        "csv",
        {"status": "submitted"},
    )
    html = page.content.decode()
    assert "Your report has been requested" in html
    assert f'data-status-url="/reports/{report.pk}/status.json"' in html
    assert '<progress class="app-progress"' in html and 'value="0"' in html
    # The page never reloads itself (WCAG 2.2.1): no meta refresh; a link refreshes it.
    assert 'http-equiv="refresh"' not in html
    assert re.search(r'<a class="govuk-link" href="/reports/">Refresh the page</a>', html)
    assert 'src="/static/js/report-progress.mjs"' in html
    assert no_inline_code(html)


@pytest.mark.django_db
def test_requesting_a_report_without_choices_shows_govuk_errors(client, lena):
    client.force_login(lena)

    response = client.post("/reports/", {"department": "nowhere"})

    html = response.content.decode()
    assert response.status_code == 400
    assert title_of(response) == page_title("Reports", error=True)
    assert "Select the kind of report" in html
    assert "Select a format" in html
    assert "Select a department from the list" in html
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_report_status_json_is_only_for_its_requester(client, lena, ana):
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, progress=42)
    client.force_login(lena)

    mine = client.get(f"/reports/{report.pk}/status.json").json()
    client.force_login(ana)
    theirs = client.get(f"/reports/{report.pk}/status.json")

    assert mine == {
        "id": str(report.pk),
        "status": "running",
        "status_label": "Building",
        "progress": 42,
        "row_count": 0,
        "download_url": None,
        "finished": False,
    }
    assert theirs.status_code == 404


@pytest.mark.django_db
def test_finished_report_downloads_as_an_attachment_for_its_requester_only(
    client, alice, lena, ana, media
):
    ProposalFactory.create(submitter=alice, title="Café forms")
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")
    reports.build(str(report.pk))
    client.force_login(lena)

    page = client.get("/reports/").content.decode()
    response = client.get(f"/reports/{report.pk}/download/")
    client.force_login(ana)
    other = client.get(f"/reports/{report.pk}/download/")

    assert f'href="/reports/{report.pk}/download/"' in page
    assert "http-equiv" not in page
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="proposals-')
    assert "Café forms" in b"".join(response.streaming_content).decode()
    assert other.status_code == 404


@pytest.mark.django_db
def test_download_of_an_unknown_report_is_404(client, lena):
    client.force_login(lena)

    assert client.get("/reports/00000000-0000-0000-0000-000000000000/download/").status_code == 404


# --- /account/notifications/ --------------------------------------------------------------------


@pytest.mark.django_db
def test_notifications_page_lists_mine_with_the_unread_count(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(alice)

    response = client.get("/account/notifications/")

    html = response.content.decode()
    assert response.status_code == 200
    assert title_of(response) == page_title("Notifications")
    assert "You have <strong>1</strong> unread notification." in html
    assert f"Your proposal {proposal.reference} has been submitted" in html
    assert f'href="/proposals/{proposal.reference}/"' in html
    assert no_inline_code(html)


@pytest.mark.django_db
def test_mark_read_marks_only_my_own(client, alice, amir):
    submitted(alice)
    submitted(amir)
    theirs = Notification.objects.get(recipient=amir)
    mine = Notification.objects.get(recipient=alice)
    client.force_login(alice)

    client.post("/account/notifications/", {"action": "mark_read", "id": [mine.pk, theirs.pk]})

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None


@pytest.mark.django_db
def test_preferences_are_saved_per_kind(client, alice):
    client.force_login(alice)
    choices = dict.fromkeys(NotificationKind.values, "immediate") | {"comment": "daily"}

    response = client.post("/account/notifications/", {"action": "preferences", **choices})

    assert response.status_code == 302
    assert list(
        NotificationPreference.objects.filter(user=alice, frequency=Frequency.DAILY).values_list(
            "kind", flat=True
        )
    ) == ["comment"]
    page = client.get("/account/notifications/").content.decode()
    assert 'name="comment" type="radio" value="daily" checked' in page


@pytest.mark.django_db
def test_preferences_with_a_missing_choice_show_an_error(client, alice):
    client.force_login(alice)

    response = client.post("/account/notifications/", {"action": "preferences"})

    assert response.status_code == 400
    assert "Select how often to get" in response.content.decode()


@pytest.mark.django_db
def test_preferences_offer_off_per_kind_except_what_someone_waits_on(client, alice):
    client.force_login(alice)

    html = client.get("/account/notifications/").content.decode()

    assert 'name="comment" type="radio" value="off"' in html
    assert 'name="report_ready" type="radio" value="off"' in html
    assert 'name="more_info" type="radio" value="off"' not in html
    assert 'name="assigned" type="radio" value="off"' not in html
    assert 'name="assigned" type="radio" value="daily"' in html
    assert "You cannot turn these off. Someone is waiting for you to assess the proposal." in html
    assert "Off: we do not email you about it, and it does not appear on this page." in html


@pytest.mark.django_db
def test_preferences_saved_as_off_are_shown_checked(client, alice):
    client.force_login(alice)
    choices = dict.fromkeys(NotificationKind.values, "immediate") | {"comment": "off"}

    response = client.post("/account/notifications/", {"action": "preferences", **choices})

    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=alice, kind="comment").frequency == "off"
    page = client.get("/account/notifications/").content.decode()
    assert 'name="comment" type="radio" value="off" checked' in page


@pytest.mark.django_db
def test_preferences_refuse_off_for_a_kind_someone_waits_on(client, alice):
    client.force_login(alice)
    choices = dict.fromkeys(NotificationKind.values, "immediate") | {
        "comment": "off",
        "assigned": "off",
    }

    response = client.post("/account/notifications/", {"action": "preferences", **choices})

    html = response.content.decode()
    assert response.status_code == 400
    message = (
        "You cannot turn off “You were assigned to assess a proposal”. "
        "Someone is waiting for you to assess the proposal."
    )
    assert f'<a href="#id_assigned_0">{message}</a>' in html
    assert 'class="govuk-error-message"' in html
    assert not NotificationPreference.objects.filter(user=alice).exists()


# --- /account/webhooks/ ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_webhooks_page_is_for_leads(client, alice, lena):
    client.force_login(alice)
    assert client.get("/account/webhooks/").status_code == 403

    client.force_login(lena)
    response = client.get("/account/webhooks/")

    assert response.status_code == 200
    assert title_of(response) == page_title("Webhooks")
    assert no_inline_code(response.content.decode())


@pytest.mark.django_db
def test_webhook_url_field_is_not_autocompleted_as_the_users_own_url(client, lena):
    # autocomplete="url" means "the user's own home page" (WCAG 1.3.5); a receiver's
    # address is not that, so the field must not offer it.
    client.force_login(lena)

    html = client.get("/account/webhooks/").content.decode()

    field = re.search(r'<input[^>]*name="url"[^>]*>', html)
    assert field is not None
    assert "autocomplete" not in field.group(0)


@pytest.mark.django_db
def test_registering_a_webhook_shows_its_secret_once(client, lena):
    client.force_login(lena)

    response = client.post(
        "/account/webhooks/",
        {"url": "https://hooks.example/in", "events": ["proposal.submitted", "proposal.decided"]},
    )
    first = client.get("/account/webhooks/").content.decode()
    second = client.get("/account/webhooks/").content.decode()

    endpoint = lena.department.webhooks.get()
    assert response.status_code == 302
    assert endpoint.events == ["proposal.submitted", "proposal.decided"]
    assert endpoint.secret in first
    assert "It will not be shown again" in first
    assert endpoint.secret not in second
    assert "https://hooks.example/in" in second


@pytest.mark.django_db
def test_registering_a_plain_http_webhook_is_refused(client, lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(lena)

    response = client.post(
        "/account/webhooks/", {"url": "http://hooks.example/in", "events": ["proposal.submitted"]}
    )

    assert response.status_code == 400
    assert "Enter an address that starts with https://" in response.content.decode()


@pytest.mark.django_db
def test_sending_a_test_event_logs_a_delivery(client, lena, hugo):
    client.force_login(lena)
    client.post(
        "/account/webhooks/", {"url": "https://hooks.example/in", "events": ["proposal.submitted"]}
    )
    endpoint = lena.department.webhooks.get()

    response = client.post(f"/account/webhooks/{endpoint.pk}/test/")
    page = client.get("/account/webhooks/").content.decode()
    client.force_login(hugo)
    other = client.post(f"/account/webhooks/{endpoint.pk}/test/")

    delivery = WebhookDelivery.objects.get()
    assert response.status_code == 302
    assert (delivery.event, delivery.status) == ("webhook.test", DeliveryStatus.PENDING)
    assert "webhook.test" in page
    assert other.status_code == 403


@pytest.mark.django_db
def test_removing_a_webhook_stops_its_events(client, lena):
    client.force_login(lena)
    client.post(
        "/account/webhooks/", {"url": "https://hooks.example/in", "events": ["proposal.submitted"]}
    )
    endpoint = lena.department.webhooks.get()

    client.post(f"/account/webhooks/{endpoint.pk}/remove/")

    endpoint.refresh_from_db()
    assert endpoint.active is False


def _delivery_with_tries(endpoint: WebhookEndpoint, *errors: str) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.SENT,
        attempts=len(errors) + 1,
        response_status=204,
    )
    for number, error in enumerate(errors, start=1):
        WebhookAttempt.objects.create(
            delivery=delivery, number=number, outcome=AttemptOutcome.FAILED, error=error
        )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=len(errors) + 1,
        outcome=AttemptOutcome.SENT,
        response_status=204,
    )
    return delivery


@pytest.mark.django_db
def test_webhooks_page_lists_every_attempt_in_a_fixed_number_of_queries(client, lena):
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department, url="https://hooks.example/in", secret="s", events=[]
    )
    _delivery_with_tries(endpoint, "Could not connect", "Answered 503")
    client.force_login(lena)
    client.get("/account/webhooks/")  # the session and its first writes, out of the count

    with CaptureQueriesContext(connection) as one:
        html = client.get("/account/webhooks/").content.decode()
    for _ in range(4):
        _delivery_with_tries(endpoint, "Timed out")
    with CaptureQueriesContext(connection) as five:
        more = client.get("/account/webhooks/").content.decode()

    assert len(five) == len(one)
    attempts = re.findall(r"<li>[^<]*?: ([^<]+)</li>", html)
    assert attempts == ["Could not connect", "Answered 503", "Sent (answered 204)"]
    assert more.count("Every attempt") == 5
    assert no_inline_code(html)
