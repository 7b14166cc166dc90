"""A lead plans an experiment with GOV.UK date inputs and "add another" metrics,
is refused a start without the evaluation plan their department asks for, plans
the evaluation by keyboard, and starts it: in Chromium, with axe on every page."""

from __future__ import annotations

import csv
import re
from typing import Any

import pytest

from accounts.models import Department
from proposals import reports
from proposals.enums import ExperimentStatus
from proposals.models import EvaluationPlan, Experiment, Report
from tests.browser.conftest import assert_accessible, sign_in
from tests.proposals.review_world import approved
from tests.workers.test_evaluation_registry import HEADER

pytestmark = pytest.mark.browser


def _type_date(page: Any, question: str, day: str, month: str, year: str) -> None:
    """Tab through the three inputs of a GOV.UK date input, typing each."""
    group = page.get_by_role("group", name=question)
    group.get_by_label("Day").focus()
    for value in (day, month, year):
        page.keyboard.type(value)
        page.keyboard.press("Tab")


def test_plan_an_experiment_and_its_evaluation_by_keyboard(
    page, alice, rita, lena, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    Department.objects.filter(slug="dfe").update(evaluation_plan_required=True)
    proposal = approved(alice, rita, lena)
    sign_in(page, lena.email, "correct horse battery staple")

    page.goto(f"/proposals/{proposal.reference}/experiments/new/")
    assert page.locator('input[type="date"]').count() == 0
    assert_accessible(page)
    page.get_by_label("What is the experiment called?").fill("Pilot in two offices")
    page.get_by_label("We believe that…").fill("reading forms automatically")
    page.get_by_label("…will result in…").fill("less retyping")
    page.get_by_label("We will know we are right when…").fill("hours halve")
    _type_date(page, "When does the experiment start?", "5", "", "2026")
    _type_date(page, "When does the experiment end?", "27", "3", "2026")
    first = page.get_by_role("group", name="Metric 1")
    first.get_by_label("Name").fill("Hours retyping")
    first.get_by_label("Unit").fill("hours a week")
    first.get_by_label("Baseline").fill("100")
    first.get_by_label("Target").fill("50")
    first.get_by_label("Better is").select_option(label="Decrease")

    # "Add another metric", pressed from the keyboard: the page comes back with a
    # second row and everything typed so far.
    page.get_by_role("button", name="Add another metric").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    second = page.get_by_role("group", name="Metric 2")
    assert second.is_visible()
    assert page.get_by_role("group", name="Metric 1").get_by_label("Name").input_value() == (
        "Hours retyping"
    )
    assert page.locator(".govuk-error-summary").count() == 0
    assert_accessible(page)
    second.get_by_label("Name").fill("Forms rejected")
    second.get_by_label("Unit").fill("% of forms")
    second.get_by_label("Baseline").fill("8")
    second.get_by_label("Target").fill("4")
    second.get_by_label("Better is").select_option(label="Decrease")

    # Enter in a text input submits the form (not "Remove"): the missing month is named.
    page.get_by_label("What is the experiment called?").press("Enter")
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert summary.get_by_role("link").all_inner_texts() == ["Start date must include a month"]
    assert page.title().startswith("Error: ")
    assert_accessible(page)
    summary.get_by_role("link", name="Start date must include a month").click()
    assert page.evaluate("document.activeElement.id") == "id_starts_on-month"
    page.keyboard.type("1")
    with page.expect_navigation():
        page.get_by_role("button", name="Plan experiment", exact=True).click()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator(
        ".govuk-error-summary"
    ).inner_text()
    assert re.search(r"/experiments/\d+/(#metrics)?$", page.url)
    experiment = Experiment.objects.get(proposal=proposal)
    assert [m.name for m in experiment.metrics.all()] == ["Hours retyping", "Forms rejected"]
    assert_accessible(page)

    # No plan yet: starting is refused in the page's error summary.
    page.get_by_role("button", name="Start experiment").click()
    page.wait_for_load_state()
    assert "Add an evaluation plan before starting the experiment" in (
        page.locator(".govuk-error-summary").inner_text()
    )
    assert_accessible(page)

    page.get_by_role("button", name="Plan the evaluation").click()
    page.wait_for_url(re.compile(r"/evaluation/$"))
    assert_accessible(page)
    types = page.get_by_role("group", name="What types of evaluation will you do?")
    types.get_by_label("Impact").focus()
    page.keyboard.press("Space")
    designs = page.get_by_role("group", name="If it is an impact evaluation, which designs?")
    designs.get_by_label("Difference in differences").focus()
    page.keyboard.press("Space")
    page.get_by_label("Describe the evaluation briefly").focus()
    page.keyboard.type("Two offices against two that carry on as now")
    page.get_by_role("button", name="Save the evaluation plan").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Difference in differences" in page.content()
    plan = EvaluationPlan.objects.get(experiment=experiment)
    assert plan.impact_designs == ["difference_in_differences"]
    assert plan.final_report_due.isoformat() == "2026-06-19"

    page.get_by_role("button", name="Start experiment").click()
    page.wait_for_load_state()
    assert "has started" in page.content()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    assert_accessible(page)

    # The outcome, with its benefit, then the published report's link and date.
    page.get_by_role("button", name="Record the outcome").click()
    page.wait_for_url(re.compile(r"/outcome/$"))
    page.get_by_label("Actual value of “Hours retyping” (hours a week)").fill("60")
    page.get_by_label("Actual value of “Forms rejected” (% of forms)").fill("5")
    page.get_by_label("Partly met", exact=True).check()
    page.get_by_label("What did you learn?").fill("Typed forms worked; handwriting did not")
    page.get_by_role("group", name="What do you recommend?").get_by_label(
        "Iterate", exact=True
    ).check()
    page.get_by_label("Realised benefit so far, in pounds a year").fill("12000")
    page.get_by_label("Hours saved so far, a year").fill("900")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Record outcome").click()
    assert "Benefit reviews" in page.content()
    page.get_by_role("link", name="Change the evaluation plan").click()
    page.wait_for_url(re.compile(r"/evaluation/$"))
    link = "https://www.gov.uk/government/publications/ocr-pilot-evaluation"
    page.get_by_label("Link to the published evaluation report").fill(link)
    _type_date(page, "When was the final report published?", "2", "6", "2026")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the evaluation plan").click()
    summary = page.locator("#evaluation + dl")
    reference = summary.locator("dt:has-text('Registry reference') + dd").inner_text().strip()
    assert summary.locator("dt:has-text('Status') + dd").inner_text().strip() == "Complete"

    # The Registry hand-off: requested on the page, built by the worker's own
    # function, downloaded; its header is the Registry's, its row what the page says.
    page.goto("/reports/")
    page.get_by_label("Evaluation Registry hand-off").check()
    page.get_by_label("CSV", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Request report").click()
    report = Report.objects.get(requested_by=lena, kind="evaluation_registry")
    assert reports.build(str(report.pk)) is True
    page.reload()
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download").click()
    with open(caught.value.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER
    [row] = rows[1:]
    record = dict(zip(HEADER, row, strict=True))
    assert record["reference"] == reference
    assert record["title"] == "Pilot in two offices"
    assert record["status"] == "complete"
    assert record["visibility"] == "public"
    assert record["impact_designs"] == "difference_in_differences"
    assert record["link_to_published_evaluation"] == link
    assert record["final_report_published"] == "2026-06-02"
    assert_accessible(page)
