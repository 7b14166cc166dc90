"""An invitation from start to finish, in Chromium with axe: the lead invites
someone without single sign-on, the worker emails the link, the invitee makes
their account with it and is signed in."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Department, Invitation, Role, User
from proposals import notifications
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

LINK = re.compile(r"http://[^/\s]+(/accounts/invitation/[^/\s]+/)")


def test_lead_invites_and_the_invitee_accepts_with_accessible_pages(page, browser, live_server):
    dfe = Department.objects.get(slug="dfe")
    UserFactory.create(
        email="lead@dfe.example", full_name="Leo Lead", department=dfe, role=Role.LEAD
    )
    sign_in(page, "lead@dfe.example")

    page.goto("/account/")
    page.get_by_role("link", name="Invite people").click()
    assert page.get_by_role("heading", name="Invitations", exact=True).is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Invite someone").click()
    assert_accessible(page)

    page.get_by_label("Email address").fill("newton@homeoffice.example")
    page.get_by_role("button", name="Send invitation").click()
    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert "Enter an email address ending @dfe.example" in summary.inner_text()
    assert_accessible(page)

    page.get_by_label("Email address").fill("newton@dfe.example")
    page.get_by_label("Reviewer: also triages and assesses").check()
    page.get_by_role("button", name="Send invitation").click()
    assert "An invitation has been sent to newton@dfe.example" in page.content()
    assert_accessible(page)

    # The worker's part, done here: claim the row, make the token, send the email.
    invitation = Invitation.objects.get(email="newton@dfe.example")
    mail.outbox.clear()
    assert notifications.deliver_invitation(invitation.pk) is True
    [email] = mail.outbox
    found = LINK.search(str(email.body))
    assert found is not None

    invitee = browser.new_context(bypass_csp=True, base_url=live_server.url)
    invitee.set_default_timeout(10_000)
    newcomer = invitee.new_page()
    newcomer.goto(found.group(1))
    assert newcomer.get_by_role("heading", name="Create your account").is_visible()
    assert_accessible(newcomer)

    newcomer.get_by_label("Full name").fill("Isaac Newton")
    newcomer.get_by_label("Create a password").fill("short")
    newcomer.get_by_label("Confirm your password").fill("short")
    newcomer.get_by_role("button", name="Create account").click()
    assert newcomer.title().startswith("Error: ")
    assert "This password is too short" in newcomer.locator(".govuk-error-summary").inner_text()
    assert_accessible(newcomer)

    newcomer.get_by_label("Create a password").fill("a long enough passphrase 42")
    newcomer.get_by_label("Confirm your password").fill("a long enough passphrase 42")
    newcomer.get_by_role("button", name="Create account").click()
    assert "Your account has been created. Welcome, Isaac Newton" in newcomer.content()
    assert_accessible(newcomer)
    user = User.objects.get(email="newton@dfe.example")
    assert (user.department.slug, user.role) == ("dfe", "reviewer")

    # The link works once.
    newcomer.context.clear_cookies()
    newcomer.goto(found.group(1))
    assert newcomer.get_by_role("heading", name="This invitation link does not work").is_visible()
    assert_accessible(newcomer)
    invitee.close()

    page.goto("/account/invitations/")
    row = page.get_by_role("row", name=re.compile("newton@dfe.example"))
    assert "Accepted" in row.inner_text()
