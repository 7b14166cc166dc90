"""Integration: a real Celery worker process, real Redis, real PostgreSQL (SPEC §5).

These prove the delivery guarantee end to end: an email arrives; a big report
shows its progress rising; a worker SIGKILLed mid-batch loses nothing and
duplicates at most one message per kill; a Redis outage at commit time is
healed by the sweep, with nothing sent twice.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from functools import partial

import pytest
import redis
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from proposals import dispatch, notifications, services
from proposals.enums import (
    AttemptOutcome,
    DeliveryStatus,
    Frequency,
    NotificationKind,
    ReportStatus,
    Status,
    WebhookEvent,
)
from proposals.models import (
    BenefitReview,
    Notification,
    NotificationPreference,
    Proposal,
    Report,
    SimilarityVector,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.conftest import REDIS_URL, skip_or_fail
from tests.workers.helpers import local_server, submitted
from tests.workers.realworker import OwnRedis, Worker, app_broker, sent_keys, wait_for
from tests.workers.test_evaluation_reminders import _recorded

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SWEEP_AFTER = 10  # NOTIFICATION_SWEEP_AFTER_SECONDS' minimum


def _sent_at_least(sent: QuerySet[Notification], threshold: int) -> bool:
    return sent.count() >= threshold


@pytest.fixture
def shared_broker(require_postgres, require_redis, settings, tmp_path):
    """The shared Redis (REDIS_URL), under a key prefix of this test's own."""
    prefix = f"itest-{uuid.uuid4().hex[:10]}:"
    settings.MEDIA_ROOT = tmp_path / "media"
    with app_broker(REDIS_URL, prefix):
        yield REDIS_URL, prefix
    # Remove only this test's own keys; never flush a shared Redis.
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def worker_factory(tmp_path):
    started: list[Worker] = []
    emails = tmp_path / "emails"
    emails.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()

    def make(broker_url: str, prefix: str, concurrency: int = 1) -> Worker:
        worker = Worker(
            broker_url=broker_url,
            prefix=prefix,
            email_dir=emails,
            log_dir=logs,
            concurrency=concurrency,
        )
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


def test_submitted_proposals_email_arrives(shared_broker, worker_factory, alice, rita):
    worker = worker_factory(*shared_broker).start()

    proposal = submitted(alice)

    rows = {n.recipient.email: str(n.pk) for n in Notification.objects.filter(proposal=proposal)}
    wait_for(lambda: len(sent_keys(worker.email_dir)) == 2, timeout=60, what="two emails")
    keys = sent_keys(worker.email_dir)
    assert set(keys) == set(rows.values())
    text = "".join(p.read_text() for p in worker.email_dir.glob("*.log"))
    assert f"Subject: Your proposal {proposal.reference} has been submitted" in text
    assert "To: alice@dfe.example" in text
    assert f"/proposals/{proposal.reference}/" in text
    rows_sent = Notification.objects.filter(proposal=proposal, status=DeliveryStatus.SENT)
    wait_for(lambda: rows_sent.count() == 2, timeout=10, what="rows marked sent")


def test_a_kind_turned_off_is_not_emailed_by_the_worker(shared_broker, worker_factory, alice, rita):
    NotificationPreference.objects.create(
        user=alice, kind=NotificationKind.SUBMITTED, frequency=Frequency.OFF
    )
    worker = worker_factory(*shared_broker).start()

    proposal = submitted(alice)

    [row] = Notification.objects.filter(proposal=proposal)
    assert row.recipient == rita
    sent = Notification.objects.filter(pk=row.pk, status=DeliveryStatus.SENT)
    wait_for(lambda: sent.count() == 1, timeout=60, what="rita's email marked sent")
    assert dict(sent_keys(worker.email_dir)) == {str(row.pk): 1}
    text = "".join(p.read_text() for p in worker.email_dir.glob("*.log"))
    assert "To: rita@dfe.example" in text
    assert "alice@dfe.example" not in text


def test_the_similarity_worker_indexes_a_submitted_proposal(shared_broker, worker_factory, alice):
    """Its own queue, on commit: the vector is in the database without a page asking."""
    worker_factory(*shared_broker).start()
    proposal = submitted(alice)
    vectors = SimilarityVector.objects.filter(proposal=proposal, outcome=None)
    wait_for(lambda: vectors.count() == 1, timeout=90, what="the proposal's vector")
    first = vectors.get()
    services.proposal_update(proposal=proposal, actor=alice, data={"title": "A changed title"})
    wait_for(lambda: vectors.get().digest != first.digest, timeout=60, what="the recomputed vector")


def test_webhook_retried_by_the_worker_keeps_every_attempt(
    shared_broker, worker_factory, alice, lena
):
    worker = worker_factory(*shared_broker)
    worker.env["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = "true"  # the receiver is on loopback
    with local_server(204) as (url, recorded):
        recorded.answers = [503]
        WebhookEndpoint.objects.create(
            department=lena.department,
            url=f"{url}/hooks",
            secret="s3cret",
            events=[WebhookEvent.PROPOSAL_SUBMITTED.value],
        )
        worker.start()
        submitted(alice)
        delivery = WebhookDelivery.objects.get()
        sent = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT)
        # The retry waits 5-10 s (dispatch.retry_countdown for a first failure).
        wait_for(sent.exists, timeout=60, what="the webhook delivered on its retry")

    tries = WebhookAttempt.objects.filter(delivery=delivery).order_by("number")
    assert [(a.number, a.outcome, a.response_status, a.error) for a in tries] == [
        (1, AttemptOutcome.FAILED, 503, "Answered 503"),
        (2, AttemptOutcome.SENT, 204, ""),
    ]
    assert len(recorded.requests) == 2


def wait_until_quiet(rows, *, quiet: float = 2.0, timeout: float = 120) -> None:
    """Until the number of rows stops changing for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = rows.count()
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)
    raise AssertionError("The workers never went quiet")


def _bulk_proposals(author, count: int) -> None:
    now = timezone.now()
    batch = [
        Proposal(
            reference=f"BULK-2026-{n:06d}",
            title=f"Proposal {n}",
            summary="Summary",
            problem="Problem",
            who_has_the_problem="People",
            proposed_solution="Solution",
            expected_benefits="Benefits",
            cost_band="under_10k",
            department=author.department,
            submitter=author,
            status=Status.SUBMITTED,
            submitted_at=now,
        )
        for n in range(count)
    ]
    Proposal.objects.bulk_create(batch, batch_size=2000)


def test_ten_thousand_row_report_completes_with_progress_rising(
    shared_broker, worker_factory, alice, lena
):
    _bulk_proposals(alice, 10_000)
    worker = worker_factory(*shared_broker).start()

    report = services.report_request(user=lena, kind="proposals", format="csv", filters={})
    seen: list[int] = []

    def done() -> bool:
        status, progress = Report.objects.filter(pk=report.pk).values_list("status", "progress")[0]
        if not seen or seen[-1] != progress:
            seen.append(progress)
        return status in {ReportStatus.DONE, ReportStatus.FAILED}

    wait_for(done, timeout=120, every=0.02, what="the report")

    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, worker.logs()
    assert report.row_count == 10_000
    assert seen == sorted(seen)
    assert seen[-1] == 100
    assert len([p for p in seen if 0 < p < 100]) >= 3, seen
    with report.file.open("rb") as handle:
        assert sum(1 for _ in handle) == 10_001


def test_killed_worker_loses_no_notification_and_duplicates_at_most_one_per_kill(
    shared_broker, worker_factory, alice
):
    people = User.objects.bulk_create(
        User(
            email=f"n{n}@dfe.example",
            full_name=f"Person {n}",
            department=alice.department,
            password="!",
        )
        for n in range(1000)
    )
    with transaction.atomic():
        batch = notifications.notify(
            recipients=people,
            kind=NotificationKind.COMMENT,
            subject="Load test",
            body="One of a thousand",
        )
    ids = {str(row.pk) for row in batch}
    worker = worker_factory(*shared_broker).start()
    sent = Notification.objects.filter(status=DeliveryStatus.SENT)

    kills = 0
    for threshold in (150, 400, 650):
        wait_for(partial(_sent_at_least, sent, threshold), timeout=120, every=0.02, what="sending")
        worker.kill()
        kills += 1
        worker.start()

    # Let the last worker finish its queue; what is left is what the killed workers
    # held: claimed but never marked sent, or pending with its message unacknowledged
    # in Redis. The sweep (beat, every minute) hands those out again.
    wait_until_quiet(sent)

    def swept() -> bool:
        notifications.sweep(older_than_seconds=SWEEP_AFTER)
        return sent.count() == 1000

    wait_for(swept, timeout=90, every=1, what="the sweep to send every notification")
    keys = sent_keys(worker.email_dir)
    assert set(keys) == ids
    duplicates = sum(count - 1 for count in keys.values())
    assert duplicates <= kills, keys.most_common(5)


def test_redis_outage_at_commit_is_healed_by_the_sweep_without_duplicates(
    require_postgres, require_redis, worker_factory, alice, amir, lena, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    if shutil.which("redis-server") is None:
        skip_or_fail("needs redis-server on the PATH, to stop and start a Redis of its own")
    own = OwnRedis(tmp_path)
    own.start()
    prefix = "outage:"
    try:
        with app_broker(own.url, prefix):
            worker = worker_factory(own.url, prefix).start()
            first = submitted(alice, title="Before the outage")
            wait_for(lambda: len(sent_keys(worker.email_dir)) == 2, timeout=60, what="emails")

            own.stop()
            during = [
                submitted(author, title=f"During the outage {n}")
                for n, author in enumerate([alice, amir, alice, amir])
            ]
            pending = Notification.objects.filter(proposal__in=during)
            assert set(pending.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
            own.start()

            def healed() -> bool:
                notifications.sweep(older_than_seconds=SWEEP_AFTER)
                return pending.filter(status=DeliveryStatus.SENT).count() == pending.count()

            wait_for(healed, timeout=120, every=1, what="the sweep to deliver")
            keys = sent_keys(worker.email_dir)
    finally:
        own.stop()

    expected = {
        str(pk)
        for pk in Notification.objects.filter(proposal__in=[first, *during]).values_list(
            "pk", flat=True
        )
    }
    assert set(keys) == expected
    assert max(keys.values()) == 1, keys.most_common(3)
    assert pending.count() == 4 * 2  # each author, and DfE's panel (Lena)


def _runs(worker: Worker) -> int:
    return sum(
        1
        for line in worker.logs().splitlines()
        if "send_benefit_and_evaluation_reminders[" in line and "succeeded" in line
    )


def test_the_daily_reminders_sent_by_a_real_worker_arrive_once(
    shared_broker, worker_factory, alice, rita, lena
):
    """Issue 13's reminders as beat sends them: the task by name to a worker process,
    twice (a beat that fires again, a redelivery): each reminder is written once."""
    today = timezone.localdate()
    outcome = _recorded(alice, rita, lena, owner=rita, signed_off=today - dt.timedelta(weeks=13))
    review = BenefitReview.objects.filter(outcome=outcome).order_by("due_on").first()
    assert review is not None
    BenefitReview.objects.filter(pk=review.pk).update(due_on=today)
    reminders = Notification.objects.filter(
        kind__in=[NotificationKind.BENEFIT_REVIEW, NotificationKind.EVALUATION_REPORT]
    )
    worker = worker_factory(*shared_broker).start()

    assert dispatch.send("proposals.tasks.send_benefit_and_evaluation_reminders")
    wait_for(lambda: reminders.count() >= 2, timeout=60, what="the reminders")
    first = sorted(reminders.values_list("recipient__email", "subject"))
    assert dispatch.send("proposals.tasks.send_benefit_and_evaluation_reminders")
    # The second run is done when the worker has answered a later task too.
    assert dispatch.send("proposals.tasks.send_benefit_and_evaluation_reminders")
    wait_for(lambda: _runs(worker) >= 3, timeout=60, what="three runs")

    reference = outcome.experiment.proposal.reference
    assert ("rita@dfe.example", f"Benefit review due for {reference}") in first
    assert ("lena@dfe.example", f"Evaluation report overdue for {reference}") in first
    assert sorted(reminders.values_list("recipient__email", "subject")) == first
