"""The review journey in a real browser, with axe on every page: triage, assessment,
a decision from the panel sheet, an experiment that fails its target, its
lessons published, the proposal closed, and another department adopting it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from accounts.models import Department, Role
from proposals import services
from proposals.models import Adoption, Criterion, Proposal
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import UserFactory
from tests.proposals.review_world import submitted

pytestmark = pytest.mark.browser


@pytest.fixture
def people(page) -> dict[str, Any]:
    dfe = Department.objects.get(slug="dfe")
    home_office = Department.objects.get(slug="home-office")
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
        "assessor": UserFactory.create(
            email="assessor@dfe.example",
            full_name="Asha Assessor",
            department=dfe,
            role=Role.REVIEWER,
        ),
        "lead": UserFactory.create(
            email="lead@dfe.example", full_name="Leo Lead", department=dfe, role=Role.LEAD
        ),
        "adopter": UserFactory.create(
            email="submitter@homeoffice.example", full_name="Hana Submitter", department=home_office
        ),
    }


@contextmanager
def signed_in(browser: Any, live_server: Any, email: str) -> Iterator[Any]:
    """A fresh browser context signed in as this person."""
    context = browser.new_context(bypass_csp=True, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, email)
    try:
        yield page
    finally:
        context.close()


def visit(page: Any, url: str) -> None:
    page.goto(url)
    assert_accessible(page)


def click(page: Any, role: str, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name).click()
    assert_accessible(page)


def test_triage_assess_decide_experiment_publish_close_and_adopt(
    page, browser, live_server, people
):
    proposal = submitted(people["author"], title="Read scanned forms automatically")
    reference = proposal.reference

    # The reviewer triages it from the queue and assigns the assessor.
    with signed_in(browser, live_server, "reviewer@dfe.example") as reviewer:
        visit(reviewer, "/review/")
        assert "Overdue" not in reviewer.content()
        click(reviewer, "link", reference)
        reviewer.get_by_label("Asha Assessor").check()
        click(reviewer, "button", "Accept for review")
        assert f"{reference} has been accepted for review" in reviewer.content()

    # The assessor declares no conflict, then scores every criterion.
    with signed_in(browser, live_server, "assessor@dfe.example") as assessor:
        visit(assessor, "/review/")
        click(assessor, "link", f"Assess {reference}: Read scanned forms automatically")
        assessor.get_by_role("group", name=re.compile("conflict of interest")).get_by_label(
            "No", exact=True
        ).check()
        click(assessor, "button", "Continue")
        for criterion in Criterion.objects.filter(department__slug="dfe", active=True):
            assessor.get_by_role(
                "group", name=f"How well does it meet “{criterion.name}”?"
            ).get_by_label("4", exact=True).check()
        assessor.get_by_label("Fund", exact=True).check()
        click(assessor, "button", "Submit assessment")
        assert "You submitted your assessment" in assessor.content()

    # The lead approves it from the panel sheet, then runs an experiment.
    with signed_in(browser, live_server, "lead@dfe.example") as lead:
        visit(lead, "/review/panel/")
        assert "4.00" in lead.locator("table").inner_text()
        click(lead, "link", f"Decide {reference}")
        lead.get_by_label("Approve", exact=True).check()
        lead.get_by_label("Why?").fill("Strong user need and a cheap pilot")
        click(lead, "button", "Record decision")
        assert f"{reference} has been approved" in lead.content()

        visit(lead, f"/proposals/{reference}/experiments/new/")
        lead.get_by_label("What is the experiment called?").fill("OCR pilot in two offices")
        lead.get_by_label("We believe that…").fill("reading forms automatically")
        lead.get_by_label("…will result in…").fill("caseworkers retyping less")
        lead.get_by_label("We will know we are right when…").fill("retyping halves")
        lead.get_by_label("Who leads the experiment?").select_option(label="Leo Lead")
        for question, (day, month, year) in (
            ("When does the experiment start?", ("5", "1", "2026")),
            ("When does the experiment end?", ("27", "3", "2026")),
        ):
            group = lead.get_by_role("group", name=question)
            group.get_by_label("Day").fill(day)
            group.get_by_label("Month").fill(month)
            group.get_by_label("Year").fill(year)
        lead.get_by_label("Budget, in pounds").fill("20000")
        for n, (name, unit, baseline, target, direction) in enumerate(
            [
                ("Hours retyping", "hours a week", "100", "50", "Decrease"),
                ("Forms read correctly", "percent", "0", "90", "Increase"),
            ],
            start=1,
        ):
            if n > 1:
                click(lead, "button", "Add another metric")
            row = lead.get_by_role("group", name=f"Metric {n}")
            row.get_by_label("Name").fill(name)
            row.get_by_label("Unit").fill(unit)
            row.get_by_label("Baseline").fill(baseline)
            row.get_by_label("Target").fill(target)
            row.get_by_label("Better is").select_option(label=direction)
        click(lead, "button", "Plan experiment")
        assert lead.locator("table").get_by_text("Forms read correctly (percent)").count() == 1
        click(lead, "button", "Start experiment")
        visit(lead, "/experiments/")
        click(lead, "link", "OCR pilot in two offices")

        click(lead, "button", "Record the outcome")
        lead.get_by_label("Actual value of “Hours retyping” (hours a week)").fill("90")
        lead.get_by_label("Actual value of “Forms read correctly” (percent)").fill("35")
        lead.get_by_label("Not met", exact=True).check()
        lead.get_by_label("What did you learn?").fill(
            "Handwriting defeated the OCR: typed forms were fine"
        )
        lead.get_by_role("group", name="What do you recommend?").get_by_label(
            "Stop", exact=True
        ).check()
        lead.get_by_label("Realised benefit so far, in pounds a year").fill("0")
        click(lead, "button", "Record outcome")
        click(lead, "button", "Publish to the lessons library")
        assert "Published" in lead.content()
        click(lead, "link", "Close the proposal")
        lead.get_by_label("Stop", exact=True).check()
        click(lead, "button", "Close proposal")
        assert f"{reference} is closed" in lead.content()
        visit(lead, "/portfolio/")
        visit(lead, "/department/settings/")

    closed = Proposal.objects.get(reference=reference)
    assert (closed.status, closed.next_step) == ("completed", "stop")

    # Another department finds the failure in the lessons library and adopts it.
    with signed_in(browser, live_server, "submitter@homeoffice.example") as adopter:
        visit(adopter, "/lessons/")
        adopter.get_by_label("Search lessons").fill("handwriting")
        adopter.get_by_label("Result").select_option(label="Not met")
        click(adopter, "button", "Search lessons")
        click(adopter, "link", "OCR pilot in two offices")
        click(adopter, "button", "Adopt this in your department")
        adoption = Adoption.objects.get()
        assert adoption.department.slug == "home-office"
        assert adoption.proposal.status == "draft"
        assert reference in adoption.proposal.proposed_solution
        assert adoption.proposal.reference in adopter.content() or adopter.url.endswith(
            f"/proposals/{adoption.proposal.reference}/"
        )


def test_conflict_message_when_someone_else_triaged_first(page, browser, live_server, people):
    proposal = submitted(people["author"], title="Raced proposal")
    with signed_in(browser, live_server, "reviewer@dfe.example") as reviewer:
        visit(reviewer, f"/proposals/{proposal.reference}/triage/")
        # Meanwhile the lead rejects it.
        services.proposal_transition(
            proposal=proposal,
            actor=people["lead"],
            action="reject_at_triage",
            data={"rationale": "Duplicate of last year's"},
        )
        reviewer.get_by_label("Asha Assessor").check()
        with reviewer.expect_navigation():
            reviewer.get_by_role("button", name="Accept for review").click()
        assert_accessible(reviewer)
        assert "Someone else has already acted on this" in reviewer.content()
        assert f"{proposal.reference} is rejected" in reviewer.content()
