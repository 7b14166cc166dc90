"""Department settings and moving a colleague, in Chromium with axe: the lead's
configuration pages, with and without errors shown."""

from __future__ import annotations

import pytest

from accounts.models import Department, Role
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_lead_moves_a_colleague_with_accessible_pages(page):
    dfe = Department.objects.get(slug="dfe")
    UserFactory.create(
        email="lead@dfe.example", full_name="Leo Lead", department=dfe, role=Role.LEAD
    )
    mover = UserFactory.create(
        email="rhea@dfe.example", full_name="Rhea Reviewer", department=dfe, role=Role.REVIEWER
    )
    sign_in(page, "lead@dfe.example")

    page.goto("/department/settings/")
    assert_accessible(page)
    page.get_by_role("link", name="Move someone to another department").click()
    assert_accessible(page)

    page.get_by_label("Who is moving?").select_option(label="Rhea Reviewer")
    page.get_by_role("button", name="Move them").click()
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.title().startswith("Error: ")
    assert_accessible(page)

    page.get_by_label("Which department are they moving to?").select_option(label="Home Office")
    page.get_by_role("button", name="Move them").click()
    assert "Rhea Reviewer now works in Home Office" in page.content()
    mover.refresh_from_db()
    assert mover.department.slug == "home-office"
