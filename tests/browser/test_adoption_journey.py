"""Adoption shown both ways, in a real browser with axe on every page: another
department adopts a lesson, the copy says where it came from, and the original
and the lesson say who adopted them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from accounts.models import Department, Role
from proposals import services
from proposals.models import Adoption, Outcome
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import UserFactory
from tests.proposals.review_world import approved, planned, with_outcome

pytestmark = pytest.mark.browser


@pytest.fixture
def lesson(page) -> Outcome:
    dfe = Department.objects.get(slug="dfe")
    author = UserFactory.create(email="submitter@dfe.example", department=dfe)
    reviewer = UserFactory.create(email="reviewer@dfe.example", department=dfe, role=Role.REVIEWER)
    lead = UserFactory.create(email="lead@dfe.example", department=dfe, role=Role.LEAD)
    original = approved(author, reviewer, lead, title="Read scanned forms automatically")
    outcome = with_outcome(planned(original, lead, title="OCR pilot in two offices"), lead)
    return Outcome.objects.get(pk=outcome.pk)


def visit(page: Any, url: str) -> None:
    page.goto(url)
    assert_accessible(page)


def click(page: Any, role: str, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name).first.click()
    assert_accessible(page)


def text(page: Any) -> str:
    return re.sub(r"\s+", " ", page.locator("main").inner_text())


def test_adopt_a_lesson_then_the_copy_the_original_and_the_lesson_show_it(
    page, browser, live_server, lesson
):
    original = lesson.experiment.proposal
    UserFactory.create(
        email="submitter@homeoffice.example",
        full_name="Hana Submitter",
        department=Department.objects.get(slug="home-office"),
    )
    sign_in(page, "submitter@homeoffice.example")

    visit(page, "/lessons/")
    assert "Adopted by No department yet" in text(page)
    click(page, "link", "OCR pilot in two offices")
    assert "No department has adopted this lesson yet." in text(page)
    click(page, "button", "Adopt this in your department")

    copy = Adoption.objects.get().proposal
    assert page.url.endswith(f"/proposals/{copy.reference}/")
    assert f"Adopted from {original.reference}: {original.title}" in text(page)

    click(page, "link", original.reference)
    assert page.url.endswith(f"/proposals/{original.reference}/")
    assert "Adopted by 1 department: 0 met their target" in text(page)
    assert page.get_by_role("link", name=f"{copy.title} ({copy.reference})").is_visible()

    visit(page, f"/proposals/{copy.reference}/")
    click(page, "link", "Read the lesson it adopted")
    assert "Adopted by 1 department: 0 met their target" in text(page)
    visit(page, "/lessons/")
    assert "Adopted by 1 department: 0 met their target" in text(page)

    # The lesson's own department sees the adoption once the copy is submitted, not before.
    lead = browser.new_context(bypass_csp=True, base_url=live_server.url)
    lead_page = lead.new_page()
    try:
        sign_in(lead_page, "lead@dfe.example")
        visit(lead_page, f"/lessons/{lesson.pk}/")
        assert "No department has adopted this lesson yet." in text(lead_page)
        services.proposal_transition(proposal=copy, actor=copy.submitter, action="submit")
        visit(lead_page, f"/lessons/{lesson.pk}/")
        assert "Adopted by 1 department: 0 met their target" in text(lead_page)
        visit(lead_page, f"/proposals/{original.reference}/")
        assert "Adopted by 1 department: 0 met their target" in text(lead_page)
    finally:
        lead.close()

    # The adopting department's portfolio counts it, with its data table.
    UserFactory.create(
        email="lead@homeoffice.example",
        department=Department.objects.get(slug="home-office"),
        role=Role.LEAD,
    )
    home = browser.new_context(bypass_csp=True, base_url=live_server.url)
    home_page = home.new_page()
    try:
        sign_in(home_page, "lead@homeoffice.example")
        visit(home_page, "/portfolio/")
        assert "Adoptions: 1 proposal adopted from other departments, 0 met their target" in text(
            home_page
        )
        table = home_page.get_by_role(
            "table", name="Proposals adopted from other departments, by department"
        )
        assert re.sub(r"\s+", " ", table.inner_text()).endswith("Home Office 1 0")
    finally:
        home.close()
