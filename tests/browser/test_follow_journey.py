"""Following a proposal and choosing how to hear of it, in Chromium with axe: support
with "Tell me what happens to this proposal" ticked, a change of status, the
notification on /account/notifications/, and the preferences' Off (and its error)."""

from __future__ import annotations

import pytest

from accounts.models import Department, Role
from proposals import services
from proposals.models import Follow, NotificationPreference
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import UserFactory
from tests.proposals.review_world import submitted

pytestmark = pytest.mark.browser

BOX = "Tell me what happens to this proposal"


@pytest.fixture
def people(page) -> dict[str, object]:
    dfe = Department.objects.get(slug="dfe")
    return {
        "author": UserFactory.create(
            email="submitter@dfe.example", full_name="Sam Submitter", department=dfe
        ),
        "reviewer": UserFactory.create(
            email="reviewer@dfe.example",
            full_name="Rhea Reviewer",
            department=dfe,
            role=Role.REVIEWER,
        ),
        "supporter": UserFactory.create(
            email="submitter@homeoffice.example",
            full_name="Hana Submitter",
            department=Department.objects.get(slug="home-office"),
        ),
    }


def test_support_with_follow_then_a_status_change_is_in_the_notifications(page, people):
    proposal = submitted(people["author"])
    sign_in(page, "submitter@homeoffice.example")

    page.goto(proposal.get_absolute_url())
    assert_accessible(page)
    support_form = page.locator(f"form[action='/proposals/{proposal.reference}/support/']")
    support_form.get_by_label(BOX).check()
    support_form.get_by_role("button", name="Support this proposal").click()

    assert "we will tell you what happens to it" in page.content()
    assert page.get_by_role("button", name="Stop following").is_visible()
    assert_accessible(page)
    assert Follow.objects.filter(proposal=proposal, user=people["supporter"]).exists()

    services.proposal_transition(
        proposal=proposal,
        actor=people["reviewer"],
        action="accept",
        data={"assessors": [people["reviewer"].pk]},
    )
    page.goto("/account/notifications/")

    link = page.get_by_role("link", name=f"Update on {proposal.reference}: in review")
    assert link.is_visible()
    assert "has been accepted for review" in page.content()
    assert_accessible(page)

    page.goto(proposal.get_absolute_url())
    page.get_by_role("button", name="Stop following").click()
    assert f"You no longer follow {proposal.reference}" in page.content()
    assert page.get_by_role("button", name="Follow this proposal").is_visible()
    assert not Follow.objects.exists()


def test_preferences_off_and_the_refusal_with_javascript(page, people):
    sign_in(page, "submitter@homeoffice.example")
    page.goto("/account/notifications/")
    assert_accessible(page)

    followed = page.get_by_role("group", name="Something happened to a proposal you follow")
    followed.get_by_label("Off").check()
    page.get_by_role("button", name="Save preferences").click()

    assert "Your email preferences have been saved" in page.content()
    assert NotificationPreference.objects.get(kind="followed_proposal_changed").frequency == "off"
    assert_accessible(page)

    # A page older than the rule (or a hand-made request) sends "off" for a kind that
    # cannot be turned off: refused in plain English, with the GOV.UK error summary.
    assigned = page.get_by_role("group", name="You were assigned to assess a proposal")
    assert assigned.get_by_label("Off").count() == 0
    page.evaluate(
        "() => { const r = document.querySelector('input[name=assigned][value=immediate]');"
        " r.value = 'off'; r.checked = true; }"
    )
    page.get_by_role("button", name="Save preferences").click()

    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.title().startswith("Error: ")
    assert "You cannot turn off “You were assigned to assess a proposal”" in summary.inner_text()
    # GOV.UK Frontend's JavaScript moved focus to the summary (the form posts to the page
    # itself, not to #preferences, whose jump would take the focus away from it).
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    assert_accessible(page)
