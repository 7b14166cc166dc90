"""Notifications: each event's rows and emails, digests, retries, the sweep, Notify."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from types import SimpleNamespace

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer

from accounts.models import Role
from proposals import dispatch, notifications, portfolio, services, tasks
from proposals.enums import DeliveryStatus, ExperimentStatus, Frequency, NotificationKind
from proposals.models import Experiment, Notification, NotificationPreference
from proposals.tasks import deliver_notification
from tests.factories import UserFactory
from tests.workers.helpers import local_server, submitted

SITE = "https://innovation.test"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.GOVUK_NOTIFY_API_KEY = None


def rows(**filters):
    return list(Notification.objects.filter(**filters).order_by("recipient__email"))


def deliver_all() -> int:
    return sum(
        notifications.deliver(str(pk))
        for pk in Notification.objects.filter(status=DeliveryStatus.PENDING).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.django_db
def test_submit_notifies_submitter_and_department_panel(alice, amir, rita, lena, hugo):
    proposal = submitted(alice)

    sent = rows(proposal=proposal)

    assert [(n.recipient.email, n.kind) for n in sent] == [
        ("alice@dfe.example", NotificationKind.SUBMITTED),
        ("lena@dfe.example", NotificationKind.NEW_SUBMISSION),
        ("rita@dfe.example", NotificationKind.NEW_SUBMISSION),
    ]
    assert sent[0].subject == f"Your proposal {proposal.reference} has been submitted"
    assert sent[1].subject == f"New proposal to triage: {proposal.reference}"
    assert {n.url for n in sent} == {f"/proposals/{proposal.reference}/"}
    assert {n.status for n in sent} == {DeliveryStatus.PENDING}


@pytest.mark.django_db
def test_deliver_sends_email_with_reference_link_and_idempotency_key(alice):
    proposal = submitted(alice)
    row = Notification.objects.get(recipient=alice)

    assert notifications.deliver(str(row.pk)) is True

    [email] = mail.outbox
    assert email.to == ["alice@dfe.example"]
    assert email.subject == f"Your proposal {proposal.reference} has been submitted"
    assert f"Reference: {proposal.reference}" in email.body
    assert f"{SITE}/proposals/{proposal.reference}/" in email.body
    assert email.body.startswith("Dear Alice Adams,\n")
    assert f"{SITE}/account/notifications/" in email.body
    assert email.extra_headers["Message-ID"] == f"<{row.pk}@innovation.test>"
    assert email.extra_headers["X-Notification-Id"] == str(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at is not None) == (DeliveryStatus.SENT, 1, True)


@pytest.mark.django_db
def test_deliver_a_second_time_sends_nothing(alice):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    notifications.deliver(str(row.pk))

    again = notifications.deliver(str(row.pk))

    assert again is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_deliver_skips_a_row_another_worker_has_claimed(alice):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.CLAIMED, claimed_at=timezone.now()
    )

    assert notifications.deliver(str(row.pk)) is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_accept_notifies_each_assessor(alice, rita, ravi, lena):
    proposal = submitted(alice)

    services.proposal_transition(
        proposal=proposal, actor=lena, action="accept", data={"assessors": [rita.pk, ravi.pk]}
    )

    assigned = rows(kind=NotificationKind.ASSIGNED)
    assert [n.recipient.email for n in assigned] == ["ravi@dfe.example", "rita@dfe.example"]
    assert assigned[0].subject == f"Please assess {proposal.reference}"
    assert "Lena Lead has asked you to assess" in assigned[0].body


@pytest.mark.django_db
def test_request_info_notifies_authors_with_the_question(alice, amir, rita):
    proposal = submitted(alice, co_authors=[amir])

    services.proposal_transition(
        proposal=proposal, actor=rita, action="request_info", data={"message": "What will it cost?"}
    )

    asked = rows(kind=NotificationKind.MORE_INFO)
    assert [n.recipient.email for n in asked] == ["alice@dfe.example", "amir@dfe.example"]
    assert asked[0].subject == f"More information is needed for {proposal.reference}"
    assert "What will it cost?" in asked[0].body


@pytest.mark.django_db
def test_rejection_at_triage_notifies_the_author_of_the_decision(alice, rita):
    proposal = submitted(alice)

    services.proposal_transition(
        proposal=proposal,
        actor=rita,
        action="reject_at_triage",
        data={"rationale": "Already done elsewhere"},
    )
    deliver_all()

    [decided] = rows(kind=NotificationKind.DECISION)
    assert decided.recipient == alice
    assert decided.subject == f"Decision on your proposal {proposal.reference}: rejected"
    email = next(m for m in mail.outbox if m.subject == decided.subject)
    assert "Already done elsewhere" in email.body
    assert f"{SITE}/proposals/{proposal.reference}/" in email.body


@pytest.mark.django_db
def test_comment_notifies_authors_but_not_the_commenter(alice, bob):
    proposal = submitted(alice)

    services.comment_add(proposal=proposal, author=bob, body="We tried this at the Home Office")

    [comment] = rows(kind=NotificationKind.COMMENT)
    assert comment.recipient == alice
    assert comment.subject == f"New comment on {proposal.reference}"
    assert "Bob Brown (Home Office) commented" in comment.body


@pytest.mark.django_db
def test_daily_preference_holds_the_row_for_the_digest(alice, rita):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.NEW_SUBMISSION, frequency=Frequency.DAILY
    )

    submitted(alice)

    assert Notification.objects.get(recipient=rita).status == DeliveryStatus.DIGEST
    assert Notification.objects.get(recipient=alice).status == DeliveryStatus.PENDING


@pytest.mark.django_db
def test_digest_is_one_email_grouped_by_proposal_newest_first(alice, amir, rita):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.NEW_SUBMISSION, frequency=Frequency.DAILY
    )
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.COMMENT, frequency=Frequency.DAILY
    )
    first = submitted(alice, title="First idea")
    second = submitted(amir, title="Second idea")
    services.comment_add(proposal=first, author=rita, body="Looks good")  # rita: not an author
    old = timezone.now() - dt.timedelta(hours=3)
    Notification.objects.filter(recipient=rita, proposal=first).update(created_at=old)

    sent = notifications.deliver_digest(rita.pk)

    assert sent == 2
    [email] = mail.outbox
    assert email.to == ["rita@dfe.example"]
    assert email.subject == "Your daily summary from Propose an innovation: 2 updates"
    body = email.body
    assert body.index(f"{second.reference}: Second idea") < body.index(
        f"{first.reference}: First idea"
    )
    assert f"New proposal to triage: {second.reference}" in body
    assert f"{SITE}/proposals/{first.reference}/" in body
    assert set(Notification.objects.filter(recipient=rita).values_list("status", flat=True)) == {
        DeliveryStatus.SENT
    }
    assert email.extra_headers["Message-ID"].startswith("<")


def test_digest_groups_rows_by_proposal_newest_group_first():
    now = timezone.now()
    a = SimpleNamespace(reference="DFE-2026-0001", title="A")
    b = SimpleNamespace(reference="DFE-2026-0002", title="B")

    def row(proposal, minutes, subject):
        return SimpleNamespace(
            proposal=proposal,
            created_at=now - dt.timedelta(minutes=minutes),
            pk=subject,
            subject=subject,
        )

    groups = notifications.digest_groups(
        [row(a, 50, "a-old"), row(b, 30, "b"), row(a, 10, "a-new"), row(None, 20, "report")]
    )

    assert [(h, [r.subject for r in items]) for h, items in groups] == [
        ("DFE-2026-0001: A", ["a-new", "a-old"]),
        ("Other updates", ["report"]),
        ("DFE-2026-0002: B", ["b"]),
    ]


@pytest.mark.django_db
def test_digest_run_twice_sends_once(alice, rita):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.NEW_SUBMISSION, frequency=Frequency.DAILY
    )
    submitted(alice)

    assert notifications.digest_recipients() == [rita.pk]
    assert notifications.deliver_digest(rita.pk) == 1
    assert notifications.deliver_digest(rita.pk) == 0
    assert [m.to for m in mail.outbox] == [["rita@dfe.example"]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_down(settings):
    """A real SMTP backend pointed at a port where nothing listens."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_TIMEOUT = 2


@pytest.mark.django_db
def test_smtp_down_releases_the_row_for_a_retry(alice, smtp_down, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    submitted(alice)
    row = Notification.objects.get(recipient=alice)

    with pytest.raises(dispatch.TransientFailure) as failure:
        notifications.deliver(str(row.pk))

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert 5 <= failure.value.countdown <= 10


@pytest.mark.django_db
def test_task_schedules_a_retry_when_smtp_is_down(alice, smtp_down):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)

    with pytest.raises(Retry) as retry:
        deliver_notification.apply(kwargs={"notification_id": str(row.pk)}, retries=5)

    assert "ConnectionRefusedError" in str(retry.value)


@pytest.mark.django_db
def test_smtp_down_fails_for_good_after_max_attempts(alice, smtp_down, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    submitted(alice)
    row = Notification.objects.get(recipient=alice)

    for _ in range(2):  # what the task's retries do, without waiting for the backoff
        with pytest.raises(dispatch.TransientFailure):
            notifications.deliver(str(row.pk))
    last = notifications.deliver(str(row.pk))

    row.refresh_from_db()
    assert last is False
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    assert row.last_error.startswith("ConnectionRefusedError")


def test_retry_countdown_grows_exponentially_with_jitter():
    waits = [dispatch.retry_countdown(n) for n in range(1, 8)]

    assert [5 <= waits[0] <= 10, 10 <= waits[1] <= 20, 20 <= waits[2] <= 40] == [True] * 3
    assert all(120 <= w <= 240 for w in waits[5:])  # capped


@pytest.mark.django_db
def test_sweep_releases_stale_claims_and_requeues_lost_rows(alice, rita, settings):
    submitted(alice)
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    lost = Notification.objects.get(recipient=alice)
    crashed = Notification.objects.get(recipient=rita)
    Notification.objects.filter(pk=lost.pk).update(created_at=long_ago)
    Notification.objects.filter(pk=crashed.pk).update(
        created_at=long_ago, status=DeliveryStatus.CLAIMED, claimed_at=long_ago
    )

    handed = notifications.sweep()

    assert handed == 2
    assert set(
        Notification.objects.filter(pk__in=[lost.pk, crashed.pk]).values_list("status", flat=True)
    ) == {DeliveryStatus.PENDING}
    # A second sweep straight away leaves them to the messages just sent.
    assert notifications.sweep() == 0
    assert deliver_all() == 2


@pytest.mark.django_db
def test_sweep_leaves_recent_rows_alone(alice):
    submitted(alice)

    assert notifications.sweep() == 0


@pytest.mark.django_db
def test_govuk_notify_is_used_when_its_key_is_set(alice, settings):
    service_id, secret = str(uuid.uuid4()), str(uuid.uuid4())
    template = str(uuid.uuid4())
    with local_server(201) as (url, recorded):
        settings.GOVUK_NOTIFY_API_KEY = f"test_key-{service_id}-{secret}"
        settings.GOVUK_NOTIFY_BASE_URL = url
        settings.GOVUK_NOTIFY_TEMPLATE_ID = template
        proposal = submitted(alice)
        row = Notification.objects.get(recipient=alice)

        assert notifications.deliver(str(row.pk)) is True

    [request] = recorded.requests
    assert request["path"] == "/v2/notifications/email"
    sent = json.loads(request["body"])
    assert sent["email_address"] == "alice@dfe.example"
    assert sent["template_id"] == template
    assert sent["reference"] == str(row.pk)
    assert sent["personalisation"]["subject"] == (
        f"Your proposal {proposal.reference} has been submitted"
    )
    assert f"{SITE}/proposals/{proposal.reference}/" in sent["personalisation"]["body"]
    token = request["headers"]["Authorization"].removeprefix("Bearer ")
    assert get_token_issuer(token) == service_id
    assert decode_jwt_token(token, secret) is True
    assert mail.outbox == []


@pytest.mark.django_db
def test_govuk_notify_server_error_is_retried_and_bad_request_is_not(alice, amir, settings):
    with local_server(201) as (url, recorded):
        settings.GOVUK_NOTIFY_API_KEY = f"k-{uuid.uuid4()}-{uuid.uuid4()}"
        settings.GOVUK_NOTIFY_BASE_URL = url
        settings.GOVUK_NOTIFY_TEMPLATE_ID = str(uuid.uuid4())
        submitted(alice)
        submitted(amir)
        first = Notification.objects.get(recipient=alice)
        second = Notification.objects.get(recipient=amir)
        recorded.answers = [500, 400]

        with pytest.raises(dispatch.TransientFailure):
            notifications.deliver(str(first.pk))
        assert notifications.deliver(str(second.pk)) is False

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    assert second.last_error.startswith("HTTPError: 400")


@pytest.mark.django_db
def test_experiment_reminders_go_to_the_lead_seven_days_before_the_end_and_when_overdue(
    alice, lena, rita
):
    proposal = submitted(alice)
    today = timezone.localdate()

    def experiment(title, ends_on, status=ExperimentStatus.RUNNING):
        return Experiment.objects.create(
            proposal=proposal,
            title=title,
            we_believe="x",
            will_result_in="y",
            we_will_know_when="z",
            lead=rita,
            starts_on=today - dt.timedelta(days=60),
            ends_on=ends_on,
            status=status,
        )

    experiment("Ending", today + dt.timedelta(days=7))
    experiment("Overdue", today - dt.timedelta(days=1), ExperimentStatus.COMPLETED)
    experiment("Not yet", today + dt.timedelta(days=8))

    written = notifications.remind_experiments(today=today)
    again = notifications.remind_experiments(today=today)

    reminders = rows(kind=NotificationKind.EXPERIMENT_ENDING)
    assert (written, again) == (4, 0)
    assert sorted((n.recipient.email, n.subject) for n in reminders) == [
        ("lena@dfe.example", f"Experiment on {proposal.reference} ends in 7 days"),
        ("lena@dfe.example", f"Outcome overdue for experiment on {proposal.reference}"),
        ("rita@dfe.example", f"Experiment on {proposal.reference} ends in 7 days"),
        ("rita@dfe.example", f"Outcome overdue for experiment on {proposal.reference}"),
    ]


@pytest.mark.django_db
def test_weekly_portfolio_summary_goes_to_each_departments_leads(alice, amir, lena, bob):
    submitted(alice)
    submitted(amir)
    ho_lead = UserFactory.create(
        email="hl@homeoffice.example", department=bob.department, role=Role.LEAD
    )

    written = portfolio.send_weekly_summaries()

    summaries = rows(kind=NotificationKind.PORTFOLIO_SUMMARY)
    assert written == 2
    assert [n.recipient for n in summaries] == [ho_lead, lena]
    assert summaries[1].subject.startswith("Weekly portfolio summary for Department for Education")
    assert "* 2 proposals submitted" in summaries[1].body
    assert "* 2 waiting for triage" in summaries[1].body
    assert summaries[1].url == "/portfolio/"


@pytest.mark.django_db
def test_mark_read_and_unread_count(alice, amir, bob):
    submitted(alice)
    proposal = Notification.objects.get(recipient=alice).proposal
    assert proposal is not None
    services.comment_add(proposal=proposal, author=bob, body="Nice")
    services.comment_add(proposal=proposal, author=amir, body="Agreed")
    first = Notification.objects.filter(recipient=alice).order_by("created_at").first()
    assert first is not None

    assert notifications.unread_count(alice) == 3
    assert notifications.mark_read(user=alice, notification_ids=[str(first.pk), "junk"]) == 1
    assert notifications.unread_count(alice) == 2
    assert notifications.mark_read(user=bob) == 0
    assert notifications.mark_read(user=alice) == 2


@pytest.mark.django_db
def test_preferences_default_to_immediate_and_ignore_unknown_values(alice):
    chosen = notifications.preferences_set(
        user=alice, choices={"comment": "daily", "decision": "hourly", "nonsense": "daily"}
    )

    assert chosen["comment"] == Frequency.DAILY
    assert chosen["decision"] == Frequency.IMMEDIATE
    assert set(chosen) == set(NotificationKind.values)


@pytest.mark.django_db
def test_off_preference_writes_no_row_and_sends_no_email(alice, rita, lena):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.NEW_SUBMISSION, frequency=Frequency.OFF
    )

    proposal = submitted(alice)
    delivered = deliver_all()

    assert [n.recipient.email for n in rows(proposal=proposal)] == [
        "alice@dfe.example",
        "lena@dfe.example",
    ]
    assert delivered == 2
    assert sorted(email.to[0] for email in mail.outbox) == ["alice@dfe.example", "lena@dfe.example"]


@pytest.mark.django_db
def test_off_is_per_kind(alice, rita):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.COMMENT, frequency=Frequency.OFF
    )

    submitted(alice)

    assert [n.kind for n in rows(recipient=rita)] == [NotificationKind.NEW_SUBMISSION]


@pytest.mark.django_db
def test_a_kind_someone_waits_on_is_sent_even_when_saved_as_off(alice, rita, ravi, lena):
    # Saved past the form (the admin, an old row): the rule in notify still sends it.
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.ASSIGNED, frequency=Frequency.OFF
    )
    proposal = submitted(alice)

    services.proposal_transition(
        proposal=proposal, actor=lena, action="accept", data={"assessors": [rita.pk]}
    )

    [assigned] = rows(kind=NotificationKind.ASSIGNED)
    assert (assigned.recipient, assigned.status) == (rita, DeliveryStatus.PENDING)
    assert notifications.preferences_for(rita)[NotificationKind.ASSIGNED] == Frequency.IMMEDIATE


@pytest.mark.django_db
def test_preferences_refuse_off_for_a_kind_someone_waits_on_and_save_nothing(alice):
    with pytest.raises(ValidationError) as refused:
        notifications.preferences_set(
            user=alice, choices={"comment": "off", "more_info": "off", "assigned": "daily"}
        )

    assert refused.value.message_dict == {
        "more_info": [
            "You cannot turn off “More information was requested”. Someone is waiting for "
            "you to add the information they asked for."
        ]
    }
    assert not NotificationPreference.objects.filter(user=alice).exists()


@pytest.mark.django_db
def test_preferences_save_off(alice):
    chosen = notifications.preferences_set(user=alice, choices={"comment": "off"})

    assert chosen["comment"] == Frequency.OFF
    assert chosen["decision"] == Frequency.IMMEDIATE


@pytest.mark.django_db
def test_deactivated_recipient_gets_no_email(alice):
    submitted(alice)
    row = Notification.objects.get(recipient=alice)
    alice.is_active = False
    alice.save()

    assert notifications.deliver(str(row.pk)) is False

    row.refresh_from_db()
    assert (row.status, row.last_error) == (
        DeliveryStatus.FAILED,
        "The recipient's account is deactivated",
    )
    assert mail.outbox == []


@pytest.mark.django_db
def test_digest_with_smtp_down_waits_for_the_next_run_then_fails_after_max_attempts(
    alice, rita, smtp_down, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.NEW_SUBMISSION, frequency=Frequency.DAILY
    )
    submitted(alice)
    row = Notification.objects.get(recipient=rita)

    with pytest.raises(dispatch.TransientFailure):
        notifications.deliver_digest(rita.pk)
    row.refresh_from_db()
    assert (row.status, row.claimed_at, row.attempts) == (DeliveryStatus.DIGEST, None, 1)

    assert notifications.deliver_digest(rita.pk) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 2)
    assert row.last_error.startswith("ConnectionRefusedError")


@pytest.mark.django_db
def test_released_feedback_notifies_the_authors(alice, rita, lena):
    proposal = submitted(alice)
    services.proposal_transition(
        proposal=proposal, actor=rita, action="reject_at_triage", data={"rationale": "Not now"}
    )

    services.feedback_release(proposal=proposal, actor=lena)

    [feedback] = rows(kind=NotificationKind.FEEDBACK)
    assert feedback.recipient == alice
    assert feedback.subject == f"Assessors' feedback on {proposal.reference}"
    assert feedback.url == f"/proposals/{proposal.reference}/"


@pytest.mark.django_db
def test_merging_a_duplicate_tells_its_authors_where_it_went(alice, amir, lena):
    duplicate = submitted(alice, title="Same idea")
    survivor = submitted(amir, title="Original idea")

    services.proposal_transition(
        proposal=duplicate, actor=lena, action="merge", data={"into": survivor.reference}
    )
    deliver_all()

    [merged] = rows(kind=NotificationKind.DECISION)
    assert merged.recipient == alice
    assert merged.subject == (
        f"Your proposal {duplicate.reference} has been merged into {survivor.reference}"
    )
    email = next(m for m in mail.outbox if m.subject == merged.subject)
    assert email.to == ["alice@dfe.example"]
    assert f"{SITE}/proposals/{duplicate.reference}/" in email.body


@pytest.mark.django_db
def test_beat_tasks_run_their_services(alice, rita, lena):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.NEW_SUBMISSION, frequency=Frequency.DAILY
    )
    submitted(alice)

    assert tasks.sweep_notifications.apply().get() == 0
    assert tasks.send_experiment_reminders.apply().get() == 0
    assert tasks.send_portfolio_summaries.apply().get() == 1
    assert tasks.send_digest.apply(kwargs={"user_id": rita.pk}).get() == 1
    assert tasks.expire_reports.apply().get() == 0
    assert [m.to for m in mail.outbox] == [["rita@dfe.example"]]
