"""Every kind of field rendered by components/field.html, with and without
errors, passes axe; the character count works under the CSP."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, page_title, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.browser.component_urls")]


def test_components_are_accessible_with_and_without_errors(page, alice):
    sign_in(page, "alice@dfe.example")
    page.goto("/components/")
    assert_accessible(page)

    page.get_by_role("button", name="Continue").click()

    assert page.title() == page_title("Components", error=True)
    summary_links = page.locator(".govuk-error-summary a")
    assert summary_links.count() == 6  # title, summary, email, visibility, themes, agree
    assert_accessible(page)
    page.get_by_role("link", name="This field is required.").nth(3).click()
    assert page.evaluate("() => document.activeElement.id") == "id_visibility_0"


def test_character_count_counts_under_the_csp(strict_page, alice):
    sign_in(strict_page, "alice@dfe.example")
    strict_page.goto("/components/")

    strict_page.get_by_label("Summary").fill("x" * 510)

    status = strict_page.locator(".govuk-character-count__status")
    status.wait_for()
    assert status.inner_text() == "You have 10 characters too many"
