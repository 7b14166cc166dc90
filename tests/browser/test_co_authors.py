"""Co-authors in a real browser: chosen on the question page (add another, remove,
errors), then the co-author signs in, finds the draft and changes it. axe on
every page visited; the add-another buttons also without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_accessible, page_title, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

TITLE = "Read attendance registers automatically"


@pytest.fixture
def people(dfe, home_office):
    return (
        UserFactory.create(
            email="submitter@dfe.example", full_name="Sam Submitter", department=dfe
        ),
        UserFactory.create(
            email="colleague@dfe.example", full_name="Cleo Colleague", department=dfe
        ),
        UserFactory.create(
            email="outsider@homeoffice.example", full_name="Olu Outsider", department=home_office
        ),
    )


def _new_draft(page) -> str:
    page.goto("/proposals/new/")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Save as draft").click()
    found = re.search(r"DFE-\d{4}-\d{4}", page.url)
    assert found is not None
    return found.group(0)


def test_draft_with_a_co_author_who_signs_in_sees_it_and_changes_it(page, people):
    sign_in(page, "submitter@dfe.example")
    reference = _new_draft(page)

    page.goto(f"/proposals/{reference}/edit/co-authors/")
    assert page.title() == page_title("Who else is working on this?")
    assert_accessible(page)
    page.get_by_label("Email address of co-author 1").fill("colleague@dfe.example")
    page.get_by_role("button", name="Add another co-author").click()
    assert page.get_by_label("Email address of co-author 1").input_value() == (
        "colleague@dfe.example"
    )
    assert_accessible(page)

    # Someone with an account outside the working departments: the answer says
    # nothing of the account. Enter in the field continues; it does not remove.
    second = page.get_by_label("Email address of co-author 2")
    second.fill("outsider@homeoffice.example")
    second.press("Enter")
    assert page.title() == page_title("Who else is working on this?", error=True)
    summary = page.locator(".govuk-error-summary")
    assert summary.get_by_role("link").all_inner_texts() == [
        "Enter the email address of someone in the Department for Education or a "
        "collaborating department who has used this service"
    ]
    assert_accessible(page)
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "id_co_author_1"

    page.get_by_role("button", name="Remove co-author 2").click()
    assert page.get_by_label("Email address of co-author 2").count() == 0
    page.get_by_role("button", name="Continue").click()
    assert page.title() == page_title("Attach files")

    page.goto(f"/proposals/{reference}/check/")
    assert_accessible(page)
    row = page.locator(".govuk-summary-list__row", has_text="Co-authors")
    assert "Cleo Colleague (colleague@dfe.example)" in row.inner_text()

    # The co-author signs in: the draft is on their home page, and theirs to change.
    page.context.clear_cookies()
    sign_in(page, "colleague@dfe.example")
    assert_accessible(page)
    page.get_by_role("link", name=f"{TITLE} ({reference})").click()
    assert page.title().startswith(TITLE)
    assert_accessible(page)
    page.get_by_role("link", name="Change your answers").click()
    page.get_by_label("Title").fill(f"{TITLE} and check them")
    page.get_by_role("button", name="Save as draft").click()
    assert "has been saved" in page.locator(".govuk-notification-banner--success").inner_text()
    assert page.locator("h1").inner_text() == f"{TITLE} and check them"

    # Someone else does not even learn that it exists.
    page.context.clear_cookies()
    sign_in(page, "outsider@homeoffice.example")
    response = page.goto(f"/proposals/{reference}/")
    assert response is not None and response.status == 404


def test_add_another_and_remove_work_without_javascript(browser, live_server, people):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, "submitter@dfe.example")
        reference = _new_draft(page)
        page.goto(f"/proposals/{reference}/edit/co-authors/")
        page.get_by_label("Email address of co-author 1").fill("colleague@dfe.example")
        page.get_by_role("button", name="Add another co-author").click()
        page.get_by_label("Email address of co-author 2").fill("nobody@dfe.example")
        page.get_by_role("button", name="Add another co-author").click()
        assert page.get_by_label("Email address of co-author 3").input_value() == ""
        page.get_by_role("button", name="Remove co-author 2").click()
        assert page.get_by_label("Email address of co-author 2").input_value() == ""
        assert page.get_by_label("Email address of co-author 3").count() == 0
        page.get_by_role("button", name="Save as draft").click()
        assert "has been saved" in page.locator(".govuk-notification-banner--success").inner_text()
    finally:
        context.close()
