"""/api/docs/ in Chromium: a server-rendered way in without JavaScript, and the
Swagger UI widget readable (axe, WCAG 2.2 AA) with it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import AXE_PATH

pytestmark = pytest.mark.browser


def test_api_docs_without_javascript_links_to_the_schema_and_guide(browser, live_server):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/api/docs/")
        assert page.get_by_role("heading", level=1).inner_text() == "Propose an innovation API"
        schema = page.get_by_role("link", name="OpenAPI schema")
        assert schema.is_visible()
        assert schema.get_attribute("href") == "/api/schema/"
        assert "docs/api.md" in page.locator("body").inner_text()
    finally:
        context.close()


def test_api_docs_widget_colours_pass_contrast(page):
    # Only colour contrast: Swagger UI's nested controls and small targets (axe's
    # nested-interactive, target-size) are its own markup, listed in the statement.
    page.goto("/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=10_000)
    page.add_script_tag(path=str(AXE_PATH))
    results = page.evaluate(
        """async () => await window.axe.run(document, {
            runOnly: {type: 'rule', values: ['color-contrast']}, resultTypes: ['violations'],
        })"""
    )
    failing = [
        f"{node['target']}: {node['failureSummary']}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]
    assert failing == []
