"""Notifications: the outbox rows written with each change, and their delivery.

Rows are written inside the service's transaction; delivery is queued with
`transaction.on_commit`, so a rolled-back change notifies no one and a
committed one is never forgotten (the sweep re-enqueues what the broker lost).

The delivery guarantee (SPEC §5): a worker *claims* a row with a conditional
UPDATE before sending, so a redelivered or duplicated message finds nothing to
claim and sends nothing. The only duplicate possible is a worker killed after
the mail left and before the row was marked sent; every message carries the
row's id (Message-ID, X-Notification-Id, Notify `reference`) so that one is
recognisable.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from accounts.models import Invitation, InvitationEmail, User
from proposals import dispatch, messages, registry
from proposals.dispatch import TransientFailure
from proposals.enums import (
    ALWAYS_ON,
    DeliveryStatus,
    ExperimentStatus,
    Frequency,
    NotificationKind,
    Status,
)
from proposals.messages import Message
from proposals.models import (
    BenefitReview,
    EvaluationPlan,
    Experiment,
    Notification,
    NotificationPreference,
)

if TYPE_CHECKING:
    from proposals.models import Proposal

logger = logging.getLogger(__name__)

ACCOUNT_NOTIFICATIONS_PATH = "/account/notifications/"
# Namespace for the digest's idempotency key: the same set of rows always gives
# the same key, so a digest resent after a crash is recognisable as a duplicate.
DIGEST_NAMESPACE = uuid.UUID("6f1c3a52-8d7e-4b59-9a8e-0c2f4d1b7e63")


# --- writing the outbox -----------------------------------------------------------------


def frequency_of(kind: str, chosen: str | None) -> str:
    """The one rule for how a person hears about a kind of message: as they chose
    (immediately until they choose), except that a kind in `ALWAYS_ON` is never
    off, however the choice was saved (the admin, an old row)."""
    frequency = chosen if chosen in Frequency.values else Frequency.IMMEDIATE
    if frequency == Frequency.OFF and kind in ALWAYS_ON:
        return Frequency.IMMEDIATE
    return frequency


def frequencies_for(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """Each of `user_ids` with how they hear about this kind (one query)."""
    ids = list(user_ids)
    chosen = dict(
        NotificationPreference.objects.filter(user_id__in=ids, kind=kind).values_list(
            "user_id", "frequency"
        )
    )
    return {user_id: frequency_of(kind, chosen.get(user_id)) for user_id in ids}


def off_refused(kind: str) -> str:
    """Why this kind cannot be turned off, in the words of the page and its error."""
    label = NotificationKind(kind).label
    return f"You cannot turn off “{label}”. {ALWAYS_ON[kind]}"


def notify(
    *,
    recipients: Iterable[User],
    kind: NotificationKind,
    subject: str,
    body: str,
    proposal: Proposal | None = None,
    exclude: User | None = None,
    url: str | None = None,
) -> list[Notification]:
    """Write one outbox row per recipient (deduplicated) and queue their delivery on commit.

    Recipients who chose a daily digest for this kind get a row held for the
    digest instead; it shows in their in-product list at once all the same.
    Recipients who turned this kind off get no row: no email, and nothing in
    their list (what /account/notifications/ tells them "Off" means).
    """
    users: dict[int, User] = {}
    for user in recipients:
        if user.pk in users or (exclude is not None and user.pk == exclude.pk):
            continue
        if not user.is_active:
            continue
        users[user.pk] = user
    if not users:
        return []
    frequency = frequencies_for(users, kind)
    users = {pk: user for pk, user in users.items() if frequency[pk] != Frequency.OFF}
    if not users:
        return []
    path = url if url is not None else (proposal.get_absolute_url() if proposal else "")
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            proposal=proposal,
            subject=subject[:200],
            body=body,
            url=path,
            status=DeliveryStatus.DIGEST
            if frequency[user.pk] == Frequency.DAILY
            else DeliveryStatus.PENDING,
        )
        for user in users.values()
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [str(row.pk) for row in created if row.status == DeliveryStatus.PENDING]
    if ids:
        dispatch.send_on_commit(dispatch.DELIVER_NOTIFICATION, "notification_id", ids)
    return created


def send(message: Message, *, skip: Collection[int] = ()) -> list[Notification]:
    """Write the outbox rows of one message (`messages`), leaving out the users in `skip`."""
    return notify(
        recipients=[user for user in message.recipients if user.pk not in skip],
        kind=message.kind,
        subject=message.subject,
        body=message.body,
        proposal=message.proposal,
        exclude=message.exclude,
        url=message.url,
    )


def enqueue(notification_ids: Iterable[str]) -> int:
    """Hand rows to the workers; returns how many were handed over (the sweep finds the rest)."""
    return dispatch.send_each(dispatch.DELIVER_NOTIFICATION, "notification_id", notification_ids)


# --- sending --------------------------------------------------------------------------------


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if path else settings.SITE_URL


def _domain() -> str:
    return settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "localhost"


def message_id(key: uuid.UUID | str) -> str:
    return f"<{key}@{_domain()}>"


def render_body(notification: Notification) -> str:
    """The email text: greeting, what happened, the reference and a link, in GOV.UK style."""
    recipient = notification.recipient
    lines = [f"Dear {recipient.full_name or recipient.email},", "", notification.body.strip(), ""]
    if notification.proposal_id is not None and notification.proposal is not None:
        lines += [f"Reference: {notification.proposal.reference}", ""]
    if notification.url:
        lines += ["View it here:", absolute(notification.url), ""]
    lines += _footer()
    return "\n".join(lines)


def _footer() -> list[str]:
    return [
        "To choose which emails you get, and how often, go to:",
        absolute(ACCOUNT_NOTIFICATIONS_PATH),
        "",
        f"{settings.SERVICE_NAME}",
        "This is an automated email. Replies to it are not read.",
        "",
    ]


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str
    key: str  # the idempotency key: a notification id, or a digest's id


def send_email(email: OutgoingEmail) -> None:
    """Send through GOV.UK Notify when it is configured, Django's email backend otherwise.

    Raises whatever the transport raises; `classify` decides what is transient.
    """
    if settings.GOVUK_NOTIFY_API_KEY:
        _send_with_notify(email)
        return
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={
            "Message-ID": message_id(email.key),
            "X-Notification-Id": email.key,
        },
    )
    message.send()


def _send_with_notify(email: OutgoingEmail) -> None:
    client = NotificationsAPIClient(
        settings.GOVUK_NOTIFY_API_KEY,
        base_url=settings.GOVUK_NOTIFY_BASE_URL,
        timeout=settings.EMAIL_TIMEOUT,
    )
    # One generic template in Notify, "((subject))" and "((body))", carries every message;
    # the reference is Notify's own idempotency field and shows in its dashboard.
    client.send_email_notification(
        email_address=email.to,
        template_id=settings.GOVUK_NOTIFY_TEMPLATE_ID,
        personalisation={"subject": email.subject, "body": email.body},
        reference=email.key,
    )


def is_transient(error: BaseException) -> bool:
    """Worth retrying: the mail server or Notify is down, slow, or rate-limiting us.

    Anything else (a bad address Notify rejects, a bug) will not fix itself.
    """
    if isinstance(error, APIError):
        return error.status_code >= 500 or error.status_code == 429
    # smtplib.SMTPException is an OSError too; named for the reader.
    return isinstance(error, smtplib.SMTPException | OSError | TimeoutError)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def deliver(notification_id: str) -> bool:
    """Claim the row with a conditional update, send it, mark it sent.

    Returns False when there was nothing to do (already sent, failed, held for
    the digest, or another worker holds the claim), so a redelivered message
    never sends twice; also False when sending failed for good (the row is
    `failed` with the error, for operators to see: a permanent error, or a
    transient one NOTIFICATION_MAX_ATTEMPTS times). Raises TransientFailure,
    with the row released to pending, when it should be retried.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CLAIMED,
        claimed_at=now,
        heartbeat_at=now,
        unpublished=False,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient", "proposal").get(
        pk=notification_id
    )
    if not notification.recipient.is_active:
        # Deactivated since the change: their access stopped, so does their email.
        Notification.objects.filter(pk=notification.pk).update(
            status=DeliveryStatus.FAILED, last_error="The recipient's account is deactivated"
        )
        return False
    email = OutgoingEmail(
        to=notification.recipient.email,
        subject=notification.subject,
        body=render_body(notification),
        key=str(notification.pk),
    )
    try:
        # A slow mail server must not make this live claim look like a dead one.
        with dispatch.keep_alive(Notification, notification.pk, status=DeliveryStatus.CLAIMED):
            send_email(email)
    except Exception as error:
        _record_failure(notification, error)
        return False
    Notification.objects.filter(pk=notification.pk, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _record_failure(notification: Notification, error: BaseException) -> None:
    """Release the claim for a retry (raising TransientFailure) or fail the row for good."""
    description = _describe(error)
    transient = is_transient(error)
    final = not transient or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    Notification.objects.filter(pk=notification.pk, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
        last_error=description,
    )
    if final:
        logger.error(
            "Notification %s failed after %s attempt(s): %s",
            notification.pk,
            notification.attempts,
            description,
        )
        return
    logger.warning(
        "Notification %s attempt %s failed, will retry: %s",
        notification.pk,
        notification.attempts,
        description,
    )
    raise TransientFailure(description, attempts=notification.attempts) from error


# --- invitations: an email to an address, not yet a person ---------------------------------


def deliver_invitation(invitation_id: int) -> bool:
    """Claim the invitation's email, make its link's token, send it, mark it sent.

    The token is made here, by the worker that sends it, and only its hash is
    written (with the claim, in one conditional update): it is never in the
    database or the broker. A retry or a resend makes a new token, so the link
    in the latest email is the one that works. Safe to run twice: the claim is
    conditional, as `deliver`'s. An invitation withdrawn, accepted or expired
    before its email went is not sent (and fails, saying why).
    """
    now = timezone.now()
    waiting = Invitation.objects.filter(pk=invitation_id, email_status=InvitationEmail.PENDING)
    token = secrets.token_urlsafe(32)
    claimed = waiting.filter(accepted_at=None, revoked_at=None, expires_at__gt=now).update(
        email_status=InvitationEmail.CLAIMED,
        claimed_at=now,
        heartbeat_at=now,
        unpublished=False,
        attempts=F("attempts") + 1,
        token_hash=Invitation.hash_token(token),
    )
    if not claimed:
        waiting.update(
            email_status=InvitationEmail.FAILED,
            last_error="Not sent: the invitation was withdrawn, accepted or expired first",
        )
        return False
    invitation = Invitation.objects.select_related("department", "invited_by").get(pk=invitation_id)
    link = absolute(reverse("account:invitation_accept", args=[token]))
    subject, body = messages.invitation_email(invitation, link=link)
    email = OutgoingEmail(
        to=invitation.email, subject=subject, body=body, key=f"invitation-{invitation.pk}"
    )
    try:
        with dispatch.keep_alive(Invitation, invitation.pk, email_status=InvitationEmail.CLAIMED):
            send_email(email)
    except Exception as error:
        description = _describe(error)
        final = not is_transient(error) or (
            invitation.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        )
        Invitation.objects.filter(pk=invitation.pk, email_status=InvitationEmail.CLAIMED).update(
            email_status=InvitationEmail.FAILED if final else InvitationEmail.PENDING,
            last_error=description,
        )
        if final:
            logger.error("Invitation %s email failed: %s", invitation.pk, description)
            return False
        raise TransientFailure(description, attempts=invitation.attempts) from error
    Invitation.objects.filter(pk=invitation.pk, email_status=InvitationEmail.CLAIMED).update(
        email_status=InvitationEmail.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def requeue_invitations(
    *, older_than_seconds: int, handed_before: dt.datetime | None = None
) -> int:
    """Hand over again the invitation emails the broker or a dead worker lost
    (the sweep's rules, `dispatch.requeue_stale`)."""
    ids = dispatch.requeue_stale(
        Invitation,
        older_than_seconds=older_than_seconds,
        handed_before=handed_before,
        limit=1000,
        status_field="email_status",
    )
    return dispatch.send_each(dispatch.SEND_INVITATION, "invitation_id", [int(pk) for pk in ids])


# --- the sweep ------------------------------------------------------------------------------


def sweep(*, older_than_seconds: int | None = None) -> int:
    """Re-enqueue rows the broker or a worker lost; returns how many were handed over.

    - pending for too long: the message was lost (Redis down at commit, a
      retry that was never published);
    - claimed and not marked sent for too long: the worker died mid-send. The
      claim is released with a conditional update first, so only one sweep
      re-enqueues it, then it is delivered like any pending row.
    - digest rows a digest run claimed and never finished: that person's digest
      is run again.
    """
    seconds = older_than_seconds or settings.NOTIFICATION_SWEEP_AFTER_SECONDS
    ids = dispatch.requeue_stale(Notification, older_than_seconds=seconds, limit=5000)
    handed = enqueue(ids)
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    stuck_digests = (
        Notification.objects.filter(status=DeliveryStatus.DIGEST, claimed_at__lt=cutoff)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    dispatch.send_each(dispatch.SEND_DIGEST, "user_id", stuck_digests)
    handed += requeue_invitations(older_than_seconds=seconds)
    if ids:
        logger.info("Sweep re-enqueued %s notification(s)", handed)
    return handed


# --- the daily digest -------------------------------------------------------------------------


def digest_recipients() -> list[int]:
    """Everyone with rows waiting for their digest."""
    return list(
        Notification.objects.filter(status=DeliveryStatus.DIGEST, claimed_at__isnull=True)
        .values_list("recipient_id", flat=True)
        .distinct()
        .order_by("recipient_id")
    )


def digest_groups(rows: Sequence[Notification]) -> list[tuple[str, list[Notification]]]:
    """Rows grouped by proposal (or "Other updates"), groups and rows newest first."""
    groups: dict[str, list[Notification]] = {}
    for row in sorted(rows, key=lambda r: (r.created_at, str(r.pk)), reverse=True):
        if row.proposal is not None:
            heading = f"{row.proposal.reference}: {row.proposal.title}"
        else:
            heading = "Other updates"
        groups.setdefault(heading, []).append(row)
    return list(groups.items())


def render_digest(user: User, rows: Sequence[Notification]) -> tuple[str, str]:
    count = len(rows)
    subject = f"Your daily summary from {settings.SERVICE_NAME}: {count} update" + (
        "" if count == 1 else "s"
    )
    lines = [f"Dear {user.full_name or user.email},", ""]
    lines += [f"Here {'is' if count == 1 else 'are'} {count} update" + ("" if count == 1 else "s")]
    lines[-1] += " since your last summary."
    lines.append("")
    for heading, items in digest_groups(rows):
        lines += [heading, "-" * min(len(heading), 70)]
        for item in items:
            when = timezone.localtime(item.created_at).strftime("%-d %B %Y, %-I:%M%p").lower()
            lines.append(f"* {item.subject} ({when})")
        link = items[0].url
        if link:
            lines.append(absolute(link))
        lines.append("")
    lines += _footer()
    return subject, "\n".join(lines)


def deliver_digest(user_id: int) -> int:
    """Send one person's digest: claim their waiting rows, send one email, mark them sent.

    The claim is a conditional update stamped with this run's time, so two runs
    never take the same rows. Returns the number of rows sent (0: nothing to do).
    """
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
    claimable = Q(status=DeliveryStatus.DIGEST) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff)
    )
    ids = list(
        Notification.objects.filter(claimable, recipient_id=user_id).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    Notification.objects.filter(claimable, pk__in=ids).update(
        claimed_at=now, attempts=F("attempts") + 1
    )
    rows = list(
        Notification.objects.filter(
            recipient_id=user_id, status=DeliveryStatus.DIGEST, claimed_at=now
        ).select_related("proposal")
    )
    if not rows:
        return 0
    user = User.objects.get(pk=user_id)
    subject, body = render_digest(user, rows)
    key = uuid.uuid5(DIGEST_NAMESPACE, ",".join(sorted(str(row.pk) for row in rows)))
    claimed = Notification.objects.filter(pk__in=[row.pk for row in rows], claimed_at=now)
    try:
        send_email(OutgoingEmail(to=user.email, subject=subject, body=body, key=str(key)))
    except Exception as error:
        attempts = max(row.attempts for row in rows)  # counted when claimed
        final = not is_transient(error) or attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        if final:
            claimed.update(status=DeliveryStatus.FAILED, last_error=_describe(error))
            logger.error("Digest for user %s failed: %s", user_id, _describe(error))
            return 0
        claimed.update(claimed_at=None, last_error=_describe(error))
        raise TransientFailure(_describe(error), attempts=attempts) from error
    claimed.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
    return len(rows)


# --- the scheduled messages ---------------------------------------------------------------


def already_sent_today(kind: str, subject: str, recipient_ids: Iterable[int]) -> set[int]:
    """Recipients who already have this message today: a beat run twice sends once."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return set(
        Notification.objects.filter(
            kind=kind,
            subject=subject[:200],
            recipient_id__in=list(recipient_ids),
            created_at__gte=start,
        ).values_list("recipient_id", flat=True)
    )


@transaction.atomic
def remind_experiments(*, today: dt.date | None = None) -> int:
    """Daily: experiments ending in 7 days, and outcomes overdue, to their lead and the
    department's leads. Returns the number of notifications written."""
    today = today or timezone.localdate()
    written = 0
    ending = Experiment.objects.filter(
        status=ExperimentStatus.RUNNING, ends_on=today + dt.timedelta(days=7)
    ).select_related("proposal", "lead")
    overdue = (
        Experiment.objects.filter(
            status__in=[
                ExperimentStatus.RUNNING,
                ExperimentStatus.COMPLETED,
                ExperimentStatus.STOPPED,
            ],
            ends_on__lt=today,
            outcome__isnull=True,
        )
        .exclude(proposal__status__in=[Status.COMPLETED, Status.WITHDRAWN])
        .select_related("proposal", "lead")
    )
    for experiment, is_overdue in [(e, False) for e in ending] + [(e, True) for e in overdue]:
        message = messages.experiment_due(experiment, overdue=is_overdue)
        done = already_sent_today(message.kind, message.subject, [u.pk for u in message.recipients])
        written += len(send(message, skip=done))
    return written


@transaction.atomic
def remind_benefits_and_evaluations(*, now: dt.datetime | None = None) -> int:
    """Daily: benefit reviews now due, and evaluation reports due in 2 weeks or
    overdue (12 weeks after the outcome's sign-off, with no report link). Each is
    sent once: the row is claimed by a conditional update before the message is
    written, so a second run (or a second worker) writes nothing."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    written = 0
    due = BenefitReview.objects.filter(
        reviewed_on__isnull=True, due_on__lte=today, reminded_at__isnull=True
    ).select_related("outcome__benefit_owner", "outcome__experiment__proposal")
    for review in due:
        if BenefitReview.objects.filter(pk=review.pk, reminded_at__isnull=True).update(
            reminded_at=now
        ):
            written += len(send(messages.benefit_review_due(review)))
    unpublished = EvaluationPlan.objects.filter(
        report_link="", experiment__outcome__isnull=False
    ).select_related("experiment__outcome", "experiment__proposal", "experiment__lead")
    # Sign-off is the outcome's recording; its day (London) counts, not the hour.
    start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    soon = (
        start_of_today - (registry.REPORT_DEADLINE - registry.REMIND_BEFORE) + dt.timedelta(days=1)
    )
    late = start_of_today - registry.REPORT_DEADLINE
    for field, signed_before, overdue in (
        ("report_overdue_reminded_at", late, True),
        ("report_due_reminded_at", soon, False),
    ):
        for plan in unpublished.filter(
            **{f"{field}__isnull": True, "experiment__outcome__created_at__lt": signed_before}
        ):
            if overdue is False and plan.report_overdue_reminded_at is not None:
                continue  # already told it is overdue: "due in 2 weeks" would be wrong
            claimed = EvaluationPlan.objects.filter(pk=plan.pk, **{f"{field}__isnull": True})
            if not claimed.update(**{field: now}):
                continue
            deadline = registry.report_deadline(plan.experiment.outcome.created_at)
            assert deadline is not None  # the outcome exists: filtered above
            written += len(send(messages.evaluation_report_due(plan, deadline, overdue=overdue)))
    return written


# --- the in-product list and preferences -------------------------------------------------------


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("proposal")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, user: User, notification_ids: Iterable[str] | None = None) -> int:
    """Mark the user's own notifications read (all of them when no ids are given)."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        valid = []
        for value in notification_ids:
            try:
                valid.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        rows = rows.filter(pk__in=valid)
    return rows.update(read_at=timezone.now())


def preferences_for(user: User) -> dict[str, str]:
    """Every kind with how the user hears about it (`frequency_of`)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "frequency"))
    return {kind: frequency_of(kind, chosen.get(kind)) for kind in NotificationKind.values}


@transaction.atomic
def preferences_set(*, user: User, choices: dict[str, str]) -> dict[str, str]:
    """Save immediate, daily or off per kind; unknown kinds or values are ignored.

    Raises ValidationError, saving nothing, when a kind in `ALWAYS_ON` is turned off.
    """
    refused = {
        kind: [off_refused(kind)]
        for kind, frequency in choices.items()
        if frequency == Frequency.OFF and kind in ALWAYS_ON
    }
    if refused:
        raise ValidationError(refused)
    for kind, frequency in choices.items():
        if kind not in NotificationKind.values or frequency not in Frequency.values:
            continue
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"frequency": frequency}
        )
    return preferences_for(user)
