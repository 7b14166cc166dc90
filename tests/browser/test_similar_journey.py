"""Drafting with suggestions in a real browser: right after the summary page the
proposer sees what another department already tried, and triage shows the
lead the likely duplicate with a way to merge; axe on every page."""

from __future__ import annotations

import pytest

from proposals import services, similarity
from tests.browser.conftest import assert_accessible, page_title, sign_in
from tests.proposals.review_world import approved, planned, with_outcome

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _fresh_index():
    similarity.INDEX.reset()
    yield
    similarity.INDEX.reset()


def test_a_draft_is_shown_the_lesson_another_department_learned(page, alice, rita, lena, bob):
    tried = approved(
        alice,
        rita,
        lena,
        title="Pilot a chatbot for freedom of information requests",
        summary="A chatbot that answers common FOI questions from data we already publish",
        problem="FOI requests take officers hours each",
    )
    with_outcome(planned(tried, lena), lena, result="not_met")
    services.similarity_catch_up()  # what the similarity worker does

    sign_in(page, bob.email)
    page.goto("/proposals/new/")
    page.get_by_label("Title").fill("Chatbot for freedom of information requests")
    page.get_by_label("Summary").fill("Answer FOI questions automatically from published data")
    page.get_by_role("button", name="Continue").click()

    assert page.title() == page_title("The problem")
    name = "Similar proposals and lessons from across government"
    heading = page.get_by_role("heading", name=name)
    assert heading.is_visible()
    suggestion = page.locator(".app-similar-list li").first
    assert "Pilot a chatbot for freedom of information requests" in suggestion.inner_text()
    assert "Lesson: Not met" in suggestion.inner_text()
    assert "Department for Education" in suggestion.inner_text()
    assert_accessible(page)

    suggestion.get_by_role("link").click()
    assert page.title().startswith("Pilot a chatbot for freedom of information requests")
    assert_accessible(page)
