"""Claims expire by heartbeat (issue 14, part 1): every claimed outbox row —
notification, webhook delivery, report — is released by the sweep once its
worker's heartbeat stops for CLAIM_EXPIRY_SECONDS, however recent or old the
claim; a report that keeps dying fails with a message its requester sees and
can retry; the admin can retry and cancel. And rows whose message the broker
refused are marked and sent by the next sweep, whatever their age (part 3)."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from proposals import dispatch, notifications, reports, services, tasks
from proposals.enums import DeliveryStatus, ReportStatus
from proposals.models import Notification, Report, WebhookDelivery, WebhookEndpoint
from tests.proposals.pages import draft
from tests.workers.helpers import submitted
from tests.workers.realworker import app_broker


def ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def expiry(settings):
    settings.CLAIM_HEARTBEAT_SECONDS = 1
    settings.CLAIM_EXPIRY_SECONDS = 30
    return settings


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def report_for(user: User, **fields) -> Report:
    report = services.report_request(user=user, kind="proposals", format="csv")
    Report.objects.filter(pk=report.pk).update(**fields)
    report.refresh_from_db()
    return report


# --- notifications -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_claim_whose_heartbeat_stopped_is_released_at_once(alice, expiry):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    # Claimed 40 s ago, last heartbeat 31 s ago: far below the task time limit
    # (3,600 s) and the sweep's age limit (300 s), but the worker is dead.
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.CLAIMED, claimed_at=ago(40), heartbeat_at=ago(31), attempts=1
    )

    ids = dispatch.requeue_stale(Notification, older_than_seconds=300, limit=100)

    row.refresh_from_db()
    assert ids == [str(row.pk)]
    assert row.status == DeliveryStatus.PENDING
    assert row.heartbeat_at is None


@pytest.mark.django_db
def test_a_long_claim_with_a_live_heartbeat_is_left_alone(alice, expiry):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    # Claimed two hours ago (past CELERY_TASK_TIME_LIMIT), but still beating.
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.CLAIMED, claimed_at=ago(7200), heartbeat_at=ago(5), attempts=1
    )

    ids = dispatch.requeue_stale(Notification, older_than_seconds=300, limit=100)

    row.refresh_from_db()
    assert ids == []
    assert row.status == DeliveryStatus.CLAIMED


@pytest.mark.django_db
def test_a_row_whose_worker_died_every_attempt_fails_with_the_reason(alice, expiry):
    expiry.NOTIFICATION_MAX_ATTEMPTS = 3
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.CLAIMED, claimed_at=ago(60), heartbeat_at=ago(60), attempts=3
    )

    ids = dispatch.requeue_stale(Notification, older_than_seconds=300, limit=100)

    row.refresh_from_db()
    assert ids == []
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "Gave up after 3 attempts: the last one's worker stopped part-way"


@pytest.mark.django_db
def test_deliver_stamps_the_heartbeat_with_the_claim(alice):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)

    assert notifications.deliver(str(row.pk))

    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert row.heartbeat_at is not None and row.claimed_at is not None
    assert row.heartbeat_at >= row.claimed_at


@pytest.mark.django_db(transaction=True)
def test_keep_alive_beats_while_the_work_runs_and_stops_after(alice, expiry):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    claimed = ago(100)
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.CLAIMED, claimed_at=claimed, heartbeat_at=claimed
    )

    with dispatch.keep_alive(Notification, row.pk, status=DeliveryStatus.CLAIMED):
        time.sleep(2.5)  # a slow SMTP server: two beats are due
    row.refresh_from_db()
    during = row.heartbeat_at
    time.sleep(1.5)
    row.refresh_from_db()

    assert during is not None and during > ago(3)
    assert row.heartbeat_at == during  # no beat once the block has ended


# --- webhook deliveries (their claim's first heartbeat is the claim itself) ----------------


@pytest.mark.django_db
def test_a_webhook_claim_expires_by_its_claim_time_when_it_never_beat(lena, expiry):
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department, url="https://example.org/hook", secret="s" * 32
    )
    dead = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.CLAIMED,
        claimed_at=ago(31),
        attempts=1,
    )
    live = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.CLAIMED,
        claimed_at=ago(5),
        attempts=1,
    )

    ids = dispatch.requeue_stale(WebhookDelivery, older_than_seconds=300, limit=100)

    assert ids == [str(dead.pk)]
    live.refresh_from_db()
    assert live.status == DeliveryStatus.CLAIMED


# --- reports -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_report_whose_build_stopped_is_queued_again_within_the_expiry(lena, expiry, media):
    report = report_for(
        lena, status=ReportStatus.RUNNING, started_at=ago(40), heartbeat_at=ago(31), attempts=1
    )

    handed = reports.sweep()

    report.refresh_from_db()
    assert handed == 1
    assert report.status == ReportStatus.QUEUED
    # And the next build claims it and finishes it.
    assert reports.build(str(report.pk))
    report.refresh_from_db()
    assert (report.status, report.attempts, report.progress) == (ReportStatus.DONE, 2, 100)


@pytest.mark.django_db
def test_a_report_that_stopped_every_attempt_fails_and_tells_the_requester(
    lena, expiry, media, django_capture_on_commit_callbacks
):
    expiry.REPORT_MAX_ATTEMPTS = 3
    report = report_for(
        lena, status=ReportStatus.RUNNING, started_at=ago(60), heartbeat_at=ago(60), attempts=3
    )

    with django_capture_on_commit_callbacks(execute=False):
        handed = reports.sweep()

    report.refresh_from_db()
    assert handed == 0
    assert report.status == ReportStatus.FAILED
    assert report.error == reports.GAVE_UP.format(attempts=3)
    assert report.finished_at is not None
    told = Notification.objects.filter(recipient=lena).order_by("-created_at").first()
    assert told is not None and "report" in told.subject.lower()


@pytest.mark.django_db
def test_a_build_whose_report_was_cancelled_stops_and_keeps_nothing(
    alice, lena, media, settings, monkeypatch
):
    for n in range(3):
        submitted(alice, title=f"Proposal {n}")
    report = report_for(lena)
    original = reports.Progress.advance

    def operator_cancels_midway(self, *args, **kwargs):
        # The operator's click lands between two chunks of the build.
        services.report_cancel(report=report, actor=lena)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(reports.Progress, "advance", operator_cancels_midway)
    built = reports.build(str(report.pk))

    report.refresh_from_db()
    assert built is False
    assert report.status == ReportStatus.FAILED
    assert report.error == reports.CANCELLED
    assert not report.file
    assert [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] == []


@pytest.mark.django_db
def test_the_requester_sees_the_failure_and_tries_again_from_the_page(
    client, lena, media, django_assert_max_num_queries
):
    report = report_for(lena, status=ReportStatus.FAILED, error=reports.GAVE_UP.format(attempts=3))
    client.force_login(lena)

    page = client.get("/reports/")
    html = page.content.decode()
    retried = client.post(f"/reports/{report.pk}/retry/", follow=True)

    assert reports.GAVE_UP.format(attempts=3) in html
    assert f'action="/reports/{report.pk}/retry/"' in html
    assert "Try again" in html
    assert retried.redirect_chain == [("/reports/", 302)]
    assert "Your report is being built again." in retried.content.decode()
    report.refresh_from_db()
    assert (report.status, report.attempts, report.error) == (ReportStatus.QUEUED, 0, "")


@pytest.mark.django_db
def test_only_the_requester_can_retry_and_only_a_failed_report(client, lena, ana, media):
    report = report_for(lena, status=ReportStatus.FAILED, error="Stopped")
    done = report_for(lena, status=ReportStatus.DONE)

    client.force_login(ana)
    other = client.post(f"/reports/{report.pk}/retry/")
    client.force_login(lena)
    again = client.post(f"/reports/{done.pk}/retry/", follow=True)
    by_get = client.get(f"/reports/{report.pk}/retry/")

    assert other.status_code == 404
    assert "already being built again" in again.content.decode()
    assert by_get.status_code == 405
    report.refresh_from_db()
    done.refresh_from_db()
    assert (report.status, done.status) == (ReportStatus.FAILED, ReportStatus.DONE)


@pytest.mark.django_db
def test_the_reports_page_runs_a_fixed_number_of_queries(client, lena, media):
    client.force_login(lena)
    report_for(lena, status=ReportStatus.FAILED, error="Stopped")
    with CaptureQueriesContext(connection) as one:
        client.get("/reports/")
    for _ in range(5):
        report_for(lena, status=ReportStatus.FAILED, error="Stopped")
    with CaptureQueriesContext(connection) as six:
        client.get("/reports/")

    assert len(six) == len(one)


@pytest.fixture
def operator(dfe):
    return User.objects.create_superuser(
        "ops@dfe.example", "correct horse battery staple", full_name="Olu Operator", department=dfe
    )


@pytest.mark.django_db
def test_the_admin_retries_a_failed_report_and_cancels_a_running_one(client, operator, lena, media):
    failed = report_for(lena, status=ReportStatus.FAILED, error="Stopped", attempts=3)
    running = report_for(lena, status=ReportStatus.RUNNING, started_at=ago(5), heartbeat_at=ago(1))
    client.force_login(operator)

    client.post(
        "/admin/proposals/report/", {"action": "retry", "_selected_action": [str(failed.pk)]}
    )
    client.post(
        "/admin/proposals/report/", {"action": "cancel", "_selected_action": [str(running.pk)]}
    )

    failed.refresh_from_db()
    running.refresh_from_db()
    assert (failed.status, failed.attempts) == (ReportStatus.QUEUED, 0)
    assert (running.status, running.error) == (ReportStatus.FAILED, reports.CANCELLED)


# --- a broker that refuses: rows marked, sent by the next sweep whatever their age ---------


@pytest.mark.django_db
def test_a_refused_publish_marks_the_rows_and_the_next_sweep_sends_them(
    alice, rita, django_capture_on_commit_callbacks
):
    dispatch.forget_broker_failures()
    with app_broker(f"redis://127.0.0.1:{closed_port()}/0", "down:"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            submitted(alice)
        with django_capture_on_commit_callbacks(execute=True):
            submitted(alice, title="A second one")  # the breaker is open: no second wait
        took = time.monotonic() - started
    rows = Notification.objects.filter(recipient__in=[alice, rita])
    marked = set(rows.values_list("unpublished", flat=True))
    dispatch.forget_broker_failures()

    # Seconds old, far below NOTIFICATION_SWEEP_AFTER_SECONDS: sent anyway.
    ids = dispatch.requeue_stale(Notification, older_than_seconds=300, limit=100)

    assert marked == {True}
    assert took < 5
    assert set(ids) == {str(pk) for pk in rows.values_list("pk", flat=True)}
    assert set(rows.values_list("unpublished", flat=True)) == {False}


@pytest.mark.django_db
def test_a_proposal_is_submitted_from_the_page_while_redis_is_down(
    client, alice, settings, django_capture_on_commit_callbacks
):
    down = f"redis://127.0.0.1:{closed_port()}"
    settings.CACHES = {
        "default": {"BACKEND": "innovation.cache.FallbackRedisCache", "LOCATION": f"{down}/1"}
    }
    proposal = draft(alice)
    client.force_login(alice)
    dispatch.forget_broker_failures()

    with app_broker(f"{down}/0", "down:"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/proposals/{proposal.reference}/check/", follow=True)
    dispatch.forget_broker_failures()

    assert response.redirect_chain == [(f"/proposals/{proposal.reference}/submitted/", 302)]
    waiting = Notification.objects.filter(proposal=proposal)
    assert waiting.exists()
    assert set(waiting.values_list("status", "unpublished")) == {(DeliveryStatus.PENDING, True)}


@pytest.mark.django_db
def test_a_catch_up_hands_over_again_what_was_sent_just_before_the_reconnect(alice):
    """A sweep handed a row over a second before Redis restarted (losing the
    message): the worker's catch-up on reconnect must send it again, however
    recent; a row handed over after the connection came up went to the live
    broker and is left alone."""
    submitted(alice)
    submitted(alice, title="A second one")
    before, after = Notification.objects.filter(recipient=alice).order_by("created_at")[:2]
    Notification.objects.filter(pk__in=[before.pk, after.pk]).update(created_at=ago(60))
    Notification.objects.filter(pk=before.pk).update(claimed_at=ago(21))
    Notification.objects.filter(pk=after.pk).update(claimed_at=ago(10))
    connected = time.time() - 20

    tasks.catch_up(connected_at=connected)

    before.refresh_from_db()
    after.refresh_from_db()
    assert before.claimed_at is not None and after.claimed_at is not None
    assert before.claimed_at > ago(5)  # handed over again, now
    assert ago(11) < after.claimed_at < ago(9)  # untouched

    # The reconnect a second after the sweep handed it over (the chaos suite's flake).
    Notification.objects.filter(pk=before.pk).update(claimed_at=ago(1.5))

    tasks.catch_up(connected_at=time.time() - 0.5)

    before.refresh_from_db()
    assert before.claimed_at is not None and before.claimed_at > ago(1)
