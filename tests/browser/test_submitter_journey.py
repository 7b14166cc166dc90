"""The submitter's journey in a real browser, with axe on every page visited."""

from __future__ import annotations

import re

import pytest

from proposals import services
from proposals.enums import Visibility
from tests.browser.conftest import assert_accessible, page_title, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

PROBLEM = "Teachers copy attendance registers into spreadsheets by hand every week"


@pytest.fixture
def submitters(page, dfe, home_office):
    # `dfe` and `home_office` come through `reference_data`, which puts the
    # departments back if an earlier transactional test flushed them.
    return (
        UserFactory.create(
            email="submitter@dfe.example", full_name="Sam Submitter", department=dfe
        ),
        UserFactory.create(
            email="submitter@homeoffice.example", full_name="Hana Holt", department=home_office
        ),
    )


def test_propose_save_return_submit_then_found_and_supported_elsewhere(
    page, browser, live_server, submitters
):
    dfe_submitter, _ = submitters
    sign_in(page, "submitter@dfe.example")
    assert_accessible(page)

    # Propose with a missing answer: the error summary links to the field.
    page.goto("/proposals/new/")
    assert page.title() == page_title("About your idea")
    assert_accessible(page)
    page.get_by_label("Title").fill("Read attendance registers automatically")
    page.get_by_role("button", name="Continue").click()
    assert page.title() == page_title("About your idea", error=True)
    summary = page.locator(".govuk-error-summary")
    assert summary.get_by_role("link").all_inner_texts() == ["Enter a summary"]
    assert_accessible(page)
    summary.get_by_role("link", name="Enter a summary").click()
    assert page.evaluate("() => document.activeElement.id") == "id_summary"

    # Fix it and carry on; save a draft part way.
    page.get_by_label("Summary").fill("Scan paper registers and fill in the spreadsheet")
    page.get_by_role("button", name="Continue").click()
    assert page.title() == page_title("The problem")
    assert_accessible(page)
    page.get_by_label("What problem are you trying to solve?").fill(PROBLEM)
    page.get_by_label("Who has this problem?").fill("Teachers and school office staff")
    page.get_by_role("button", name="Continue").click()
    assert page.title() == page_title("Your idea and its benefits")
    page.get_by_label("What do you propose?").fill("Use OCR on scanned registers")
    page.get_by_label("What benefits do you expect?").fill("Two hours a week for each school")
    page.get_by_role("button", name="Save as draft").click()
    banner = page.locator(".govuk-notification-banner--success")
    assert "has been saved" in banner.inner_text()
    found = re.search(r"DFE-\d{4}-\d{4}", banner.inner_text())
    assert found is not None
    reference = found.group(0)
    assert_accessible(page)

    # Return later from the home page and submit.
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name=f"Read attendance registers automatically ({reference})").click()
    page.get_by_role("button", name="Check your answers and submit").click()
    assert page.title() == page_title("Check your answers before submitting your proposal")
    assert_accessible(page)
    page.get_by_role("button", name="Submit proposal").click()
    # The cost was never answered: the summary links to its question page.
    assert page.title() == page_title(
        "Check your answers before submitting your proposal", error=True
    )
    assert_accessible(page)
    page.locator(".govuk-error-summary").get_by_role(
        "link", name="Select an estimated cost"
    ).click()
    assert page.title() == page_title("Costs and benefits")
    assert_accessible(page)
    page.get_by_label("£10,000 to £50,000").check()
    page.get_by_role("button", name="Continue").click()
    assert page.title() == page_title("Check your answers before submitting your proposal")
    page.get_by_role("button", name="Submit proposal").click()

    assert page.title() == page_title("Proposal submitted")
    assert page.locator(".govuk-panel__body strong").inner_text() == reference
    assert_accessible(page)

    # Someone in another department finds it by a word of its problem and supports it.
    other = browser.new_context(bypass_csp=True, base_url=live_server.url)
    other_page = other.new_page()
    sign_in(other_page, "submitter@homeoffice.example")
    other_page.goto("/proposals/")
    assert_accessible(other_page)
    other_page.get_by_label("Search proposals").fill("attendance")
    other_page.get_by_role("button", name="Search", exact=True).click()
    assert_accessible(other_page)
    other_page.get_by_role("link", name="Read attendance registers automatically").click()
    assert other_page.title() == page_title(
        f"Read attendance registers automatically ({reference})"
    )
    assert_accessible(other_page)
    other_page.get_by_role("button", name="Support this proposal").click()
    assert "1 person supports this proposal." in other_page.locator("main").inner_text()
    assert_accessible(other_page)

    # A department-only proposal stays invisible to them.
    secret = services.proposal_create_draft(
        author=dfe_submitter,
        data={"title": "Department only idea", "visibility": Visibility.DEPARTMENT},
    )
    response = other_page.goto(f"/proposals/{secret.reference}/")
    assert response.status == 404
    assert other_page.title() == page_title("Page not found")
    assert_accessible(other_page)
    other.close()


def test_other_submitter_pages_are_accessible(page, submitters):
    sign_in(page, "submitter@dfe.example")

    page.goto("/challenges/")
    assert page.title() == page_title("Challenges")
    assert_accessible(page)

    page.goto("/account/tokens/")
    assert_accessible(page)
    page.get_by_role("button", name="Create a token").click()
    page.get_by_role("button", name="Create token").click()
    assert page.title() == page_title("Create an API token", error=True)
    assert_accessible(page)
    page.get_by_label("Name").fill("Dashboard")
    page.get_by_role("button", name="Create token").click()
    assert page.title() == page_title("Your new API token")
    assert page.locator("#token-key").inner_text().startswith("pai_")
    assert_accessible(page)
    page.goto("/account/tokens/")
    assert_accessible(page)

    # Attachments: a text file pretending to be a PNG is refused, accessibly.
    page.goto("/proposals/new/")
    page.get_by_label("Title").fill("Files test")
    page.get_by_role("button", name="Save as draft").click()
    found = re.search(r"DFE-\d{4}-\d{4}", page.url)
    assert found is not None
    reference = found.group(0)
    page.goto(f"/proposals/{reference}/edit/details/")
    assert_accessible(page)
    page.goto(f"/proposals/{reference}/edit/attachments/")
    assert_accessible(page)
    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": b"<html></html>"}]
    )
    page.get_by_role("button", name="Upload file").click()
    assert (
        "The selected file must be a PDF, ODT, DOCX, PNG or JPEG"
        in page.locator(".govuk-error-summary").inner_text()
    )
    assert_accessible(page)

    page.goto(f"/proposals/{reference}/delete/")
    assert_accessible(page)
    page.get_by_role("button", name="Delete draft").click()
    assert page.title() == page_title("Home")


def test_character_count_works_under_the_strict_csp(strict_page, submitters):
    errors: list[str] = []
    strict_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(strict_page, "submitter@dfe.example")
    strict_page.goto("/proposals/new/")

    strict_page.get_by_label("Summary").fill("x" * 510)

    status = strict_page.locator("#id_summary-info ~ .govuk-character-count__status")
    assert status.inner_text() == "You have 10 characters too many"
    assert not [e for e in errors if "Content Security Policy" in e]
