"""Invitations: a lead invites an address at the department's domain, the worker
emails a single-use link, and the person makes their account with it."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import (
    Department,
    Invitation,
    InvitationEmail,
    InvitationState,
    Role,
    User,
)
from proposals import dispatch, notifications, services, tasks
from proposals.exceptions import ActionNotAllowed, InvalidTransition, InvitationUnusable
from proposals.models import AuditEvent
from tests.factories import UserFactory
from tests.pages import page_title, title_of
from tests.proposals.pages import html

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"
LINK = re.compile(r"http://[^/\s]+(/accounts/invitation/[^/\s]+/)")


def _invite(
    lead: User, email: str = "newton@dfe.example", role: str = Role.SUBMITTER
) -> Invitation:
    return services.invitation_create(actor=lead, email=email, role=role)


def _send(invitation: Invitation) -> str:
    """Deliver the invitation's email as the worker does; the path of its link."""
    mail.outbox.clear()
    assert notifications.deliver_invitation(invitation.pk) is True
    [email] = mail.outbox
    found = LINK.search(str(email.body))
    assert found is not None, email.body
    return found.group(1)


def _token(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _error(lead: User, email: str, role: str = Role.SUBMITTER) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        services.invitation_create(actor=lead, email=email, role=role)
    return caught.value.message_dict


@pytest.fixture
def lars(home_office) -> User:
    """The Home Office's portfolio lead."""
    return UserFactory.create(
        email="lars@homeoffice.example", full_name="Lars Lead", department=home_office, role="lead"
    )


# --- the service: who may invite whom ---------------------------------------------------------


def test_invitation_create_by_a_lead_is_audited_and_queued_on_commit(
    lena, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        invitation = _invite(lena, " Newton@DfE.example ", role=Role.REVIEWER)

    assert (invitation.email, invitation.department.slug, invitation.role) == (
        "newton@dfe.example",
        "dfe",
        "reviewer",
    )
    assert invitation.invited_by == lena
    assert invitation.token_hash == ""  # made by the worker that sends it
    assert invitation.email_status == InvitationEmail.PENDING
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)
    assert len(callbacks) == 1
    event = AuditEvent.objects.get(action="invite")
    assert (event.actor, event.department, event.object_id) == (
        lena,
        lena.department,
        str(invitation.pk),
    )
    assert event.changes == {"email": [None, "newton@dfe.example"], "role": [None, "reviewer"]}


def test_invitation_expiry_follows_the_setting(lena, settings):
    settings.INVITATION_EXPIRY_DAYS = 2

    invitation = _invite(lena)

    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=2)


def test_invitation_create_refuses_another_departments_domain_and_subdomains(lena):
    assert _error(lena, "bob.new@homeoffice.example") == {
        "email": ["Enter an email address ending @dfe.example"]
    }
    # The rule single sign-on uses (Department.objects.for_email): the domain
    # itself, never a subdomain of it.
    assert _error(lena, "head@school.dfe.example") == {
        "email": ["Enter an email address ending @dfe.example"]
    }
    assert _error(lena, "someone@unknown.example") == {
        "email": ["Enter an email address ending @dfe.example"]
    }
    assert not Invitation.objects.exists()


def test_invitation_create_refuses_an_address_not_in_email_format(lena):
    for bad in ("newton", "newton@", "@dfe.example", "new ton@dfe.example"):
        assert _error(lena, bad) == {
            "email": ["Enter an email address in the format name@example.gov.uk"]
        }, bad
    assert _error(lena, "  ") == {"email": ["Enter an email address"]}


def test_invitation_create_refuses_a_role_a_lead_cannot_grant(lena):
    assert _error(lena, "newton@dfe.example", role=Role.ANALYST) == {
        "role": ["Select what they will do: submit, review or lead"]
    }


def test_invitation_create_refuses_someone_who_already_has_an_account_in_the_department(
    lena, alice
):
    assert _error(lena, "Alice@dfe.example") == {
        "email": ["alice@dfe.example already has an account in Department for Education"]
    }


def test_invitation_to_an_address_whose_account_is_elsewhere_discloses_nothing_to_the_lead(
    client, lena, home_office
):
    # Moved to the Home Office, keeping their DfE address.
    UserFactory.create(email="moved@dfe.example", department=home_office)

    invitation = _invite(lena, "moved@dfe.example")
    path = _send(invitation)

    assert invitation.state == InvitationState.PENDING
    response = client.get(path)
    assert response.status_code == 409
    assert title_of(response) == page_title("You already have an account")
    with pytest.raises(InvitationUnusable) as caught:
        services.invitation_accept(token=_token(path), full_name="M", password=PASSWORD)
    assert caught.value.reason == "account_exists"


def test_invitation_create_refuses_an_address_already_invited_until_it_expires_or_is_withdrawn(
    lena,
):
    first = _invite(lena)
    until = timezone.localtime(first.expires_at)

    assert _error(lena, "NEWTON@dfe.example") == {
        "email": [
            f"newton@dfe.example has already been invited, until {until:%-d %B %Y}. "
            "Withdraw that invitation to send a new one"
        ]
    }
    Invitation.objects.filter(pk=first.pk).update(expires_at=timezone.now())
    second = _invite(lena)
    services.invitation_revoke(invitation=second, actor=lena)
    third = _invite(lena)
    assert Invitation.objects.count() == 3
    assert third.state == InvitationState.PENDING


def test_only_leads_and_operators_may_invite(rita, alice, ana, lena):
    for person in (rita, alice, ana):
        with pytest.raises(ActionNotAllowed):
            _invite(person)
    lena.is_active = False
    with pytest.raises(ActionNotAllowed):
        _invite(lena)


def test_an_operator_invites_to_the_department_the_address_belongs_to(alice):
    alice.is_staff = True

    invitation = _invite(alice, "new.person@homeoffice.example")

    assert invitation.department.slug == "home-office"
    assert _error(alice, "x@nowhere.example") == {
        "email": ["No department uses the email domain nowhere.example: enter a department's"]
    }


def test_a_department_without_an_email_domain_cannot_invite(reference_data):
    body = Department.objects.create(slug="new-body", name="A new body", email_domain="")
    lead = UserFactory.create(email="lead@newbody.example", department=body, role=Role.LEAD)

    assert _error(lead, "x@newbody.example") == {
        "email": [
            "A new body has no email domain, so no one can be invited to it yet. "
            "Ask the service team to add it"
        ]
    }


def test_invitation_revoke_by_another_departments_lead_is_refused(lena, lars):
    invitation = _invite(lena)

    with pytest.raises(ActionNotAllowed):
        services.invitation_revoke(invitation=invitation, actor=lars)

    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_invitation_revoke_is_audited_and_an_accepted_one_cannot_be(lena):
    invitation = _invite(lena)
    services.invitation_revoke(invitation=invitation, actor=lena)
    services.invitation_revoke(invitation=invitation, actor=lena)  # twice: once
    assert AuditEvent.objects.filter(action="revoke_invitation").count() == 1

    accepted = _invite(lena, "ada@dfe.example")
    services.invitation_accept(token=_token(_send(accepted)), full_name="Ada", password=PASSWORD)
    with pytest.raises(InvalidTransition, match="it has been accepted"):
        services.invitation_revoke(invitation=accepted, actor=lena)


# --- the email ---------------------------------------------------------------------------------


def test_the_worker_sends_a_link_whose_token_only_it_knew(lena):
    invitation = _invite(lena, role=Role.REVIEWER)

    path = _send(invitation)

    [email] = mail.outbox
    assert email.to == ["newton@dfe.example"]
    assert email.subject == "You have been invited to Propose an innovation"
    assert "Lena Lead has invited you to use Propose an innovation at Department for " in email.body
    assert "as a reviewer." in email.body
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.email_status == InvitationEmail.SENT
    assert stored.attempts == 1
    assert stored.token_hash == Invitation.hash_token(_token(path))
    assert _token(path) not in str(list(Invitation.objects.values()))


def test_the_invitation_email_is_sent_once_however_often_its_task_runs(lena):
    invitation = _invite(lena)
    _send(invitation)

    assert notifications.deliver_invitation(invitation.pk) is False
    assert len(mail.outbox) == 1


def test_an_invitation_withdrawn_before_its_email_went_is_not_sent(lena):
    invitation = _invite(lena)
    services.invitation_revoke(invitation=invitation, actor=lena)

    assert notifications.deliver_invitation(invitation.pk) is False

    assert mail.outbox == []
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.email_status == InvitationEmail.FAILED
    assert stored.token_hash == ""


def test_the_sweep_hands_over_an_invitation_email_whose_worker_died(lena):
    invitation = _invite(lena)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Invitation.objects.filter(pk=invitation.pk).update(
        email_status=InvitationEmail.CLAIMED, claimed_at=long_ago, heartbeat_at=long_ago, attempts=1
    )

    ids = dispatch.requeue_stale(
        Invitation, older_than_seconds=60, limit=10, status_field="email_status"
    )

    assert ids == [str(invitation.pk)]
    assert Invitation.objects.get(pk=invitation.pk).email_status == InvitationEmail.PENDING
    path = _send(invitation)
    assert Invitation.objects.get(pk=invitation.pk).token_hash == Invitation.hash_token(
        _token(path)
    )


def test_the_notifications_sweep_hands_over_an_invitation_email_the_broker_lost(lena):
    invitation = _invite(lena)
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )

    assert notifications.sweep() == 1
    # A second sweep straight away leaves it to the message just sent.
    assert notifications.sweep() == 0
    assert Invitation.objects.get(pk=invitation.pk).email_status == InvitationEmail.PENDING


def test_a_workers_catch_up_hands_over_an_invitation_email_sent_before_it_connected(lena):
    invitation = _invite(lena)
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=30)
    )

    tasks.catch_up(connected_at=time.time() - 20)

    handed = Invitation.objects.get(pk=invitation.pk).claimed_at
    assert handed is not None and handed > timezone.now() - dt.timedelta(seconds=5)


# --- accepting ----------------------------------------------------------------------------------


def test_invitation_accept_makes_the_account_in_the_department_with_the_role(lena):
    invitation = _invite(lena, role=Role.REVIEWER)
    token = _token(_send(invitation))

    user = services.invitation_accept(token=token, full_name=" Isaac Newton ", password=PASSWORD)

    assert (user.email, user.full_name, user.department.slug, user.role) == (
        "newton@dfe.example",
        "Isaac Newton",
        "dfe",
        "reviewer",
    )
    assert user.check_password(PASSWORD)
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.state == InvitationState.ACCEPTED
    assert stored.user == user
    event = AuditEvent.objects.get(action="accept_invitation")
    assert (event.actor, event.department) == (user, lena.department)


def test_an_invitation_link_works_once(lena):
    token = _token(_send(_invite(lena)))
    services.invitation_accept(token=token, full_name="Isaac Newton", password=PASSWORD)

    with pytest.raises(InvitationUnusable) as caught:
        services.invitation_accept(token=token, full_name="Someone Else", password=PASSWORD)

    assert caught.value.reason == "accepted"
    assert User.objects.filter(email="newton@dfe.example").count() == 1


def test_an_expired_or_unknown_link_makes_no_account(lena):
    invitation = _invite(lena)
    token = _token(_send(invitation))
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())

    for given, reason in ((token, "expired"), ("not-a-token", "unknown"), ("", "unknown")):
        with pytest.raises(InvitationUnusable) as caught:
            services.invitation_accept(token=given, full_name="Isaac", password=PASSWORD)
        assert caught.value.reason == reason
    assert not User.objects.filter(email="newton@dfe.example").exists()


def test_invitation_accept_checks_the_password_with_djangos_validators(lena):
    token = _token(_send(_invite(lena)))

    with pytest.raises(ValidationError) as caught:
        services.invitation_accept(token=token, full_name="", password="12345678")

    assert caught.value.message_dict == {
        "full_name": ["Enter your full name"],
        "password": ["This password is too common.", "This password is entirely numeric."],
    }
    assert not User.objects.filter(email="newton@dfe.example").exists()


# --- the pages --------------------------------------------------------------------------------


def test_invitations_page_lists_pending_accepted_expired_and_withdrawn(client, lena, lars):
    pending = _invite(lena, "pending@dfe.example")
    accepted = _invite(lena, "accepted@dfe.example")
    services.invitation_accept(
        token=_token(_send(accepted)), full_name="Accepted One", password=PASSWORD
    )
    expired = _invite(lena, "expired@dfe.example")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    services.invitation_revoke(invitation=_invite(lena, "withdrawn@dfe.example"), actor=lena)
    _invite(lars, "elsewhere@homeoffice.example")
    client.force_login(lena)

    response = client.get("/account/invitations/")

    body = html(response)
    assert title_of(response) == page_title("Invitations")
    for email, tag in (
        ("pending@dfe.example", "Pending"),
        ("accepted@dfe.example", "Accepted"),
        ("expired@dfe.example", "Expired"),
        ("withdrawn@dfe.example", "Withdrawn"),
    ):
        row = body.split(f'<td class="govuk-table__cell">{email}</td>', 1)[1].split("</tr>")[0]
        assert f">{tag}</strong>" in row, email
    assert "elsewhere@homeoffice.example" not in body
    assert f'href="/account/invitations/{pending.pk}/withdraw/"' in body
    assert body.count("/withdraw/") == 1
    assert 'href="/account/invitations/new/"' in body


def test_invitations_page_runs_the_same_queries_however_many_invitations(client, lena):
    client.force_login(lena)
    _invite(lena, "one@dfe.example")
    with CaptureQueriesContext(connection) as one:
        client.get("/account/invitations/")
    for n in range(5):
        _invite(lena, f"more{n}@dfe.example")

    with CaptureQueriesContext(connection) as six:
        response = client.get("/account/invitations/")

    assert response.status_code == 200
    assert html(response).count("/withdraw/") == 6
    assert len(six) == len(one)


def test_signed_out_visitors_are_sent_to_sign_in_from_the_invitation_pages(client, lena):
    invitation = _invite(lena)

    for url in (
        "/account/invitations/",
        "/account/invitations/new/",
        f"/account/invitations/{invitation.pk}/withdraw/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_only_leads_see_the_invitation_pages(client, rita, lena):
    invitation = _invite(lena)
    client.force_login(rita)

    assert client.get("/account/invitations/").status_code == 403
    assert client.get("/account/invitations/new/").status_code == 403
    assert client.post(f"/account/invitations/{invitation.pk}/withdraw/").status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_another_departments_invitation_is_not_found(client, lena, lars):
    invitation = _invite(lena)
    client.force_login(lars)

    response = client.post(f"/account/invitations/{invitation.pk}/withdraw/")

    assert response.status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_invite_page_shows_each_error_in_the_summary(client, lena):
    client.force_login(lena)

    empty = client.post("/account/invitations/new/", {"email": "", "role": ""})
    wrong = client.post(
        "/account/invitations/new/", {"email": "x@homeoffice.example", "role": "lead"}
    )
    badly = client.post("/account/invitations/new/", {"email": "x@", "role": "lead"})

    assert empty.status_code == 400
    assert title_of(empty) == page_title("Invite someone", error=True)
    assert '<a href="#id_email">Enter an email address</a>' in html(empty)
    assert '<a href="#id_role_0">Select their role</a>' in html(empty)
    assert '<a href="#id_email">Enter an email address ending @dfe.example</a>' in html(wrong)
    assert (
        '<a href="#id_email">Enter an email address in the format name@example.gov.uk</a>'
        in html(badly)
    )
    assert "It must end @dfe.example." in html(empty)
    assert not Invitation.objects.exists()


def test_invite_page_sends_and_says_so(client, lena, django_capture_on_commit_callbacks):
    client.force_login(lena)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/account/invitations/new/", {"email": "newton@dfe.example", "role": "reviewer"}
        )

    assert response.status_code == 302
    assert response["Location"] == "/account/invitations/"
    assert len(callbacks) == 1
    listed = html(client.get("/account/invitations/"))
    assert "An invitation has been sent to newton@dfe.example" in listed
    assert Invitation.objects.get().role == "reviewer"


def test_withdraw_page_asks_then_withdraws(client, lena):
    invitation = _invite(lena)
    client.force_login(lena)

    asked = client.get(f"/account/invitations/{invitation.pk}/withdraw/")
    response = client.post(f"/account/invitations/{invitation.pk}/withdraw/")

    assert title_of(asked) == page_title("Are you sure you want to withdraw this invitation?")
    assert response.status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).state == InvitationState.REVOKED


def test_accept_page_makes_the_account_and_signs_in(client, lena):
    path = _send(_invite(lena, role=Role.REVIEWER))

    shown = client.get(path)
    response = client.post(
        path,
        {"full_name": "Isaac Newton", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert title_of(shown) == page_title("Create your account")
    assert "no-store" in shown["Cache-Control"]  # the link's token is in its address
    assert "You have been invited as a reviewer" in html(shown)
    assert "newton@dfe.example" in html(shown)
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(email="newton@dfe.example")
    assert client.session["_auth_user_id"] == str(user.pk)
    home = html(client.get("/"))
    assert "Your account has been created. Welcome, Isaac Newton" in home


def test_accept_page_errors_in_the_summary(client, lena):
    path = _send(_invite(lena))

    empty = client.post(path, {"full_name": "", "password": "", "password_confirm": ""})
    mismatch = client.post(
        path, {"full_name": "Isaac", "password": PASSWORD, "password_confirm": PASSWORD + "x"}
    )
    weak = client.post(
        path, {"full_name": "Isaac", "password": "short", "password_confirm": "short"}
    )

    assert empty.status_code == 400
    assert title_of(empty) == page_title("Create your account", error=True)
    for text in ("Enter your full name", "Enter a password", "Confirm your password"):
        assert f">{text}</a>" in html(empty), text
    assert '<a href="#id_password_confirm">The passwords do not match</a>' in html(mismatch)
    assert (
        '<a href="#id_password">This password is too short. It must contain at least 8 '
        "characters.</a>" in html(weak)
    )
    assert not User.objects.filter(email="newton@dfe.example").exists()


def test_accept_page_for_a_used_expired_withdrawn_or_unknown_link(client, lena):
    used = _send(_invite(lena, "used@dfe.example"))
    services.invitation_accept(token=_token(used), full_name="Used", password=PASSWORD)
    expired_invitation = _invite(lena, "expired@dfe.example")
    expired = _send(expired_invitation)
    Invitation.objects.filter(pk=expired_invitation.pk).update(expires_at=timezone.now())
    withdrawn_invitation = _invite(lena, "withdrawn@dfe.example")
    withdrawn = _send(withdrawn_invitation)
    services.invitation_revoke(invitation=withdrawn_invitation, actor=lena)

    for path, status, text in (
        (used, 410, "The invitation has already been used to create an account."),
        (expired, 410, "The invitation has expired."),
        (withdrawn, 410, "The invitation has been withdrawn."),
        ("/accounts/invitation/nonsense/", 404, "Check that you copied the whole link"),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert title_of(response) == page_title("This invitation link does not work")
        assert text in html(response)
        posted = client.post(
            path, {"full_name": "X", "password": PASSWORD, "password_confirm": PASSWORD}
        )
        assert posted.status_code == status
    assert (
        User.objects.filter(email__in=["expired@dfe.example", "withdrawn@dfe.example"]).count() == 0
    )


def test_accept_page_while_signed_in_asks_to_sign_out_first(client, lena, alice):
    path = _send(_invite(lena))
    client.force_login(alice)

    response = client.get(path)

    assert response.status_code == 409
    assert title_of(response) == page_title("You are already signed in")
    assert not User.objects.filter(email="newton@dfe.example").exists()
